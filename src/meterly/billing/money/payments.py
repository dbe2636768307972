"""Payments against invoices, the paid transition, and overdue detection."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.scope import Principal
from meterly.billing.models import Invoice
from meterly.billing.money import access
from meterly.billing.money.models import Payment
from meterly.billing.money.rounding import money
from meterly.billing.money.schemas import PaymentIn, PaymentOut
from meterly.errors import Conflict, InvalidInput
from meterly.pricing.currency import round_money
from meterly.webhooks.service import emit

# statuses that take payments and can be overdue ("overdue" if the core ever sets it as a status)
OPEN = frozenset({"finalized", "overdue"})


def is_overdue(invoice: Invoice, now: datetime) -> bool:
    """Finalized, past its due date, and not fully paid."""
    return (
        invoice.status in OPEN
        and invoice.due_at is not None
        and now >= invoice.due_at
        and invoice.amount_due > 0
    )


def invoice_data(session: Session, invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "customer": access.external_id(session, invoice.customer_id),
        "currency": invoice.currency,
        "total": str(money(invoice.total, invoice.currency)),
        "amount_paid": str(money(invoice.amount_paid, invoice.currency)),
        "amount_due": str(money(invoice.amount_due, invoice.currency)),
        "due_at": invoice.due_at.isoformat() if invoice.due_at else None,
    }


def settle(session: Session, invoice: Invoice, when: datetime) -> bool:
    """A finalized invoice with nothing left to pay becomes paid (`invoice.paid`). Called after
    each payment, and by the bill run after finalizing (credits may cover a whole invoice)."""
    if invoice.status not in OPEN or invoice.amount_due > 0:
        return False
    invoice.status = "paid"
    invoice.paid_at = when
    session.flush()
    emit(session, invoice.seller_id, "invoice.paid", invoice_data(session, invoice))
    return True


def _out(p: Payment, invoice: Invoice) -> PaymentOut:
    return PaymentOut(
        id=p.id,
        invoice_id=p.invoice_id,
        amount=money(p.amount, p.currency),
        currency=p.currency,
        paid_at=p.paid_at,
        method=p.method,
        reference=p.reference,
        status=p.status,
        processor=p.processor,
        processor_ref=p.processor_ref,
        invoice_status=invoice.status,
        invoice_amount_due=money(invoice.amount_due, invoice.currency),
        created_at=p.created_at,
    )


def record(
    session: Session, principal: Principal, invoice_id: int, body: PaymentIn, now: datetime
) -> tuple[PaymentOut, bool]:
    """(payment, created). A repeated idempotency key returns the first payment unchanged."""
    invoice = access.invoice_for_write(session, principal, invoice_id)
    if body.idempotency_key is not None:
        seen = session.scalar(
            select(Payment).where(
                Payment.seller_id == invoice.seller_id,
                Payment.idempotency_key == body.idempotency_key,
            )
        )
        if seen is not None:
            if seen.invoice_id != invoice.id or seen.amount != body.amount:
                raise Conflict("idempotency_key was used for a different payment")
            return _out(seen, invoice), False
    if invoice.status in ("draft", "void"):
        raise Conflict(f"invoice {invoice.id} is {invoice.status}; it takes no payments")
    amount = body.amount
    if round_money(amount, invoice.currency) != amount:
        raise InvalidInput(f"amount {amount} is finer than {invoice.currency}'s minor unit")
    if amount > invoice.amount_due:
        raise InvalidInput(
            f"amount {amount} exceeds the amount due {invoice.amount_due}",
            [{"field": "amount", "message": f"at most {invoice.amount_due}"}],
        )
    paid_at = body.paid_at or now
    if paid_at.tzinfo is None:
        raise InvalidInput("paid_at needs a UTC offset")
    p = Payment(
        invoice_id=invoice.id,
        seller_id=invoice.seller_id,
        customer_id=invoice.customer_id,
        amount=amount,
        currency=invoice.currency,
        paid_at=paid_at,
        method=body.method,
        reference=body.reference,
        status="succeeded",
        processor="manual",
        idempotency_key=body.idempotency_key,
        key_id=principal.key_id,
    )
    session.add(p)
    invoice.amount_paid += amount
    invoice.amount_due -= amount
    session.flush()
    audit.record(
        session,
        principal,
        "payment.recorded",
        "payment",
        str(p.id),
        invoice.seller_id,
        invoice_id=invoice.id,
        amount=str(amount),
    )
    settle(session, invoice, paid_at)
    return _out(p, invoice), True


def list_payments(session: Session, principal: Principal, invoice_id: int) -> list[PaymentOut]:
    invoice = access.invoice_for_read(session, principal, invoice_id)
    rows = session.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)
    )
    return [_out(p, invoice) for p in rows]


def refundable(session: Session, invoice: Invoice) -> Decimal:
    """Money actually received for the invoice (succeeded payments)."""
    rows = session.scalars(
        select(Payment.amount).where(
            Payment.invoice_id == invoice.id, Payment.status == "succeeded"
        )
    )
    return sum(rows, Decimal(0))


def announce_overdue(session: Session, now: datetime, limit: int = 500) -> int:
    """`invoice.overdue` once per invoice: the flag is set by a conditional update, so two
    workers racing on the same invoice announce it once. Amounts are compared in Python (SQLite
    keeps money as text, where `> 0` would compare strings)."""
    candidates = session.scalars(
        select(Invoice)
        .where(
            Invoice.status.in_(OPEN),
            Invoice.due_at <= now,
            Invoice.overdue_notified_at.is_(None),
        )
        .order_by(Invoice.due_at, Invoice.id)
        .limit(limit)
    )
    done = 0
    for invoice in list(candidates):
        if invoice.amount_due <= 0:
            done += settle(session, invoice, now)  # credits covered it; nothing is overdue
            continue
        claimed = session.execute(
            update(Invoice)
            .where(Invoice.id == invoice.id, Invoice.overdue_notified_at.is_(None))
            .values(overdue_notified_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(invoice)
            emit(session, invoice.seller_id, "invoice.overdue", invoice_data(session, invoice))
            done += 1
    return done
