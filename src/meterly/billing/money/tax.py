"""Tax and regulatory surcharge rules (pure).

One invoice line per rate: a percentage rate is rounded once on the sum of the rounded,
discounted lines it covers (never per charge line, which would drift by a cent per line); a
per-seat surcharge is the amount per seat × the seats billed for its seat product. Surcharges
are computed on the charges only, not on taxes or on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from meterly.billing.money.rounding import RoundingMode, round_money
from meterly.pricing.precision import CONTEXT, HUNDRED, ZERO

# The kinds of charge line whose quantity counts seats: the seat fee. A proration line restates
# part of the same seats, so counting it would bill E911 twice.
SEAT_LINE_KINDS = frozenset({"fee"})


def seats_in_service(lines: list[Line], product: str | None) -> tuple[Decimal, list[Line]]:
    """The seats at the end of the latest period the invoice bills: a mid-period change splits
    the seat fee into segments (10 seats, then 14), and E911 is owed for the 14 lines in
    service, not for 24; fee lines without a period all count."""
    seats = [x for x in lines if x.kind in SEAT_LINE_KINDS and x.product == product]
    ends = [x.period_end for x in seats if x.period_end is not None]
    if ends:
        seats = [x for x in seats if x.period_end == max(ends)]
    return sum((x.quantity or ZERO for x in seats), ZERO), seats


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    kind: str
    product: str | None
    net: Decimal  # rounded amount after discounts
    quantity: Decimal | None
    period_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rate:
    id: int
    name: str
    kind: str  # tax | surcharge_percent | surcharge_per_seat
    rate: Decimal | None = None  # percent
    amount_per_seat: Decimal | None = None
    seat_product: str | None = None
    products: frozenset[str] = frozenset()  # empty: every product


@dataclass(frozen=True, slots=True)
class Charge:
    rate_id: int
    kind: str  # tax | surcharge (the invoice line kind)
    name: str
    basis: Decimal  # money for a percentage, seats for a per-seat fee
    amount: Decimal
    line_ids: tuple[int, ...]
    rate: Decimal | None
    amount_per_seat: Decimal | None


def percent_of(basis: Decimal, rate: Decimal, currency: str, mode: RoundingMode) -> Decimal:
    return round_money(CONTEXT.divide(CONTEXT.multiply(basis, rate), HUNDRED), currency, mode)


def compute(
    lines: list[Line], rates: list[Rate], currency: str, mode: RoundingMode = "half_up"
) -> list[Charge]:
    out: list[Charge] = []
    for r in rates:
        kind = "tax" if r.kind == "tax" else "surcharge"
        if r.kind == "surcharge_per_seat":
            basis, seats = seats_in_service(lines, r.seat_product)
            raw = CONTEXT.multiply(basis, r.amount_per_seat or ZERO)
            amount = round_money(raw, currency, mode)
        else:
            seats = [line for line in lines if not r.products or line.product in r.products]
            # a negative basis (credits outweigh charges) is not a negative tax: a refund of
            # tax already paid is a credit note's job
            basis = max(sum((line.net for line in seats), ZERO), ZERO)
            amount = percent_of(basis, r.rate or ZERO, currency, mode)
        if amount == 0:
            continue
        out.append(
            Charge(
                r.id,
                kind,
                r.name,
                basis,
                amount,
                tuple(line.id for line in seats),
                r.rate,
                r.amount_per_seat,
            )
        )
    return out
