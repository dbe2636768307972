"""The audit log: who (key) did what to which object, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meterly.accounts.models import AuditEntry
from meterly.accounts.scope import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str,
    owner_account_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            key_id=principal.key_id,
            account_id=owner_account_id if owner_account_id is not None else principal.account_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    )
