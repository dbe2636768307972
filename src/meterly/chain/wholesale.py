"""A reseller's subscription billed wholesale: the usage and seats of its whole subtree.

A reseller subscribes to its seller's wholesale plan like any customer. When that invoice is
built, each charge counts every end customer below the reseller (any depth):
- usage: each customer's events (its subjects and aliases, sent by it or an ancestor), read in
  bulk for all the customers a seller bills in a batch (billing.usage, exact by construction);
- seats: the reseller's seat quantity at every instant is the sum of the quantities of its
  customers' subscriptions whose plan has a seat charge — fed to the ordinary timeline as
  quantity changes, so proration and in-advance rules are exactly a customer's.

A charge's `wholesale` mode says how it is rated: `pooled` (tiers on the reseller's total; the
line's meta records each customer's quantity for the breakdown and margin) or `per_customer`
(rated per end customer; one line per customer, named and tagged in meta).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from functools import partial
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.billing.builder import DraftLine, commitment_lines, subscription_charges
from meterly.billing.context import Span, SubContext
from meterly.billing.late import Billed, late_lines
from meterly.billing.usage import BatchUsage
from meterly.plans.models import PlanVersion
from meterly.plans.service import version_spec
from meterly.pricing.precision import CONTEXT
from meterly.storage.events.base import EventStore
from meterly.subscriptions.lines import UsageSource, VersionSpec
from meterly.subscriptions.models import Subscription
from meterly.subscriptions.service import load_changes, timeline
from meterly.subscriptions.timeline import Change, state_at

PER_CUSTOMER = "per_customer"
_CHUNK = 900  # bound IN (...) lists (SQLite's parameter limit)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def is_wholesale(ctx: SubContext) -> bool:
    """Hook test used by the bill run and finalization: the customer is itself a reseller."""
    return ctx.customer.kind == "reseller"


class Subtree:
    """A reseller's end customers, their subscriptions' timelines and their usage."""

    def __init__(self, session: Session, reseller: Account) -> None:
        self.customers = list(session.scalars(
            select(Account)
            .where(Account.path.startswith(reseller.path, autoescape=True),
                   Account.kind == "customer")
            .order_by(Account.id)
        ))  # fmt: skip
        ids = [c.id for c in self.customers]
        subs: list[Subscription] = []
        for i in range(0, len(ids), _CHUNK):
            subs += session.scalars(
                select(Subscription).where(Subscription.customer_id.in_(ids[i : i + _CHUNK]))
            )
        raw = load_changes(session, [s.id for s in subs]) if subs else {}
        self.timelines: dict[int, list[list[Change]]] = defaultdict(list)
        own: dict[int, set[datetime]] = defaultdict(set)
        for s in subs:
            changes = timeline(raw[s.id])
            self.timelines[s.customer_id].append(changes)
            own[s.customer_id].update(_utc(c.effective_at) for c in changes)
        # a customer's seats change only when its own subscriptions do: its own instants are
        # enough for its per-customer lines; the pooled total changes at any of them
        self.own_points = {cid: sorted(p) for cid, p in own.items()}
        self.points = sorted(set().union(*own.values())) if own else []
        vids = {int(c.data["plan_version_id"]) for cs in self.timelines.values() for ch in cs
                for c in ch if "plan_version_id" in c.data}  # fmt: skip
        self.seat_versions: set[int] = set()
        if vids:
            for pv in session.scalars(select(PlanVersion).where(PlanVersion.id.in_(vids))):
                if any(c.kind == "seat" for c in version_spec(pv).charges):
                    self.seat_versions.add(pv.id)
        self.sources: dict[int, UsageSource] = {}  # set by Wholesale (one usage per seller)

    def seats(self, customer_id: int, at: datetime) -> Decimal:
        total = Decimal(0)
        for changes in self.timelines.get(customer_id, []):
            state = state_at(changes, at)
            if state is not None and state.plan_version_id in self.seat_versions:
                total += state.quantity
        return total

    def total_seats(self, at: datetime) -> Decimal:
        return sum((self.seats(c.id, at) for c in self.customers), Decimal(0))

    def mean_seats(self, customer_id: int, start: datetime, end: datetime) -> Decimal:
        """Time-weighted seat count over [start, end) (the pooled seat line's allocation key)."""
        s, e = _utc(start), _utc(end)
        cuts = [s, *[p for p in self.points if s < p < e], e]
        length = Decimal(str((e - s).total_seconds()))
        if length <= 0:
            return Decimal(0)
        with localcontext(CONTEXT):
            weighted = sum(
                (self.seats(customer_id, a) * Decimal(str((b - a).total_seconds()))
                 for a, b in pairwise(cuts)),
                Decimal(0),
            )  # fmt: skip
            return (weighted / length).normalize()


class _Pooled:
    """Usage of the whole subtree as one source; remembers each customer's part."""

    def __init__(self, tree: Subtree) -> None:
        self._tree = tree
        self.seen: dict[tuple[str, datetime, datetime], dict[str, Decimal]] = {}

    def quantity(self, meter: str, start: datetime, end: datetime) -> Decimal:
        per = {c.external_id: self._tree.sources[c.id].quantity(meter, start, end)
               for c in self._tree.customers}  # fmt: skip
        self.seen[(meter, _utc(start), _utc(end))] = per
        with localcontext(CONTEXT):
            return sum(per.values(), Decimal(0))

    def transactions(self, meter: str, start: datetime, end: datetime) -> list[Decimal]:
        out: list[Decimal] = []
        per: dict[str, Decimal] = {}
        for c in self._tree.customers:
            values = self._tree.sources[c.id].transactions(meter, start, end)
            per[c.external_id] = Decimal(len(values))
            out += values
        self.seen[(meter, _utc(start), _utc(end))] = per
        return out


def _with_seats(
    changes: Sequence[Change], points: Sequence[datetime], seats: Callable[[datetime], Decimal]
) -> list[Change]:
    """The reseller's changes with its own quantity replaced by its subtree's, at every instant
    a subtree subscription changes (a quantity change sorts after a `created` at the same
    instant; seq keeps them after the reseller's own changes)."""
    kept = [c for c in changes if c.kind != "quantity"]
    starts = [_utc(c.effective_at) for c in kept if c.kind == "created"]
    if not starts:
        return kept
    first = min(starts)
    at = [first, *[p for p in points if p > first]]
    extra = [Change("quantity", p, {"quantity": str(seats(p))}, seq=10**9 + i)
             for i, p in enumerate(at)]  # fmt: skip
    return [*kept, *extra]


def _split(versions: dict[int, VersionSpec], per_customer: bool) -> dict[int, VersionSpec]:
    return {
        k: replace(v, charges=tuple(c for c in v.charges
                                    if (c.wholesale == PER_CUSTOMER) == per_customer))
        for k, v in versions.items()
    }  # fmt: skip


class Wholesale:
    """Wholesale lines of the reseller subscriptions of one batch (subtrees read once)."""

    def __init__(self, session: Session, store: EventStore, ctxs: Sequence[SubContext]) -> None:
        self._trees = {
            (c.seller.id, c.customer.id): Subtree(session, c.customer)
            for c in ctxs
            if is_wholesale(c)
        }
        # one usage reader per wholesale seller, over all its resellers' customers (billing.usage)
        sellers = {c.seller.id: c for c in ctxs if is_wholesale(c)}
        for seller_id, ctx in sellers.items():
            trees = [t for (s, _), t in self._trees.items() if s == seller_id]
            customers = list({c.id: c for t in trees for c in t.customers}.values())
            usage = BatchUsage(session, store, ctx.seller, customers, ctx.specs)
            for t in trees:
                t.sources = {c.id: usage.source(c) for c in t.customers}

    def compute(
        self, ctx: SubContext, span: Span, late: Sequence[Billed]
    ) -> tuple[str, list[DraftLine], list[DraftLine]]:
        """Like billing.draft.compute, for a reseller: pooled lines, then per-customer lines."""
        tree = self._trees[(ctx.seller.id, ctx.customer.id)]
        period = ctx.period(span)
        pooled = _Pooled(tree)
        p = replace(period, versions=_split(ctx.versions, False),
                    changes=_with_seats(ctx.changes, tree.points, tree.total_seats))  # fmt: skip
        seat_products = {c.product for v in ctx.versions.values() for c in v.charges
                         if c.kind == "seat"}  # fmt: skip
        charges = [_pooled_meta(ln, tree, pooled, seat_products)
                   for ln in subscription_charges(p, pooled)]  # fmt: skip
        per_versions = _split(ctx.versions, True)
        per_keys = {(c.product, c.meter) for v in per_versions.values() for c in v.charges}
        if per_keys:
            # usage charges do not depend on seats: then one timeline serves every customer
            usage_only = all(c.kind == "usage" for v in per_versions.values() for c in v.charges)
            shared = replace(period, versions=per_versions, changes=list(ctx.changes))
            for c in tree.customers:
                seats = partial(tree.seats, c.id)
                own = tree.own_points.get(c.id, [])
                q = (
                    shared
                    if usage_only
                    else replace(shared, changes=_with_seats(ctx.changes, own, seats))
                )
                for ln in subscription_charges(q, tree.sources[c.id]):
                    if ln.amount == 0 and not ln.quantity:
                        continue
                    charges.append(replace(
                        ln, description=f"{ln.description} — {c.name}",
                        meta={**ln.meta, "wholesale": PER_CUSTOMER, "customer": c.external_id,
                              "customers": {c.external_id: str(ln.quantity or 0)}},
                    ))  # fmt: skip
        # late usage of settled periods: pooled lines re-rated on the subtree's total,
        # per-customer lines on their own customer's usage (one adjustment per customer)
        tz = ctx.customer.timezone
        pooled_late = [b for b in late if b.customer is None]
        after = commitment_lines(charges, ctx.commitment, span)
        after += late_lines(pooled_late, pooled, tz)
        by_id = {c.external_id: c for c in tree.customers}
        for b in late:
            who = by_id.get(b.customer) if b.customer is not None else None
            if who is None:
                continue  # pooled, or a customer since moved out of this reseller's subtree
            after += [replace(ln, meta={**ln.meta, "wholesale": PER_CUSTOMER,
                                        "customer": who.external_id})
                      for ln in late_lines([b], tree.sources[who.id], tz)]  # fmt: skip
        return period.currency, charges, after


def _pooled_meta(
    ln: DraftLine, tree: Subtree, pooled: _Pooled, seat_products: set[str]
) -> DraftLine:
    per: dict[str, Decimal] | None = None
    if ln.kind == "usage" and ln.meter and ln.period_start and ln.period_end:
        per = pooled.seen.get((ln.meter, _utc(ln.period_start), _utc(ln.period_end)))
    elif ln.product in seat_products and ln.period_start and ln.period_end:
        per = {c.external_id: tree.mean_seats(c.id, ln.period_start, ln.period_end)
               for c in tree.customers}  # fmt: skip
    if per is None:
        return replace(ln, meta={**ln.meta, "wholesale": "pooled"})
    customers = {k: format(v, "f") for k, v in per.items()}
    return replace(ln, meta={**ln.meta, "wholesale": "pooled", "customers": customers})
