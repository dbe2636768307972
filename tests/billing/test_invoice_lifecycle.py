"""Grace period, finalization (numbers, snapshots), late usage, void, and the immutability guard."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from scenario import build, call_events, check, ok, send
from sqlalchemy import select
from test_bill_runs import bill, invoice, invoices, run_worker

from meterly.billing.guard import FinalizedInvoice
from meterly.billing.models import Invoice, InvoiceLine, SellerProfile
from meterly.webhooks.models import WebhookMessage
from support import Env


def profile(env: Env, **fields: Any) -> None:
    with env.runtime.ledger.unit_of_work() as s:
        s.merge(SellerProfile(account_id=1, **fields))


def messages(env: Env) -> list[tuple[str, Any]]:
    with env.runtime.ledger.sessions() as s:
        rows = s.scalars(select(WebhookMessage).order_by(WebhookMessage.created_at))
        return [(m.type, m.payload["data"]) for m in rows]


def late_call(env: Env, minutes: str, day: int, prefix: str) -> None:
    send(env, call_events("law-firm", [minutes], day, prefix))


def test_grace_keeps_draft_then_worker_finalizes_with_late_usage(env: Env) -> None:
    build(env)
    profile(env, number_prefix="SKY", address="1 Cloud Way, Newark NJ", tax_id="US-12-345")
    ok(env.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}), 201)
    bill(env)
    # a late CDR for November arrives on Dec 2, within the 72 h grace: the draft still counts it
    late_call(env, "50", 29, "late-in-grace")
    run_worker(env, datetime(2026, 12, 3, 23, 0, tzinfo=UTC))
    assert invoice(env, "law-firm")["status"] == "draft"
    run_worker(env, datetime(2026, 12, 4, 0, 30, tzinfo=UTC))  # grace over: the duty finalizes
    law = invoice(env, "law-firm")
    assert law["status"] == "finalized"
    calls = next(ln for ln in law["lines"] if ln["meter"] == "call-minutes")
    assert (calls["quantity"], calls["amount"]) == ("1284.5", "25.69")  # 1,234.5 + 50 minutes
    assert law["subtotal"] == "281.53"
    numbers = sorted(i["number"] for i in invoices(env))
    assert numbers == ["SKY-2026-000001", "SKY-2026-000002", "SKY-2026-000003"]  # no gaps
    assert law["issued_at"].startswith("2026-12-04T00:30")
    assert law["due_at"].startswith("2027-01-03T00:30")  # net 30
    seller = law["seller_details"]  # default display name: the account name
    assert seller["name"] == "Provider" and seller["address"].startswith("1 Cloud Way")
    assert seller["tax_id"] == "US-12-345"
    assert law["customer_details"]["name"] == "Law Firm"
    check(invoice(env, "preschool"), "preschool")  # unchanged by finalization
    kinds = [t for t, _ in messages(env)]
    assert kinds.count("invoice.drafted") == 3 and kinds.count("invoice.finalized") == 3
    assert "bill_run.completed" in kinds


def test_late_usage_after_finalization_is_an_adjustment_on_the_next_invoice(env: Env) -> None:
    build(env)
    bill(env)
    law_id = invoice(env, "law-firm")["id"]
    final = ok(env.post(f"/v1/invoices/{law_id}/finalize"), 200)
    year = datetime.now(UTC).year  # the API finalizes now
    assert final["number"] == f"SKY-{year}-000001" and final["subtotal"] == "280.53"
    # after finalization: 100 more November minutes (2.00) and, later, 25.5 more (0.51)
    late_call(env, "100", 30, "late-1")
    late_call(env, "25.5", 30, "late-2")
    assert ok(env.get(f"/v1/invoices/{law_id}"), 200) == final  # never changes
    bill(env, "2027-01-01T00:00:00Z")
    dec = [i for i in invoices(env, customer="law-firm") if i["period_start"][:7] == "2026-12"]
    lines = ok(env.get(f"/v1/invoices/{dec[0]['id']}"), 200)["lines"]
    [adj] = [ln for ln in lines if ln["kind"] == "adjustment"]
    assert adj["description"] == "Usage adjustment for Nov 2026: Call minutes"
    assert (adj["quantity"], adj["amount"]) == ("125.5", "2.51")
    assert adj["period_start"].startswith("2026-11-01") and adj["meter"] == "call-minutes"
    assert adj["meta"]["late_for"] == next(
        ln["id"] for ln in _lines(env, law_id) if ln["meter"] == "call-minutes"
    )
    # the December invoice is rebuilt at finalization: the adjustment is not billed twice
    final_dec = ok(env.post(f"/v1/invoices/{dec[0]['id']}/finalize"), 200)
    assert [ln["amount"] for ln in final_dec["lines"] if ln["kind"] == "adjustment"] == ["2.51"]
    assert final_dec["number"] == f"SKY-{year}-000002"
    # January: nothing more arrived, so no adjustment
    bill(env, "2027-02-01T00:00:00Z")
    jan = [i for i in invoices(env, customer="law-firm") if i["period_start"][:7] == "2027-01"]
    jan_lines = ok(env.get(f"/v1/invoices/{jan[0]['id']}"), 200)["lines"]
    assert [ln for ln in jan_lines if ln["kind"] == "adjustment"] == []


def _lines(env: Env, invoice_id: int) -> list[dict[str, Any]]:
    with env.runtime.ledger.sessions() as s:
        rows = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id))
        return [{"id": r.id, "meter": r.meter} for r in rows]


def test_a_finalized_invoice_never_changes(env: Env) -> None:
    build(env)
    bill(env)
    inv_id = invoice(env, "law-firm")["id"]
    ok(env.post(f"/v1/invoices/{inv_id}/finalize"), 200)
    again = env.post(f"/v1/invoices/{inv_id}/finalize")
    assert again.status_code == 409
    # direct writes through the ORM are refused too, whoever makes them
    with pytest.raises(FinalizedInvoice), env.runtime.ledger.unit_of_work() as s:
        row = s.get(Invoice, inv_id)
        assert row is not None
        row.total = Decimal("1.00")
    with pytest.raises(FinalizedInvoice), env.runtime.ledger.unit_of_work() as s:
        one = Decimal(1)
        s.add(InvoiceLine(invoice_id=inv_id, position=99, kind="fee", description="sneaky",
                          precise_amount=one, amount=one, breakdown=[], meta={}))  # fmt: skip
    with pytest.raises(FinalizedInvoice), env.runtime.ledger.unit_of_work() as s:
        line = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv_id)).first()
        assert line is not None
        line.amount = Decimal("0.01")
    with pytest.raises(FinalizedInvoice), env.runtime.ledger.unit_of_work() as s:
        row = s.get(Invoice, inv_id)
        assert row is not None
        row.status = "draft"
    assert invoice(env, "law-firm")["subtotal"] == "280.53"
    # a rerun of the bill run leaves it alone
    bill(env)
    assert invoice(env, "law-firm")["status"] == "finalized"


def test_void_finalized_unpaid_only(env: Env) -> None:
    build(env)
    ok(env.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}), 201)
    bill(env)
    inv_id = invoice(env, "law-firm")["id"]
    draft = env.post(f"/v1/invoices/{inv_id}/void")
    assert draft.status_code == 409
    ok(env.post(f"/v1/invoices/{inv_id}/finalize"), 200)
    voided = ok(env.post(f"/v1/invoices/{inv_id}/void"), 200)
    assert voided["status"] == "void" and voided["amount_due"] == "0.00"
    year = datetime.now(UTC).year
    assert voided["number"] == f"SKY-{year}-000001" and voided["voided_at"]
    assert env.post(f"/v1/invoices/{inv_id}/void").status_code == 409
    assert ("invoice.voided", voided["id"]) in [(t, d["id"]) for t, d in messages(env)]
    # the next finalized invoice takes the next number: a voided number is never reused
    other = invoice(env, "preschool")["id"]
    assert ok(env.post(f"/v1/invoices/{other}/finalize"), 200)["number"] == f"SKY-{year}-000002"


def test_commitment_minimum_and_cap(env: Env) -> None:
    build(env)
    body = {"minimum": "300.00", "cap": "20.00"}
    ok(env.client.put("/v1/plans/basic/commitment", json=body, headers=env.h()), 200)
    assert ok(env.get("/v1/plans/basic/commitment"), 200)["cap"] == "20.00"
    bill(env)
    law = invoice(env, "law-firm")
    extra = [(ln["kind"], ln["amount"]) for ln in law["lines"] if ln["kind"] in
             ("adjustment", "minimum")]  # fmt: skip
    # usage 24.69 + 2.50 = 27.19 capped at 20.00 (-7.19); charges 273.34 < 300: true-up 26.66
    assert extra == [("adjustment", "-7.19"), ("minimum", "26.66")]
    assert law["subtotal"] == "300.00"
    # the preschool was created on Basic: it keeps its commitment after the upgrade to Pro
    school = invoice(env, "preschool")
    assert school["subtotal"] == "300.00"
