"""What a credit note may credit (pure).

A charge line is creditable up to its discounted amount less what earlier credit notes took; a
tax or surcharge line up to its amount less what was credited. Crediting part of a charge line
credits the percentage taxes that covered it, each rounded once on the credited sum (the same
rule as on the invoice) and never beyond the tax line's remainder. A whole-invoice credit note
takes every remainder exactly, so the notes of an invoice never sum to more than its total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from meterly.billing.money.rounding import RoundingMode, round_money
from meterly.billing.money.tax import percent_of
from meterly.pricing.precision import CONTEXT, ZERO


class NotCreditable(ValueError):
    """The request credits more than remains, or a line that cannot be credited."""


@dataclass(frozen=True, slots=True)
class InvoiceLineInfo:
    id: int
    kind: str  # a charge kind, or tax | surcharge
    description: str
    product: str | None
    quantity: Decimal | None
    net: Decimal  # charge: amount after discounts; tax/surcharge: its amount
    credited: Decimal  # by earlier credit notes
    rate: Decimal | None = None  # percentage taxes/surcharges
    covers: tuple[int, ...] = ()  # charge line ids a percentage tax was computed on

    @property
    def remaining(self) -> Decimal:
        return self.net - self.credited


@dataclass(frozen=True, slots=True)
class Request:
    line_id: int
    amount: Decimal | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Credited:
    line_id: int
    kind: str
    description: str
    product: str | None
    quantity: Decimal | None
    amount: Decimal


def whole(lines: list[InvoiceLineInfo]) -> list[Credited]:
    return [
        Credited(li.id, li.kind, li.description, li.product, None, li.remaining)
        for li in lines
        if li.remaining != 0
    ]


def _charge_amount(li: InvoiceLineInfo, req: Request, currency: str, mode: RoundingMode) -> Decimal:
    if req.quantity is not None:
        if not li.quantity or li.quantity <= 0:
            raise NotCreditable(f"line {li.id} has no quantity to credit by")
        if req.quantity <= 0 or req.quantity > li.quantity:
            raise NotCreditable(f"line {li.id}: quantity must be in (0, {li.quantity}]")
        share = CONTEXT.divide(CONTEXT.multiply(li.net, req.quantity), li.quantity)
        return round_money(share, currency, mode)
    return li.remaining if req.amount is None else req.amount


def partial(
    lines: list[InvoiceLineInfo], requests: list[Request], currency: str, mode: RoundingMode
) -> list[Credited]:
    by_id = {li.id: li for li in lines}
    out: list[Credited] = []
    credited: dict[int, Decimal] = {}
    for req in requests:
        li = by_id.get(req.line_id)
        if li is None:
            raise NotCreditable(f"line {req.line_id} is not a creditable line of this invoice")
        if req.line_id in credited:
            raise NotCreditable(f"line {req.line_id} is listed twice")
        amount = _charge_amount(li, req, currency, mode)
        if amount <= 0:
            raise NotCreditable(f"line {li.id}: nothing to credit")
        if amount > li.remaining:
            raise NotCreditable(f"line {li.id}: {amount} exceeds what remains creditable")
        credited[li.id] = amount
        out.append(Credited(li.id, li.kind, li.description, li.product, req.quantity, amount))
    # percentage taxes and surcharges that covered the credited charge lines follow them
    for li in lines:
        if li.kind not in ("tax", "surcharge") or li.id in credited or li.rate is None:
            continue
        basis = sum((a for lid, a in credited.items() if lid in li.covers), ZERO)
        if basis <= 0:
            continue
        amount = min(percent_of(basis, li.rate, currency, mode), li.remaining)
        if amount > 0:
            out.append(Credited(li.id, li.kind, li.description, li.product, None, amount))
    return out
