"""billing.usage.BatchUsage answers a whole batch of customers with grouped queries; it must
give each customer exactly what the per-customer rule (StoreUsage) gives: events about the
customer (or an alias) sent by the customer or one of its ancestors, and nothing sent by
anyone else — whatever mix of senders, parents, aggregations and time zones the batch holds."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.billing.usage import BatchUsage
from meterly.subscriptions.usage_source import StoreUsage
from support import Env

# (external id, parent, timezone); r1 and r2 are resellers, r1b a sub-reseller under r1
ACCOUNTS = [
    ("r1", "skyline", "America/New_York"),
    ("r2", "skyline", "Europe/London"),
    ("r1b", "r1", "America/New_York"),
    ("a", "r1", "America/New_York"),
    ("b", "r1", "Asia/Kolkata"),  # a half-hour offset: local midnights are not UTC hours
    ("c", "r2", "Europe/London"),
    ("d", "skyline", "Australia/Lord_Howe"),
    ("e", "r1b", "America/New_York"),  # shares a's ranges: one grouped fetch serves both
]
CUSTOMERS = ["a", "b", "c", "d", "e"]
SENDERS = ["skyline", "r1", "r2", "r1b", *CUSTOMERS]
METERS = {"sum": "$.minutes", "count": None, "max": "$.minutes", "unique_count": "$.line"}


def scenario(env: Env, seed: int) -> None:
    for agg, value in METERS.items():
        body = {"key": f"m-{agg}", "name": agg, "event_type": "call", "aggregation": agg}
        if value:
            body["value"] = value
        assert env.post("/v1/meters", body).status_code == 201
    for external_id, parent, tz in ACCOUNTS:
        kind = {"kind": "reseller"} if external_id.startswith("r") else {}
        env.account(external_id, parent=parent, timezone=tz, **kind)
    keys = {name: env.key_for(name) for name in SENDERS if name != "skyline"}
    rng = random.Random(seed)
    start = datetime(2026, 10, 31, tzinfo=ZoneInfo("UTC"))
    by_sender: dict[str, list[dict[str, object]]] = {s: [] for s in SENDERS}
    for n in range(400):
        sender = rng.choice(SENDERS)
        # mostly the sender's own subtree; now and then a subject it does not own (it must
        # not count for that customer, however it was stored)
        subject = rng.choice(CUSTOMERS)
        t = start + timedelta(minutes=rng.randrange(60 * 24 * 32))
        by_sender[sender].append({
            "id": f"ev-{seed}-{n}", "type": "call", "subject": subject,
            "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": {"minutes": rng.randrange(1, 90), "line": f"ext-{rng.randrange(4)}"},
        })  # fmt: skip
    for sender, events in by_sender.items():
        r = env.post("/v1/events", events, key=keys.get(sender))
        assert r.status_code == 202, r.text


@pytest.mark.parametrize("seed", [1, 2])
def test_batch_usage_equals_the_per_customer_rule(env: Env, seed: int) -> None:
    scenario(env, seed)
    store = env.runtime.events
    with env.runtime.ledger.sessions() as s:
        accounts = {a.external_id: a for a in s.scalars(select(Account))}
        seller = accounts["skyline"]
        customers = [accounts[c] for c in CUSTOMERS]
        single = {c.external_id: StoreUsage(s, store, c, seller) for c in customers}
        specs = {f"m-{agg}": single["a"].spec(f"m-{agg}") for agg in METERS}
        batch = BatchUsage(s, store, seller, customers, specs)
        checked = 0
        for c in customers:
            zone = ZoneInfo(c.timezone)
            month = (datetime(2026, 11, 1, tzinfo=zone), datetime(2026, 12, 1, tzinfo=zone))
            for meter in specs:
                want = single[c.external_id].quantity(meter, *month)
                got = batch.source(c).quantity(meter, *month)
                assert got == want, (c.external_id, meter)
                checked += want != Decimal(0)
        assert checked >= 15  # the scenario put usage on most (customer, meter) pairs
        assert batch.queries < 4 * len(CUSTOMERS) * len(METERS)  # grouped, not one by one
