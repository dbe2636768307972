"""The money around an invoice, applied after its charge lines are built: discounts, taxes and
surcharges, prepaid credits, and the totals.

Contract with the bill run (billing/run.py): it builds the charge lines (kinds in CHARGE_KINDS),
then calls `apply(session, invoice, now, final=...)`, on every (re)build of a draft and once more
when finalizing. `apply` replaces the invoice's non-charge lines and sets every total. With
`final=False` it only projects (credits are shown but not consumed); with `final=True` it
consumes credits and spends discount periods in the finalizing transaction. After the status is
set to finalized, `billing.money.payments.settle` marks an invoice that credits fully paid.

Order, each step on the rounded result of the one before: discounts (billing.money.discounts),
then one tax or surcharge line per rate on the discounted lines (billing.money.tax), then
credits against what is left to pay (billing.money.credits). tax_total holds taxes and
regulatory surcharges; the lines tell them apart (kind tax | surcharge).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from meterly.billing.models import Invoice, InvoiceLine, SellerProfile
from meterly.billing.money import (
    credits,
    credits_service,
    discounts,
    discounts_service,
    tax,
    tax_service,
)
from meterly.billing.money.rounding import RoundingMode, plain
from meterly.pricing.precision import CONTEXT, HUNDRED, ZERO

CHARGE_KINDS = frozenset({"fee", "usage", "proration", "one_off", "minimum", "adjustment"})
ADJUSTMENT_KINDS = frozenset({"discount", "tax", "surcharge", "credit"})


def charge_lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id, InvoiceLine.kind.in_(CHARGE_KINDS))
            .order_by(InvoiceLine.position)
        )
    )


def rounding_mode(session: Session, seller_id: int) -> RoundingMode:
    profile = session.get(SellerProfile, seller_id)
    return (
        "half_even" if profile is not None and profile.rounding_mode == "half_even" else ("half_up")
    )


def _line(
    invoice: Invoice,
    position: int,
    kind: str,
    description: str,
    amount: Decimal,
    precise: Decimal | None = None,
    meta: dict[str, Any] | None = None,
    **extra: Any,
) -> InvoiceLine:
    return InvoiceLine(
        invoice_id=invoice.id,
        position=position,
        kind=kind,
        description=description,
        precise_amount=amount if precise is None else precise,
        amount=amount,
        meta=meta or {},
        breakdown=[],
        **extra,
    )


def _discount_label(d: discounts.Terms) -> str:
    off = f"{plain(d.percent_off)}% off" if d.percent_off is not None else "amount off"
    scope = f" on {', '.join(sorted(d.products))}" if d.products else ""
    return f"{d.name} ({off}{scope})"


def _tax_label(c: tax.Charge) -> str:
    if c.rate is not None:
        return f"{c.name} ({plain(c.rate)}%)"
    return f"{c.name} ({plain(c.basis)} × {plain(c.amount_per_seat or ZERO)})"


def apply(session: Session, invoice: Invoice, now: datetime, *, final: bool = False) -> None:
    if invoice.id is None:
        session.flush()
    session.execute(
        delete(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id, InvoiceLine.kind.in_(ADJUSTMENT_KINDS)
        )
    )
    lines = charge_lines(session, invoice)
    currency, mode = invoice.currency, rounding_mode(session, invoice.seller_id)
    position = max((line.position for line in lines), default=-1) + 1
    subtotal = sum((line.amount for line in lines), ZERO)

    terms = discounts_service.for_invoice(session, invoice)
    pure_lines = [discounts.Line(line.id, line.product, line.amount) for line in lines]
    applied, net = discounts.apply_discounts(pure_lines, terms, currency, mode)
    by_terms = {d.id: d for d in terms}
    for a in applied:
        meta = {
            "discount_id": a.discount_id,
            "allocation": {str(k): str(v) for k, v in a.allocation.items() if v},
        }
        session.add(
            _line(
                invoice,
                position,
                "discount",
                _discount_label(by_terms[a.discount_id]),
                -a.amount,
                meta=meta,
            )
        )
        position += 1
    discount_total = sum((a.amount for a in applied), ZERO)

    rates = tax_service.for_invoice(session, invoice.customer_id, invoice.seller_id, currency)
    taxable = [
        tax.Line(x.id, x.kind, x.product, net[x.id], x.quantity, x.period_end) for x in lines
    ]
    charges = tax.compute(taxable, rates, currency, mode)
    for c in charges:
        precise = (
            CONTEXT.divide(CONTEXT.multiply(c.basis, c.rate), HUNDRED)
            if c.rate is not None
            else CONTEXT.multiply(c.basis, c.amount_per_seat or ZERO)
        )
        meta = {
            "rate_id": c.rate_id,
            "rate": str(plain(c.rate)) if c.rate is not None else None,
            "basis": str(c.basis),
            "lines": list(c.line_ids),
        }
        per_seat = c.amount_per_seat is not None
        session.add(
            _line(
                invoice,
                position,
                c.kind,
                _tax_label(c),
                c.amount,
                precise,
                meta,
                quantity=c.basis if per_seat else None,
                unit_amount=c.amount_per_seat if per_seat else None,
            )
        )
        position += 1
    tax_total = sum((c.amount for c in charges), ZERO)
    total = subtotal - discount_total + tax_total

    grants = credits_service.usable_grants(
        session, invoice.customer_id, invoice.seller_id, currency, now, lock=final
    )
    per_product: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for x in lines:
        if x.product is not None:
            per_product[x.product] += net[x.id]
    allocation = credits.allocate(
        [credits_service.as_pure(g) for g in grants], total - invoice.amount_paid, per_product
    )
    by_grant = {g.id: g for g in grants}
    for grant_id, amount in allocation:
        g = by_grant[grant_id]
        label = "Prepaid credit" + (f": {g.reason}" if g.reason else "")
        session.add(_line(invoice, position, "credit", label, -amount, meta={"grant_id": grant_id}))
        position += 1
    credits_applied = sum((a for _, a in allocation), ZERO)

    invoice.subtotal = subtotal
    invoice.discount_total = discount_total
    invoice.tax_total = tax_total
    invoice.total = total
    invoice.credits_applied = credits_applied
    invoice.amount_due = total - credits_applied - invoice.amount_paid
    session.flush()
    if final:
        taken = {a.discount_id: a.amount for a in applied}
        # every discount in force spends this period, even one that found nothing to take:
        # "3 periods" means the next three billing periods, as customers read it
        discounts_service.record_use(
            session, invoice, [(d.id, taken.get(d.id, ZERO)) for d in terms]
        )
        credits_service.spend(
            session,
            invoice.seller_id,
            invoice.customer_id,
            currency,
            "applied",
            [(by_grant[gid], amount, invoice.id) for gid, amount in allocation],
            now,
        )
