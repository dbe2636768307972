"""Loading what an invoice is built from: subscriptions with their changes, plan versions,
customers, sellers, meter specs, purchases and previously billed usage — in bulk for a batch.

Everything is read in one short session and held as plain objects, so rating (which queries the
event store) runs with no ledger transaction open; SQLite takes its write lock at BEGIN.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import principal_for
from meterly.billing.builder import Commitment, Period, Purchase
from meterly.billing.late import Billed
from meterly.billing.models import Invoice, InvoiceLine
from meterly.errors import NotFound
from meterly.metering.service import find_meter, to_spec
from meterly.plans.models import PlanVersion
from meterly.plans.service import version_spec
from meterly.storage.events.base import MeterSpec
from meterly.subscriptions.cycle import current_period
from meterly.subscriptions.lines import VersionSpec
from meterly.subscriptions.models import OneOffPurchase, Subscription
from meterly.subscriptions.service import load_changes, timeline, trial_end
from meterly.subscriptions.timeline import Change, ordered, state_at
from meterly.subscriptions.timeline import apply as apply_change

Span = tuple[datetime, datetime]
SETTLED = ("finalized", "paid", "overdue")  # statuses of an invoice that can no longer change


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


@dataclass
class SubContext:
    sub: Subscription
    customer: Account
    seller: Account
    changes: list[Change]
    versions: dict[int, VersionSpec]
    commitment: Commitment | None = None
    specs: dict[str, MeterSpec] = field(default_factory=dict)

    def version_at(self, at: datetime) -> VersionSpec:
        """The plan version in force at `at` (before the start: the first; after a cancel:
        the last one it had) — it gives the period's interval and the invoice's currency."""
        at = max(_utc(at), _utc(self.sub.start))
        state = state_at(self.changes, at)
        if state is None:
            for change in ordered(self.changes):
                if change.kind != "cancel" and _utc(change.effective_at) <= at:
                    state = apply_change(state, change)
        assert state is not None
        return self.versions[state.plan_version_id]

    def period_at(self, at: datetime) -> Span:
        v = self.version_at(at)
        s = self.sub
        return current_period(s.start, self.customer.timezone, s.billing_anchor, v.interval, at)

    def periods_due(self, as_of: datetime) -> list[Span]:
        """Every period that has started with the subscription and ended at or before as_of."""
        out: list[Span] = []
        period = self.period_at(self.sub.start)
        while _utc(period[1]) <= _utc(as_of):
            if self.sub.end is not None and _utc(period[0]) >= _utc(self.sub.end):
                break
            out.append(period)
            period = self.period_at(period[1])
        return out

    def period(self, span: Span) -> Period:
        sub = self.sub
        ends = sub.end is not None and _utc(sub.end) <= _utc(span[1])
        return Period(
            versions=self.versions, changes=self.changes,
            currency=self.version_at(span[0]).currency,
            period=span, next_period=None if ends else self.period_at(span[1]),
            sub_start=sub.start, trial_end=trial_end(sub), sub_end=sub.end,
        )  # fmt: skip


SpecCache = dict[tuple[int, str], MeterSpec | None]  # (seller, meter key) -> spec, per bill run


def load_contexts(
    session: Session, subs: Sequence[Subscription], spec_cache: SpecCache | None = None
) -> list[SubContext]:
    """`spec_cache`: a bill run's memo of meter definitions across its batches (a chain's
    batches hold every reseller, and each resolves every meter)."""
    if not subs:
        return []
    all_changes = load_changes(session, [s.id for s in subs])
    account_ids = {s.customer_id for s in subs} | {s.seller_id for s in subs}
    accounts = {
        a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))
    }
    changes = {s.id: timeline(all_changes[s.id]) for s in subs}
    version_ids = {
        int(c.data["plan_version_id"])
        for cs in changes.values()
        for c in cs
        if "plan_version_id" in c.data
    }
    versions = {
        pv.id: version_spec(pv)
        for pv in session.scalars(select(PlanVersion).where(PlanVersion.id.in_(version_ids)))
    }
    specs = _meter_specs(
        session, accounts, subs, versions, {} if spec_cache is None else spec_cache
    )
    out = []
    for s in subs:
        mine = {v: versions[v] for v in {int(c.data["plan_version_id"]) for c in changes[s.id]
                                         if "plan_version_id" in c.data}}  # fmt: skip
        out.append(SubContext(s, accounts[s.customer_id], accounts[s.seller_id], changes[s.id],
                              mine, None, specs.get(s.seller_id, {})))  # fmt: skip
    return out


def _meter_specs(
    session: Session,
    accounts: dict[int, Account],
    subs: Sequence[Subscription],
    versions: dict[int, VersionSpec],
    cache: SpecCache,
) -> dict[int, dict[str, MeterSpec]]:
    """Meters resolve as each seller sees them (StoreUsage's rule), once per (seller, key)."""
    meters = {
        c.meter for v in versions.values() for c in v.charges if c.kind == "usage" and c.meter
    }
    out: dict[int, dict[str, MeterSpec]] = {}
    for seller_id in {s.seller_id for s in subs}:
        principal = principal_for(accounts[seller_id])
        found: dict[str, MeterSpec] = {}
        for key in meters:
            if (seller_id, key) not in cache:
                try:
                    cache[(seller_id, key)] = to_spec(find_meter(session, principal, key))
                except NotFound:
                    # rating raises KeyError for it: that customer's invoice fails, reported
                    cache[(seller_id, key)] = None
            spec = cache[(seller_id, key)]
            if spec is not None:
                found[key] = spec
        out[seller_id] = found
    return out


def existing_keys(session: Session, sub_ids: Iterable[int]) -> set[tuple[int, datetime]]:
    ids = list(sub_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(Invoice.subscription_id, Invoice.period_start).where(
            Invoice.subscription_id.in_(ids)
        )
    )
    return {(int(sid), _utc(ps)) for sid, ps in rows if sid is not None}


def unbilled_purchases(
    session: Session, customer_ids: Iterable[int]
) -> dict[int, list[OneOffPurchase]]:
    out: dict[int, list[OneOffPurchase]] = defaultdict(list)
    ids = list(customer_ids)
    if ids:
        rows = session.scalars(
            select(OneOffPurchase)
            .where(OneOffPurchase.customer_id.in_(ids), OneOffPurchase.billed_invoice_id.is_(None))
            .order_by(OneOffPurchase.purchased_at, OneOffPurchase.id)
        )
        for p in rows:
            out[p.customer_id].append(p)
    return out


def as_purchase(p: OneOffPurchase) -> Purchase:
    return Purchase(
        p.id, p.product, p.description, p.quantity, p.precise_amount, p.amount, p.purchased_at
    )


def purchases_for(sub: Subscription, span: Span, currency: str, rows: Iterable[OneOffPurchase]
                  ) -> list[Purchase]:  # fmt: skip
    """A purchase goes on its own subscription's invoice, or (none given) on any invoice of the
    same seller and currency; only once it was made before the period's end."""
    return [
        as_purchase(p)
        for p in rows
        if (
            p.subscription_id == sub.id
            or (p.subscription_id is None and p.seller_id == sub.seller_id)
        )
        and p.currency == currency
        and _utc(p.purchased_at) < _utc(span[1])
    ]


def billed_usage(
    session: Session, sub_ids: Iterable[int], exclude_invoices: Iterable[int] = ()
) -> dict[tuple[int, datetime], list[Billed]]:
    """Per (subscription, period_start of the invoice that billed it): usage lines of settled
    invoices, with what later adjustments on other live invoices have added since. Adjustments
    on `exclude_invoices` (drafts being rebuilt: their own lines are about to be replaced) do
    not count."""
    ids = list(sub_ids)
    out: dict[tuple[int, datetime], list[Billed]] = defaultdict(list)
    if not ids:
        return out
    rows = list(session.execute(
        select(InvoiceLine, Invoice.subscription_id, Invoice.period_start)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.subscription_id.in_(ids), Invoice.status.in_(SETTLED),
               InvoiceLine.kind == "usage")
        .order_by(InvoiceLine.id)
    ))  # fmt: skip
    if not rows:
        return out
    adjust: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
    adj_stmt = (
        select(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.subscription_id.in_(ids), Invoice.status != "void",
               InvoiceLine.kind == "adjustment")
    )  # fmt: skip
    excluded = list(exclude_invoices)
    if excluded:
        adj_stmt = adj_stmt.where(Invoice.id.not_in(excluded))
    for a in session.scalars(adj_stmt):
        src = a.meta.get("late_for")
        if src is None:
            continue
        q, p, m = adjust.get(int(src), (Decimal(0), Decimal(0), Decimal(0)))
        adjust[int(src)] = (q + Decimal(a.meta["quantity"]), p + a.precise_amount, m + a.amount)
    for line, sid, pstart in rows:
        meta = line.meta
        if not meta.get("price") or line.meter is None or line.period_start is None:
            continue
        assert line.period_end is not None and sid is not None
        q, p, m = adjust.get(line.id, (Decimal(0), Decimal(0), Decimal(0)))
        out[(int(sid), _utc(pstart))].append(Billed(
            line.id, line.description, line.product, line.meter, line.period_start,
            line.period_end, meta["price"], Decimal(meta["quantity"]) + q,
            Decimal(meta["precise"]) + p, Decimal(meta["amount"]) + m,
            meta.get("customer") if meta.get("wholesale") == "per_customer" else None,
        ))  # fmt: skip
    return out


def late_for(
    billed: dict[tuple[int, datetime], list[Billed]], sub_id: int, span: Span
) -> list[Billed]:
    """Billed usage of this subscription's periods before `span`."""
    before = _utc(span[0])
    mine = [(start, items) for (sid, start), items in billed.items()
            if sid == sub_id and start < before]  # fmt: skip
    mine.sort(key=lambda kv: kv[0])
    return [b for _, items in mine for b in items]
