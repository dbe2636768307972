"""Usage of many customers under any parents: two event-store queries per (meter, range).

billing.usage.BatchUsage needs its customers to share one parent (so they share the tenants
whose events count). A reseller's subtree — and the subtrees of all the resellers a seller
bills in one batch — spans many parents. Exactness is kept the same way:
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
from meterly.billing.usage import _Resolved, grouped_fetch
from meterly.storage.events.base import EventStore, MeterSpec
from meterly.subscriptions.lines import UsageSource

Key = tuple[str, datetime, datetime]


class SubtreeUsage:
    """Usage of one seller's view of meters for customers under any parents."""

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
    def __init__(self, usage: SubtreeUsage, customer: Account) -> None:
        self._usage = usage
        self._customer = customer

    def quantity(self, meter: str, start: datetime, end: datetime) -> Decimal:
        return self._usage.quantity(self._customer, meter, start, end)

    def transactions(self, meter: str, start: datetime, end: datetime) -> list[Decimal]:
        return self._usage.transactions(self._customer, meter, start, end)
