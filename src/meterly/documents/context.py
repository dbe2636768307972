"""Build the document view model of an invoice or a credit note from the ledger.

Scoping is the one of `GET /v1/invoices/{id}` and `GET /v1/credit-notes/{id}`: visible when the
customer is in the caller's subtree, 404 otherwise. The brand is the invoice's own seller (a
reseller for its customers): a finalized invoice uses its `seller_details` snapshot so a later
rebrand never rewrites an issued document; a draft shows the seller's current profile. Nothing
here looks above the seller, so no upstream name can reach a document.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, in_subtree
from meterly.billing.adjustments import CHARGE_KINDS
from meterly.billing.finalize import customer_details, seller_details
from meterly.billing.models import Invoice, InvoiceLine, SellerProfile
from meterly.billing.money.models import CreditNote, CreditNoteLine
from meterly.documents import format as fmt
from meterly.documents.model import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    Brand,
    Document,
    Line,
    Party,
    Tier,
    TotalRow,
    safe_color,
)
from meterly.errors import NotFound

_BADGES = {"draft": "Draft", "paid": "Paid", "void": "Void", "overdue": "Overdue"}
_TOTAL_KINDS = {"discount": "discount", "tax": "tax", "surcharge": "surcharge", "credit": "credit"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def brand(details: dict[str, Any]) -> Brand:
    address = _text(details.get("address")) or ""
    return Brand(
        name=_text(details.get("name")) or _text(details.get("account")) or "",
        address_lines=[x.strip() for x in address.splitlines() if x.strip()],
        tax_id=_text(details.get("tax_id")),
        logo_url=_text(details.get("logo_url")),
        primary_color=safe_color(_text(details.get("primary_color")), DEFAULT_PRIMARY),
        accent_color=safe_color(_text(details.get("accent_color")), DEFAULT_ACCENT),
        footer=_text(details.get("invoice_footer")),
        support_email=_text(details.get("support_email")),
        support_phone=_text(details.get("support_phone")),
    )


def party(details: dict[str, Any]) -> Party:
    address = _text(details.get("address")) or ""
    return Party(
        name=_text(details.get("name")) or _text(details.get("account")) or "",
        account=_text(details.get("account")) or "",
        address_lines=[x.strip() for x in address.splitlines() if x.strip()],
        tax_id=_text(details.get("tax_id")),
    )


def _details(session: Session, invoice: Invoice) -> tuple[dict[str, Any], dict[str, Any]]:
    """(seller, customer) details: the finalization snapshot, or live for a draft."""
    seller_d, customer_d = dict(invoice.seller_details), dict(invoice.customer_details)
    if not seller_d:
        seller = session.get(Account, invoice.seller_id)
        assert seller is not None
        profile = session.get(SellerProfile, seller.id) or SellerProfile(account_id=seller.id)
        seller_d = seller_details(seller, profile)
    if not customer_d:
        customer = session.get(Account, invoice.customer_id)
        assert customer is not None
        customer_d = customer_details(session, customer)
    return seller_d, customer_d


def safe_filename(number: str) -> str:
    """A number as a file name: letters, digits, '.', '_' and '-' only (header-safe)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", number).strip("-") or "document"


def _tiers(raw: list[dict[str, Any]], currency: str) -> list[Tier]:
    out = []
    for t in raw:
        unit = t.get("unit_amount")
        out.append(
            Tier(
                description=str(t.get("description") or ""),
                quantity=fmt.quantity(Decimal(str(t.get("quantity") or "0"))),
                unit_price=None if unit is None else fmt.unit_price(Decimal(str(unit)), currency),
                amount=fmt.money(Decimal(str(t.get("amount") or "0")), currency),
            )
        )
    # a single band says nothing the line itself does not
    return out if len(out) > 1 else []


def _line_period(
    start: datetime | None, end: datetime | None, doc: tuple[datetime, datetime], tz: str
) -> str | None:
    if start is None or end is None or (start, end) == doc:
        return None
    return fmt.period_label(start, end, tz)


