"""Invoice lines of one subscription period, from its plan versions, changes and usage (pure).

Used for the upcoming invoice now and for real invoices by billing later. No SQLAlchemy, no
FastAPI: plan versions arrive as plain specs, usage through the small `UsageSource` port.

Rules (DESIGN.md, issue 3):
- Recurring charges (seat, service, add-on) are prorated by day over the actual period; each
  item's line covers a run of days during which it did not change, so an unchanged item bills
  exactly its full-period amount.
- In arrears: the period's runs are billed at the period's end (old × f1 + new × f2).
- In advance: a period is paid at its start, so the invoice at the end of the current period
  carries the *next* period in full, plus, for each change in the current period, a credit of
  the unused part of what was paid and a charge for the rest of the period at the new state.
- Recurring charges are free during a trial; usage is billed from the start.
- Usage charges are rated on the usage of each run of days with the same price (a plan change
  to a different usage price splits the period at the change).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any, Literal, Protocol

from meterly.pricing.currency import round_money
from meterly.pricing.models import TRANSACTION_MODELS, Interval, parse_price
from meterly.pricing.precision import CONTEXT
from meterly.pricing.proration import exact_fraction, prorate
from meterly.pricing.rating import Rater
from meterly.pricing.result import RatingLine
from meterly.subscriptions.timeline import Change, State, segments, state_at

LineKind = Literal[
    "recurring", "advance", "proration_credit", "proration_charge", "usage", "one_off"
]
RECURRING_KINDS = frozenset({"seat", "service", "add_on"})


@dataclass(frozen=True, slots=True)
class Charge:
    product: str
    kind: str  # seat | usage | service | add_on | one_off (product kinds)
    price: Mapping[str, Any]
    meter: str | None = None
    description: str = ""
    wholesale: str = "pooled"  # billed to a reseller: pooled | per_customer (meterly.chain)


@dataclass(frozen=True, slots=True)
class VersionSpec:
    id: int
    currency: str
    interval: Interval
    charges: tuple[Charge, ...]


@dataclass(frozen=True, slots=True)
class Line:
    kind: LineKind
    description: str
    product: str
    meter: str | None
    period_start: datetime
    period_end: datetime
    quantity: Decimal
    unit_amount: Decimal | None
    precise_amount: Decimal
    amount: Decimal
    breakdown: tuple[RatingLine, ...] = ()
    fraction: str | None = None  # "20/30" for a prorated line


class UsageSource(Protocol):
    def quantity(self, meter: str, start: datetime, end: datetime) -> Decimal: ...

    def transactions(self, meter: str, start: datetime, end: datetime) -> list[Decimal]: ...


@dataclass
class Raters:
    """Compiles each distinct price definition once: per invoice (`cache`), and across invoices
    through a bounded process-wide memo — a bill run rates thousands of invoices on the same few
    prices, and parsing and compiling one costs more than rating it. The identity memo keeps a
    copy of what it saw and compares it (a C-level dict comparison, far cheaper than the
    canonical JSON key), so a price changed in place is compiled again; it holds each price it
    keys by id, so an id cannot be reused while cached."""

    cache: dict[str, Rater] = field(default_factory=dict)

    def get(self, price: Mapping[str, Any]) -> Rater:
        hit = _BY_ID.get(id(price))
        if hit is not None and hit[0] is price and hit[1] == price:
            return hit[2]
        key = canonical(price)
        rater = self.cache.get(key) or _COMPILED.get(key)
        if rater is None:
            rater = Rater(parse_price(dict(price)))
            _remember(_COMPILED, key, rater)
        self.cache[key] = rater
        _remember(_BY_ID, id(price), (price, copy.deepcopy(dict(price)), rater))
        return rater


_MEMO_LIMIT = 4096
_COMPILED: dict[str, Rater] = {}
_BY_ID: dict[int, tuple[Mapping[str, Any], dict[str, Any], Rater]] = {}


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()  # bounded; a bill run's working set is a handful of prices
    memo[key] = value


def canonical(price: Mapping[str, Any]) -> str:
    return json.dumps(price, sort_keys=True, separators=(",", ":"), default=str)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _later(a: datetime, b: datetime | None) -> datetime:
    return a if b is None or _utc(a) >= _utc(b) else b


def _earlier(a: datetime, b: datetime | None) -> datetime:
    return a if b is None or _utc(a) <= _utc(b) else b


# --- recurring items ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One recurring thing billed per period: a plan charge or an add-on, with its quantity."""

    key: str  # identity across states: the same key with the same quantity is one run
    product: str
    price: Mapping[str, Any]
    quantity: Decimal
    description: str


