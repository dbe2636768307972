"""Credit notes against finalized invoices: what remains creditable, gapless numbers per
seller, the credit back to the customer's balance (or marked refunded), `credit_note.created`.
The invoice itself never changes."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, in_subtree
from meterly.billing.adjustments import CHARGE_KINDS, rounding_mode
from meterly.billing.models import Invoice, InvoiceLine
from meterly.billing.money import access, creditable, credits_service, payments
from meterly.billing.money.models import CreditNote, CreditNoteLine
from meterly.billing.money.rounding import money, plain
from meterly.billing.money.schemas import CreditNoteIn, CreditNoteLineOut, CreditNoteOut
from meterly.billing.numbering import next_number
from meterly.errors import Conflict, InvalidInput, NotFound
from meterly.pricing.precision import ZERO
from meterly.resellers.profiles import profile_for
from meterly.webhooks.service import emit


def _credited(session: Session, invoice_id: int) -> dict[int, Decimal]:
    rows = session.execute(
        select(CreditNoteLine.invoice_line_id, CreditNoteLine.amount)
        .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
        .where(CreditNote.invoice_id == invoice_id)
    )
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, amount in rows:
        out[line_id] += amount
    return out


def line_infos(session: Session, invoice: Invoice) -> list[creditable.InvoiceLineInfo]:
    """The invoice's creditable lines: charges at their discounted amount (discount lines
    record their allocation per charge line), taxes and surcharges at theirs."""
    lines = list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    )
    discounted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.kind == "discount":
            for line_id, share in (line.meta.get("allocation") or {}).items():
                discounted[int(line_id)] += Decimal(share)
    credited = _credited(session, invoice.id)
    out = []
    for line in lines:
        if line.kind in CHARGE_KINDS:
            net = line.amount - discounted[line.id]
            out.append(
                creditable.InvoiceLineInfo(
                    line.id,
                    line.kind,
                    line.description,
                    line.product,
                    line.quantity,
                    net,
                    credited[line.id],
                )
            )
        elif line.kind in ("tax", "surcharge"):
            rate = line.meta.get("rate")
            out.append(
                creditable.InvoiceLineInfo(
                    line.id,
                    line.kind,
                    line.description,
                    line.product,
                    None,
                    line.amount,
                    credited[line.id],
                    Decimal(rate) if rate is not None else None,
                    tuple(int(i) for i in line.meta.get("lines") or []),
                )
            )
    return out


def _positions(session: Session, invoice_id: int) -> dict[int, int]:
    rows = session.execute(
        select(InvoiceLine.position, InvoiceLine.id).where(InvoiceLine.invoice_id == invoice_id)
    )
    return {position: line_id for position, line_id in rows}


def _out(session: Session, cn: CreditNote) -> CreditNoteOut:
    invoice = session.get(Invoice, cn.invoice_id)
    lines = session.scalars(
        select(CreditNoteLine)
        .where(CreditNoteLine.credit_note_id == cn.id)
        .order_by(CreditNoteLine.position)
    )
    return CreditNoteOut(
        id=cn.id,
        number=cn.number,
        invoice_id=cn.invoice_id,
        invoice_number=invoice.number if invoice else None,
        seller=access.external_id(session, cn.seller_id),
        customer=access.external_id(session, cn.customer_id),
        currency=cn.currency,
        reason=cn.reason,
        outcome=cn.outcome,
        subtotal=money(cn.subtotal, cn.currency),
        tax_total=money(cn.tax_total, cn.currency),
        total=money(cn.total, cn.currency),
        credit_grant_id=cn.credit_grant_id,
        refund_reference=cn.refund_ref,
        issued_at=cn.issued_at,
        seller_details=dict(cn.seller_details),
        customer_details=dict(cn.customer_details),
        lines=[
            CreditNoteLineOut(
                position=x.position,
                invoice_line_id=x.invoice_line_id,
                kind=x.kind,
                description=x.description,
                product=x.product,
                quantity=plain(x.quantity) if x.quantity is not None else None,
                amount=money(x.amount, cn.currency),
            )
            for x in lines
        ],
    )


def _number(session: Session, seller: Account, now: datetime) -> str:
    prefix = profile_for(session, seller.id).number_prefix  # the same prefix as its invoices
    year = now.astimezone(ZoneInfo(seller.timezone)).year  # the seller's calendar year
    seq = next_number(session, seller.id, "credit_note", year)
    return f"{prefix}-CN-{year}-{seq:06d}"


def _prior_totals(session: Session, invoice_id: int, outcome: str | None = None) -> Decimal:
    rows = session.scalars(
        select(CreditNote.total).where(
            CreditNote.invoice_id == invoice_id,
            *([CreditNote.outcome == outcome] if outcome else []),
        )
    )
    return sum(rows, ZERO)


def create(
    session: Session, principal: Principal, invoice_id: int, body: CreditNoteIn, now: datetime
) -> CreditNoteOut:
    invoice = access.invoice_for_write(session, principal, invoice_id)
    if invoice.status not in ("finalized", "overdue", "paid"):
        raise Conflict(
            f"invoice {invoice.id} is {invoice.status}; only a finalized invoice "
            "takes credit notes (a draft is simply rebuilt)"
        )
    infos = line_infos(session, invoice)
    try:
        if body.lines is None:
            credited = creditable.whole(infos)
        else:
            ids = _positions(session, invoice.id)
            requests = [
                creditable.Request(
                    x.line_id if x.line_id is not None else ids.get(x.position or 0, -1),
                    x.amount,
                    x.quantity,
                )
                for x in body.lines
            ]
            mode = rounding_mode(session, invoice.seller_id)
            credited = creditable.partial(infos, requests, invoice.currency, mode)
    except creditable.NotCreditable as exc:
        raise InvalidInput(str(exc)) from None
    subtotal = sum((c.amount for c in credited if c.kind in CHARGE_KINDS), ZERO)
    tax_total = sum((c.amount for c in credited if c.kind not in CHARGE_KINDS), ZERO)
    total = subtotal + tax_total
    left = invoice.total - _prior_totals(session, invoice.id)
    if total <= 0:
        raise InvalidInput(f"nothing remains creditable on invoice {invoice.id}")
    if total > left:
        raise InvalidInput(f"credit {total} exceeds what remains creditable ({left})")
    if body.refund:
        paid = payments.refundable(session, invoice) - _prior_totals(
            session, invoice.id, "refunded"
        )
        if total > paid:
            raise InvalidInput(
                f"a refund of {total} exceeds the money received ({paid}); "
                "credit the balance instead"
            )
    seller = session.get(Account, invoice.seller_id)
    customer = session.get(Account, invoice.customer_id)
    assert seller is not None and customer is not None
    cn = CreditNote(
        seller_id=seller.id,
        customer_id=customer.id,
        invoice_id=invoice.id,
        number=_number(session, seller, now),
        currency=invoice.currency,
        reason=body.reason,
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        outcome="refunded" if body.refund else "credit",
        refund_processor="manual" if body.refund else None,
        refund_ref=body.refund_reference,
        seller_details=dict(invoice.seller_details),
        customer_details=dict(invoice.customer_details),
        issued_at=now,
        key_id=principal.key_id,
    )
    session.add(cn)
    session.flush()
    for position, c in enumerate(credited):
        session.add(
            CreditNoteLine(
                credit_note_id=cn.id,
                invoice_line_id=c.line_id,
                position=position,
                kind=c.kind,
                description=c.description,
                product=c.product,
                quantity=c.quantity,
                amount=c.amount,
            )
        )
    if not body.refund:
        grant = credits_service.add_grant(
            session,
            customer,
            seller.id,
            invoice.currency,
            total,
            now,
            kind="credit_note",
            reason=f"Credit note {cn.number}",
            key_id=principal.key_id,
            credit_note_id=cn.id,
        )
        cn.credit_grant_id = grant.id
    session.flush()
    out = _out(session, cn)
    audit.record(
        session,
        principal,
        "credit_note.created",
        "credit_note",
        cn.number,
        seller.id,
        invoice_id=invoice.id,
        total=str(total),
    )
    emit(session, seller.id, "credit_note.created", out.model_dump(mode="json"))
    return out


def get(session: Session, principal: Principal, credit_note_id: int) -> CreditNoteOut:
    cn = session.scalar(
        select(CreditNote)
        .join(Account, Account.id == CreditNote.customer_id)
        .where(CreditNote.id == credit_note_id, in_subtree(principal))
    )
    if cn is None:
        raise NotFound(f"credit note {credit_note_id} not found")
    return _out(session, cn)


def list_notes(
    session: Session, principal: Principal, invoice_id: int | None, customer: str | None
) -> list[CreditNoteOut]:
    stmt = (
        select(CreditNote)
        .join(Account, Account.id == CreditNote.customer_id)
        .where(in_subtree(principal))
        .order_by(CreditNote.id)
        .limit(500)
    )
    if invoice_id is not None:
        stmt = stmt.where(CreditNote.invoice_id == invoice_id)
    if customer is not None:
        stmt = stmt.where(Account.external_id == customer)
    return [_out(session, cn) for cn in session.scalars(stmt)]
