"""Finalization and voiding.

A draft is rebuilt from current usage when it is finalized — late events that arrived during
the grace period count — then the money around it is applied for good (credits consumed), the
gapless number taken, seller and customer details snapshotted, and the invoice frozen (guard.py).
All of it in one transaction: a failure leaves a draft and gives the number back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.billing import adjustments, commitments
from meterly.billing.builder import purchase_lines
from meterly.billing.context import (
    SpecCache,
    billed_usage,
    late_for,
    load_contexts,
    purchases_for,
)
from meterly.billing.draft import (
    attached_purchases,
    claim_purchases,
    notify,
    profile_of,
    write_lines,
)
from meterly.billing.guard import FinalizedInvoice, ensure_draft
from meterly.billing.models import Invoice, SellerProfile
from meterly.billing.money import credits_service, payments
from meterly.billing.numbering import format_number, next_number
from meterly.billing.rating import BatchRater, Rated
from meterly.errors import Conflict
from meterly.storage.events.base import EventStore
from meterly.storage.ledger import Ledger
from meterly.subscriptions.models import OneOffPurchase, Subscription

log = logging.getLogger("meterly.billing")
FINALIZE_BATCH = 500  # drafts rated together (billing.rating), then finalized one by one


def locked(session: Session, invoice_id: int) -> Invoice | None:
    """The invoice, row-locked on PostgreSQL (SQLite: the transaction already holds the lock)."""
    return session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


Prepared = Rated  # (currency, charges, lines after purchases) of a draft, from current usage


def prepare(
    session: Session, store: EventStore, drafts: Sequence[Invoice], specs: SpecCache | None = None
) -> dict[int, Prepared | Exception]:
    """Charge lines of drafts from current usage: the slow, read-only part of a rebuild (the
    event store), read for a whole batch at once (billing.rating) before finalize_due takes
    the ledger's write lock. A draft whose rating fails gets its exception instead.

    At most one draft per subscription: each draft's own adjustments are left out of what its
    subscription was billed so far, which is only right for the draft being replaced."""
    with_sub = {d.subscription_id: d for d in drafts if d.subscription_id is not None}
    if len(with_sub) < sum(d.subscription_id is not None for d in drafts):
        raise ValueError("prepare takes at most one draft per subscription")
    subs = list(session.scalars(select(Subscription).where(Subscription.id.in_(with_sub))))
    ctxs = load_contexts(session, subs, specs)
    commitments.attach(session, ctxs)
    billed = billed_usage(session, with_sub, exclude_invoices=[d.id for d in with_sub.values()])
    rater = BatchRater(session, store, ctxs)
    out: dict[int, Prepared | Exception] = {}
    for ctx in ctxs:
        draft = with_sub[ctx.sub.id]
        span = (draft.period_start, draft.period_end)
        try:
            out[draft.id] = rater.rate(ctx, span, late_for(billed, ctx.sub.id, span))
        except Exception as exc:  # one draft never stops the others
            out[draft.id] = exc
    return out


def rebuild(
    session: Session,
    store: EventStore,
    invoice: Invoice,
    now: datetime,
    prepared: Prepared | None = None,
    project: bool = True,
) -> None:
    """Recompute a draft's charge lines from the current usage, purchases and late usage.
    `project`: apply the money around them (adjustments) as a draft shows it; finalization
    applies it for good itself, so it skips this."""
    ensure_draft(invoice)
    if invoice.subscription_id is None:
        if project:
            adjustments.apply(session, invoice, now, final=False)
        return
    if prepared is None:
        rated = prepare(session, store, [invoice])[invoice.id]
        if isinstance(rated, Exception):
            raise rated
        prepared = rated
    currency, charges, after = prepared
    sub = session.get(Subscription, invoice.subscription_id)
    assert sub is not None
    span = (invoice.period_start, invoice.period_end)
    if currency != invoice.currency:
        raise Conflict(f"invoice {invoice.id}: the plan's currency changed to {currency}")
    unbilled = session.scalars(
        select(OneOffPurchase).where(
            OneOffPurchase.customer_id == invoice.customer_id,
            OneOffPurchase.billed_invoice_id.is_(None),
        )
    )
    claim_purchases(session, invoice, purchases_for(sub, span, currency, unbilled))
    kept = attached_purchases(session, invoice)
    write_lines(session, invoice, [*charges, *purchase_lines(kept), *after])
    if project:
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
    rebuild(session, store, invoice, now, prepared, project=False)
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
    """Finalize a batch of drafts whose grace period is over, each in its own transaction.

    Usage is read first for the whole batch, outside the write lock: the event store may be
    slow (a first query builds its rollups), and API writes must not queue behind it. A
    subscription's later drafts of the batch follow in order, a round each (prepare takes one
    draft per subscription)."""
    with ledger.sessions() as r:
        ids = list(
            r.scalars(
                select(Invoice.id)
                .where(Invoice.status == "draft", Invoice.finalize_after <= now)
                .order_by(Invoice.finalize_after, Invoice.id)
                .limit(FINALIZE_BATCH)
            )
        )
    done = 0
    while ids:
        with ledger.sessions() as r:
            drafts = {d.id: d for d in r.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
            batch = _one_per_subscription([drafts[i] for i in ids if i in drafts])
            rated = _rate(r, store, batch)
        finished = 0
        for draft in batch:
            outcome = rated.get(draft.id)
            if isinstance(outcome, Exception):
                log.error("rating invoice %s failed; it stays a draft", draft.id, exc_info=outcome)
                continue
            try:
                with ledger.unit_of_work() as w:
                    finalize(w, store, draft.id, now, outcome)
                finished += 1
            except FinalizedInvoice:
                continue  # finalized by someone else meanwhile
            except Exception:
                log.exception("finalizing invoice %s failed; it stays a draft", draft.id)
        done += finished
        if not finished:  # a failing draft must not spin: the next tick retries it
            break
        taken = {d.id for d in batch}
        ids = [i for i in ids if i not in taken]
    return done


def _rate(
    session: Session, store: EventStore, batch: list[Invoice]
) -> dict[int, Prepared | Exception]:
    try:
        return prepare(session, store, batch)
    except Exception:  # a batch-wide failure: rate one by one, so one draft cannot hold all
        log.exception("rating %s drafts together failed; rating them one by one", len(batch))
    out: dict[int, Prepared | Exception] = {}
    for draft in batch:
        try:
            out.update(prepare(session, store, [draft]))
        except Exception as exc:
            out[draft.id] = exc
    return out


def _one_per_subscription(drafts: Sequence[Invoice]) -> list[Invoice]:
    seen: set[int] = set()
    out = []
    for d in drafts:
        if d.subscription_id is not None:
            if d.subscription_id in seen:
                continue
            seen.add(d.subscription_id)
        out.append(d)
    return out
