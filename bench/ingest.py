"""Ingest benchmark of issue 2 ("Count"). Prints ONE JSON object.

http_events_per_s     a real `meterly serve` (one process, 127.0.0.1, fresh data dir: SQLite
                      ledger + DuckDB) with 10,000 customer accounts and 10 meters; a client in
                      another process POSTs pre-built ~200-byte events in 1,000-event batches over
                      --connections concurrent connections (httpx, one thread each).
ceiling_events_per_s  the same bodies parsed with orjson and appended straight to a fresh DuckDB
                      via Arrow (100-body = 100 k-row transactions), no API and no dedup.
ratio                 http / ceiling.
import_events_per_s, import_peak_rss_mb
                      bench/import_jsonl.py in its own process (so the RSS is the import's).
usage_p50_ms, usage_p99_ms, groupby_s
                      bench/_reads.py measure_reads over 10 M stored events.

    .venv/bin/python bench/ingest.py [--events 2000000] [--import-events 5000000]

Bounded: every loop runs over a fixed list; the server is stopped in a finally block.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent / "meterly"
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
BATCH = 1_000


def bodies(n: int, seed: int = 5) -> list[bytes]:
    """~200-byte events in 1,000-event JSON arrays, built before any timing."""
    import orjson

    rng = random.Random(seed)
    start = 1_772_323_200  # 2026-03-01T00:00:00Z
    out = []
    for b in range(0, n, BATCH):
        events = []
        for i in range(b, min(n, b + BATCH)):
            etype, key = TYPES[i % len(TYPES)]
            t = time.gmtime(start + rng.randrange(0, 30 * 86_400))
            events.append(
                {
                    "id": f"evt-{i:012d}",
                    "source": f"pbx-eu-{i % 4}",
                    "type": etype,
                    "subject": f"cust-{rng.randrange(SUBJECTS):05d}",
                    "time": f"{time.strftime('%Y-%m-%dT%H:%M:%S', t)}.{i % 1000:03d}Z",
                    "data": {key: rng.randrange(1, 3600), "amount": 1.2345, "direction": "out"},
                }
            )
        out.append(orjson.dumps(events))
    return out


# --- the client process ------------------------------------------------------------------------


def client(url: str, key: str, events: int, connections: int) -> None:
    """Runs in its own process: POST every body, print {"seconds", "accepted"} on stdout."""
    import httpx

    todo = bodies(events)
    lock = threading.Lock()
    position = iter(range(len(todo)))
    accepted = [0]
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def worker() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    i = next(position, None)
                if i is None or errors:
                    return
                r = http.post("/v1/events", content=todo[i])
                if r.status_code != 202:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                with lock:
                    accepted[0] += r.json()["accepted"]

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "accepted": accepted[0], "errors": errors[:3]}))


# --- server set-up -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def prepare(data_dir: Path, env: dict[str, str]) -> str:
    """Accounts (in-process, one transaction) and meters; returns a new API key."""
    from meterly.accounts import service
    from meterly.accounts.schemas import AccountCreate
    from meterly.cli_support import operator
    from meterly.config import Settings
    from meterly.runtime import Runtime

    rt = Runtime.open(Settings(data_dir=data_dir, provider_id="skyline"))
    try:
        principal = operator(rt)
        with rt.ledger.sessions() as s:
            for i in range(SUBJECTS):
                body = AccountCreate(external_id=f"cust-{i:05d}", name=f"Customer {i}")
                service.create_account(s, principal, body)
            s.commit()
    finally:
        rt.close()

    def cli(*args: str) -> str:
        out = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout

    for etype, value in TYPES:
        name = etype.replace(".", "-")
        cli("meters", "create", name, "--name", name, "--event-type", etype,
            "--aggregation", "sum", "--value", f"$.{value}")  # fmt: skip
    return cli("keys", "create", "--name", "bench").strip().splitlines()[-1]


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited during start")
        time.sleep(0.2)
    raise RuntimeError("server did not answer /healthz within 120 s")


def http_rate(tmp: Path, events: int, connections: int) -> dict[str, Any]:
    data_dir = tmp / "http"
    port = free_port()
    env = {
        **os.environ,
        "METERLY_DATA_DIR": str(data_dir),
        "METERLY_PROVIDER_ID": "skyline",
        "METERLY_PORT": str(port),
    }
    key = prepare(data_dir, env)
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN), "serve"], env=env)
    try:
        wait_healthy(url, server)
        args = [url, key, str(events), str(connections)]
        out = subprocess.run(
            [sys.executable, __file__, "--client", *args], capture_output=True, text=True
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    if result["errors"] or result["accepted"] != events:
        raise RuntimeError(f"client: {result}")
    return {"http_events_per_s": round(events / result["seconds"]), "http_s": result["seconds"]}


# --- ceiling, import, reads -------------------------------------------------------------------


def ceiling_rate(tmp: Path, events: int) -> int:
    """orjson + Arrow + DuckDB append of the same bodies: the floor of any design here."""
    import duckdb
    import orjson
    import pyarrow as pa
    import pyarrow.compute as pc

    todo = bodies(events)
    con = duckdb.connect(str(tmp / "ceiling.db"))
    con.execute(
        "CREATE TABLE events (source VARCHAR, id VARCHAR, type VARCHAR, subject VARCHAR, "
        "time TIMESTAMPTZ, data VARCHAR)"
    )
    ts = pa.timestamp("us", tz="UTC")
    started = time.perf_counter()
    for lo in range(0, len(todo), 100):
        tables = []
        for body in todo[lo : lo + 100]:
            items = orjson.loads(body)
            tables.append(
                pa.table(
                    {
                        "source": [e["source"] for e in items],
                        "id": [e["id"] for e in items],
                        "type": [e["type"] for e in items],
                        "subject": [e["subject"] for e in items],
                        "time": pc.cast(pa.array([e["time"] for e in items]), ts),
                        "data": [orjson.dumps(e["data"]).decode() for e in items],
                    }
                )
            )
        con.execute("BEGIN")
        con.from_arrow(pa.concat_tables(tables)).insert_into("events")
        con.execute("COMMIT")
    seconds = time.perf_counter() - started
    con.close()
    return round(events / seconds)


def import_rate(events: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(BENCH / "import_jsonl.py"), "--events", str(events)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: got[k] for k in ("import_events_per_s", "import_peak_rss_mb")}


def reads(tmp: Path, events: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    from _reads import measure_reads

    got = measure_reads(tmp / "reads", events)
    return {k: got[k] for k in ("usage_p50_ms", "usage_p99_ms", "groupby_s") if k in got}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--import-events", type=int, default=5_000_000)
    ap.add_argument("--read-events", type=int, default=10_000_000)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--only", choices=["http", "ceiling", "import", "reads"], action="append")
    ap.add_argument("--client", nargs=4, metavar=("URL", "KEY", "EVENTS", "CONNECTIONS"))
    args = ap.parse_args()
    if args.client:
        url, key, events, connections = args.client
        client(url, key, int(events), int(connections))
        return
    parts = set(args.only or ["http", "ceiling", "import", "reads"])
    result: dict[str, Any] = {"events": args.events, "connections": args.connections}
    with tempfile.TemporaryDirectory(prefix="meterly-bench-ingest-") as name:
        tmp = Path(name)
        if "http" in parts:
            result.update(http_rate(tmp, args.events, args.connections))
            print(f"http: {result}", file=sys.stderr)
        if "ceiling" in parts:
            result["ceiling_events_per_s"] = ceiling_rate(tmp, args.events)
            print(f"ceiling: {result['ceiling_events_per_s']}", file=sys.stderr)
        if "http_events_per_s" in result and "ceiling_events_per_s" in result:
            result["ratio"] = round(result["http_events_per_s"] / result["ceiling_events_per_s"], 3)
        if "import" in parts:
            result.update(import_rate(args.import_events))
            print(f"import: {result}", file=sys.stderr)
        if "reads" in parts:
            result.update(reads(tmp, args.read_events))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
