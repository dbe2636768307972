"""Worker registrations: the bill-run job and the finalization duty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from meterly.billing import finalize, run
from meterly.jobs import queue
from meterly.jobs.worker import duty, handler
from meterly.runtime import Runtime

RETRIES = 3  # passes after the first for customers that failed
BACKOFF = timedelta(minutes=5)


@handler("bill_run")
def bill_run_job(runtime: Runtime, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One pass; customers that failed get another pass later (a new job, so the run's own
    job completes and shows its result)."""
    attempt = int(payload.get("attempt", 0))
    run_id = int(payload["run_id"])
    retry = attempt < RETRIES
    result = run.execute(runtime.ledger, runtime.events, run_id, now, retry_pending=retry)
    if result.errors and retry:
        with runtime.ledger.unit_of_work() as s:
            queue.enqueue(
                s, "bill_run", {"run_id": run_id, "attempt": attempt + 1},
                run_at=now + BACKOFF * (attempt + 1),
                dedup_key=f"bill_run:{run_id}:retry:{attempt + 1}",
            )  # fmt: skip
    return {"created": result.created, "existing": result.existing, "errors": len(result.errors)}


@duty
def finalize_drafts(runtime: Runtime, now: datetime) -> int:
    """Drafts whose grace period ended are finalized (rebuilt from current usage first)."""
    return finalize.finalize_due(runtime.ledger, runtime.events, now)
