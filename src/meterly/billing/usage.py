"""Usage for many customers at once: two event-store queries per (meter, range) for a batch.

A bill run asks for the same (meter, period) of thousands of customers; one query per customer
costs a few ms each (20 k queries for 10 k customers with two meters), so the first time a range
is asked for a second customer, the whole batch's values are fetched in grouped queries. A batch
may span many parents (every reseller's customers of a chain, a reseller's whole subtree).

Exactness: per customer, an event counts when its subject is the customer (or an alias) and it
was sent by the customer or one of its ancestors (StoreUsage). Then:
- query 1 reads the events sent by the ancestors *every* customer shares (for a provider's
  batch: the provider), which count for each of them;
- query 2 looks for events sent by any other account on the customers' paths (a reseller, a
  sub-reseller, the customer itself); a customer with such events (rare: the platform usually
  sends for everyone) is answered exactly, one by one, by the per-customer StoreUsage rule.
An event sent by an account on no path of a customer never counts, in either query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import subject_names
from meterly.storage.events.base import AggregateQuery, EventStore, MeterSpec
from meterly.subscriptions.lines import UsageSource
from meterly.subscriptions.usage_source import StoreUsage

Key = tuple[str, datetime, datetime]


class _Resolved(StoreUsage):
    """StoreUsage with meter specs resolved up front (no ledger session while rating)."""

    def __init__(
        self,
        session: Session,
        store: EventStore,
        customer: Account,
        seller: Account,
        specs: Mapping[str, MeterSpec],
    ) -> None:
        super().__init__(session, store, customer, seller)
        self._resolved = specs

    def spec(self, meter: str) -> MeterSpec:
        return self._resolved[meter]


class BatchUsage:
    """Usage of one seller's view of meters for a batch of customers under any parents."""

    def __init__(
        self,
        session: Session,
        store: EventStore,
        seller: Account,
        customers: Sequence[Account],
        specs: Mapping[str, MeterSpec],
        eager: bool = True,
    ) -> None:
        self._store = store
        self._specs = specs
        self._single = {c.id: _Resolved(session, store, c, seller, specs) for c in customers}
        self._subjects = {n: c.external_id for c in customers for n in subject_names(c)}
        chains = [c.ancestor_ids for c in customers]
        common = _shared_prefix([ch[:-1] for ch in chains])
        self._common = [str(i) for i in common]
        self._others = sorted({str(i) for ch in chains for i in ch[len(common) :]})
        self._threshold = 1 if eager else 2  # lazy: a lone customer is not worth a batch query
        self._asked: dict[Key, int] = defaultdict(int)
        self._values: dict[Key, tuple[dict[str, Decimal], set[str]]] = {}
        self.queries = 0

    def source(self, customer: Account) -> UsageSource:
        return _Source(self, customer)

    def quantity(self, customer: Account, meter: str, start: datetime, end: datetime) -> Decimal:
        key = (meter, start, end)
        self._asked[key] += 1
        if key not in self._values and self._asked[key] >= self._threshold:
            self._values[key] = self._fetch(meter, start, end)
        found = self._values.get(key)
        if found is None or customer.external_id in found[1]:
            self.queries += 1
            return self._single[customer.id].quantity(meter, start, end)
        return found[0].get(customer.external_id, Decimal(0))

    def transactions(
        self, customer: Account, meter: str, start: datetime, end: datetime
    ) -> list[Decimal]:
        self.queries += 1
        return self._single[customer.id].transactions(meter, start, end)

    def _fetch(
        self, meter: str, start: datetime, end: datetime
    ) -> tuple[dict[str, Decimal], set[str]]:
        if not self._common:  # no shared ancestor: every customer answered on its own
            return {}, set(self._subjects.values())
        self.queries += 2
        return grouped_fetch(
            self._store, self._specs[meter], start, end, self._common, self._others, self._subjects
        )


def _shared_prefix(chains: Sequence[Sequence[int]]) -> list[int]:
    """The ancestors every chain starts with."""
    if not chains:
        return []
    out: list[int] = []
    for column in zip(*chains, strict=False):
        if any(x != column[0] for x in column):
            break
        out.append(column[0])
    return out


class _Source:
    def __init__(self, usage: BatchUsage, customer: Account) -> None:
        self._usage = usage
        self._customer = customer

    def quantity(self, meter: str, start: datetime, end: datetime) -> Decimal:
        return self._usage.quantity(self._customer, meter, start, end)

    def transactions(self, meter: str, start: datetime, end: datetime) -> list[Decimal]:
        return self._usage.transactions(self._customer, meter, start, end)


def grouped_fetch(
    store: EventStore,
    spec: MeterSpec,
    start: datetime,
    end: datetime,
    tenants: list[str],
    other_tenants: list[str],
    subjects: dict[str, str],
) -> tuple[dict[str, Decimal], set[str]]:
    """One grouped query for a batch of customers: values from the events sent by `tenants`,
    plus the subjects that also have events from `other_tenants` — those need an exact
    per-customer query instead (their sum would mix tenants)."""
    rows = store.aggregate(
        AggregateQuery(meter=spec, start=start, end=end, tenants=tenants, subjects=subjects)
    )
    values = {r.subject: r.value for r in rows if r.subject is not None}
    other = store.aggregate(
        AggregateQuery(meter=spec, start=start, end=end, tenants=other_tenants, subjects=subjects)
    )
    inexact = {r.subject for r in other if r.subject is not None and r.value}
    if spec.aggregation not in ("count", "unique_count", "sum"):
        # max/min/latest/avg over zero events still yield a row; be exact for any row
        inexact = {r.subject for r in other if r.subject is not None}
    return values, inexact
