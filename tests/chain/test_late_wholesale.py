"""Late usage in a chain: events for November that arrive after November's invoices were
finalized are billed on December's invoices at every tier — pooled lines re-rated on the
reseller's total, per-customer lines on their own customer's usage — and never twice."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from chain_scenario import bill, build, events, ok, send

from meterly.jobs.worker import Worker
from support import Env

DEC_AS_OF = "2027-01-01T00:00:00Z"
JAN = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)


def finalize_all(env: Env) -> None:
    for inv in ok(env.get("/v1/invoices?status=draft"), 200)["data"]:
        ok(env.post(f"/v1/invoices/{inv['id']}/finalize", {}), 200)


def december(env: Env, customer: str) -> dict[str, Any]:
    found = ok(env.get(f"/v1/invoices?customer={customer}&period=2026-12"), 200)["data"]
    assert len(found) == 1, found
    return ok(env.get(f"/v1/invoices/{found[0]['id']}"), 200)


def adjustments(invoice: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(x["description"], x["quantity"], x["amount"]) for x in invoice["lines"]
            if x["kind"] == "adjustment"]  # fmt: skip


def bill_december(env: Env) -> None:
    ok(env.post("/v1/bill-runs", {"as_of": DEC_AS_OF}), 202)
    Worker(env.runtime, clock=lambda: JAN).run_until_idle()


def test_late_usage_is_billed_at_every_tier_once(env: Env) -> None:
    build(env)
    bill(env)
    finalize_all(env)
    # late: 10 fax pages of a1 (per_customer on msp-a), 100 minutes of a2 (pooled on msp-a)
    send(env, events("a1", "fax.sent", ["1"] * 10, "a1-late-fax"))
    send(env, events("a2", "call.completed", ["100"], "a2-late-call"))
    bill_december(env)
    a = december(env, "msp-a")
    assert adjustments(a) == [
        # pooled: 2,600 minutes now (1,000 × 0.010 + 1,600 × 0.008 = 22.80) − 22.00 billed
        ("Usage adjustment for Nov 2026: Call minutes", "100", "0.80"),
        # a1's own: 40 pages, (40 − 10 free) × 0.05 = 1.50 − 1.00 billed
        ("Usage adjustment for Nov 2026: Fax pages — a1", "10", "0.50"),
    ]
    late_line = next(x for x in a["lines"] if x["description"].endswith("Fax pages — a1")
                     and x["kind"] == "adjustment")  # fmt: skip
    assert late_line["period_start"].startswith("2026-11-01")
    assert adjustments(december(env, "a1")) == [
        ("Usage adjustment for Nov 2026: Fax pages", "10", "1.00")  # retail: 10 × 0.10
    ]
    assert adjustments(december(env, "a2")) == [
        ("Usage adjustment for Nov 2026: Call minutes", "100", "2.00")  # retail: 100 × 0.02
    ]
    # nothing new arrived for msp-b's subtree: no adjustment there
    assert adjustments(december(env, "msp-b")) == []
