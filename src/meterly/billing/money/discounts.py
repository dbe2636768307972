"""Discount rules (pure): which discounts apply to an invoice, their amounts, and how each is
allocated over the charge lines so taxes see every line's discounted amount.

Discounts apply in the order given (the customer's discounts, oldest first), each on what the
earlier ones left. A percentage is rounded once, on the whole base it covers (it is one invoice
line); a fixed amount never exceeds that base. Only positive lines are discounted: a proration
credit is already money given back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from meterly.billing.money.rounding import RoundingMode, round_money, split
from meterly.pricing.precision import CONTEXT, HUNDRED, ZERO


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    product: str | None
    amount: Decimal  # rounded


@dataclass(frozen=True, slots=True)
class Terms:
    id: int
    name: str
    percent_off: Decimal | None
    amount_off: Decimal | None
    products: frozenset[str] = frozenset()  # empty: every line


@dataclass(frozen=True, slots=True)
class Applied:
    discount_id: int
    name: str
    amount: Decimal  # positive; the invoice line carries its negation
    allocation: dict[int, Decimal] = field(default_factory=dict)  # line id -> share


def still_applies(
    duration: str,
    periods: int | None,
    used_periods: set[datetime],
    period_start: datetime,
) -> bool:
    """Whether a discount covers an invoice of the period starting at `period_start`: `once`
    and `repeating` count distinct periods already billed with it; a period already counted
    (another subscription's invoice for the same month) is still covered."""
    if duration == "forever" or period_start in used_periods:
        return True
    limit = 1 if duration == "once" else (periods or 0)
    return len(used_periods) < limit


def apply_discounts(
    lines: list[Line], discounts: list[Terms], currency: str, mode: RoundingMode = "half_up"
) -> tuple[list[Applied], dict[int, Decimal]]:
    """Returns the discounts that took something and each line's amount after them."""
    net = {line.id: line.amount for line in lines}
    applied: list[Applied] = []
    for d in discounts:
        eligible = [
            (line.id, net[line.id])
            for line in lines
            if net[line.id] > 0 and (not d.products or line.product in d.products)
        ]
        base = sum((w for _, w in eligible), ZERO)
        if base <= 0:
            continue
        if d.percent_off is not None:
            raw = CONTEXT.divide(CONTEXT.multiply(base, d.percent_off), HUNDRED)
            amount = min(round_money(raw, currency, mode), base)
        else:
            amount = min(round_money(d.amount_off or ZERO, currency, mode), base)
        if amount <= 0:
            continue
        allocation = split(amount, eligible, currency)
        for line_id, share in allocation.items():
            net[line_id] -= share
        applied.append(Applied(d.id, d.name, amount, allocation))
    return applied, net
