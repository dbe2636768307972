"""Meters use cases: create, read, edit (spec frozen once events match), and usage queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, in_subtree
from meterly.errors import Conflict, NotFound
from meterly.metering.models import Meter
from meterly.metering.schemas import MeterCreate, MeterOut, MeterPatch
from meterly.storage.events.base import Condition, EventStore, MeterSpec

FROZEN = ("event_type", "aggregation", "value", "filter")


@dataclass(frozen=True, slots=True)
class MeterView:
    id: int
    key: str
    owner_id: int
    spec: MeterSpec


def fmt_decimal(value: Decimal) -> str:
    """Exact, without exponent or trailing zeros: 0.300000000000000000 -> '0.3'."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def to_spec(m: Meter) -> MeterSpec:
    conds = tuple(
        Condition(
            c["path"],
            c["op"],
            tuple(_scalar(x) for x in c["value"])
            if isinstance(c["value"], list)
            else _scalar(c["value"]),
        )
        for c in m.filter
    )
    return MeterSpec(m.event_type, m.aggregation, m.value, dict(m.group_by), conds)  # type: ignore[arg-type]


def _scalar(v: Any) -> Any:
    # JSON in the ledger stores numbers as text-safe strings tagged by _json_cond; floats never
    if isinstance(v, dict) and "$decimal" in v:
        return Decimal(v["$decimal"])
    return v


def _cond_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_cond_json(v) for v in value]
    if isinstance(value, (float, Decimal)):
        return {"$decimal": str(value)}
    return value


def _visible(principal: Principal) -> Any:
    subtree = select(Account.id).where(in_subtree(principal))
    return or_(Meter.owner_id.in_(principal.ancestor_ids), Meter.owner_id.in_(subtree))


def visible_meters(session: Session, principal: Principal) -> list[MeterView]:
    rows = session.scalars(select(Meter).where(_visible(principal)).order_by(Meter.key))
    return [MeterView(m.id, m.key, m.owner_id, to_spec(m)) for m in rows]


def _out(session: Session, m: Meter) -> MeterOut:
    owner = session.get(Account, m.owner_id)
    return MeterOut(
        key=m.key,
        name=m.name,
        event_type=m.event_type,
        aggregation=m.aggregation,
        value=m.value,
        group_by=dict(m.group_by),
        filter=[{**c, "value": _scalar_out(c["value"])} for c in m.filter],
        owner=owner.external_id if owner else "",
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def _scalar_out(v: Any) -> Any:
    if isinstance(v, list):
        return [_scalar_out(x) for x in v]
    if isinstance(v, dict) and "$decimal" in v:
        return v["$decimal"]
    return v


def find_meter(session: Session, principal: Principal, key: str) -> Meter:
    """The nearest visible meter with this key: the caller's own, then its ancestors', then
    its subtree's."""
    rows = list(session.scalars(select(Meter).where(Meter.key == key, _visible(principal))))
    if not rows:
        raise NotFound(f"meter '{key}' not found")
    order = {aid: i for i, aid in enumerate(reversed(principal.ancestor_ids))}
    rows.sort(key=lambda m: (order.get(m.owner_id, len(order)), m.id))
    return rows[0]


def create_meter(session: Session, principal: Principal, body: MeterCreate) -> MeterOut:
    if session.scalar(select(Meter.id).where(Meter.key == body.key, _visible(principal))):
        raise Conflict(
            f"meter '{body.key}' exists; choose another key",
            [{"field": "key", "message": "taken"}],
        )
    m = Meter(
        owner_id=principal.account_id,
        key=body.key,
        name=body.name,
        event_type=body.event_type,
        aggregation=body.aggregation,
        value=body.value,
        group_by=body.group_by,
        filter=[{"path": c.path, "op": c.op, "value": _cond_json(c.value)} for c in body.filter],
    )
    session.add(m)
    session.flush()
    audit.record(session, principal, "meter.created", "meter", m.key)
    return _out(session, m)


def list_meters(session: Session, principal: Principal) -> list[MeterOut]:
    rows = session.scalars(select(Meter).where(_visible(principal)).order_by(Meter.key))
    return [_out(session, m) for m in rows]


def get_meter(session: Session, principal: Principal, key: str) -> MeterOut:
    return _out(session, find_meter(session, principal, key))


def update_meter(
    session: Session, principal: Principal, store: EventStore, key: str, body: MeterPatch
) -> MeterOut:
    m = find_meter(session, principal, key)
    if not principal.covers(_owner_path(session, m)):
        raise NotFound(f"meter '{key}' not found")  # an ancestor's meter is read-only here
    changes = body.model_dump(exclude_unset=True)
    new_filter = changes.get("filter")
    if new_filter is not None:
        changes["filter"] = [
            {"path": c["path"], "op": c["op"], "value": _cond_json(c["value"])} for c in new_filter
        ]
    frozen = [f for f in FROZEN if f in changes and changes[f] != getattr(m, f)]
    if frozen and store.has_events(to_spec(m)):
        raise Conflict(
            f"meter '{key}' already has matching events, so {', '.join(frozen)} cannot change; "
            "create a new meter with the new definition instead",
            [{"field": f, "message": "frozen once events match"} for f in frozen],
        )
    for name, value in changes.items():
        if value is not None or name == "value":
            setattr(m, name, value)
    if m.aggregation != "count" and not m.value:
        raise Conflict(f"aggregation '{m.aggregation}' needs a value path")
    session.flush()
    audit.record(session, principal, "meter.updated", "meter", m.key, fields=sorted(changes))
    return _out(session, m)


def _owner_path(session: Session, m: Meter) -> str:
    owner = session.get(Account, m.owner_id)
    return owner.path if owner else ""
