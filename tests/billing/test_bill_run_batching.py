"""Bill runs write drafts in groups (billing.writer: one transaction per group, a savepoint per
invoice) and read the money facts once per group (billing.facts). These tests shrink the group
so a handful of customers spans several, then break one invoice, crash mid-group, replay
duplicates, and compare the batched money with `adjustments.apply`'s per-invoice reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from money_helpers import finalize, hook, make_invoice, messages
from scenario import basic_plan, ok
from sqlalchemy import delete, func, select, update

import meterly.billing.run as run_mod
import meterly.billing.writer as writer_mod
from meterly.accounts.models import Account
from meterly.billing import adjustments
from meterly.billing.draft import create_draft
from meterly.billing.finalize import finalize_due
from meterly.billing.models import BillRun, Invoice, InvoiceLine
from meterly.billing.run import PassResult, execute
from meterly.subscriptions.models import OneOffPurchase
from meterly.webhooks.models import WebhookDelivery, WebhookMessage
from support import Env

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
NOW = AS_OF + timedelta(hours=1)
CUSTOMERS = 7  # with groups of 3: 3 + 3 + 1 (the September starter has 3 periods: more)


def customers(env: Env, n: int = CUSTOMERS, september: int | None = None) -> dict[str, int]:
    """n customers c0..; customer i has i % 3 + 1 seats and 10 × (i + 1) minutes in November.
    `september`: that customer started on 1 September (three periods due)."""
    basic_plan(env, one_off=True)
    subs: dict[str, int] = {}
    events = []
    for i in range(n):
        name = f"c{i}"
        env.account(name)
        start = "2026-09-01T00:00:00Z" if i == september else "2026-11-01T00:00:00Z"
        body = {"customer": name, "plan": "basic", "start": start, "quantity": str(i % 3 + 1)}
        subs[name] = ok(env.post("/v1/subscriptions", body))["id"]
        minutes = {"minutes": 10 * (i + 1)}
        events.append({"id": f"e{i}", "type": "call", "subject": name,
                       "time": "2026-11-15T12:00:00Z", "data": minutes})  # fmt: skip
    assert env.post("/v1/events", events).status_code == 202
    return subs


def new_run(env: Env, as_of: datetime = AS_OF) -> int:
    with env.runtime.ledger.unit_of_work() as s:
        seller = s.scalar(select(Account).where(Account.external_id == "skyline"))
        assert seller is not None
        run = BillRun(seller_id=seller.id, as_of=as_of, status="queued", errors=[], totals={},
                      invoices=0)  # fmt: skip
        s.add(run)
        s.flush()
        return run.id


def bill(env: Env, run_id: int) -> PassResult:
    return execute(env.runtime.ledger, env.runtime.events, run_id, NOW)


def stored(env: Env) -> dict[tuple[int, datetime], Decimal]:
    """(subscription, period start) -> total of every invoice in the ledger."""
    with env.runtime.ledger.sessions() as s:
        rows = s.execute(select(Invoice.subscription_id, Invoice.period_start, Invoice.total))
        out: dict[tuple[int, datetime], Decimal] = {}
        for sid, start, total in rows:
            assert sid is not None and (sid, start) not in out
            out[(sid, start)] = total
        return out


def line_count(env: Env) -> int:
    with env.runtime.ledger.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(InvoiceLine)) or 0)


def expected(i: int) -> Decimal:
    return Decimal(20 * (i % 3 + 1)) + Decimal(10 * (i + 1)) * Decimal("0.02")


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_mod, "GROUP", 3)


class Boom(RuntimeError):
    pass


def failing_for(monkeypatch: pytest.MonkeyPatch, customer: str, exc: BaseException) -> list[str]:
    """Drafting `customer`'s invoice raises `exc` at its last step (the webhook message), once
    the invoice, its lines, purchase claims and message are written: the savepoint must take
    all of it back. Needs a webhook endpoint (hook). Returns the period starts attempted."""
    real = writer_mod.notify
    attempts: list[str] = []

    def patched(session: Any, type_: str, invoice: Invoice, seller: Any, who: Any,
                *a: Any) -> None:  # fmt: skip
        real(session, type_, invoice, seller, who, *a)
        if who.external_id == customer:
            attempts.append(invoice.period_start.isoformat()[:10])
            raise exc

    monkeypatch.setattr(writer_mod, "notify", patched)
    return attempts


@pytest.mark.usefixtures("small_groups")
def test_a_failing_invoice_rolls_back_alone_and_numbers_stay_gapless(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    subs = customers(env, september=4)  # c4: Sep, Oct, Nov due; the first of them fails
    hook(env, ["invoice.drafted"])
    ok(env.post("/v1/purchases", {"customer": "c4", "product": "hardware", "quantity": "1",
                                  "price": {"model": "flat", "amount": "50"},
                                  "purchased_at": "2026-09-05T00:00:00Z"}))  # fmt: skip
    attempts = failing_for(monkeypatch, "c4", Boom("disk on fire"))
    run_id = new_run(env)
    first = bill(env, run_id)
    assert set(attempts) == {"2026-09-01"}  # its later periods waited: not attempted
    assert len(attempts) == 2  # with its group, then alone
    assert (first.created, first.existing) == (CUSTOMERS - 1, 0)
    assert [(e["customer"], e["period_start"][:10]) for e in first.errors] == [("c4", "2026-09-01")]
    assert "Boom: disk on fire" in first.errors[0]["error"]
    # the others of its group (c3, c5) and of the other groups are written, c4 left no trace
    totals = stored(env)
    assert {sid for sid, _ in totals} == set(subs.values()) - {subs["c4"]}
    assert line_count(env) == 2 * (CUSTOMERS - 1)  # seat + calls each; no orphan lines
    assert len(messages(env, "invoice.drafted")) == CUSTOMERS - 1
    assert "c4" not in {m["customer"] for m in messages(env, "invoice.drafted")}
    with env.runtime.ledger.sessions() as s:
        assert s.scalar(select(OneOffPurchase.billed_invoice_id)) is None  # claim rolled back

    monkeypatch.undo()
    again = bill(env, run_id)  # the retry pass
    assert (again.created, again.existing, again.errors) == (3, CUSTOMERS - 1, [])
    totals = stored(env)
    assert len(totals) == CUSTOMERS + 2
    sep, oct_ = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    assert (totals[(subs["c4"], sep)], totals[(subs["c4"], oct_)]) == (Decimal(90), Decimal(40))
    for i in range(CUSTOMERS):
        nov = (subs[f"c{i}"], datetime(2026, 11, 1, tzinfo=UTC))
        assert totals[nov] == expected(i)
    assert len(messages(env, "invoice.drafted")) == CUSTOMERS + 2
    with env.runtime.ledger.sessions() as s:
        billed = s.scalar(select(OneOffPurchase.billed_invoice_id))
        sep = s.scalar(select(Invoice.id).where(Invoice.subscription_id == subs["c4"])
                       .order_by(Invoice.period_start))  # fmt: skip
        assert billed is not None and billed == sep

    # drafts carry no number; finalizing them all numbers them 1..n without a gap
    done = finalize_due(env.runtime.ledger, env.runtime.events, AS_OF + timedelta(days=5))
    assert done == CUSTOMERS + 2
    with env.runtime.ledger.sessions() as s:
        numbers = sorted(n for n in s.scalars(select(Invoice.number)) if n is not None)
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, CUSTOMERS + 3))


@pytest.mark.usefixtures("small_groups")
def test_crash_mid_group_then_rerun_writes_each_invoice_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    subs = customers(env)
    hook(env, ["invoice.drafted"])
    failing_for(monkeypatch, "c4", KeyboardInterrupt())  # not a customer's error: a crash
    run_id = new_run(env)
    with pytest.raises(KeyboardInterrupt):
        bill(env, run_id)
    # the first group (c0-c2) committed; the second (c3-c5) was rolled back whole, c3 included
    assert {sid for sid, _ in stored(env)} == {subs["c0"], subs["c1"], subs["c2"]}
    assert line_count(env) == 6

    monkeypatch.undo()
    again = bill(env, run_id)
    assert (again.created, again.existing, again.errors) == (CUSTOMERS - 3, 3, [])
    nov = datetime(2026, 11, 1, tzinfo=UTC)
    assert stored(env) == {(subs[f"c{i}"], nov): expected(i) for i in range(CUSTOMERS)}
    assert line_count(env) == 2 * CUSTOMERS


@pytest.mark.usefixtures("small_groups")
def test_duplicates_inside_a_group_roll_back_alone(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent run's twin: invoices already there that the run did not see beforehand
    fail on the unique constraint in their savepoint, and the missing ones of the same group
    are still written."""
    customers(env)
    hook(env, ["invoice.drafted"])
    failing_for(monkeypatch, "c4", Boom("later"))
    bill(env, new_run(env))
    monkeypatch.undo()
    monkeypatch.setattr(run_mod, "existing_keys", lambda *_: set())  # as if read too early
    again = bill(env, new_run(env))
    assert (again.created, again.existing, again.errors) == (1, CUSTOMERS - 1, [])
    assert len(stored(env)) == CUSTOMERS and line_count(env) == 2 * CUSTOMERS


