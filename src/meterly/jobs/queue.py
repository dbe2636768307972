"""Enqueue, claim, finish: the job lifecycle. Callers own the transaction (commit at the edge),
except `claim`, which must commit its lease before the work starts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from meterly.jobs.models import Job
from meterly.storage.ledger import Ledger, utcnow

LEASE = timedelta(minutes=10)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedup_key: str | None = None,
    max_attempts: int = 5,
) -> Job:
    if dedup_key is not None:
        existing = session.scalar(select(Job).where(Job.dedup_key == dedup_key))
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        payload=payload or {},
        run_at=run_at or utcnow(),
        dedup_key=dedup_key,
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    return job


def claim(ledger: Ledger, worker_id: str, now: datetime, limit: int = 1) -> list[int]:
    """Lease up to `limit` due jobs to this worker, in its own committed transaction.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets any number of workers claim without blocking each
    other. SQLite: the engine begins every transaction with BEGIN IMMEDIATE, so claims serialise.
    """
    with ledger.unit_of_work() as s:
        due = or_(
            (Job.status == "queued") & (Job.run_at <= now),
            (Job.status == "running") & (Job.locked_until < now),  # its worker died
        )
        stmt = select(Job).where(due).order_by(Job.run_at, Job.id).limit(limit)
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        jobs = list(s.scalars(stmt))
        for job in jobs:
            job.status = "running"
            job.attempts += 1
            job.locked_by = worker_id
            job.locked_until = now + LEASE
        return [j.id for j in jobs]


def finish(session: Session, job_id: int, result: dict[str, Any] | None = None) -> None:
    job = session.get(Job, job_id)
    if job is not None:
        job.status = "done"
        job.result = result
        job.locked_by = None
        job.locked_until = None


def fail(session: Session, job_id: int, error: str, now: datetime) -> None:
    """Retry with exponential backoff until max_attempts, then mark failed."""
    job = session.get(Job, job_id)
    if job is None:
        return
    job.last_error = error[-4000:]
    job.locked_by = None
    job.locked_until = None
    if job.attempts >= job.max_attempts:
        job.status = "failed"
    else:
        job.status = "queued"
        job.run_at = now + timedelta(seconds=min(3600, 5 * 4 ** (job.attempts - 1)))
