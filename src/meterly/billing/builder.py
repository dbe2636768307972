"""The charge lines of one invoice (pure: no SQLAlchemy, no FastAPI).

An invoice closes one subscription period. Its lines come from the same pure functions as the
upcoming invoice (subscriptions.lines), so the portal's "so far this month" and the real invoice
agree; this module only adds what exists on real invoices alone:

- the first in-advance charges (from the start, or the trial's end) — lines.py treats the state
  at a period's start as paid already, which is true for every period but the first;
- one-off purchases, late-usage adjustments (billing.late), and the plan's commitment: a minimum
  per period (a true-up line for the shortfall) and a spending cap on usage.

Every usage line records in `meta` what it billed (price, quantity, precise and rounded amount)
so that usage arriving after finalization can be re-rated and only the difference billed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any

from meterly.pricing.models import TRANSACTION_MODELS
from meterly.pricing.precision import CONTEXT
from meterly.pricing.rating import Rater
from meterly.pricing.result import Rating, RatingLine
from meterly.subscriptions.lines import (
    Builder,
    Charge,
    Line,
    Raters,
    UsageSource,
    VersionSpec,
    advance_lines,
    subscription_lines,
)
from meterly.subscriptions.timeline import Change, state_at

# lines.py kinds -> invoice line kinds (billing/models.py InvoiceLine)
KIND = {
    "recurring": "fee",
    "advance": "fee",
    "proration_credit": "proration",
    "proration_charge": "proration",
    "usage": "usage",
    "one_off": "one_off",
}


@dataclass(frozen=True, slots=True)
class DraftLine:
    kind: str
    description: str
    amount: Decimal
    precise_amount: Decimal
    product: str | None = None
    meter: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    breakdown: tuple[dict[str, Any], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Purchase:
    id: int
    product: str
    description: str
    quantity: Decimal
    precise_amount: Decimal
    amount: Decimal
    purchased_at: datetime


@dataclass(frozen=True, slots=True)
class Commitment:
    minimum: Decimal | None = None  # per period, over the period's recurring and usage charges
    cap: Decimal | None = None  # per period, over the period's usage charges


@dataclass(frozen=True, slots=True)
class Period:
    """What an invoice closes: one subscription period and the facts that price it."""

    versions: Mapping[int, VersionSpec]
    changes: Sequence[Change]
    currency: str
    period: tuple[datetime, datetime]
    next_period: tuple[datetime, datetime] | None
    sub_start: datetime
    trial_end: datetime | None = None
    sub_end: datetime | None = None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def breakdown(lines: Sequence[RatingLine]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "description": t.description,
            "quantity": str(t.quantity),
            "unit_amount": None if t.unit_amount is None else str(t.unit_amount),
            "precise_amount": str(t.precise_amount),
            "amount": str(t.amount),
        }
        for t in lines
    )


def rate_usage(
    rater: Rater, meter: str, usage: UsageSource, start: datetime, end: datetime
) -> tuple[Decimal, Rating]:
    """(quantity, rating) of a meter over [start, end): the same rules as lines.usage_lines."""
    if rater.price.model in TRANSACTION_MODELS:
        values = usage.transactions(meter, start, end)
        return Decimal(len(values)), rater.rate(transactions=values)
    if rater.kind == "none":
        return Decimal(1), rater.rate()
    quantity = usage.quantity(meter, start, end)
    return quantity, rater.rate(quantity=quantity)


def usage_charge(p: Period, line: Line) -> Charge | None:
    """The plan charge a usage line was rated with: the version in force at the line's start."""
    state = state_at(p.changes, line.period_start)
    if state is None:
        return None
    for charge in p.versions[state.plan_version_id].charges:
        if charge.kind == "usage" and charge.meter == line.meter and charge.product == line.product:
            return charge
    return None


