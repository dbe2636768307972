"""List events newest first, scoped to the caller, with status and per-meter value errors."""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree, subject_names
from meterly.errors import InvalidInput
from meterly.ingest.corrections import event_out
from meterly.ingest.parse import parse_time
from meterly.ingest.schemas import EventList, ValueError_
from meterly.metering.service import visible_meters
from meterly.runtime import Runtime
from meterly.storage.events.base import ListQuery


def _cursor_encode(t: datetime, source: str, event_id: str) -> str:
    raw = f"{t.isoformat()}\x1f{source}\x1f{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _cursor_decode(cursor: str) -> tuple[datetime, str, str]:
    try:
        t, source, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("\x1f")
        return datetime.fromisoformat(t), source, event_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this API returned", [{"field": "cursor", "message": "invalid"}]
        ) from None


def _time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}", [{"field": field, "message": str(exc)}]) from None


def list_events(
    runtime: Runtime,
    principal: Principal,
    subject: str | None,
    type_: str | None,
    from_: str | None,
    to: str | None,
    limit: int,
    cursor: str | None,
) -> EventList:
    with runtime.ledger.sessions() as s:
        if subject is not None:
            account = account_in_scope(s, principal, subject)
            subjects: list[str] | None = subject_names(account)
            tenants: list[str] | None = [str(i) for i in account.ancestor_ids]
        else:
            subjects = None
            # the root sees every event; below it, the events its own subtree ingested
            tenants = (
                None
                if principal.is_root
                else [str(i) for i in s.scalars(select(Account.id).where(in_subtree(principal)))]
            )
        meters = visible_meters(s, principal)
    q = ListQuery(
        tenants=tenants,
        subjects=subjects,
        type=type_,
        start=_time(from_, "from"),
        end=_time(to, "to"),
        limit=limit + 1,
        after=_cursor_decode(cursor) if cursor else None,
    )
    rows = runtime.events.list(q)
    more = len(rows) > limit
    rows = rows[:limit]
    out = [event_out(e) for e in rows]
    by_key = {(e.tenant, e.source, e.id): o for e, o in zip(rows, out, strict=True)}
    for m in meters:
        keys = [(e.tenant, e.source, e.id) for e in rows if e.type == m.spec.event_type]
        if not keys:
            continue
        for key, message in runtime.events.value_errors(m.spec, keys).items():
            by_key[key].errors.append(ValueError_(meter=m.key, message=message))
    nxt = _cursor_encode(rows[-1].time, rows[-1].source, rows[-1].id) if more and rows else None
    return EventList(data=out, next_cursor=nxt)
