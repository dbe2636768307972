"""A finalized invoice never changes (DESIGN.md): enforced on every ORM flush, whoever writes.

Once an invoice leaves `draft`, only its settlement may move: status (to paid, void or overdue,
never back to draft), amount paid and due, and the paid / voided / overdue-notice times. Its
lines can be neither added, changed nor deleted. Services check first and answer 409; this hook
is the backstop for any path that forgets (a test edits a finalized invoice directly).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from meterly.billing.models import Invoice, InvoiceLine
from meterly.errors import Conflict

SETTLEMENT = frozenset(
    {"status", "amount_paid", "amount_due", "paid_at", "voided_at", "overdue_notified_at",
     "updated_at"}
)  # fmt: skip


class FinalizedInvoice(Conflict):
    pass


def _old_status(invoice: Invoice) -> str:
    hist = inspect(invoice).attrs.status.history
    return str(hist.deleted[0]) if hist.deleted else invoice.status


def _check_invoice(invoice: Invoice) -> None:
    if _old_status(invoice) == "draft":
        return
    if invoice.status == "draft":
        raise FinalizedInvoice(f"invoice {invoice.id} is {_old_status(invoice)}; not a draft again")
    for attr in inspect(invoice).attrs:
        if attr.key not in SETTLEMENT and attr.history.has_changes():
            raise FinalizedInvoice(
                f"invoice {invoice.number or invoice.id} is finalized; '{attr.key}' cannot change "
                "(issue a credit note instead)"
            )


def _check_line(session: Session, line: InvoiceLine) -> None:
    with session.no_autoflush:
        invoice = session.get(Invoice, line.invoice_id)
    if invoice is not None and _old_status(invoice) != "draft":
        raise FinalizedInvoice(
            f"invoice {invoice.number or invoice.id} is finalized; its lines cannot change"
        )


@event.listens_for(Session, "before_flush")
def _guard(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Invoice):
            _check_invoice(obj)
        elif isinstance(obj, InvoiceLine) and session.is_modified(obj):
            _check_line(session, obj)
    for obj in [*session.new, *session.deleted]:
        if isinstance(obj, InvoiceLine):
            _check_line(session, obj)


def ensure_draft(invoice: Invoice) -> None:
    if invoice.status != "draft":
        label = invoice.number or f"invoice {invoice.id}"
        raise FinalizedInvoice(f"{label} is {invoice.status}; a finalized invoice never changes")
