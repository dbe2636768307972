"""Finalization and voiding.

A draft is rebuilt from current usage when it is finalized — late events that arrived during
the grace period count — then the money around it is applied for good (credits consumed), the
gapless number taken, seller and customer details snapshotted, and the invoice frozen (guard.py).
All of it in one transaction: a failure leaves a draft and gives the number back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.billing import adjustments, commitments
from meterly.billing.builder import DraftLine, purchase_lines
from meterly.billing.context import billed_usage, late_for, load_contexts, purchases_for
from meterly.billing.draft import (
    attached_purchases,
    claim_purchases,
    compute,
    notify,
    profile_of,
    write_lines,
)
from meterly.billing.guard import FinalizedInvoice, ensure_draft
from meterly.billing.models import Invoice, SellerProfile
from meterly.billing.money import credits_service, payments
from meterly.billing.numbering import format_number, next_number
from meterly.chain.wholesale import Wholesale, is_wholesale
from meterly.errors import Conflict
from meterly.storage.events.base import EventStore
from meterly.storage.ledger import Ledger
from meterly.subscriptions.models import OneOffPurchase, Subscription
from meterly.subscriptions.usage_source import StoreUsage

log = logging.getLogger("meterly.billing")
FINALIZE_BATCH = 200


def locked(session: Session, invoice_id: int) -> Invoice | None:
    """The invoice, row-locked on PostgreSQL (SQLite: the transaction already holds the lock)."""
    return session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


Prepared = tuple[str, list[DraftLine], list[DraftLine]]  # (currency, charges, after)


def prepare(session: Session, store: EventStore, invoice: Invoice) -> Prepared | None:
    """The draft's charge lines from current usage: the slow, read-only part of a rebuild (the
    event store), so finalize_due runs it before taking the ledger's write lock."""
    if invoice.subscription_id is None:
        return None
    sub = session.get(Subscription, invoice.subscription_id)
    assert sub is not None
    ctx = load_contexts(session, [sub])[0]
    commitments.attach(session, [ctx])
    span = (invoice.period_start, invoice.period_end)
    late = late_for(billed_usage(session, [sub.id], exclude_invoice=invoice.id), sub.id, span)
    if is_wholesale(ctx):  # chain billing: a reseller pays for its subtree (meterly.chain)
        currency, charges, after = Wholesale(session, store, [ctx]).compute(ctx, span, late)
    else:
        usage = StoreUsage(session, store, ctx.customer, ctx.seller)
        currency, charges, after = compute(ctx, span, usage, late)
    return currency, list(charges), list(after)


def rebuild(
    session: Session,
    store: EventStore,
    invoice: Invoice,
    now: datetime,
    prepared: Prepared | None = None,
) -> None:
    """Recompute a draft's charge lines from the current usage, purchases and late usage."""
    ensure_draft(invoice)
    if invoice.subscription_id is None:
        adjustments.apply(session, invoice, now, final=False)
        return
    currency, charges, after = prepared or prepare(session, store, invoice) or ("", [], [])
    sub = session.get(Subscription, invoice.subscription_id)
    assert sub is not None
    ctx = load_contexts(session, [sub])[0]
    span = (invoice.period_start, invoice.period_end)
    if currency != invoice.currency:
        raise Conflict(f"invoice {invoice.id}: the plan's currency changed to {currency}")
    unbilled = session.scalars(
        select(OneOffPurchase).where(
            OneOffPurchase.customer_id == invoice.customer_id,
            OneOffPurchase.billed_invoice_id.is_(None),
        )
    )
    claim_purchases(session, invoice, purchases_for(ctx, span, currency, unbilled))
    kept = attached_purchases(session, invoice)
    write_lines(session, invoice, [*charges, *purchase_lines(kept), *after])
    adjustments.apply(session, invoice, now, final=False)


def seller_details(seller: Account, profile: SellerProfile) -> dict[str, Any]:
    return {
        "account": seller.external_id, "name": profile.display_name or seller.name,
        "address": profile.address, "tax_id": profile.tax_id, "logo_url": profile.logo_url,
        "primary_color": profile.primary_color, "accent_color": profile.accent_color,
        "invoice_footer": profile.invoice_footer, "support_email": profile.support_email,
        "support_phone": profile.support_phone,
    }  # fmt: skip


