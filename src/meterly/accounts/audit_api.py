"""GET /v1/audit: who (key) did what to which object, and when — within the caller's subtree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from meterly.accounts.models import Account, ApiKey, AuditEntry
from meterly.accounts.scope import in_subtree
from meterly.api.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    key: str | None  # the key's name and prefix; None: the local operator (CLI)
    account: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


class AuditList(BaseModel):
    data: list[AuditOut]
    next_cursor: int | None = None


@router.get("", response_model=AuditList)
def list_audit(
    principal: PrincipalDep,
    session: SessionDep,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: int | None = Query(None, description="next_cursor of the previous page"),
) -> AuditList:
    """Newest first."""
    stmt = (
        select(AuditEntry, Account.external_id, ApiKey.name, ApiKey.prefix)
        .join(Account, Account.id == AuditEntry.account_id)
        .outerjoin(ApiKey, ApiKey.id == AuditEntry.key_id)
        .where(in_subtree(principal))
        .order_by(AuditEntry.id.desc())
        .limit(limit + 1)
    )
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if cursor is not None:
        stmt = stmt.where(AuditEntry.id < cursor)
    rows = session.execute(stmt).all()
    out = [
        AuditOut(
            id=e.id,
            at=e.at,
            key=f"{name} ({prefix}…)" if name else None,
            account=account,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            detail=dict(e.detail or {}),
        )
        for e, account, name, prefix in rows[:limit]
    ]
    return AuditList(data=out, next_cursor=out[-1].id if len(rows) > limit and out else None)