def money_setup(env: Env) -> None:
    """Every kind of fact the money step reads, spread over the customers c0..c6."""
    for body in [
        {"key": "nj", "name": "NJ sales tax", "jurisdiction": "US-NJ", "rate": "6.625"},
        {"key": "ny", "name": "NY sales tax", "jurisdiction": "US-NY", "rate": "8.875"},
        {"key": "usf", "name": "USF", "kind": "surcharge_percent", "rate": "34.4",
         "applies_to": ["uc-seat", "calls"]},
        {"key": "e911", "name": "E911", "kind": "surcharge_per_seat", "amount_per_seat": "0.75",
         "currency": "USD", "seat_product": "uc-seat"},
        {"key": "e911-eur", "name": "E911 EUR", "kind": "surcharge_per_seat",
         "amount_per_seat": "0.70", "currency": "EUR", "seat_product": "uc-seat"},
    ]:  # fmt: skip
        ok(env.post("/v1/tax-rates", body))
    taxes = {
        "c0": {"jurisdiction": "US-NJ", "rates": ["usf", "e911", "e911-eur"]},
        "c1": {"jurisdiction": "US-NY", "rates": ["usf"], "exempt": True, "exempt_reason": "x"},
        "c2": {"rates": ["e911"], "exempt_surcharges": True, "exempt_reason": "y"},
        "c3": {"jurisdiction": "US-NJ"},
        "c5": {"rates": ["usf", "e911"]},
    }
    for customer, body in taxes.items():
        ok(env.post(f"/v1/customers/{customer}/tax", body), 200)
    ok(env.post("/v1/coupons", {"code": "TEN", "percent_off": "10", "duration": "repeating",
                                "duration_periods": 3}))  # fmt: skip
    start = "2026-09-01T00:00:00Z"
    discounts: list[tuple[str, dict[str, Any]]] = [
        ("c0", {"coupon": "TEN", "starts_at": start}),
        ("c0", {"discount": {"name": "Calls", "percent_off": "50", "duration": "forever",
                             "applies_to": ["calls"]}, "starts_at": start}),
        ("c1", {"discount": {"name": "Fixed", "amount_off": "5", "currency": "USD",
                             "duration": "forever"}, "starts_at": start}),
        ("c1", {"discount": {"name": "Euros", "amount_off": "5", "currency": "EUR",
                             "duration": "forever"}, "starts_at": start}),
        ("c2", {"discount": {"name": "Once", "percent_off": "20", "duration": "once"},
                "starts_at": start}),
        ("c3", {"discount": {"name": "Later", "percent_off": "20", "duration": "forever"},
                "starts_at": "2026-12-15T00:00:00Z"}),
        ("c4", {"discount": {"name": "Twice", "percent_off": "15", "duration": "repeating",
                             "duration_periods": 2}, "starts_at": start}),
    ]  # fmt: skip
    for customer, body in discounts:
        ok(env.post(f"/v1/customers/{customer}/discounts", body))
    # c2's once-discount and one of c4's two periods are spent on September's invoices
    for customer in ("c2", "c4"):
        finalize(env, make_invoice(env, customer, [("fee", "uc-seat", "40", "2")], period=8))
    grants: list[tuple[str, dict[str, Any]]] = [
        ("c0", {"amount": "10.00", "reason": "welcome"}),
        ("c3", {"amount": "15.00", "products": ["calls"], "priority": 10, "reason": "calls"}),
        ("c3", {"amount": "500.00", "expires_at": "2027-06-30T00:00:00Z"}),
        ("c5", {"amount": "3.00", "currency": "EUR"}),
        ("c6", {"amount": "1.50", "reason": "small"}),
    ]
    for customer, body in grants:
        ok(env.post(f"/v1/customers/{customer}/credits", body))