def customer_details(session: Session, customer: Account) -> dict[str, Any]:
    """Name and account; address and tax id when the customer keeps a profile (resellers do)."""
    own = session.get(SellerProfile, customer.id)
    name = (own.display_name if own else None) or customer.name
    return {
        "account": customer.external_id, "name": name,
        "address": own.address if own else None, "tax_id": own.tax_id if own else None,
        "timezone": customer.timezone,
    }  # fmt: skip


def finalize(
    session: Session,
    store: EventStore,
    invoice_id: int,
    now: datetime,
    prepared: Prepared | None = None,
) -> Invoice:
    invoice = locked(session, invoice_id)
    if invoice is None:
        raise LookupError(f"invoice {invoice_id} not found")
    ensure_draft(invoice)
    rebuild(session, store, invoice, now, prepared)
    adjustments.apply(session, invoice, now, final=True)
    seller = session.get(Account, invoice.seller_id)
    customer = session.get(Account, invoice.customer_id)
    assert seller is not None and customer is not None
    profile = profile_of(session, seller.id)
    year = now.astimezone(ZoneInfo(seller.timezone)).year  # the seller's calendar year
    invoice.number = format_number(
        profile.number_prefix, year, next_number(session, seller.id, "invoice", year)
    )
    invoice.seller_details = seller_details(seller, profile)
    invoice.customer_details = customer_details(session, customer)
    invoice.issued_at = now
    invoice.due_at = now + timedelta(days=profile.net_terms_days)
    invoice.status = "finalized"
    session.flush()
    notify(session, "invoice.finalized", invoice, seller, customer)
    payments.settle(session, invoice, now)  # fully covered by credits: paid at once
    return invoice


def void(session: Session, invoice_id: int, now: datetime) -> Invoice:
    invoice = locked(session, invoice_id)
    if invoice is None:
        raise LookupError(f"invoice {invoice_id} not found")
    if invoice.status == "draft":
        raise Conflict(
            f"invoice {invoice.id} is a draft: finalize it first (a draft has no number)"
        )
    if invoice.status not in ("finalized", "overdue") or invoice.amount_paid != 0:
        raise FinalizedInvoice(
            f"invoice {invoice.number} is {invoice.status}"
            + (" with payments" if invoice.amount_paid else "")
            + "; only a finalized, unpaid invoice can be voided (issue a credit note instead)"
        )
    invoice.status = "void"
    invoice.voided_at = now
    invoice.amount_due = invoice.amount_due * 0
    session.flush()
    credits_service.restore_for_void(session, invoice.id, now)  # the credits it used come back
    seller = session.get(Account, invoice.seller_id)
    customer = session.get(Account, invoice.customer_id)
    assert seller is not None and customer is not None
    notify(session, "invoice.voided", invoice, seller, customer)
    return invoice


def finalize_due(ledger: Ledger, store: EventStore, now: datetime) -> int:
    """Finalize drafts whose grace period is over, each in its own transaction."""
    with ledger.sessions() as s:
        ids = list(
            s.scalars(
                select(Invoice.id)
                .where(Invoice.status == "draft", Invoice.finalize_after <= now)
                .order_by(Invoice.finalize_after, Invoice.id)
                .limit(FINALIZE_BATCH)
            )
        )
    done = 0
    for invoice_id in ids:
        try:
            # usage is read first, outside the write lock: the event store may be slow (a first
            # query builds its rollups), and API writes must not queue behind it
            with ledger.sessions() as r:
                draft = r.get(Invoice, invoice_id)
                prepared = prepare(r, store, draft) if draft and draft.status == "draft" else None
            with ledger.unit_of_work() as w:
                finalize(w, store, invoice_id, now, prepared)
            done += 1
        except FinalizedInvoice:
            continue  # finalized by someone else meanwhile
        except Exception:
            log.exception("finalizing invoice %s failed; it stays a draft", invoice_id)
    return done
