"""Purchases no subscription invoice carries — a customer with no subscription, or one whose
subscription has ended — are invoiced on their own by the bill run, exactly once; a purchase a
live subscription will carry waits for that subscription's invoice."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from scenario import AS_OF, NOV, build_catalog, ok

from meterly.jobs.worker import Worker
from support import Env

LATER = datetime(2026, 12, 10, tzinfo=UTC)  # past every grace period


def buy(env: Env, customer: str, at: str, amount: str = "89.99", **extra: Any) -> int:
    body = {"customer": customer, "product": "phone-hardware", "quantity": "1",
            "price": {"model": "flat", "amount": amount}, "description": "Desk phone",
            "purchased_at": at, **extra}  # fmt: skip
    return int(ok(env.post("/v1/purchases", body))["id"])


def run(env: Env, as_of: str = AS_OF) -> dict[str, Any]:
    r = ok(env.post("/v1/bill-runs", {"as_of": as_of}), 202)
    Worker(env.runtime, clock=lambda: LATER).run_until_idle()
    return ok(env.get(f"/v1/bill-runs/{r['id']}"), 200)


def invoices(env: Env, customer: str) -> list[dict[str, Any]]:
    return list(ok(env.get(f"/v1/invoices?customer={customer}"), 200)["data"])


def test_purchases_without_a_carrier_get_their_own_invoice_once(env: Env) -> None:
    build_catalog(env)
    env.account("walk-in")  # no subscription at all
    env.account("gone")  # a subscription that ended in October
    env.account("member")  # a live subscription: it carries the purchase
    sub = ok(
        env.post(
            "/v1/subscriptions",
            {"customer": "gone", "plan": "basic", "start": "2026-09-01T00:00:00Z", "quantity": "1"},
        )
    )
    ok(env.post(f"/v1/subscriptions/{sub['id']}/changes",
                {"type": "cancel", "effective_at": "2026-10-01T00:00:00Z"}))  # fmt: skip
    ok(env.post("/v1/subscriptions", {"customer": "member", "plan": "basic", "start": NOV,
                                      "quantity": "1"}))  # fmt: skip
    buy(env, "walk-in", "2026-11-05T15:00:00Z")
    buy(env, "walk-in", "2026-11-20T15:00:00Z", amount="10.01")
    buy(env, "walk-in", "2026-12-03T15:00:00Z", amount="5.00")  # after as_of: next time
    buy(env, "gone", "2026-11-07T09:00:00Z", amount="45.00", subscription=sub["id"])
    buy(env, "member", "2026-11-09T09:00:00Z", amount="20.00")
    first = run(env)
    assert first["errors"] == [], first
    [walk_in] = invoices(env, "walk-in")
    full = ok(env.get(f"/v1/invoices/{walk_in['id']}"), 200)
    assert full["subscription"] is None and full["status"] == "finalized"
    assert full["number"]  # numbered like any invoice when finalized
    assert [(x["kind"], x["amount"]) for x in full["lines"]] == [
        ("one_off", "89.99"),
        ("one_off", "10.01"),
    ]
    assert full["total"] == "100.00"
    assert full["period_start"].startswith("2026-11-05") and full["period_end"].startswith(
        "2026-12-01"
    )
    gone = [i for i in invoices(env, "gone") if i["subscription"] is None]
    assert [i["total"] for i in gone] == ["45.00"]
    member = invoices(env, "member")
    assert len(member) == 1 and member[0]["subscription"] is not None  # carried, not alone
    member_lines = ok(env.get(f"/v1/invoices/{member[0]['id']}"), 200)["lines"]
    assert ("one_off", "20.00") in [(x["kind"], x["amount"]) for x in member_lines]
    # a rerun of the same as_of writes nothing twice
    again = run(env)
    assert again["errors"] == []
    assert len(invoices(env, "walk-in")) == 1
    unbilled = ok(env.get("/v1/purchases", params={"unbilled": "true"}), 200)["data"]
    assert [(p["customer"], p["amount"]) for p in unbilled] == [("walk-in", "5.00")]
    # the next month picks up the December purchase
    run(env, "2027-01-01T00:00:00Z")
    assert sorted(i["total"] for i in invoices(env, "walk-in")) == ["100.00", "5.00"]