def items_of(state: State, versions: Mapping[int, VersionSpec]) -> dict[str, Item]:
    out: dict[str, Item] = {}
    for charge in versions[state.plan_version_id].charges:
        if charge.kind not in RECURRING_KINDS:
            continue
        quantity = state.quantity if charge.kind == "seat" else Decimal(1)
        key = f"plan:{charge.product}:{canonical(charge.price)}"
        out[key] = Item(key, charge.product, charge.price, quantity, charge.description)
    for add_on in state.add_ons:
        key = f"add_on:{add_on.key}:{canonical(add_on.price)}"
        label = f"{add_on.product} (add-on)"
        out[key] = Item(key, add_on.product, add_on.price, add_on.quantity, label)
    return out


def item_total(
    item: Item, raters: Raters
) -> tuple[Decimal, Decimal | None, tuple[RatingLine, ...]]:
    """(precise full-period amount, unit amount, breakdown). A flat price is per item, so it is
    multiplied by the quantity; other models rate the quantity (tiers apply to seat counts)."""
    rater = raters.get(item.price)
    if rater.kind == "none":
        rating = rater.rate()
        with localcontext(CONTEXT):  # the ambient 28 digits could round a large product
            total = rating.precise_amount * item.quantity
        return total, rating.precise_amount, tuple(rating.lines)
    rating = rater.rate(quantity=item.quantity)
    unit = rating.lines[0].unit_amount if len(rating.lines) == 1 else None
    return rating.precise_amount, unit, tuple(rating.lines)


@dataclass(frozen=True, slots=True)
class Run:
    start: datetime
    end: datetime
    item: Item


def item_runs(
    changes: Sequence[Change],
    versions: Mapping[int, VersionSpec],
    start: datetime,
    end: datetime,
) -> list[Run]:
    """Per item, the maximal stretches of [start, end) with the same quantity, in time order."""
    runs: list[Run] = []
    open_runs: dict[str, Run] = {}
    for seg in segments(changes, start, end):
        current = items_of(seg.state, versions)
        for key, run in list(open_runs.items()):
            same = current.get(key)
            if same is None or same.quantity != run.item.quantity or run.end != seg.start:
                runs.append(run)
                del open_runs[key]
        for key, item in current.items():
            prev = open_runs.get(key)
            open_runs[key] = Run(prev.start if prev else seg.start, seg.end, item)
    runs.extend(open_runs.values())
    return sorted(runs, key=lambda r: (_utc(r.start), r.item.key))


# --- building lines ----------------------------------------------------------------------------


@dataclass
class Builder:
    currency: str
    period: tuple[datetime, datetime]
    raters: Raters = field(default_factory=Raters)
    lines: list[Line] = field(default_factory=list)

    def money(self, precise: Decimal) -> Decimal:
        return round_money(precise, self.currency)

    def prorated(
        self, kind: LineKind, item: Item, start: datetime, end: datetime, sign: int, label: str
    ) -> None:
        p_start, p_end = self.period
        full, unit, breakdown = item_total(item, self.raters)
        share = exact_fraction(p_start, p_end, start, end)
        if share == 0:
            return
        precise = prorate(full, p_start, p_end, start, end)
        if sign < 0:
            precise = precise.copy_negate()  # exact: a context multiply would round
        text = None if share == 1 else f"{share.numerator}/{share.denominator}"
        description = label + (f" ({text} of the period)" if text else "")
        self.lines.append(
            Line(kind, description, item.product, None, start, end, item.quantity, unit,
                 precise, self.money(precise), breakdown if share == 1 else (), text)
        )  # fmt: skip


def recurring_lines(
    b: Builder,
    changes: Sequence[Change],
    versions: Mapping[int, VersionSpec],
    trial_end: datetime | None,
    timing: Literal["in_advance", "in_arrears"],
) -> None:
    p_start, p_end = b.period
    covered = _later(p_start, trial_end)
    if _utc(covered) >= _utc(p_end):
        return
    for run in item_runs(changes, versions, covered, p_end):
        if b.raters.get(run.item.price).price.timing != timing:
            continue
        name = run.item.description or run.item.product
        label = f"{name} × {_fmt(run.item.quantity)}"
        if timing == "in_arrears":
            b.prorated("recurring", run.item, run.start, run.end, 1, label)
            continue
        # In advance, the state at the start of the covered period was paid already.
        if _utc(run.start) > _utc(covered):
            b.prorated("proration_charge", run.item, run.start, p_end, 1, label)
        if _utc(run.end) < _utc(p_end):
            b.prorated("proration_credit", run.item, run.end, p_end, -1, f"Unused {label}")


