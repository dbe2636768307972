"""Bill runs through the real app and worker: every line to the cent, idempotence, scoping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from scenario import AS_OF, build, check, failing_rating, ok

from meterly.jobs.worker import Worker
from support import Env

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # an hour after the period end: within grace


def run_worker(env: Env, at: datetime = NOW) -> None:
    Worker(env.runtime, clock=lambda: at).run_until_idle()


def bill(env: Env, as_of: str = AS_OF, key: str | None = None) -> dict[str, Any]:
    run = ok(env.post("/v1/bill-runs", {"as_of": as_of}, key=key), 202)
    assert run["status"] == "queued"
    run_worker(env)
    return ok(env.get(f"/v1/bill-runs/{run['id']}", key=key), 200)


def invoices(env: Env, **params: Any) -> list[dict[str, Any]]:
    return list(ok(env.get("/v1/invoices", params=params), 200)["data"])


def invoice(env: Env, customer: str) -> dict[str, Any]:
    [summary] = invoices(env, customer=customer)
    return ok(env.get(f"/v1/invoices/{summary['id']}"), 200)


def test_month_bills_every_line_to_the_cent(env: Env) -> None:
    subs = build(env)
    run = bill(env)
    assert run["status"] == "done" and run["errors"] == []
    assert run["invoices"] == 3 and run["totals"] == {"USD": "640.71"}
    for customer in ("law-firm", "preschool", "sole-prop"):
        inv = invoice(env, customer)
        check(inv, customer)
        assert inv["status"] == "draft" and inv["number"] is None
        assert inv["subscription"] == subs[customer]
        assert inv["period_start"].startswith("2026-11-01") and inv["currency"] == "USD"
        assert inv["finalize_after"].startswith("2026-12-04T00:00")  # 72 h of grace
    law = invoice(env, "law-firm")
    fax = next(ln for ln in law["lines"] if ln["meter"] == "fax-pages")
    assert [t["amount"] for t in fax["tiers"]] == ["0.00", "2.50"]  # the tier breakdown
    assert fax["meta"]["quantity"] == "150" and fax["meta"]["amount"] == "2.50"
    assert law["lines"][0]["precise_amount"].startswith("66.6666666666")
    # the hardware is billed once: marked with its invoice
    [p] = ok(env.get("/v1/purchases", params={"customer": "sole-prop"}), 200)["data"]
    assert p["billed_invoice_id"] == invoice(env, "sole-prop")["id"]


def test_rerun_is_idempotent(env: Env) -> None:
    build(env)
    first = bill(env)
    again = bill(env)
    assert again["id"] != first["id"] and again["invoices"] == 0 and again["status"] == "done"
    assert len(invoices(env)) == 3
    # a second purchase after the run waits for the next invoice (December's)
    assert [i["period_start"][:10] for i in invoices(env, customer="sole-prop")] == ["2026-11-01"]


def test_failed_customer_is_reported_and_retried(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    build(env)
    failing_rating(monkeypatch, "preschool")
    run = bill(env)
    monkeypatch.undo()
    assert run["status"] == "retrying" and run["invoices"] == 2
    assert run["errors"][0]["customer"] == "preschool"
    assert "rating backend unavailable" in run["errors"][0]["error"]
    # the retry pass (scheduled 5 minutes later) bills the customer that failed
    run_worker(env, NOW.replace(minute=10))
    done = ok(env.get(f"/v1/bill-runs/{run['id']}"), 200)
    assert done["status"] == "done" and done["invoices"] == 3 and done["errors"] == []
    assert done["totals"] == {"USD": "640.71"}


def test_scoping_of_runs_and_invoices(env: Env) -> None:
    build(env)
    env.account("msp", kind="reseller")
    env.account("tenant", parent="msp")
    bill(env)
    law_key = env.key_for("law-firm")
    msp_key = env.key_for("msp")
    mine = ok(env.get("/v1/invoices", key=law_key), 200)["data"]
    assert [i["customer"] for i in mine] == ["law-firm"]
    assert ok(env.get("/v1/invoices", key=msp_key), 200)["data"] == []
    other = invoice(env, "preschool")["id"]
    assert env.get(f"/v1/invoices/{other}", key=law_key).status_code == 404
    own = mine[0]["id"]
    assert env.get(f"/v1/invoices/{own}", key=law_key).status_code == 200
    # a customer reads its invoice but cannot finalize or void it, nor start a run
    assert env.post(f"/v1/invoices/{own}/finalize", key=law_key).status_code == 403
    assert env.post("/v1/bill-runs", {"as_of": AS_OF}, key=law_key).status_code == 403
    # the reseller's run bills its own customers only (none here): nothing of Skyline's
    run = bill(env, key=msp_key)
    assert run["invoices"] == 0 and run["seller"] == "msp"
    assert env.get(f"/v1/bill-runs/{run['id']}", key=law_key).status_code == 404


def test_list_filters(env: Env) -> None:
    build(env)
    bill(env)
    assert len(invoices(env, period="2026-11")) == 3
    assert invoices(env, period="2026-10") == []
    assert len(invoices(env, status="draft")) == 3
    assert invoices(env, status="finalized") == []
    bad = env.get("/v1/invoices", params={"period": "2026-13"})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "period"


def test_concurrent_runs_write_each_invoice_once(env: Env) -> None:
    """Two runs at once (two workers, or the CLI beside the API): the unique (subscription,
    period) constraint lets one win; the other counts the invoice as already there."""
    import threading

    from meterly.billing.models import BillRun
    from meterly.billing.run import PassResult, execute

    build(env)
    with env.runtime.ledger.unit_of_work() as s:
        runs = [BillRun(seller_id=1, as_of=NOW.replace(hour=0), errors=[], totals={}, invoices=0)
                for _ in range(2)]  # fmt: skip
        s.add_all(runs)
        s.flush()
        ids = [r.id for r in runs]
    results: list[PassResult] = []

    def go(run_id: int) -> None:
        results.append(execute(env.runtime.ledger, env.runtime.events, run_id, NOW))

    threads = [threading.Thread(target=go, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.created for r in results) == 3 and all(not r.errors for r in results)
    assert sum(r.existing for r in results) == 3
    assert len(invoices(env)) == 3