def lines_of(env: Env) -> dict[tuple[int, datetime], tuple[Any, ...]]:
    """Every bill-run invoice's totals and lines (all columns but ids and times; the line ids
    in money lines' meta told as positions), keyed by (subscription, period start)."""
    out: dict[tuple[int, datetime], tuple[Any, ...]] = {}
    with env.runtime.ledger.sessions() as s:
        for inv in s.scalars(select(Invoice).where(Invoice.bill_run_id.is_not(None))):
            assert inv.subscription_id is not None
            lines = list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                   .order_by(InvoiceLine.position)))  # fmt: skip
            at = {x.id: x.position for x in lines}
            out[(inv.subscription_id, inv.period_start)] = (
                inv.status, inv.currency, inv.period_end, inv.finalize_after, inv.subtotal,
                inv.discount_total, inv.tax_total, inv.total, inv.credits_applied,
                inv.amount_due,
                [(x.position, x.kind, x.description, x.product, x.meter, x.period_start,
                  x.period_end, x.quantity, x.unit_amount, x.breakdown, x.precise_amount,
                  x.amount, positions(x.meta, at)) for x in lines],
            )  # fmt: skip
    return out


def positions(meta: dict[str, Any], at: dict[int, int]) -> dict[str, Any]:
    out = dict(meta)
    if "allocation" in out:
        out["allocation"] = {at[int(k)]: v for k, v in out["allocation"].items()}
    if "lines" in out:
        out["lines"] = [at[i] for i in out["lines"]]
    return out


