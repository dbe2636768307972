"""The event store behind lines.UsageSource: one customer's usage of a meter over a range."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, principal_for, subject_names
from meterly.metering import spec as rules
from meterly.metering.service import find_meter, to_spec
from meterly.storage.events.base import AggregateQuery, EventStore, ListQuery, MeterSpec

_PAGE = 1000
_SPEC_TTL_S = 5.0  # like the API key cache: bounds how long a meter edit takes to be seen
# keyed by the ledger's engine too: two ledgers in one process (tests, an embedding app) share
# ids; the key holds the engine, so its identity is never reused while cached
_spec_cache: dict[tuple[object, int, str], tuple[float, MeterSpec]] = {}
_spec_lock = threading.Lock()


def meter_spec(session: Session, seller: Principal, meter: str) -> MeterSpec:
    """A meter's spec as the seller sees it, cached briefly: the entitlement check's hot path
    should not spend a ledger query on a definition that rarely changes."""
    now = time.monotonic()
    key = (session.get_bind().engine, seller.account_id, meter)
    with _spec_lock:
        hit = _spec_cache.get(key)
    if hit is not None and now - hit[0] < _SPEC_TTL_S:
        return hit[1]
    spec = to_spec(find_meter(session, seller, meter))
    with _spec_lock:
        _spec_cache[key] = (now, spec)
    return spec


def seller_principal(customer: Account, seller_id: int) -> Principal:
    """The seller (an ancestor of the customer) as a principal, from the customer's path alone."""
    ids = customer.ancestor_ids
    path = "/" + "/".join(str(i) for i in ids[: ids.index(seller_id) + 1]) + "/"
    return Principal(None, seller_id, "", path, "reseller" if len(ids) > 1 else "provider")


class StoreUsage:
    """Meters resolve as the seller sees them; events count when their subject is the customer
    (or an alias) and they were sent by the customer or one of its ancestors."""

    def __init__(
        self, session: Session, store: EventStore, customer: Account, seller: Account | Principal
    ) -> None:
        self._session = session
        self._store = store
        self._customer = customer
        self._seller = seller if isinstance(seller, Principal) else principal_for(seller)
        self._subjects = {name: customer.external_id for name in subject_names(customer)}
        self._tenants = [str(i) for i in customer.ancestor_ids]
        self._specs: dict[str, MeterSpec] = {}

    def spec(self, meter: str) -> MeterSpec:
        if meter not in self._specs:
            self._specs[meter] = meter_spec(self._session, self._seller, meter)
        return self._specs[meter]

    def quantity(self, meter: str, start: datetime, end: datetime) -> Decimal:
        rows = self._store.aggregate(
            AggregateQuery(
                meter=self.spec(meter), start=start, end=end, tenants=self._tenants,
                subjects=self._subjects, tz=self._customer.timezone,
            )
        )  # fmt: skip
        return rows[0].value if rows else Decimal(0)

    def transactions(self, meter: str, start: datetime, end: datetime) -> list[Decimal]:
        """Each matching event's value, in time order (per-transaction prices rate each one)."""
        spec = self.spec(meter)
        values: list[tuple[datetime, str, Decimal]] = []
        after = None
        while True:
            page = self._store.list(
                ListQuery(
                    tenants=self._tenants, subjects=list(self._subjects), type=spec.event_type,
                    start=start, end=end, limit=_PAGE, after=after,
                )
            )  # fmt: skip
            for event in page:
                if event.status == "voided":
                    continue
                data = rules.loads(event.data)
                if not all(rules.matches(c, data) for c in spec.filter):
                    continue
                found, raw = rules.extract(data, spec.value or "$")
                value, _ = rules.numeric_value(raw) if found else (None, None)
                if value is not None:
                    values.append((event.time, event.id, value))
            if len(page) < _PAGE:
                break
            last = page[-1]
            after = (last.time, last.source, last.id)
        values.sort(key=lambda v: (v[0], v[1]))
        return [v[2] for v in values]
