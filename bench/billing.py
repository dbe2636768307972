"""Bill-run benchmark of issue 4 ("Bill"). Prints ONE JSON object.

The embedded default (SQLite ledger + DuckDB events in a fresh data folder) with --customers
customers (10,000), each on one plan: seats in advance (1-20 seats) and two usage meters in
arrears (call minutes: sum; fax pages: count), and --events usage events (10 M) spread over
November 2026. Then `meterly bill run --as-of 2026-12-01T00:00:00Z --json` in its own process.

bill_run_s       wall time of that process (start-up included)
invoices_per_s   invoices / bill_run_s
peak_rss_mb      the bill-run process's peak RSS
floor_s          the plain DuckDB group-by of the same month's usage (subject × type, count and
                 sum of minutes) over the same file: what any design must at least read
ratio            bill_run_s / floor_s
finalize_s       then every draft finalized by the worker's duty (finalize_due, in this process,
                 all grace periods over): rebuilt from current usage, numbered, frozen
finalized_per_s  finalized / finalize_s
setup            how the data was made (not timed against any target)

Events are written straight into the store through its normal `append_batch` (Arrow columns,
1 M-event batches); customers and subscriptions are inserted in bulk into the ledger (the API
would take minutes for 10 k of them and is not what is measured).

    .venv/bin/python bench/billing.py [--customers 10000] [--events 10000000] [--keep DIR]

To profile: `--keep DIR --setup-only` builds the data folder and stops; copy it (a bill run
changes it) and run `METERLY_DATA_DIR=COPY METERLY_PROVIDER_ID=skyline python -m cProfile -o
OUT .venv/bin/meterly bill run --as-of 2026-12-01T00:00:00Z --json` against the copy.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent / "meterly"
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
BATCH = 1_000_000


def meters_and_products(post: Callable[[str, dict[str, Any]], None]) -> None:
    """The provider's meters (call minutes, fax pages) and products: both benchmarks' base."""
    post("/v1/meters", {"key": "call-minutes", "name": "Call minutes", "event_type": "call",
                        "aggregation": "sum", "value": "$.minutes"})  # fmt: skip
    post("/v1/meters", {"key": "fax-pages", "name": "Fax pages", "event_type": "fax",
                        "aggregation": "count"})  # fmt: skip
    for k, kind in [("seat", "seat"), ("calls", "usage"), ("fax", "usage")]:
        post("/v1/products", {"key": k, "name": k, "kind": kind})


def setup_ledger(data: Path, customers: int) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from meterly.accounts.keys import create_key
    from meterly.accounts.models import Account
    from meterly.app import create_app
    from meterly.config import Settings
    from meterly.plans.models import PlanVersion
    from meterly.runtime import Runtime
    from meterly.subscriptions.models import Subscription, SubscriptionChange

    rt = Runtime.open(Settings(data_dir=data, provider_id="skyline"))
    try:
        with rt.ledger.unit_of_work() as s:
            root = s.query(Account).filter(Account.parent_id.is_(None)).one()
            _, key = create_key(s, root, "bench")
            root_id, root_path = root.id, root.path
        with TestClient(create_app(runtime=rt)) as client:
            h = {"Authorization": f"Bearer {key}"}

            def post(path: str, body: dict[str, Any]) -> None:
                r = client.post(path, json=body, headers=h)
                assert r.status_code == 201, r.text

            meters_and_products(post)
            post("/v1/plans", {"key": "voice", "name": "Voice", "charges": [
                {"product": "seat", "description": "Seat",
                 "price": {"model": "per_unit", "unit_amount": "24.99", "timing": "in_advance"}},
                {"product": "calls", "meter": "call-minutes", "description": "Call minutes",
                 "price": {"model": "per_unit", "unit_amount": "0.012"}},
                {"product": "fax", "meter": "fax-pages", "description": "Fax pages",
                 "price": {"model": "graduated", "tiers": [
                     {"up_to": "100", "unit_amount": "0"},
                     {"up_to": None, "unit_amount": "0.05"}]}},
            ]})  # fmt: skip
        with rt.ledger.unit_of_work() as s:
            pv = s.query(PlanVersion).one()
            first = root_id + 1
            s.execute(insert(Account), [
                {"id": first + i, "external_id": f"c{i:05d}", "name": f"Customer {i}",
                 "kind": "customer", "parent_id": root_id, "path": f"{root_path}{first + i}/",
                 "currency": "USD", "timezone": "UTC"}
                for i in range(customers)
            ])  # fmt: skip
            s.execute(insert(Subscription), [
                {"id": i + 1, "seller_id": root_id, "customer_id": first + i,
                 "plan_id": pv.plan_id, "plan_version_id": pv.id, "start": NOV, "end": None,
                 "trial_days": 0, "quantity": i % 20 + 1, "billing_anchor": 1}
                for i in range(customers)
            ])  # fmt: skip
            s.execute(insert(SubscriptionChange), [
                {"subscription_id": i + 1, "kind": "created", "effective_at": NOV,
                 "data": {"plan_version_id": pv.id, "plan": "voice", "version": 1,
                          "quantity": str(i % 20 + 1), "add_ons": []}}
                for i in range(customers)
            ])  # fmt: skip
    finally:
        rt.close()


def setup_events(data: Path, customers: int, events: int) -> float:
    """Append `events` events (80 % calls, 20 % fax pages) in 1 M-event Arrow batches."""
    import numpy as np
    import pyarrow as pa

    from meterly.storage.events.base import EventBatch
    from meterly.storage.events.duckdb import DuckDBEventStore

    store = DuckDBEventStore(data / "events.duckdb")
    span_us = int((DEC - NOV).total_seconds() * 1_000_000)
    start_us = int(NOV.timestamp() * 1_000_000)
    rng = np.random.default_rng(4)
    t0 = time.perf_counter()
    try:
        for b in range(0, events, BATCH):
            n = min(BATCH, events - b)
            idx = np.arange(b, b + n)
            fax = idx % 5 == 4
            minutes = rng.integers(1, 60, n)
            data_col = np.where(
                fax, "{}", np.char.add(np.char.add('{"minutes":', minutes.astype(str)), "}")
            )
            batch = EventBatch(
                tenant=["1"] * n, source=["bench"] * n,
                id=[f"e{i}" for i in range(b, b + n)],
                type=np.where(fax, "fax", "call").tolist(),
                subject=[f"c{i % customers:05d}" for i in range(b, b + n)],
                time=pa.array(start_us + rng.integers(0, span_us, n), pa.timestamp("us", tz="UTC")),
                data=pa.array(data_col.tolist(), pa.string()),
            )  # fmt: skip
            store.append_batch(batch)
    finally:
        store.close()
    return time.perf_counter() - t0


def floor(data: Path) -> float:
    import duckdb

    con = duckdb.connect(str(data / "events.duckdb"), read_only=True)
    try:
        t0 = time.perf_counter()
        con.execute(
            "SELECT subject, type, count(*), "
            "sum(CAST(json_extract_string(data, '$.minutes') AS DECIMAL(38, 12))) "
            "FROM events WHERE time >= ? AND time < ? GROUP BY subject, type",
            [NOV, DEC],
        ).fetchall()
        return time.perf_counter() - t0
    finally:
        con.close()


def finalize_all(data: Path) -> tuple[float, int]:
    """The worker's finalization duty, run until no draft is left (every grace period over):
    each draft rebuilt from current usage, numbered and frozen."""
    from datetime import timedelta

    from meterly.billing.finalize import finalize_due
    from meterly.config import Settings
    from meterly.runtime import Runtime

    rt = Runtime.open(Settings(data_dir=data, provider_id="skyline"))
    try:
        now, done = DEC + timedelta(days=30), 0
        t0 = time.perf_counter()
        while n := finalize_due(rt.ledger, rt.events, now):
            done += n
        return time.perf_counter() - t0, done
    finally:
        rt.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, help="keep the data folder here")
    ap.add_argument("--setup-only", action="store_true", help="build the folder (--keep), no run")
    args = ap.parse_args()
    if args.setup_only and args.keep is None:
        ap.error("--setup-only needs --keep DIR")
    tmp = Path(tempfile.mkdtemp(prefix="meterly-bench-billing-"))
    data = args.keep or tmp / "data"
    try:
        t0 = time.perf_counter()
        setup_ledger(data, args.customers)
        ledger_s = time.perf_counter() - t0
        events_s = setup_events(data, args.customers, args.events)
        if args.setup_only:
            print(json.dumps({"data": str(data), "ledger_s": round(ledger_s, 1),
                              "events_s": round(events_s, 1)}))  # fmt: skip
            return
        env = {"METERLY_DATA_DIR": str(data), "METERLY_PROVIDER_ID": "skyline", "PATH": "/usr/bin"}
        cmd = [str(BIN), "bill", "run", "--as-of", DEC.isoformat(), "--json"]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
        bill_run_s = time.perf_counter() - t0
        if out.returncode != 0:
            raise SystemExit(f"bill run failed: {out.stderr[-2000:]}")
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = json.loads(out.stdout)
        finalize_s, finalized = finalize_all(data)
        floor_s = floor(data)
        print(json.dumps({
            "customers": args.customers, "events": args.events,
            "invoices": summary["invoices"], "totals": summary["totals"],
            "errors": len(summary["errors"]),
            "bill_run_s": round(bill_run_s, 2),
            "invoices_per_s": round(summary["invoices"] / bill_run_s, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "floor_s": round(floor_s, 3),
            "ratio": round(bill_run_s / floor_s, 1),
            "finalized": finalized, "finalize_s": round(finalize_s, 2),
            "finalized_per_s": round(finalized / finalize_s, 1) if finalize_s else None,
            "setup": {"ledger_s": round(ledger_s, 1), "events_s": round(events_s, 1)},
        }, indent=2))  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
