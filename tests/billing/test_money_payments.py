"""Payments through the real HTTP app: partial payments then paid (`invoice.paid`), refusals
(422 beyond the amount due, 409 on drafts and voids), idempotency, and `invoice.overdue` once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from money_helpers import finalize, hook, invoice, make_invoice, messages, ok
from sqlalchemy import select

from meterly.billing.models import Invoice
from meterly.billing.money.payments import is_overdue
from meterly.jobs.worker import Worker
from support import Env

CHARGES = [("fee", "uc-seat", "349.86", "14")]


def pay(env: Env, inv: int, amount: str, key: str | None = None, **extra: object) -> Any:
    return env.post(f"/v1/invoices/{inv}/payments", {"amount": amount, **extra}, key=key)


def test_partial_payments_then_paid(env: Env) -> None:
    env.account("law-firm")
    hook(env, ["invoice.paid"])
    inv = make_invoice(env, "law-firm", CHARGES)
    assert pay(env, inv, "10").status_code == 409  # a draft takes no payment
    finalize(env, inv)
    first = ok(
        pay(
            env, inv, "100.00", method="check", reference="chk 1001", paid_at="2026-02-10T15:00:00Z"
        )
    )
    assert (first["invoice_status"], first["invoice_amount_due"]) == ("finalized", "249.86")
    assert pay(env, inv, "249.87").status_code == 422  # beyond the amount due
    assert pay(env, inv, "0.001").status_code == 422  # finer than a cent
    assert messages(env, "invoice.paid") == []
    last = ok(pay(env, inv, "249.86", method="ach", idempotency_key="pay-2"))
    assert (last["invoice_status"], last["invoice_amount_due"]) == ("paid", "0.00")
    again = pay(env, inv, "249.86", method="ach", idempotency_key="pay-2")
    assert again.status_code == 200 and again.json()["id"] == last["id"]  # a retry, not a second
    assert pay(env, inv, "0.01").status_code == 422
    out = invoice(env, inv)
    assert (out["status"], out["amount_paid"], out["amount_due"]) == ("paid", "349.86", "0.00")
    paid = messages(env, "invoice.paid")
    assert len(paid) == 1 and paid[0]["amount_paid"] == "349.86" and paid[0]["id"] == inv
    listed = ok(env.get(f"/v1/invoices/{inv}/payments"), 200)["data"]
    assert [(p["amount"], p["method"], p["status"], p["processor"]) for p in listed] == [
        ("100.00", "check", "succeeded", "manual"),
        ("249.86", "ach", "succeeded", "manual"),
    ]


def test_void_invoice_refuses_payments_and_scope(env: Env) -> None:
    env.account("law-firm")
    inv = make_invoice(env, "law-firm", CHARGES)
    finalize(env, inv)
    own = env.key_for("law-firm")
    assert pay(env, inv, "1", key=own).status_code == 403  # a customer cannot mark itself paid
    assert ok(env.get(f"/v1/invoices/{inv}/payments", key=own), 200)["data"] == []
    env.account("preschool")
    other = env.key_for("preschool")
    assert pay(env, inv, "1", key=other).status_code == 404
    assert env.get(f"/v1/invoices/{inv}/payments", key=other).status_code == 404
    with env.runtime.ledger.unit_of_work() as s:
        row = s.get(Invoice, inv)
        assert row is not None
        row.status = "void"
    assert pay(env, inv, "1").status_code == 409


def test_overdue_is_announced_once(env: Env) -> None:
    env.account("law-firm")
    hook(env, ["invoice.overdue"])
    inv = make_invoice(env, "law-firm", CHARGES)
    issued = datetime(2026, 2, 1, tzinfo=UTC)
    finalize(env, inv, issued)  # due 30 days later
    ok(pay(env, inv, "49.86"))
    with env.runtime.ledger.sessions() as s:
        row = s.scalar(select(Invoice).where(Invoice.id == inv))
        assert row is not None
        assert not is_overdue(row, issued + timedelta(days=29))
        assert is_overdue(row, issued + timedelta(days=30))
    Worker(env.runtime, clock=lambda: issued + timedelta(days=29)).run_until_idle()
    assert messages(env, "invoice.overdue") == []
    later = Worker(env.runtime, clock=lambda: issued + timedelta(days=31))
    later.run_until_idle()
    later.run_until_idle()
    sent = messages(env, "invoice.overdue")
    assert len(sent) == 1 and (sent[0]["id"], sent[0]["amount_due"]) == (inv, "300.00")
    # paid in full afterwards: not overdue any more, and never announced again
    ok(pay(env, inv, "300.00"))
    with env.runtime.ledger.sessions() as s:
        row = s.get(Invoice, inv)
        assert row is not None and not is_overdue(row, issued + timedelta(days=60))
