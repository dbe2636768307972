"""Usage queries: a meter over a range, windowed in a time zone, scoped to the caller."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account, AccountAlias
from meterly.accounts.schemas import check_timezone
from meterly.accounts.scope import Principal, account_in_scope, in_subtree, subject_names
from meterly.errors import InvalidInput
from meterly.ingest.parse import parse_time
from meterly.metering.service import find_meter, fmt_decimal, to_spec
from meterly.storage.events.base import AggregateQuery, EventStore, UsageRow, Window

WINDOWS = ("minute", "hour", "day", "month")


@dataclass(frozen=True, slots=True)
class UsageResult:
    meter: str
    aggregation: str
    window: str | None
    tz: str
    start: datetime
    end: datetime
    rows: list[UsageRow]

    def as_dict(self) -> dict[str, object]:
        return {
            "meter": self.meter,
            "aggregation": self.aggregation,
            "window": self.window,
            "tz": self.tz,
            "from": self.start,
            "to": self.end,
            "rows": [
                {
                    "from": r.start,
                    "to": r.end,
                    "subject": r.subject,
                    "dimensions": dict(r.dimensions),
                    "value": fmt_decimal(r.value),
                }
                for r in self.rows
            ],
        }


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def parse_bound(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise _bad(field, str(exc)) from None


def month_start(at: datetime, tz: str) -> datetime:
    local = at.astimezone(ZoneInfo(tz))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def query_usage(
    session: Session,
    store: EventStore,
    principal: Principal,
    meter_key: str,
    *,
    subject: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    window: str | None = None,
    tz: str | None = None,
    group_by: list[str] | None = None,
) -> UsageResult:
    meter = find_meter(session, principal, meter_key)
    spec = to_spec(meter)
    if window is not None and window not in WINDOWS:
        raise _bad("window", f"use one of {', '.join(WINDOWS)}")
    for name in group_by or []:
        if name not in spec.group_by:
            known = ", ".join(sorted(spec.group_by)) or "none"
            raise _bad("group_by", f"'{name}' is not a dimension of this meter (it has: {known})")
    if subject is not None:
        account = account_in_scope(session, principal, subject)
        subjects: dict[str, str] | None = {n: account.external_id for n in subject_names(account)}
        tenants: list[str] | None = [str(i) for i in account.ancestor_ids]
        default_tz = account.timezone
    else:
        caller = session.get(Account, principal.account_id)
        default_tz = caller.timezone if caller else "UTC"
        subjects, tenants = (
            (None, None) if principal.is_root else _subtree_subjects(session, principal)
        )
    zone = tz or default_tz
    try:
        check_timezone(zone)
    except ValueError as exc:
        raise _bad("tz", str(exc)) from None
    end = end or datetime.now(UTC)
    start = start or month_start(end, zone)
    if start >= end:
        raise _bad("from", "must be before 'to'")
    q = AggregateQuery(
        meter=spec,
        start=start,
        end=end,
        tenants=tenants,
        subjects=subjects,
        window=cast(Window | None, window),
        tz=zone,
        group_by=tuple(group_by or ()),
    )
    return UsageResult(meter.key, meter.aggregation, window, zone, start, end, store.aggregate(q))


def _subtree_subjects(session: Session, principal: Principal) -> tuple[dict[str, str], list[str]]:
    accounts = list(session.scalars(select(Account).where(in_subtree(principal))))
    names = {a.external_id: a.external_id for a in accounts}
    ids = {a.id: a.external_id for a in accounts}
    for alias, account_id in session.execute(
        select(AccountAlias.alias, AccountAlias.account_id).where(
            AccountAlias.account_id.in_(list(ids))
        )
    ):
        names[alias] = ids[account_id]
    tenants = [str(i) for i in principal.ancestor_ids] + [str(i) for i in ids]
    return names, sorted(set(tenants))


def to_csv(result: UsageResult, dimensions: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["from", "to", "subject", *dimensions, "value"])
    for r in result.rows:
        w.writerow(
            [
                r.start.isoformat(),
                r.end.isoformat(),
                r.subject or "",
                *[r.dimensions.get(d) or "" for d in dimensions],
                fmt_decimal(r.value),
            ]
        )
    return buf.getvalue()


Format = Literal["json", "csv"]
