"""Entitlement check latency. Prints {"entitlement_p99_ms": ...} (merged into bench/rating.py's
output by the lead).

A customer with 1 M fax events this month on a plan with a metered (hard) fax limit; 10,000
checks through the same service call the HTTP endpoint makes, each in its own ledger session
(subscription + entitlement lookups, then one event-store aggregate for one subject).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from meterly.accounts.scope import account_in_scope
from meterly.catalog.schemas import FeatureCreate
from meterly.catalog.service import create_feature
from meterly.cli_support import operator
from meterly.config import Settings
from meterly.metering.schemas import MeterCreate
from meterly.metering.service import create_meter
from meterly.plans.schemas import EntitlementIn, PlanCreate
from meterly.plans.service import create_plan
from meterly.runtime import Runtime
from meterly.storage.events.base import NewEvent
from meterly.subscriptions.entitlements import check
from meterly.subscriptions.schemas import SubscriptionCreate
from meterly.subscriptions.service import create_subscription

EVENTS = 1_000_000
CHECKS = 10_000
BATCH = 100_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime.open(Settings(data_dir=Path(tmp), provider_id="skyline"))
        try:
            print(json.dumps(run(rt)))
        finally:
            rt.close()


def run(rt: Runtime) -> dict[str, float]:
    from meterly.accounts.schemas import AccountCreate
    from meterly.accounts.service import create_account

    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with rt.ledger.unit_of_work() as s:
        op = operator(rt)
        create_account(s, op, AccountCreate(external_id="big-co", name="Big Co"))
        create_meter(
            s,
            op,
            MeterCreate(key="fax-pages", name="Fax", event_type="fax.sent", aggregation="count"),
        )
        create_feature(s, op, FeatureCreate(key="fax", name="Fax"))
        ent = EntitlementIn(feature="fax", limit="5000000", meter="fax-pages", hard=True)
        create_plan(s, op, PlanCreate(key="big", name="Big", entitlements=[ent]))
        start = month_start - timedelta(days=40)
        create_subscription(
            s, op, SubscriptionCreate(customer="big-co", plan="big", start=start, billing_anchor=1)
        )
        tenant = str(account_in_scope(s, op, "skyline").id)
    span = max((now - month_start).total_seconds() - 1, 1.0)
    for base in range(0, EVENTS, BATCH):
        batch = [
            NewEvent(
                tenant,
                "bench",
                f"e{i}",
                "fax.sent",
                "big-co",
                month_start + timedelta(seconds=span * i / EVENTS),
                "{}",
            )
            for i in range(base, base + BATCH)
        ]
        rt.events.append(batch)
    op = operator(rt)
    timings: list[float] = []
    for _ in range(CHECKS):
        t0 = time.perf_counter()
        with rt.ledger.sessions() as s:
            out = check(s, rt.events, op, "big-co", "fax")
        timings.append((time.perf_counter() - t0) * 1000)
    assert out.used == str(EVENTS), out
    timings.sort()
    return {
        "entitlement_p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "entitlement_p50_ms": round(statistics.median(timings), 2),
    }


if __name__ == "__main__":
    main()
