"""DuckDB event store append rate: N events in 1,000-event batches from 4 threads (group commit).

Prints JSON. Usage: python bench/store_append.py [events] [--retry-fraction F]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from meterly.storage.events.base import NewEvent
from meterly.storage.events.duckdb import DuckDBEventStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("events", type=int, nargs="?", default=2_000_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--retry-every", type=int, default=0, help="resend every Nth batch")
    args = ap.parse_args()
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    batches = [
        [
            NewEvent(
                "t1",
                "pbx",
                f"evt-{i}",
                "call",
                f"cust-{i % 5000}",
                t0 + timedelta(seconds=i),
                f'{{"minutes": {i % 97}.5, "dir": "out"}}',
            )
            for i in range(b, min(b + args.batch, args.events))
        ]
        for b in range(0, args.events, args.batch)
    ]
    if args.retry_every:
        batches += batches[:: args.retry_every]
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBEventStore(Path(tmp) / "bench.db")
        lock = threading.Lock()
        todo = iter(batches)
        dups = 0

        def worker() -> None:
            nonlocal dups
            while True:
                with lock:
                    batch = next(todo, None)
                if batch is None:
                    return
                r = store.append(batch)
                with lock:
                    dups += r.duplicates

        start = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        stored = store.count()
        store.close()
    sent = sum(len(b) for b in batches)
    print(
        json.dumps(
            {
                "bench": "duckdb_store_append",
                "events_sent": sent,
                "stored": stored,
                "duplicates": dups,
                "batch": args.batch,
                "threads": args.threads,
                "seconds": round(elapsed, 3),
                "events_per_s": round(sent / elapsed),
            }
        )
    )


if __name__ == "__main__":
    main()