def _line(ln: InvoiceLine, currency: str, doc: tuple[datetime, datetime], tz: str) -> Line:
    return Line(
        position=ln.position,
        kind=ln.kind,
        description=ln.description,
        product=ln.product,
        meter=ln.meter,
        period=_line_period(ln.period_start, ln.period_end, doc, tz),
        quantity=None if ln.quantity is None else fmt.quantity(ln.quantity),
        unit_price=None if ln.unit_amount is None else fmt.unit_price(ln.unit_amount, currency),
        amount=fmt.money(ln.amount, currency),
        tiers=_tiers(list(ln.breakdown), currency),
        period_start_raw=None if ln.period_start is None else ln.period_start.isoformat(),
        period_end_raw=None if ln.period_end is None else ln.period_end.isoformat(),
        quantity_raw=None if ln.quantity is None else fmt.plain(ln.quantity),
        unit_price_raw=None if ln.unit_amount is None else fmt.plain(ln.unit_amount),
        precise_amount_raw=fmt.plain(ln.precise_amount),
        amount_raw=fmt.money_plain(ln.amount, currency),
    )


def _row(kind: str, label: str, amount: Decimal, currency: str) -> TotalRow:
    return TotalRow(kind, label, fmt.money(amount, currency), fmt.money_plain(amount, currency))


def _find_invoice(session: Session, principal: Principal, invoice_id: int) -> Invoice:
    invoice = session.scalar(
        select(Invoice)
        .join(Account, Account.id == Invoice.customer_id)
        .where(Invoice.id == invoice_id, in_subtree(principal))
    )
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


def invoice_document(session: Session, principal: Principal, invoice_id: int) -> Document:
    inv = _find_invoice(session, principal, invoice_id)
    seller_d, customer_d = _details(session, inv)
    tz = str(customer_d.get("timezone") or "UTC")
    c, span = inv.currency, (inv.period_start, inv.period_end)
    rows = session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.position)
    )
    lines, extra = [], []
    for ln in rows:
        if ln.kind in CHARGE_KINDS:
            lines.append(_line(ln, c, span, tz))
        elif ln.kind in _TOTAL_KINDS:
            extra.append(ln)
    totals = [_row("subtotal", "Subtotal", inv.subtotal, c)]
    # the order a reader checks the arithmetic in: discounts, then taxes on the discounted
    # lines, the total, then what credits and payments took off it
    for kinds in (("discount",), ("tax", "surcharge")):
        totals += [_row(x.kind, x.description, x.amount, c) for x in extra if x.kind in kinds]
    totals.append(_row("total", "Total", inv.total, c))
    totals += [_row(x.kind, x.description, x.amount, c) for x in extra if x.kind == "credit"]
    if inv.amount_paid:
        totals.append(_row("payment", "Payments received", -inv.amount_paid, c))
    facts = [("Invoice number", inv.number or "Draft — not yet issued")]
    notes = []
    if inv.issued_at is not None:
        facts.append(("Issue date", fmt.long_date(fmt.local_date(inv.issued_at, tz))))
    if inv.due_at is not None:
        facts.append(("Due date", fmt.long_date(fmt.local_date(inv.due_at, tz))))
        if inv.issued_at is not None and inv.status not in ("paid", "void"):
            days = (inv.due_at - inv.issued_at).days
            notes.append(f"Payment terms: net {days} days. Please pay by the due date.")
    facts.append(("Billing period", fmt.period_label(inv.period_start, inv.period_end, tz)))
    if inv.status == "draft":
        notes.insert(0, "This is a draft: amounts may change until the invoice is issued.")
    if inv.status == "void":
        notes.insert(0, "This invoice is void: nothing is due.")
    number = inv.number or "DRAFT"
    return Document(
        kind="invoice",
        title="Invoice",
        number=number,
        status=inv.status,
        status_label=_BADGES.get(inv.status),
        currency=c,
        seller=brand(seller_d),
        customer=party(customer_d),
        facts=facts,
        period=facts[-1][1],
        period_start_raw=inv.period_start.isoformat(),
        period_end_raw=inv.period_end.isoformat(),
        lines=lines,
        totals=totals,
        due_label="Amount due",
        due_amount=fmt.money(inv.amount_due, c),
        due_amount_raw=fmt.money_plain(inv.amount_due, c),
        notes=notes,
        filename=safe_filename(inv.number or f"invoice-{inv.id}-draft"),
    )


