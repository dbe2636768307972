"""SIGKILL `meterly bill run` midway, rerun it, and find each invoice exactly once, to the cent."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from scenario import basic_plan, ok

from meterly.accounts.keys import create_key
from meterly.accounts.scope import account_in_scope
from meterly.app import create_app
from meterly.cli_support import operator
from meterly.config import Settings
from meterly.runtime import Runtime
from support import Env

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "meterly"
CUSTOMERS = 400
AS_OF = "2026-12-01T00:00:00Z"


def expected_total(i: int) -> Decimal:
    """Customer i: (i % 5) + 1 seats at 20.00 for November, and i call minutes at 0.02."""
    return Decimal(20) * ((i % 5) + 1) + (Decimal(i) * Decimal("0.02")).quantize(Decimal("0.01"))


def populate(settings: Settings) -> None:
    rt = Runtime.open(settings)
    try:
        with TestClient(create_app(runtime=rt)) as client:
            with rt.ledger.unit_of_work() as s:
                _, key = create_key(s, account_in_scope(s, operator(rt), "skyline"), "t")
            env = Env(client, rt, key)
            basic_plan(env)
            events = []
            for i in range(CUSTOMERS):
                env.account(f"c{i:04d}")
                ok(env.post("/v1/subscriptions", {"customer": f"c{i:04d}", "plan": "basic",
                                                  "start": "2026-11-01T00:00:00Z",
                                                  "quantity": str(i % 5 + 1)}))  # fmt: skip
                events.append({"id": f"e{i}", "type": "call", "subject": f"c{i:04d}",
                               "time": "2026-11-15T12:00:00Z", "data": {"minutes": i}})  # fmt: skip
            for j in range(0, len(events), 1000):
                assert env.post("/v1/events", events[j : j + 1000]).status_code == 202
    finally:
        rt.close()


def invoice_rows(ledger: Path) -> list[tuple[int, str, str, str]]:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30) as db:
        return list(
            db.execute(
                "SELECT subscription_id, period_start, total, customer_id FROM invoices "
                "ORDER BY subscription_id"
            )
        )


def test_sigkill_midway_then_rerun_bills_each_invoice_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, provider_id="skyline")
    populate(settings)
    ledger = data / "ledger.sqlite3"
    env = {**os.environ, "METERLY_DATA_DIR": str(data), "METERLY_PROVIDER_ID": "skyline"}
    cmd = [str(BIN), "bill", "run", "--as-of", AS_OF, "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    seen = 0
    while time.monotonic() < deadline and proc.poll() is None:
        seen = len(invoice_rows(ledger)) if ledger.exists() else 0
        if seen >= 40:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed; add customers"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = len(invoice_rows(ledger))
    assert 40 <= partial < CUSTOMERS  # killed midway, with committed invoices behind it

    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["created"] == CUSTOMERS - partial and summary["existing"] == partial
    assert summary["status"] == "done" and summary["errors"] == []
    # the rerun resumed the killed run (same as_of, unfinished): one run holds every invoice
    assert summary["invoices"] == CUSTOMERS

    rows = invoice_rows(ledger)
    assert len(rows) == CUSTOMERS
    assert len({(sub, start) for sub, start, _, _ in rows}) == CUSTOMERS  # each exactly once
    by_sub = {sub: Decimal(total) for sub, _, total, _ in rows}
    # subscriptions were created in customer order: subscription k is customer k - 1
    assert by_sub == {i + 1: expected_total(i) for i in range(CUSTOMERS)}
    grand = sum((expected_total(i) for i in range(CUSTOMERS)), Decimal(0))
    assert Decimal(summary["totals"]["USD"]) == grand

    # a third run finds nothing to do
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout)["created"] == 0
    assert len(invoice_rows(ledger)) == CUSTOMERS
