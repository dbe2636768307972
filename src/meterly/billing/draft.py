"""Creating and rebuilding draft invoices (the write side shared by bill runs and finalization)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.billing import adjustments
from meterly.billing.builder import (
    DraftLine,
    Purchase,
    commitment_lines,
    purchase_lines,
    subscription_charges,
)
from meterly.billing.context import Span, SubContext, as_purchase
from meterly.billing.guard import ensure_draft
from meterly.billing.late import Billed, late_lines
from meterly.billing.models import Invoice, InvoiceLine, SellerProfile
from meterly.pricing.currency import quantum
from meterly.resellers.profiles import profile_for
from meterly.subscriptions.lines import UsageSource
from meterly.subscriptions.models import OneOffPurchase
from meterly.webhooks.models import WebhookEndpoint
from meterly.webhooks.service import emit

DEFAULT_GRACE_HOURS = 72
DEFAULT_NET_TERMS_DAYS = 30


def compute(
    ctx: SubContext, span: Span, usage: UsageSource, late: Sequence[Billed]
) -> tuple[str, list[DraftLine], list[DraftLine]]:
    """(currency, charge lines before purchases, lines after them) of the invoice closing span."""
    period = ctx.period(span)
    charges = subscription_charges(period, usage)
    commit = commitment_lines(charges, ctx.commitment, span)
    return period.currency, charges, commit + late_lines(late, usage, ctx.customer.timezone)


def claim_purchases(
    session: Session, invoice: Invoice, purchases: Sequence[Purchase]
) -> list[Purchase]:
    """Mark purchases billed by this invoice; one already taken (a concurrent run) is skipped."""
    return claim(session, invoice.id, purchases)


def claim(session: Session, invoice_id: int, purchases: Sequence[Purchase]) -> list[Purchase]:
    kept = []
    for p in purchases:
        res = session.execute(
            update(OneOffPurchase)
            .where(OneOffPurchase.id == p.id, OneOffPurchase.billed_invoice_id.is_(None))
            .values(billed_invoice_id=invoice_id)
        )
        if getattr(res, "rowcount", 0) == 1:
            kept.append(p)
    return kept


def attached_purchases(session: Session, invoice: Invoice) -> list[Purchase]:
    rows = session.scalars(
        select(OneOffPurchase)
        .where(OneOffPurchase.billed_invoice_id == invoice.id)
        .order_by(OneOffPurchase.purchased_at, OneOffPurchase.id)
    )
    return [as_purchase(p) for p in rows]


def write_lines(
    session: Session, invoice: Invoice, lines: Sequence[DraftLine], fresh: bool = False
) -> None:
    """Replace the draft's charge lines. One multi-row INSERT, not the ORM unit of work: a bill
    run writes thousands of invoices, and per-object flushes were a third of its time."""
    ensure_draft(invoice)
    if not fresh:
        session.execute(
            delete(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice.id,
                InvoiceLine.kind.in_(adjustments.CHARGE_KINDS),
            )
        )
    if lines:
        session.execute(insert(InvoiceLine), line_rows(invoice.id, lines))


def line_rows(invoice_id: int, lines: Sequence[DraftLine]) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": invoice_id,
            "position": i,
            "kind": ln.kind,
            "description": ln.description[:500],
            "product": ln.product,
            "meter": ln.meter,
            "price_key": None,
            "period_start": ln.period_start,
            "period_end": ln.period_end,
            "quantity": ln.quantity,
            "unit_amount": ln.unit_amount,
            "breakdown": list(ln.breakdown),
            "precise_amount": ln.precise_amount,
            "amount": ln.amount,
            "meta": dict(ln.meta),
        }
        for i, ln in enumerate(lines, start=1)
    ]


def profile_of(session: Session, seller_id: int) -> SellerProfile:
    """The seller's profile, or the defaults (not stored: a seller may never configure one)."""
    found = session.get(SellerProfile, seller_id)
    if found is not None:
        return found
    # the same defaults the profile API shows (prefix from the seller's id, e.g. SKY)
    view = profile_for(session, seller_id)
    return SellerProfile(
        account_id=seller_id, number_prefix=view.number_prefix, grace_hours=view.grace_hours,
        net_terms_days=view.net_terms_days, rounding_mode=view.rounding_mode,
        display_name=view.display_name,
    )  # fmt: skip


def invoice_event(invoice: Invoice, seller: Account, customer: Account) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "seller": seller.external_id,
        "customer": customer.external_id,
        "currency": invoice.currency,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "total": format(invoice.total.quantize(quantum(invoice.currency)), "f"),
        "amount_due": format(invoice.amount_due.quantize(quantum(invoice.currency)), "f"),
    }


def notify(
    session: Session,
    type_: str,
    invoice: Invoice,
    seller: Account,
    customer: Account,
    listening: Collection[int] | None = None,
) -> None:
    """Both sides may have endpoints: the seller and the customer get the event. `listening`
    (the accounts with endpoints, read once per bill-run batch) spares a query per invoice."""
    data = invoice_event(invoice, seller, customer)
    for account in (seller.id, customer.id):
        if listening is None or account in listening:
            emit(session, account, type_, data)


def listeners(session: Session, account_ids: Iterable[int]) -> set[int]:
    ids = list(account_ids)
    return set(
        session.scalars(
            select(WebhookEndpoint.account_id).where(
                WebhookEndpoint.account_id.in_(ids), WebhookEndpoint.enabled.is_(True)
            )
        )
    )


def create_draft(
    session: Session,
    ctx: SubContext,
    span: Span,
    currency: str,
    charges: Sequence[DraftLine],
    after: Sequence[DraftLine],
    purchases: Sequence[Purchase],
    grace_hours: int,
    run_id: int | None,
    now: datetime,
    listening: Collection[int] | None = None,
) -> Invoice:
    """Insert one draft through the ORM; a duplicate (subscription, period) raises
    IntegrityError at flush. Bill runs write the same drafts a group at a time
    (billing.writer); tests/billing/test_bill_run_batching.py holds the two to the same lines."""
    invoice = Invoice(
        seller_id=ctx.sub.seller_id, customer_id=ctx.sub.customer_id, subscription_id=ctx.sub.id,
        bill_run_id=run_id, status="draft", currency=currency, period_start=span[0],
        period_end=span[1], finalize_after=span[1] + timedelta(hours=grace_hours),
    )  # fmt: skip
    session.add(invoice)
    session.flush()
    kept = claim_purchases(session, invoice, purchases) if purchases else []
    write_lines(session, invoice, [*charges, *purchase_lines(kept), *after], fresh=True)
    adjustments.apply(session, invoice, now, final=False)
    session.flush()
    notify(session, "invoice.drafted", invoice, ctx.seller, ctx.customer, listening)
    return invoice
