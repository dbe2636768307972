"""The worker: claims due jobs and runs their handlers; also runs periodic duties (webhook
delivery, invoice finalization) registered by the domains."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from meterly.jobs import queue
from meterly.jobs.models import Job
from meterly.runtime import Runtime
from meterly.storage.ledger import utcnow

log = logging.getLogger("meterly.worker")

Handler = Callable[[Runtime, dict[str, Any], datetime], dict[str, Any] | None]
Duty = Callable[[Runtime, datetime], int]

HANDLERS: dict[str, Handler] = {}
DUTIES: list[Duty] = []


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def duty(fn: Duty) -> Duty:
    """A periodic task run on every worker tick; returns how much work it did."""
    DUTIES.append(fn)
    return fn


def load_domains() -> None:
    """Import the modules that register handlers and duties."""
    import meterly.billing.money.duties
    import meterly.billing.tasks
    import meterly.webhooks.delivery  # noqa: F401


class Worker:
    def __init__(self, runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> None:
        load_domains()
        self.runtime = runtime
        self.clock = clock
        self.id = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    def run_once(self, limit: int = 10) -> int:
        """One tick: due jobs, then duties. Returns the amount of work done."""
        now = self.clock()
        done = 0
        for job_id in queue.claim(self.runtime.ledger, self.id, now, limit):
            self._run(job_id, now)
            done += 1
        for fn in DUTIES:
            try:
                done += fn(self.runtime, now)
            except Exception:
                log.exception("worker duty %s failed", fn.__name__)
        return done

    def _run(self, job_id: int, now: datetime) -> None:
        with self.runtime.ledger.sessions() as s:
            job = s.get(Job, job_id)
            assert job is not None
            kind, payload = job.kind, dict(job.payload)
        fn = HANDLERS.get(kind)
        try:
            if fn is None:
                raise LookupError(f"no handler for job kind '{kind}'")
            result = fn(self.runtime, payload, now)
        except Exception:
            with self.runtime.ledger.unit_of_work() as s:
                queue.fail(s, job_id, traceback.format_exc(), now)
            return
        with self.runtime.ledger.unit_of_work() as s:
            queue.finish(s, job_id, result)

    def run_until_idle(self, max_ticks: int = 1000) -> int:
        total = 0
        for _ in range(max_ticks):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("worker tick failed")
                busy = 0
            if not busy:
                stop.wait(interval)


class WorkerThread:
    """The embedded default: a worker thread inside `meterly serve`."""

    def __init__(self, runtime: Runtime) -> None:
        self._stop = threading.Event()
        self._worker = Worker(runtime)
        self._thread = threading.Thread(
            target=self._worker.run_forever, args=(self._stop,), name="worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
