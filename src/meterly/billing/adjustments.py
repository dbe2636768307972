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

The computation itself is `plan(lines, currency, amount_paid, facts)`: `apply` reads the facts
of one invoice with a few queries; a bill run reads them once for a group of drafts
(billing.facts) and writes the planned lines itself (billing.writer). Same function, same lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Charged:
    """A stored charge line, as the ledger returns it (its amounts' form shows in line meta)."""

    id: int
    position: int
    kind: str
    product: str | None
    amount: Decimal
    quantity: Decimal | None
    period_end: datetime | None


@dataclass(frozen=True, slots=True)
class Facts:
    """What an invoice's money depends on besides its lines."""

    mode: RoundingMode
    terms: Sequence[discounts.Terms]
    rates: Sequence[tax.Rate]
    grants: Sequence[credits.Grant]
    reasons: Mapping[int, str | None] = field(default_factory=dict)  # grant id -> reason


@dataclass(slots=True)
class Plan:
    """The adjustment lines (column values, invoice_id left out) and the invoice's totals."""

    rows: list[dict[str, Any]]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    credits_applied: Decimal
    amount_due: Decimal
    applied: list[discounts.Applied]
    allocation: list[tuple[int, Decimal]]


def charge_lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id, InvoiceLine.kind.in_(CHARGE_KINDS))
            .order_by(InvoiceLine.position)
        )
    )


def mode_of(profile_rounding: str | None) -> RoundingMode:
    return "half_even" if profile_rounding == "half_even" else "half_up"


def rounding_mode(session: Session, seller_id: int) -> RoundingMode:
    profile = session.get(SellerProfile, seller_id)
    return mode_of(profile.rounding_mode if profile is not None else None)


def _row(
    position: int,
    kind: str,
    description: str,
    amount: Decimal,
    precise: Decimal | None = None,
    meta: dict[str, Any] | None = None,
    quantity: Decimal | None = None,
    unit_amount: Decimal | None = None,
) -> dict[str, Any]:
    # every column, so a group's rows share one INSERT statement
    return {
        "position": position, "kind": kind, "description": description, "product": None,
        "meter": None, "price_key": None, "period_start": None, "period_end": None,
        "quantity": quantity, "unit_amount": unit_amount, "breakdown": [],
        "precise_amount": amount if precise is None else precise, "amount": amount,
        "meta": meta or {},
    }  # fmt: skip


def _discount_label(d: discounts.Terms) -> str:
    off = f"{plain(d.percent_off)}% off" if d.percent_off is not None else "amount off"
    scope = f" on {', '.join(sorted(d.products))}" if d.products else ""
    return f"{d.name} ({off}{scope})"


def _tax_label(c: tax.Charge) -> str:
    if c.rate is not None:
        return f"{c.name} ({plain(c.rate)}%)"
    return f"{c.name} ({plain(c.basis)} × {plain(c.amount_per_seat or ZERO)})"


def plan(lines: Sequence[Charged], currency: str, amount_paid: Decimal, facts: Facts) -> Plan:
    """The adjustment lines and totals of an invoice with these charge lines (pure)."""
    rows: list[dict[str, Any]] = []
    mode = facts.mode
    position = max((line.position for line in lines), default=-1) + 1
    subtotal = sum((line.amount for line in lines), ZERO)

    terms = list(facts.terms)
    pure_lines = [discounts.Line(line.id, line.product, line.amount) for line in lines]
    applied, net = discounts.apply_discounts(pure_lines, terms, currency, mode)
    by_terms = {d.id: d for d in terms}
    for a in applied:
        meta = {
            "discount_id": a.discount_id,
            "allocation": {str(k): str(v) for k, v in a.allocation.items() if v},
        }
        label = _discount_label(by_terms[a.discount_id])
        rows.append(_row(position, "discount", label, -a.amount, meta=meta))
        position += 1
    discount_total = sum((a.amount for a in applied), ZERO)

    taxable = [
        tax.Line(x.id, x.kind, x.product, net[x.id], x.quantity, x.period_end) for x in lines
    ]
    charges = tax.compute(taxable, list(facts.rates), currency, mode)
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
        rows.append(_row(position, c.kind, _tax_label(c), c.amount, precise, meta,
                         quantity=c.basis if per_seat else None,
                         unit_amount=c.amount_per_seat if per_seat else None))  # fmt: skip
        position += 1
    tax_total = sum((c.amount for c in charges), ZERO)
    total = subtotal - discount_total + tax_total

    per_product: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for x in lines:
        if x.product is not None:
            per_product[x.product] += net[x.id]
    allocation = credits.allocate(list(facts.grants), total - amount_paid, per_product)
    for grant_id, amount in allocation:
        reason = facts.reasons.get(grant_id)
        label = "Prepaid credit" + (f": {reason}" if reason else "")
        rows.append(_row(position, "credit", label, -amount, meta={"grant_id": grant_id}))
        position += 1
    credits_applied = sum((a for _, a in allocation), ZERO)
    return Plan(rows, subtotal, discount_total, tax_total, total, credits_applied,
                total - credits_applied - amount_paid, applied, allocation)  # fmt: skip


def apply(session: Session, invoice: Invoice, now: datetime, *, final: bool = False) -> None:
    if invoice.id is None:
        session.flush()
    session.execute(
        delete(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id, InvoiceLine.kind.in_(ADJUSTMENT_KINDS)
        )
    )
    lines = [
        Charged(x.id, x.position, x.kind, x.product, x.amount, x.quantity, x.period_end)
        for x in charge_lines(session, invoice)
    ]
    currency = invoice.currency
    terms = discounts_service.for_invoice(session, invoice)
    rates = tax_service.for_invoice(session, invoice.customer_id, invoice.seller_id, currency)
    grants = credits_service.usable_grants(
        session, invoice.customer_id, invoice.seller_id, currency, now, lock=final
    )
    facts = Facts(rounding_mode(session, invoice.seller_id), terms, rates,
                  [credits_service.as_pure(g) for g in grants],
                  {g.id: g.reason for g in grants})  # fmt: skip
    p = plan(lines, currency, invoice.amount_paid, facts)
    for row in p.rows:
        session.add(InvoiceLine(invoice_id=invoice.id, **row))
    invoice.subtotal = p.subtotal
    invoice.discount_total = p.discount_total
    invoice.tax_total = p.tax_total
    invoice.total = p.total
    invoice.credits_applied = p.credits_applied
    invoice.amount_due = p.amount_due
    session.flush()
    if final:
        taken = {a.discount_id: a.amount for a in p.applied}
        # every discount in force spends this period, even one that found nothing to take:
        # "3 periods" means the next three billing periods, as customers read it
        discounts_service.record_use(
            session, invoice, [(d.id, taken.get(d.id, ZERO)) for d in terms]
        )
        by_grant = {g.id: g for g in grants}
        credits_service.spend(
            session,
            invoice.seller_id,
            invoice.customer_id,
            currency,
            "applied",
            [(by_grant[gid], amount, invoice.id) for gid, amount in p.allocation],
            now,
        )
