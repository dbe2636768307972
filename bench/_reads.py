"""Usage-query latency over a 10 M-event DuckDB store. Prints one JSON object.

usage_p50_ms / usage_p99_ms — one subject's current-month usage of one meter (no window), through
    DuckDBEventStore.aggregate with subjects={name: name} and tenants=[...], over ≥ 200 random
    (subject, meter) pairs, after each meter's first query (which registers and backfills its
    rollups; that one-off cost is reported as `rollup_backfill_s`).
groupby_s — month × meter × subject over every event: one store.aggregate per meter (10 meters),
    window="month", by_subject=True, summed.

Without a data dir the store is built through the normal `append` path (the writer, dedup and group
commit the API uses), in time order as a live system would receive it: 10 M events of ~200 bytes,
10,000 subjects, 10 event types, from the first day two months back until now (so the current month
is partial). The built dir is kept so a rerun can pass it back:

    .venv/bin/python bench/_reads.py [--events N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meterly.storage.events.base import AggregateQuery, MeterSpec, NewEvent
from meterly.storage.events.duckdb import DuckDBEventStore

TENANT = "1"
SUBJECTS = 10_000
TYPES = [
    ("call.domestic", "duration_seconds"),
    ("call.international", "duration_seconds"),
    ("call.tollfree", "duration_seconds"),
    ("conference.bridge", "duration_seconds"),
    ("fax.page", "pages"),
    ("storage.voicemail", "gb"),
    ("storage.recording", "gb"),
    ("sms.sent", "segments"),
    ("download.content", "bytes"),
    ("seat.active", "seats"),
]
METERS = [MeterSpec(t, "sum", value=f"$.{field}") for t, field in TYPES]
DB_NAME = "events.duckdb"


def month_start(at: datetime, back: int = 0) -> datetime:
    y, m = at.year, at.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, tzinfo=UTC)


def build(path: Path, events: int, now: datetime, batch: int = 50_000) -> float:
    """Append `events` events in time order; returns the seconds it took."""
    rng = random.Random(7)
    first = month_start(now, 2)
    step = (now - first) / events
    store = DuckDBEventStore(path)
    t0 = time.perf_counter()
    try:
        for b in range(0, events, batch):
            rows = []
            for i in range(b, min(b + batch, events)):
                kind, field = TYPES[i % len(TYPES)]
                amount = f"{rng.randrange(1, 100_000) / 100}"
                data = (
                    f'{{"{field}": {amount}, "region": "eu-west-{i % 3}", '
                    f'"trunk": "tr-{i % 97:03d}", "tag": "{"x" * 40}"}}'
                )
                rows.append(
                    NewEvent(
                        TENANT,
                        "bench",
                        f"evt-{i:010d}",
                        kind,
                        f"cust-{rng.randrange(SUBJECTS):05d}",
                        first + step * i,
                        data,
                    )
                )
            store.append(rows)
    finally:
        store.close()
    return time.perf_counter() - t0


def measure_reads(data_dir: Path | None = None, events: int = 10_000_000) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    out: dict[str, Any] = {}
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="meterly-reads-"))
    path = data_dir / DB_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        out["build_s"] = round(build(path, events, now), 1)
    out["data_dir"] = str(data_dir)
    store = DuckDBEventStore(path)
    try:
        out["events"] = store.count()
        cur_month = month_start(now)
        t0 = time.perf_counter()
        for m in METERS:  # a meter's first month query registers (backfills) its rollups
            store.aggregate(AggregateQuery(m, month_start(now, 2), now, window="month"))
        out["rollup_backfill_s"] = round(time.perf_counter() - t0, 2)
        rng = random.Random(11)
        lat = []
        for _ in range(400):
            name = f"cust-{rng.randrange(SUBJECTS):05d}"
            query = AggregateQuery(
                rng.choice(METERS), cur_month, now, tenants=[TENANT], subjects={name: name}
            )
            t = time.perf_counter()
            store.aggregate(query)
            lat.append((time.perf_counter() - t) * 1000)
        q = statistics.quantiles(lat, n=100)
        out["usage_queries"] = len(lat)
        out["usage_p50_ms"] = round(statistics.median(lat), 2)
        out["usage_p99_ms"] = round(q[98], 2)
        t0 = time.perf_counter()
        rows = 0
        for m in METERS:
            rows += len(
                store.aggregate(
                    AggregateQuery(m, month_start(now, 2), now, window="month", by_subject=True)
                )
            )
        out["groupby_s"] = round(time.perf_counter() - t0, 3)
        out["groupby_rows"] = rows
    finally:
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    result = {"bench": "usage_reads", **measure_reads(args.data_dir, args.events)}
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