def advance_lines(
    b: Builder,
    changes: Sequence[Change],
    versions: Mapping[int, VersionSpec],
    trial_end: datetime | None,
    sub_end: datetime | None,
) -> None:
    """The next period's in-advance charges, at the state in force when it starts."""
    n_start, n_end = b.period
    start = _later(n_start, trial_end)
    end = _earlier(n_end, sub_end)
    if _utc(start) >= _utc(end):
        return
    state = state_at(changes, start)
    if state is None:
        return
    for item in items_of(state, versions).values():
        if b.raters.get(item.price).price.timing != "in_advance":
            continue
        name = item.description or item.product
        b.prorated("advance", item, start, end, 1, f"{name} × {_fmt(item.quantity)} (in advance)")


def usage_lines(
    b: Builder,
    changes: Sequence[Change],
    versions: Mapping[int, VersionSpec],
    usage: UsageSource,
    until: datetime,
) -> None:
    p_start, p_end = b.period
    end = _earlier(p_end, until)
    if _utc(end) <= _utc(p_start):
        return
    runs: list[tuple[datetime, datetime, Charge]] = []
    open_runs: dict[str, tuple[datetime, datetime, Charge]] = {}
    for seg in segments(changes, p_start, end):
        current = {
            f"{c.meter}:{canonical(c.price)}": c
            for c in versions[seg.state.plan_version_id].charges
            if c.kind == "usage" and c.meter
        }
        for key, run in list(open_runs.items()):
            if key not in current or run[1] != seg.start:
                runs.append(open_runs.pop(key))
        for key, charge in current.items():
            prev = open_runs.get(key)
            open_runs[key] = (prev[0] if prev else seg.start, seg.end, charge)
    runs.extend(open_runs.values())
    for start, stop, charge in sorted(runs, key=lambda r: (_utc(r[0]), r[2].product)):
        assert charge.meter is not None
        rater = b.raters.get(charge.price)
        if rater.price.model in TRANSACTION_MODELS:
            values = usage.transactions(charge.meter, start, stop)
            rating = rater.rate(transactions=values)
            quantity = Decimal(len(values))
        elif rater.kind == "none":
            rating, quantity = rater.rate(), Decimal(1)
        else:
            quantity = usage.quantity(charge.meter, start, stop)
            rating = rater.rate(quantity=quantity)
        unit = rating.lines[0].unit_amount if len(rating.lines) == 1 else None
        name = charge.description or charge.product
        b.lines.append(
            Line("usage", name, charge.product, charge.meter, start, stop, quantity, unit,
                 rating.precise_amount, rating.amount, tuple(rating.lines))
        )  # fmt: skip


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def subtotal(lines: Sequence[Line]) -> Decimal:
    """Sum of rounded lines (DESIGN.md: the invoice subtotal is never re-rounded)."""
    with localcontext(CONTEXT):
        return sum((line.amount for line in lines), Decimal(0))


def subscription_lines(
    versions: Mapping[int, VersionSpec],
    changes: Sequence[Change],
    *,
    currency: str,
    period: tuple[datetime, datetime],
    next_period: tuple[datetime, datetime] | None,
    usage: UsageSource,
    usage_until: datetime,
    trial_end: datetime | None = None,
    sub_end: datetime | None = None,
) -> list[Line]:
    """Every line the invoice closing `period` carries for one subscription: the period's
    in-arrears charges and usage, its in-advance proration, and `next_period`'s in-advance
    charges (None: the subscription ends with this period)."""
    b = Builder(currency, period)
    recurring_lines(b, changes, versions, trial_end, "in_arrears")
    recurring_lines(b, changes, versions, trial_end, "in_advance")
    usage_lines(b, changes, versions, usage, usage_until)
    lines = b.lines
    if next_period is not None:
        nb = Builder(currency, next_period, b.raters)
        advance_lines(nb, changes, versions, trial_end, sub_end)
        lines.extend(nb.lines)
    return lines
