"""The money around an invoice, applied after its charge lines are built: discounts, taxes and
surcharges, prepaid credits, and the totals.

Contract with the bill run (billing/run.py): it builds the charge lines (kinds in CHARGE_KINDS),
then calls `apply(session, invoice, now, final=...)`, on every (re)build of a draft and once more
when finalizing. `apply` replaces the invoice's non-charge lines and sets every total. With
`final=False` it only projects (credits are shown but not consumed); with `final=True` it
consumes credits and redemptions in the finalizing transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from meterly.billing.models import Invoice, InvoiceLine

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


def apply(session: Session, invoice: Invoice, now: datetime, *, final: bool = False) -> None:
    session.execute(
        delete(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id, InvoiceLine.kind.in_(ADJUSTMENT_KINDS)
        )
    )
    lines = charge_lines(session, invoice)
    subtotal = sum((line.amount for line in lines), Decimal(0))
    invoice.subtotal = subtotal
    invoice.discount_total = Decimal(0)
    invoice.tax_total = Decimal(0)
    invoice.credits_applied = Decimal(0)
    invoice.total = subtotal
    invoice.amount_due = invoice.total - invoice.amount_paid
