"""`meterly demo`: build the scenario through the public API, then summarise and serve."""

from __future__ import annotations

import shutil
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from meterly.accounts.keys import create_key
from meterly.accounts.scope import account_in_scope
from meterly.app import create_app
from meterly.cli_support import operator
from meterly.config import Settings
from meterly.demo import cast, events, feed, selling
from meterly.demo.meters import METERS
from meterly.demo.server import BackgroundServer, free_port
from meterly.jobs.worker import Worker, WorkerThread
from meterly.runtime import Runtime

FIRST_MONTH = date(2026, 8, 1)


@dataclass
class Tally:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unattributed: int = 0
    late: int = 0

    def add(self, r: dict[str, Any]) -> None:
        self.accepted += r["accepted"]
        self.duplicates += r["duplicates"]
        self.rejected += len(r["rejected"])
        self.unattributed += r["unattributed"]


@dataclass
class DemoOptions:
    data_dir: Path
    seed: int = 7
    customers: int = 40
    months: int = 3
    serve: bool = True
    host: str = "127.0.0.1"
    port: int = 8000


@dataclass
class Demo:
    options: DemoOptions
    console: Console
    runtime: Runtime
    keys: dict[str, str] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def key(self, external_id: str, name: str) -> str:
        with self.runtime.ledger.unit_of_work() as s:
            account = account_in_scope(s, operator(self.runtime), external_id)
            _, secret = create_key(s, account, name)
        self.keys[external_id] = secret
        return secret

    def client(self, base_url: str, external_id: str) -> httpx.Client:
        return httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {self.keys[external_id]}"},
            timeout=120,
        )


def _check(r: httpx.Response) -> dict[str, Any]:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    body: dict[str, Any] = r.json()
    return body


def setup_accounts(
    demo: Demo, url: str, roster: list[cast.Customer], progress: Progress
) -> dict[str, int]:
    """Provider catalog and plans, MSPs onboarded with their markups, customers subscribed."""
    root = cast.PROVIDER[0]
    demo.key(root, "demo provider admin")
    with demo.client(url, root) as api:
        for m in METERS:
            _check(api.post("/v1/meters", json=m))
        selling.setup_catalog(api)
    selling.onboard_resellers(demo, url)
    selling.wholesale(demo, url, FIRST_MONTH)
    task = progress.add_task("onboard customers", total=len(roster))
    subs: dict[str, int] = {}
    # each MSP onboards its own customers with its own key, at its own retail prices: a
    # kept-alive connection per MSP, the MSPs side by side (10,000 customers are 30,000 calls)
    by_msp: dict[str, list[cast.Customer]] = defaultdict(list)
    for c in roster:
        by_msp[c.reseller].append(c)

    def onboard(msp: str) -> None:
        with demo.client(url, msp) as api:
            for c in by_msp[msp]:
                subs[c.external_id] = selling.onboard_customer(api, c, FIRST_MONTH)
                progress.advance(task)

    with ThreadPoolExecutor(len(by_msp)) as pool:
        list(pool.map(onboard, by_msp))
    demo.key("whitman-law", "Whitman & Hale portal")
    return subs


def _send(api: httpx.Client, body: bytes) -> dict[str, Any]:
    return _check(
        api.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    )


def ingest_month(
    demo: Demo,
    url: str,
    roster: list[cast.Customer],
    month: events.MonthPlan,
    held_back: list[dict[str, Any]],
    progress: Progress,
) -> list[dict[str, Any]]:
    """Send one month's feed (plus last month's late events); returns this month's late ones.

    The feed is made and sent a chunk of customers at a time (demo.feed), so memory stays flat
    however many customers there are."""
    late: list[dict[str, Any]] = []
    demo.tally.late += len(held_back)
    task = progress.add_task(f"ingest {month.start:%b %Y} (customers)", total=len(roster))
    with demo.client(url, cast.PROVIDER[0]) as api, ThreadPoolExecutor(4) as pool:
        for result in pool.map(lambda b: _send(api, b), feed.bodies(held_back)):
            demo.tally.add(result)
        for chunk in feed.chunks(roster, month, demo.options.seed):
            late += chunk.late
            for result in pool.map(lambda b: _send(api, b), chunk.bodies):
                demo.tally.add(result)
            progress.advance(task, chunk.customers)
    return late


def run(options: DemoOptions, console: Console) -> Demo:
    if options.data_dir.exists():
        shutil.rmtree(options.data_dir)  # the demo always starts from a clean folder
    settings = Settings(
        data_dir=options.data_dir, provider_id=cast.PROVIDER[0], provider_name=cast.PROVIDER[1]
    )
    runtime = Runtime.open(settings)
    demo = Demo(options, console, runtime)
    port = options.port if options.serve else free_port(options.host)
    server = BackgroundServer(create_app(runtime=runtime), options.host, port)
    server.start()
    worker = Worker(runtime)
    worker_thread = WorkerThread(runtime)  # bill runs and finalization, as `meterly serve` does
    worker_thread.start()
    try:
        roster = cast.customers(options.customers, options.seed)
        console.print(
            f"[bold]Skyline Voice[/bold]: {len(cast.RESELLERS)} resellers, "
            f"{len(roster)} customers, {options.months} months (seed {options.seed})"
        )
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            subs = setup_accounts(demo, server.url, roster, progress)
            held: list[dict[str, Any]] = []
            for i, month in enumerate(events.months(FIRST_MONTH, options.months)):
                selling.month_changes(demo, server.url, roster, subs, i + 1, month.start)
                held = ingest_month(demo, server.url, roster, month, held, progress)
                task = progress.add_task(f"bill {month.start:%b %Y}", total=1)
                as_of = datetime.combine(month.end, time(12), UTC)
                with demo.client(server.url, cast.PROVIDER[0]) as api:
                    demo.runs.append(selling.bill_month(api, as_of))
                progress.advance(task)
        worker.run_until_idle()  # finalize the drafts whose grace period is over
        from meterly.demo.summary import print_summary

        print_summary(demo, server.url, roster)
        if options.serve:
            console.print(
                f"\nServing the API on [bold]{server.url}[/bold] "
                f"(OpenAPI at {server.url}/docs). Ctrl-C stops it."
            )
            for who, secret in demo.keys.items():
                console.print(f"  key for {who}: {secret}", highlight=False, soft_wrap=True)
            shown = next((c for c in roster if c.external_id == "whitman-law"), roster[0])
            with demo.client(server.url, shown.reseller) as api:  # the MSP hands out the link
                link = _check(api.post("/v1/portal-sessions", json={
                    "customer": shown.external_id, "ttl_minutes": 7 * 24 * 60}))  # fmt: skip
            console.print(f"  billing portal of {shown.external_id} (in its MSP's brand): "
                          f"{link['url']}", highlight=False, soft_wrap=True)  # fmt: skip
            server.wait()
    finally:
        worker_thread.stop()
        server.stop()
        runtime.close()
    return demo
