"""File import throughput. Prints one JSON object.

Generates N JSONL events (~200 bytes each, 10,000 subjects, 10 event types) into a temporary
directory, then imports them in-process through meterly.ingest.importer into a fresh data folder
(SQLite ledger + DuckDB event store), exactly as `meterly events import` does.

import_events_per_s — events read, validated and stored per second (wall clock of the import)
import_peak_rss_mb  — peak resident memory of this process (generation streams to disk, so the
                      peak is the import's)

    .venv/bin/python bench/import_jsonl.py --events 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from meterly.cli_support import operator
from meterly.config import Settings
from meterly.ingest.importer import import_file, plan_import
from meterly.runtime import Runtime

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
SUBJECTS = 10_000


def generate(path: Path, n: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    start = 1_772_323_200  # 2026-03-01T00:00:00Z
    size = 0
    with path.open("wb") as f:
        for base in range(0, n, 100_000):
            lines = []
            for i in range(base, min(n, base + 100_000)):
                etype, key = TYPES[i % len(TYPES)]
                t = time.gmtime(start + rng.randrange(0, 30 * 86_400))
                lines.append(
                    f'{{"id":"evt-{i:012d}","source":"pbx-eu-{i % 4}","type":"{etype}",'
                    f'"subject":"cust-{rng.randrange(SUBJECTS):05d}",'
                    f'"time":"{time.strftime("%Y-%m-%dT%H:%M:%S", t)}.{i % 1000:03d}Z",'
                    f'"data":{{"{key}":{rng.randrange(1, 3600)},'
                    f'"amount":{rng.randrange(1, 99999) / 10000:.4f},"direction":"out"}}}}\n'
                )
            chunk = "".join(lines).encode()
            size += len(chunk)
            f.write(chunk)
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="meterly-bench-") as tmp:
        src = Path(tmp) / "events.jsonl"
        size = generate(src, args.events)
        print(f"generated {args.events:,} events, {size / 1e6:.0f} MB", file=sys.stderr)
        rt = Runtime.open(Settings(data_dir=Path(tmp) / "data", provider_id="skyline"))
        try:
            plan = plan_import(src, chunk_size=args.chunk_size)
            summary = import_file(rt, operator(rt), plan)
        finally:
            rt.close()
        assert summary.accepted == args.events, summary.as_dict()
        # ru_maxrss is in KiB on Linux.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "import_events_per_s": round(args.events / summary.elapsed_s),
                    "import_peak_rss_mb": round(peak_mb),
                    "events": args.events,
                }
            )
        )


if __name__ == "__main__":
    main()