@pytest.mark.usefixtures("small_groups")
def test_batched_money_equals_per_invoice_apply(env: Env) -> None:
    customers(env, september=4)
    money_setup(env)
    result = bill(env, new_run(env))
    assert (result.created, result.errors) == (CUSTOMERS + 2, [])
    batched = lines_of(env)
    kinds = {line[1] for inv in batched.values() for line in inv[-1]}
    assert {"discount", "tax", "surcharge", "credit"} <= kinds  # the table covers them all
    # the reference: adjustments.apply re-reads every fact invoice by invoice and rewrites
    # the money lines; nothing may differ, meta strings (line ids, bases) included
    with env.runtime.ledger.unit_of_work() as s:
        for inv in s.scalars(select(Invoice).where(Invoice.bill_run_id.is_not(None))):
            adjustments.apply(s, inv, NOW, final=False)
    assert lines_of(env) == batched


@pytest.mark.usefixtures("small_groups")
def test_grouped_drafts_equal_create_draft(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The group writer and `create_draft` (the ORM, one draft at a time) write the same."""
    customers(env, september=4)
    money_setup(env)
    hook(env, ["invoice.drafted"])
    ok(env.post("/v1/purchases", {"customer": "c0", "product": "hardware", "quantity": "2",
                                  "price": {"model": "flat", "amount": "19.99"},
                                  "purchased_at": "2026-11-05T00:00:00Z"}))  # fmt: skip
    bill(env, new_run(env))
    grouped = lines_of(env)
    sent = [{k: v for k, v in m.items() if k != "id"} for m in messages(env, "invoice.drafted")]
    with env.runtime.ledger.unit_of_work() as s:  # back to before the run
        ours = select(Invoice.id).where(Invoice.bill_run_id.is_not(None))
        s.execute(delete(WebhookDelivery))
        s.execute(delete(WebhookMessage))
        s.execute(update(OneOffPurchase).values(billed_invoice_id=None))
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(ours)))
        s.execute(delete(Invoice).where(Invoice.id.in_(ours)))

    def one_by_one(session: Any, drafts: Any, facts: Any, grace: Any, run_id: int, now: datetime,
                   listening: Any = None) -> None:  # fmt: skip
        for p in drafts:
            create_draft(session, p.ctx, p.span, p.currency, p.charges, p.after, p.purchases,
                         grace[p.ctx.seller.id], run_id, now, listening)  # fmt: skip

    monkeypatch.setattr(writer_mod, "write_drafts", one_by_one)
    again = bill(env, new_run(env))
    assert (again.created, again.errors) == (CUSTOMERS + 2, [])
    assert lines_of(env) == grouped
    assert [
        {k: v for k, v in m.items() if k != "id"} for m in messages(env, "invoice.drafted")
    ] == sent