def _first_advance(p: Period, raters: Raters) -> list[Line]:
    """The first in-advance charges, when this period is where they start.

    lines.recurring_lines charges a state that begins after the covered start of a period (a
    subscription starting mid-period), but assumes the state at the covered start was paid by
    the previous invoice. For the first paid period there is none, so it is billed here."""
    start, end = p.period
    paid_from = max(_utc(p.sub_start), _utc(p.trial_end) if p.trial_end else _utc(p.sub_start))
    covered = max(_utc(start), _utc(p.trial_end)) if p.trial_end else _utc(start)
    if not (_utc(start) <= paid_from < _utc(end)) or paid_from != covered:
        return []
    b = Builder(p.currency, p.period, raters)
    advance_lines(b, p.changes, p.versions, paid_from, p.sub_end)
    return b.lines


def _draft(line: Line, meta: dict[str, Any]) -> DraftLine:
    return DraftLine(
        kind=KIND[line.kind], description=line.description, amount=line.amount,
        precise_amount=line.precise_amount, product=line.product, meter=line.meter,
        period_start=line.period_start, period_end=line.period_end, quantity=line.quantity,
        unit_amount=line.unit_amount, breakdown=breakdown(line.breakdown),
        meta={"source": line.kind, **({"fraction": line.fraction} if line.fraction else {}),
              **meta},
    )  # fmt: skip


def subscription_charges(p: Period, usage: UsageSource) -> list[DraftLine]:
    """The period's recurring, proration and usage lines, then the next period's advance."""
    raters = Raters()
    first = _first_advance(p, raters)
    lines = subscription_lines(
        p.versions, p.changes, currency=p.currency, period=p.period, next_period=p.next_period,
        usage=usage, usage_until=p.period[1], trial_end=p.trial_end, sub_end=p.sub_end,
    )  # fmt: skip
    out = [_draft(line, {"first_period": True}) for line in first]
    for line in lines:
        meta: dict[str, Any] = {}
        if line.kind == "usage":
            charge = usage_charge(p, line)
            meta = {
                "price": dict(charge.price) if charge else None,
                "quantity": str(line.quantity),
                "precise": str(line.precise_amount),
                "amount": str(line.amount),
            }
        out.append(_draft(line, meta))
    return out


def purchase_lines(purchases: Sequence[Purchase]) -> list[DraftLine]:
    return [
        DraftLine(
            kind="one_off",
            description=p.description,
            amount=p.amount,
            precise_amount=p.precise_amount,
            product=p.product,
            period_start=p.purchased_at,
            period_end=p.purchased_at,
            quantity=p.quantity,
            meta={"purchase_id": p.id},
        )
        for p in purchases
    ]


def _in_period(line: DraftLine, period: tuple[datetime, datetime]) -> bool:
    return line.period_start is not None and _utc(line.period_start) < _utc(period[1])


def commitment_lines(
    lines: Sequence[DraftLine], commitment: Commitment | None, period: tuple[datetime, datetime]
) -> list[DraftLine]:
    """A spending cap on the period's usage (a negative line), then a minimum true-up.

    The base is the period's own charges: recurring, proration and usage lines — not the next
    period's in-advance fees, not one-off purchases, not late adjustments of older periods."""
    if commitment is None:
        return []
    out: list[DraftLine] = []
    with localcontext(CONTEXT):
        usage = sum((ln.amount for ln in lines if ln.kind == "usage"), Decimal(0))
        base = sum(
            (
                ln.amount
                for ln in lines
                if ln.kind in ("fee", "proration", "usage") and _in_period(ln, period)
            ),
            Decimal(0),
        )
        if commitment.cap is not None and usage > commitment.cap:
            over = commitment.cap - usage
            out.append(DraftLine(
                kind="adjustment", description=f"Spending cap: usage capped at {commitment.cap}",
                amount=over, precise_amount=over, period_start=period[0], period_end=period[1],
                meta={"cap": str(commitment.cap), "usage": str(usage)},
            ))  # fmt: skip
            base += over
        if commitment.minimum is not None and base < commitment.minimum:
            short = commitment.minimum - base
            out.append(DraftLine(
                kind="minimum",
                description=f"Minimum commitment true-up (minimum {commitment.minimum})",
                amount=short, precise_amount=short, period_start=period[0], period_end=period[1],
                meta={"minimum": str(commitment.minimum), "charges": str(base)},
            ))  # fmt: skip
    return out