def credit_note_document(session: Session, principal: Principal, credit_note_id: int) -> Document:
    cn = session.scalar(
        select(CreditNote)
        .join(Account, Account.id == CreditNote.customer_id)
        .where(CreditNote.id == credit_note_id, in_subtree(principal))
    )
    if cn is None:
        raise NotFound(f"credit note {credit_note_id} not found")
    inv = session.get(Invoice, cn.invoice_id)
    assert inv is not None
    seller_d, customer_d = dict(cn.seller_details), dict(cn.customer_details)
    if not seller_d or not customer_d:
        seller_d, customer_d = _details(session, inv)
    tz = str(customer_d.get("timezone") or "UTC")
    c, span = cn.currency, (inv.period_start, inv.period_end)
    rows = list(
        session.scalars(
            select(CreditNoteLine)
            .where(CreditNoteLine.credit_note_id == cn.id)
            .order_by(CreditNoteLine.position)
        )
    )
    sources = {
        x.id: x
        for x in session.scalars(
            select(InvoiceLine).where(InvoiceLine.id.in_([r.invoice_line_id for r in rows]))
        )
    }
    lines = []
    for r in rows:
        if r.kind not in CHARGE_KINDS:
            continue
        src = sources.get(r.invoice_line_id)
        start, end = (src.period_start, src.period_end) if src else (None, None)
        lines.append(
            Line(
                position=r.position,
                kind=r.kind,
                description=r.description,
                product=r.product,
                meter=src.meter if src else None,
                period=_line_period(start, end, span, tz),
                quantity=None if r.quantity is None else fmt.quantity(r.quantity),
                unit_price=None,
                amount=fmt.money(r.amount, c),
                tiers=[],
                period_start_raw=None if start is None else start.isoformat(),
                period_end_raw=None if end is None else end.isoformat(),
                quantity_raw=None if r.quantity is None else fmt.plain(r.quantity),
                unit_price_raw=None,
                precise_amount_raw=fmt.plain(r.amount),
                amount_raw=fmt.money_plain(r.amount, c),
            )
        )
    totals = [_row("subtotal", "Subtotal credited", cn.subtotal, c)]
    totals += [_row(r.kind, r.description, r.amount, c) for r in rows if r.kind not in CHARGE_KINDS]
    totals.append(_row("total", "Total credited", cn.total, c))
    facts = [
        ("Credit note number", cn.number),
        ("Issue date", fmt.long_date(fmt.local_date(cn.issued_at, tz))),
        ("Credits invoice", inv.number or f"#{inv.id}"),
        ("Billing period", fmt.period_label(inv.period_start, inv.period_end, tz)),
    ]
    if cn.outcome == "refunded":
        where = "Refunded" + (f" (reference {cn.refund_ref})" if cn.refund_ref else "") + "."
    else:
        where = "Credited to your account balance; it is applied to your next invoices."
    return Document(
        kind="credit_note",
        title="Credit note",
        number=cn.number,
        status=cn.outcome,
        status_label="Refunded" if cn.outcome == "refunded" else None,
        currency=c,
        seller=brand(seller_d),
        customer=party(customer_d),
        facts=facts,
        period=facts[-1][1],
        period_start_raw=inv.period_start.isoformat(),
        period_end_raw=inv.period_end.isoformat(),
        lines=lines,
        totals=totals,
        due_label="Total credited",
        due_amount=fmt.money(cn.total, c),
        due_amount_raw=fmt.money_plain(cn.total, c),
        notes=[f"Reason: {cn.reason}", where],
        filename=safe_filename(cn.number),
    )
