"""Bill runs: invoice every subscription period that ended at or before `as_of`.

Idempotent and resumable (DESIGN.md): the unique (subscription, period_start) constraint makes
"at most one invoice per period" a property of the ledger, not of this code. Invoices are written
a group at a time (billing.writer: one transaction per ~100, a savepoint each), so a crash loses
at most the group being written, and a rerun skips what exists (a concurrent duplicate insert is
caught as "already there"). A customer whose invoice fails is recorded in the run's errors and
the loop goes on; the next pass retries it.

A run reads a batch of subscriptions in one short session, rates a group of them with no ledger
transaction open (event-store queries are grouped per batch, billing.usage), then writes the
group, and so on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal
from meterly.billing import commitments
from meterly.billing.context import (
    Span,
    SpecCache,
    SubContext,
    billed_usage,
    existing_keys,
    late_for,
    load_contexts,
    purchases_for,
    unbilled_purchases,
)
from meterly.billing.draft import listeners, profile_of
from meterly.billing.loose_purchases import invoice_loose_purchases
from meterly.billing.models import BillRun, Invoice
from meterly.billing.rating import BatchRater
from meterly.billing.writer import GROUP, Pending, write_group
from meterly.pricing.currency import quantum
from meterly.storage.events.base import EventStore
from meterly.storage.ledger import Ledger, utcnow
from meterly.subscriptions.models import Subscription
from meterly.webhooks.service import emit

log = logging.getLogger("meterly.billing")

BATCH = 500
Progress = Callable[[int, int], None]  # (subscriptions done, subscriptions in the run)


@dataclass
class PassResult:
    created: int = 0
    existing: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def open_run(session: Session, principal: Principal, as_of: datetime) -> tuple[BillRun, bool]:
    """The run of (seller, as_of) that has not completed — resumed — or a new one."""
    as_of = _utc(as_of)
    found = session.scalar(
        select(BillRun)
        .where(
            BillRun.seller_id == principal.account_id,
            BillRun.as_of == as_of,
            BillRun.status.in_(("queued", "running", "retrying")),
        )
        .order_by(BillRun.id.desc())
    )
    if found is not None:
        return found, False
    run = BillRun(seller_id=principal.account_id, as_of=as_of, status="queued", errors=[],
                  totals={}, invoices=0)  # fmt: skip
    session.add(run)
    session.flush()
    return run, True


def _subscription_ids(session: Session, seller: Account, as_of: datetime) -> list[int]:
    """Subscriptions sold by the seller or a reseller below it, started before as_of."""
    return list(
        session.scalars(
            select(Subscription.id)
            .join(Account, Account.id == Subscription.seller_id)
            .where(Account.path.startswith(seller.path, autoescape=True))
            .where(Subscription.start < as_of)
            .order_by(Subscription.id)
        )
    )


def execute(
    ledger: Ledger,
    store: EventStore,
    run_id: int,
    now: datetime | None = None,
    progress: Progress | None = None,
    retry_pending: bool = False,
) -> PassResult:
    """One pass of a run: every due period not yet invoiced. Safe to repeat at any time.

    With errors and `retry_pending` (the worker scheduled another pass) the run is `retrying`;
    otherwise it ends `done` (or `incomplete`, errors listed) and `bill_run.completed` is sent."""
    now = now or utcnow()
    with ledger.unit_of_work() as s:
        run = s.get(BillRun, run_id)
        if run is None:
            raise LookupError(f"bill run {run_id} not found")
        run.status = "running"
        seller = s.get(Account, run.seller_id)
        assert seller is not None
        as_of = run.as_of
        ids = _subscription_ids(s, seller, as_of)
        seller_id = seller.id
    result = PassResult()
    specs: SpecCache = {}  # meter definitions, resolved once per (seller, meter) for the pass
    for i in range(0, len(ids), BATCH):
        _batch(ledger, store, run_id, ids[i : i + BATCH], as_of, now, result, specs)
        if progress is not None:
            progress(min(i + BATCH, len(ids)), len(ids))
    # then what customers bought that no subscription invoice carries (billing.loose_purchases)
    created, errors = invoice_loose_purchases(ledger, seller_id, as_of, run_id, now)
    result.created += created
    result.errors += errors
    if progress is not None and not ids:
        progress(0, 0)
    _record(ledger, run_id, result, now, retry_pending)
    return result


def _batch(
    ledger: Ledger,
    store: EventStore,
    run_id: int,
    ids: list[int],
    as_of: datetime,
    now: datetime,
    result: PassResult,
    specs: SpecCache,
) -> None:
    with ledger.sessions() as s:
        subs = list(s.scalars(select(Subscription).where(Subscription.id.in_(ids))))
        ctxs = load_contexts(s, subs, specs)
        commitments.attach(s, ctxs)
        existing = existing_keys(s, ids)
        purchases = unbilled_purchases(s, {c.customer.id for c in ctxs})
        billed = billed_usage(s, ids)
        grace = {sid: profile_of(s, sid).grace_hours for sid in {c.seller.id for c in ctxs}}
        rater = BatchRater(s, store, ctxs)
        listening = listeners(s, {c.seller.id for c in ctxs} | {c.customer.id for c in ctxs})
    failed: set[int] = set()  # subscriptions whose later periods wait for a failed one
    group: list[Pending] = []
    for ctx in sorted(ctxs, key=lambda c: c.sub.id):
        for span in ctx.periods_due(as_of):
            if ctx.sub.id in failed:
                break
            if (ctx.sub.id, _utc(span[0])) in existing:
                result.existing += 1
                continue
            try:
                currency, charges, after = rater.rate(ctx, span, late_for(billed, ctx.sub.id, span))
                mine = purchases_for(ctx.sub, span, currency, purchases.get(ctx.customer.id, []))
            except Exception as exc:  # one customer never stops the run for the others
                _failed(result, failed, run_id, ctx, span, exc)
                break
            group.append(Pending(ctx, span, currency, charges, after, mine))
            if len(group) >= GROUP:
                _write(ledger, group, grace, run_id, now, listening, result, failed)
                group = []
    if group:
        _write(ledger, group, grace, run_id, now, listening, result, failed)


def _write(
    ledger: Ledger,
    group: list[Pending],
    grace: dict[int, int],
    run_id: int,
    now: datetime,
    listening: set[int],
    result: PassResult,
    failed: set[int],
) -> None:
    """One transaction for the group (billing.writer); counted once it has committed."""
    todo = [p for p in group if p.ctx.sub.id not in failed]
    if not todo:
        return
    try:
        with ledger.unit_of_work() as w:
            outcomes = write_group(w, todo, grace, run_id, now, listening)
    except Exception as exc:  # the transaction itself failed (its commit): nothing was written
        for p in todo:
            if p.ctx.sub.id not in failed:  # one error per subscription, at its first period
                _failed(result, failed, run_id, p.ctx, p.span, exc)
        return
    for o in outcomes:
        if o.status == "created":
            result.created += 1
        elif o.status == "existing":
            result.existing += 1
        elif o.error is not None:
            _failed(result, failed, run_id, o.pending.ctx, o.pending.span, o.error)


def _failed(
    result: PassResult,
    failed: set[int],
    run_id: int,
    ctx: SubContext,
    span: Span,
    exc: BaseException,
) -> None:
    failed.add(ctx.sub.id)
    log.error("bill run %s: subscription %s failed", run_id, ctx.sub.id, exc_info=exc)
    result.errors.append({
        "customer": ctx.customer.external_id, "subscription": ctx.sub.id,
        "period_start": span[0].isoformat(), "error": f"{type(exc).__name__}: {exc}",
    })  # fmt: skip


def totals(session: Session, run_id: int) -> tuple[int, dict[str, str]]:
    """Invoices of the run and their totals per currency (summed as Decimal: SQLite stores
    money as text, and SUM() there would go through float)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    count = 0
    for currency, total in session.execute(
        select(Invoice.currency, Invoice.total).where(Invoice.bill_run_id == run_id)
    ):
        sums[currency] += total
        count += 1
    return count, {c: format(v.quantize(quantum(c)), "f") for c, v in sorted(sums.items())}


def _record(
    ledger: Ledger, run_id: int, result: PassResult, now: datetime, retry_pending: bool
) -> None:
    with ledger.unit_of_work() as s:
        run = s.get(BillRun, run_id)
        assert run is not None
        run.invoices, run.totals = totals(s, run_id)
        run.errors = result.errors
        if result.errors and retry_pending:
            run.status = "retrying"
            return
        run.status = "incomplete" if result.errors else "done"
        run.finished_at = now
        emit(s, run.seller_id, "bill_run.completed", run_event(run))


def run_event(run: BillRun) -> dict[str, Any]:
    return {
        "id": run.id, "as_of": run.as_of.isoformat(), "status": run.status,
        "invoices": run.invoices, "totals": dict(run.totals), "errors": len(run.errors),
    }  # fmt: skip
