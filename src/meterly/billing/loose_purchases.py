"""Purchases that no subscription invoice will carry: invoiced on their own by the bill run.

A one-off purchase rides on an invoice of its subscription, or (none named) on any invoice of
the same seller and currency (context.purchases_for). When no such invoice is coming — the
customer has no live subscription with that seller and currency, or the named subscription has
ended — the bill run gives the customer a purchases-only invoice (no subscription, period from
the first purchase to `as_of`) after the subscription invoices of the same pass, so nothing a
customer bought is ever left unbilled.

Exactly once: the purchases are claimed (`billed_invoice_id`) in the transaction that writes
their invoice, and a purchase already claimed (a rerun, a concurrent run) is skipped; an invoice
that would claim nothing is rolled back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.billing import adjustments
from meterly.billing.builder import purchase_lines
from meterly.billing.context import as_purchase
from meterly.billing.draft import claim, notify, profile_of, write_lines
from meterly.billing.models import Invoice
from meterly.plans.models import PlanVersion
from meterly.storage.ledger import Ledger
from meterly.subscriptions.models import OneOffPurchase, Subscription

Group = tuple[int, int, str]  # (seller, customer, currency)


class _NothingClaimed(Exception):
    pass


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def loose(session: Session, seller: Account, as_of: datetime) -> dict[Group, list[int]]:
    """Unbilled purchases made before `as_of` under the seller that no coming invoice carries,
    grouped per (seller, customer, currency)."""
    sold_by = select(Account.id).where(Account.path.startswith(seller.path, autoescape=True))
    rows = list(session.scalars(
        select(OneOffPurchase)
        .where(OneOffPurchase.billed_invoice_id.is_(None), OneOffPurchase.purchased_at < as_of,
               OneOffPurchase.seller_id.in_(sold_by))
        .order_by(OneOffPurchase.purchased_at, OneOffPurchase.id)
    ))  # fmt: skip
    if not rows:
        return {}
    live = session.execute(
        select(Subscription.id, Subscription.seller_id, Subscription.customer_id,
               PlanVersion.currency)
        .join(PlanVersion, PlanVersion.id == Subscription.plan_version_id)
        .where(Subscription.customer_id.in_({p.customer_id for p in rows}),
               or_(Subscription.end.is_(None), Subscription.end > as_of))
    ).all()  # fmt: skip
    live_ids = {r[0] for r in live}
    carriers = {(r[1], r[2], r[3]) for r in live}
    out: dict[Group, list[int]] = defaultdict(list)
    for p in rows:
        carried = (
            p.subscription_id in live_ids
            if p.subscription_id is not None
            else (p.seller_id, p.customer_id, p.currency) in carriers
        )
        if not carried:
            out[(p.seller_id, p.customer_id, p.currency)].append(p.id)
    return out


def invoice_loose_purchases(
    ledger: Ledger, seller_id: int, as_of: datetime, run_id: int | None, now: datetime
) -> tuple[int, list[dict[str, str]]]:
    """One draft per group, each in its own transaction; returns (created, errors)."""
    with ledger.sessions() as s:
        seller = s.get(Account, seller_id)
        assert seller is not None
        groups = loose(s, seller, _utc(as_of))
        rows = s.execute(select(Account.id, Account.external_id).where(
            Account.id.in_({cid for _, cid, _ in groups})))  # fmt: skip
        names = {cid: ext for cid, ext in rows}
    created, errors = 0, []
    for (sid, cid, currency), ids in sorted(groups.items()):
        try:
            with ledger.unit_of_work() as w:
                _write(w, sid, cid, currency, ids, _utc(as_of), run_id, now)
            created += 1
        except _NothingClaimed:
            continue  # a concurrent run billed them first
        except Exception as exc:  # one customer never stops the run for the others
            errors.append({"customer": names[cid], "purchases": ",".join(map(str, ids)),
                           "error": f"{type(exc).__name__}: {exc}"})  # fmt: skip
    return created, errors


def _write(
    s: Session, seller_id: int, customer_id: int, currency: str, ids: list[int],
    as_of: datetime, run_id: int | None, now: datetime,
) -> None:  # fmt: skip
    rows = list(s.scalars(select(OneOffPurchase).where(OneOffPurchase.id.in_(ids))
                          .order_by(OneOffPurchase.purchased_at, OneOffPurchase.id)))  # fmt: skip
    seller, customer = s.get(Account, seller_id), s.get(Account, customer_id)
    assert seller is not None and customer is not None
    invoice = Invoice(
        seller_id=seller_id, customer_id=customer_id, subscription_id=None, bill_run_id=run_id,
        status="draft", currency=currency, period_start=min(_utc(p.purchased_at) for p in rows),
        period_end=as_of,
        finalize_after=as_of + timedelta(hours=profile_of(s, seller_id).grace_hours),
    )  # fmt: skip
    s.add(invoice)
    s.flush()
    kept = claim(s, invoice.id, [as_purchase(p) for p in rows])
    if not kept:
        raise _NothingClaimed
    write_lines(s, invoice, purchase_lines(kept), fresh=True)
    adjustments.apply(s, invoice, now, final=False)
    s.flush()
    notify(s, "invoice.drafted", invoice, seller, customer)
