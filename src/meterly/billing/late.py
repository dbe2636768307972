"""Late usage: events that arrive after a period's invoice was finalized (pure).

A finalized invoice never changes (DESIGN.md), so the usage it missed is billed on the next
invoice of the same subscription as an `adjustment` line labelled with the period it belongs
to. Each usage line stored what it billed (meta: price, quantity, precise and rounded amount);
the adjustment is the period's usage rated now minus everything billed for it so far (the line
and earlier adjustments), so repeated late arrivals never double-bill, and the customer pays in
total exactly the rounded price of the period's full usage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from meterly.billing.builder import DraftLine, breakdown, rate_usage
from meterly.pricing.precision import CONTEXT
from meterly.subscriptions.lines import Raters, UsageSource


@dataclass(frozen=True, slots=True)
class Billed:
    """One usage line of a finalized invoice, with the adjustments billed for it since."""

    line_id: int
    description: str
    product: str | None
    meter: str
    start: datetime
    end: datetime
    price: Mapping[str, Any]
    quantity: Decimal  # billed so far: the line's quantity plus later adjustments'
    precise: Decimal
    amount: Decimal
    customer: str | None = None  # a per_customer wholesale line: the end customer it rated


def period_label(start: datetime, end: datetime, tz: str) -> str:
    """'Oct 2026' for a whole local calendar month, else '15 Oct – 14 Nov 2026'."""
    zone = ZoneInfo(tz)
    s, e = start.astimezone(zone), end.astimezone(zone)
    midnight = s.hour == s.minute == s.second == 0 and e.hour == e.minute == e.second == 0
    next_month = (s.year + (s.month == 12), s.month % 12 + 1)
    if midnight and s.day == 1 and e.day == 1 and (e.year, e.month) == next_month:
        return s.strftime("%b %Y")
    last = e - timedelta(microseconds=1)
    return f"{s.day} {s:%b} – {last.day} {last:%b %Y}"


def late_lines(billed: Sequence[Billed], usage: UsageSource, tz: str) -> list[DraftLine]:
    raters = Raters()
    out: list[DraftLine] = []
    for b in billed:
        quantity, rating = rate_usage(raters.get(b.price), b.meter, usage, b.start, b.end)
        with localcontext(CONTEXT):
            amount = rating.amount - b.amount
            precise = rating.precise_amount - b.precise
            delta_q = quantity - b.quantity
        if amount == 0:
            # nothing to bill to the cent; the next comparison still starts from the totals
            continue
        label = period_label(b.start, b.end, tz)
        out.append(
            DraftLine(
                kind="adjustment", description=f"Usage adjustment for {label}: {b.description}",
                amount=amount, precise_amount=precise, product=b.product, meter=b.meter,
                period_start=b.start, period_end=b.end, quantity=delta_q,
                breakdown=breakdown(rating.lines),
                meta={"late_for": b.line_id, "quantity": str(delta_q),
                      "rated_quantity": str(quantity), "rated_precise": str(rating.precise_amount),
                      "rated_amount": str(rating.amount), "precise": str(precise),
                      "amount": str(amount)},
            )
        )  # fmt: skip
    return out
