"""finalize_due rates its whole batch of drafts at once (billing.rating), then finalizes them
one by one. These tests hold it to what finalizing each draft on its own gives (the API path:
`prepare` of one invoice), with events that arrived during the grace period, a subscription
with three drafts in one batch, a customer with events of its own, and a draft whose rating
fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from scenario import failing_rating
from sqlalchemy import select
from test_bill_run_batching import AS_OF, CUSTOMERS, NOW, bill, customers, expected, new_run

import meterly.billing.rating as rating_mod
from meterly.accounts.models import Account
from meterly.billing.finalize import finalize_due, prepare
from meterly.billing.models import Invoice, InvoiceLine
from meterly.billing.run import execute
from support import Env

LATER = AS_OF + timedelta(days=5)  # every draft's grace period is over


def late_events(env: Env) -> None:
    """Events that arrive after the bill run, inside the grace period: the rebuild counts them."""
    events = [
        {"id": "late-c1", "type": "call", "subject": "c1", "time": "2026-11-20T12:00:00Z",
         "data": {"minutes": 100}},
        {"id": "late-c4-sep", "type": "call", "subject": "c4", "time": "2026-09-15T12:00:00Z",
         "data": {"minutes": 500}},
        {"id": "late-c4-oct", "type": "call", "subject": "c4", "time": "2026-10-15T12:00:00Z",
         "data": {"minutes": 50}},
    ]  # fmt: skip
    assert env.post("/v1/events", events).status_code == 202


def drafts(env: Env) -> list[Invoice]:
    with env.runtime.ledger.sessions() as s:
        return list(s.scalars(select(Invoice).where(Invoice.status == "draft")
                              .order_by(Invoice.finalize_after, Invoice.id)))  # fmt: skip


def one_by_one(env: Env) -> dict[int, list[tuple[str, str, Decimal]]]:
    """What each draft's lines would be if it were finalized alone, in order."""
    out: dict[int, list[tuple[str, str, Decimal]]] = {}
    with env.runtime.ledger.sessions() as s:
        for d in drafts(env):
            rated = prepare(s, env.runtime.events, [d])[d.id]
            assert not isinstance(rated, Exception)
            _, charges, after = rated
            out[d.id] = [(x.kind, x.description, x.amount) for x in [*charges, *after]]
    return out


def finalized_lines(env: Env) -> dict[int, list[tuple[str, str, Decimal]]]:
    with env.runtime.ledger.sessions() as s:
        rows = s.scalars(select(InvoiceLine).where(InvoiceLine.kind != "purchase")
                         .order_by(InvoiceLine.invoice_id, InvoiceLine.position))  # fmt: skip
        out: dict[int, list[tuple[str, str, Decimal]]] = {}
        for line in rows:
            out.setdefault(line.invoice_id, []).append((line.kind, line.description, line.amount))
        return out


def totals(env: Env) -> dict[tuple[str, str], tuple[str, Decimal]]:
    with env.runtime.ledger.sessions() as s:
        rows = s.execute(select(Invoice.customer_details, Invoice.period_start, Invoice.status,
                                Invoice.total))  # fmt: skip
        return {(c["account"], p.isoformat()[:7]): (st, t) for c, p, st, t in rows}


def test_batched_finalization_equals_finalizing_each_alone(env: Env) -> None:
    customers(env, september=4)  # c4: Sep, Oct and Nov drafts in the same batch
    assert not bill(env, new_run(env)).errors
    late_events(env)
    alone = one_by_one(env)
    assert len(alone) == CUSTOMERS + 2

    assert finalize_due(env.runtime.ledger, env.runtime.events, LATER) == CUSTOMERS + 2
    assert drafts(env) == []
    assert finalized_lines(env) == alone
    got = totals(env)
    for i in range(CUSTOMERS):
        extra = Decimal(2) if i == 1 else Decimal(0)  # c1's 100 late minutes
        assert got[(f"c{i}", "2026-11")] == ("finalized", expected(i) + extra)
    # c4's later drafts were rebuilt after its September one was final: no late-usage
    # adjustment doubles what September's rebuild already billed
    assert got[("c4", "2026-09")] == ("finalized", Decimal(40 + 10))
    assert got[("c4", "2026-10")] == ("finalized", Decimal(40 + 1))


def test_late_usage_of_a_final_period_is_billed_once_across_two_drafts(env: Env) -> None:
    """September is final; then September usage arrives late, and October and November are
    drafted by one run: both drafts carry the same late adjustment. Finalized in one batch,
    each rebuild must count what the other draft carries (or has finalized), as finalizing
    them one at a time does."""
    customers(env, september=4)
    first = new_run(env, datetime(2026, 10, 1, tzinfo=UTC))
    assert not execute(env.runtime.ledger, env.runtime.events, first, NOW).errors
    assert finalize_due(env.runtime.ledger, env.runtime.events, LATER) == 1  # c4's September
    late_events(env)
    assert not bill(env, new_run(env)).errors
    assert finalize_due(env.runtime.ledger, env.runtime.events, LATER) == CUSTOMERS + 1
    got = totals(env)
    assert got[("c4", "2026-09")] == ("finalized", Decimal(40))  # final before the late event
    # the 500 late September minutes (10.00) are billed once, on one of the two drafts
    # (November's: October's rebuild counts the adjustment November still carries)
    assert got[("c4", "2026-10")] == ("finalized", Decimal(40 + 1))
    assert got[("c4", "2026-11")] == ("finalized", expected(4) + 10)
    lines = finalized_lines(env)
    late = [x[1:] for xs in lines.values() for x in xs if x[0] == "adjustment"]
    assert late == [("Usage adjustment for Sep 2026: calls", Decimal(10))]


def test_a_draft_whose_rating_fails_stays_a_draft_and_the_others_finalize(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers(env)
    assert not bill(env, new_run(env)).errors
    failing_rating(monkeypatch, "c2")
    assert finalize_due(env.runtime.ledger, env.runtime.events, LATER) == CUSTOMERS - 1
    [left] = drafts(env)
    assert left.number is None
    with env.runtime.ledger.sessions() as s:
        assert s.get(Account, left.customer_id).external_id == "c2"  # type: ignore[union-attr]
    monkeypatch.undo()
    assert finalize_due(env.runtime.ledger, env.runtime.events, LATER) == 1  # the next tick
    assert totals(env)[("c2", "2026-11")] == ("finalized", expected(2))


def test_a_batch_that_cannot_be_rated_together_is_rated_one_by_one(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of the batch as a whole (here: the batch reader refuses more than one
    subscription) must not hold every draft back: each is rated alone, and finalized."""
    customers(env)
    assert not bill(env, new_run(env)).errors
    real = rating_mod.BatchRater.__init__

    def picky(self: Any, session: Any, store: Any, ctxs: Any) -> None:
        if len(ctxs) > 1:
            raise RuntimeError("event store timeout")
        real(self, session, store, ctxs)

    monkeypatch.setattr(rating_mod.BatchRater, "__init__", picky)
    assert finalize_due(env.runtime.ledger, env.runtime.events, LATER) == CUSTOMERS
    got = totals(env)
    assert [got[(f"c{i}", "2026-11")] for i in range(CUSTOMERS)] == [
        ("finalized", expected(i)) for i in range(CUSTOMERS)
    ]
