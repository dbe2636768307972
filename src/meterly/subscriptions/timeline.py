"""A subscription's state over time, derived from its ordered changes (pure: no I/O).

The first change is always `created` (at `start`) and carries the full initial state; every
later change rewrites part of it from its `effective_at` on. Billing replays the same list, so
the state at any instant — and every stretch of a period during which it did not change — is a
function of the recorded changes alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

KINDS = ("created", "quantity", "plan", "migrate", "add_on_added", "add_on_removed", "cancel")


@dataclass(frozen=True, slots=True)
class AddOn:
    key: str
    product: str
    price: Mapping[str, Any]  # a validated price definition (pricing.models JSON)
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class State:
    plan_version_id: int
    quantity: Decimal
    add_ons: tuple[AddOn, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    effective_at: datetime
    data: Mapping[str, Any]
    seq: int = 0  # tie-break for changes at the same instant: recording order


@dataclass(frozen=True, slots=True)
class Segment:
    """[start, end) during which the subscription existed in one state."""

    start: datetime
    end: datetime
    state: State


def add_on_from(data: Mapping[str, Any]) -> AddOn:
    return AddOn(
        key=str(data["key"]),
        product=str(data["product"]),
        price=dict(data["price"]),
        quantity=Decimal(str(data.get("quantity", "1"))),
    )


def add_on_json(add_on: AddOn) -> dict[str, Any]:
    return {
        "key": add_on.key,
        "product": add_on.product,
        "price": dict(add_on.price),
        "quantity": str(add_on.quantity),
    }


def apply(state: State | None, change: Change) -> State | None:
    """The state after one change; None once cancelled."""
    d = change.data
    if change.kind == "created":
        return State(
            plan_version_id=int(d["plan_version_id"]),
            quantity=Decimal(str(d["quantity"])),
            add_ons=tuple(sorted((add_on_from(a) for a in d.get("add_ons", [])), key=_key)),
        )
    if state is None or change.kind == "cancel":
        return None
    if change.kind == "quantity":
        return replace(state, quantity=Decimal(str(d["quantity"])))
    if change.kind in ("plan", "migrate"):
        return replace(state, plan_version_id=int(d["plan_version_id"]))
    if change.kind == "add_on_added":
        added = add_on_from(d["add_on"])
        # adding a key that exists replaces it: that is how an add-on's quantity changes
        kept = [a for a in state.add_ons if a.key != added.key]
        return replace(state, add_ons=tuple(sorted([*kept, added], key=_key)))
    if change.kind == "add_on_removed":
        return replace(state, add_ons=tuple(a for a in state.add_ons if a.key != d["key"]))
    raise ValueError(f"unknown change kind {change.kind!r}")


def _key(add_on: AddOn) -> str:
    return add_on.key


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def ordered(changes: Sequence[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (_utc(c.effective_at), c.kind != "created", c.seq))


def state_at(changes: Sequence[Change], at: datetime) -> State | None:
    """The state in force at `at` (changes effective at exactly `at` included)."""
    state: State | None = None
    for change in ordered(changes):
        if _utc(change.effective_at) > _utc(at):
            break
        state = apply(state, change)
    return state


def segments(changes: Sequence[Change], start: datetime, end: datetime) -> list[Segment]:
    """The stretches of [start, end) during which the subscription existed, with their state.

    Consecutive stretches with equal state are merged, so a change that alters nothing does
    not split a period (and its proration stays exactly the full-period amount).
    """
    out: list[Segment] = []
    state: State | None = None
    cursor = start
    for change in ordered(changes):
        at = change.effective_at
        if _utc(at) > _utc(cursor):
            if _utc(at) >= _utc(end):
                break
            if state is not None:
                _push(out, Segment(cursor, at, state))
            cursor = at
        state = apply(state, change)
    if state is not None and _utc(cursor) < _utc(end):
        _push(out, Segment(cursor, end, state))
    return out


def _push(out: list[Segment], segment: Segment) -> None:
    if out and out[-1].state == segment.state and _utc(out[-1].end) == _utc(segment.start):
        out[-1] = Segment(out[-1].start, segment.end, segment.state)
    else:
        out.append(segment)


def change_points(changes: Sequence[Change], start: datetime, end: datetime) -> list[datetime]:
    """Instants strictly inside (start, end) at which some change takes effect."""
    return sorted(
        {c.effective_at for c in changes if _utc(start) < _utc(c.effective_at) < _utc(end)},
        key=_utc,
    )
