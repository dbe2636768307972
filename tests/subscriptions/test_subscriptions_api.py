"""Subscriptions through the real HTTP app: changes, proration, upcoming invoice, purchases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from uc_catalog import build_catalog, create_plans, fax_events, ok, subscribe

from support import Env

AT = {"at": "2026-11-20T00:00:00Z"}  # November 2026: a 30-day period


def setup(env: Env, customer: str = "law-firm") -> None:
    build_catalog(env)
    create_plans(env)
    env.account(customer)


def upcoming(env: Env, customer: str, **params: Any) -> dict[str, Any]:
    return ok(env.get(f"/v1/customers/{customer}/upcoming", params={**AT, **params}), 200)


def by_kind(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [line for line in body["lines"] if line["kind"] == kind]


def test_quantity_change_mid_period_in_arrears(env: Env) -> None:
    setup(env)
    sub = subscribe(env, "law-firm", "basic", start="2026-10-01T00:00:00Z", quantity="10")
    assert sub["billing_anchor"] == 1 and sub["version"] == 1
    change = {"type": "quantity", "quantity": "16", "effective_at": "2026-11-11T00:00:00Z"}
    out = ok(env.post(f"/v1/subscriptions/{sub['id']}/changes", change))
    assert out["changes"][-1]["type"] == "quantity"
    assert out["changes"][-1]["data"] == {"quantity": "16", "previous": "10"}
    fax_events(env, "law-firm", [f"2026-11-05T10:{i // 60:02d}:{i % 60:02d}Z" for i in range(150)])
    fax_events(env, "law-firm", ["2026-10-30T10:00:00Z"], prefix="oct")  # last period: not here
    body = upcoming(env, "law-firm")
    assert body["period_start"].startswith("2026-11-01") and body["period_end"].startswith(
        "2026-12-01"
    )
    seats = by_kind(body, "recurring")
    assert [(s["quantity"], s["fraction"], s["amount"]) for s in seats] == [
        ("10", "1/3", "66.67"),  # 10 of 30 days
        ("16", "2/3", "213.33"),  # 20 of 30 days
    ]
    usage = by_kind(body, "usage")[0]
    assert usage["meter"] == "fax-pages" and usage["quantity"] == "150"
    assert usage["amount"] == "2.50" and len(usage["tiers"]) == 2
    setup_fee = by_kind(body, "one_off")[0]
    assert setup_fee["product"] == "setup-fee" and setup_fee["amount"] == "50.00"
    assert body["subtotal"] == "332.50"
    assert Decimal(body["subtotal"]) == sum(Decimal(line["amount"]) for line in body["lines"])


def test_in_advance_change_credits_unused_and_bills_next_period(env: Env) -> None:
    setup(env)
    sub = subscribe(env, "law-firm", "advance", start="2026-10-01T00:00:00Z", quantity="10")
    change = {"type": "quantity", "quantity": "16", "effective_at": "2026-11-11T00:00:00Z"}
    ok(env.post(f"/v1/subscriptions/{sub['id']}/changes", change))
    body = upcoming(env, "law-firm")
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("proration_credit", "-200.00"),  # 20/30 of 10 × 30.00, paid ahead, unused
        ("proration_charge", "320.00"),  # 20/30 of 16 × 30.00
        ("advance", "480.00"),  # December, 16 × 30.00
    ]
    assert body["subtotal"] == "600.00"


def test_plan_upgrade_add_ons_and_cancel_at_period_end(env: Env) -> None:
    setup(env)
    sub = subscribe(
        env,
        "law-firm",
        "basic",
        start="2026-10-01T00:00:00Z",
        quantity="2",
        add_ons=[{"product": "call-recording", "price": {"model": "flat", "amount": "5"}}],
    )
    sid = sub["id"]
    assert sub["add_ons"][0]["key"] == "call-recording"
    up = {"type": "plan", "plan": "pro", "effective_at": "2026-11-11T00:00:00Z"}
    out = ok(env.post(f"/v1/subscriptions/{sid}/changes", up))
    assert out["plan"] == "pro" and out["changes"][-1]["data"]["direction"] == "upgrade"
    removed = {
        "type": "add_on_removed",
        "key": "call-recording",
        "effective_at": "2026-11-16T00:00:00Z",
    }
    ok(env.post(f"/v1/subscriptions/{sid}/changes", removed))
    cancel = {"type": "cancel", "at_period_end": True, "effective_at": "2026-11-18T00:00:00Z"}
    out = ok(env.post(f"/v1/subscriptions/{sid}/changes", cancel))
    assert out["end"].startswith("2026-12-01")
    body = upcoming(env, "law-firm")
    seats = [(line["description"][:12], line["amount"]) for line in by_kind(body, "recurring")]
    # Basic seats 2 × 20 for 10/30, add-on 5 for 15/30, Pro seats 2 × 30 for 20/30
    assert sorted(a for _, a in seats) == ["13.33", "2.50", "40.00"]
    assert by_kind(body, "advance") == []
    assert len(by_kind(body, "usage")) == 1  # same fax price on both plans: one usage line
    late = {"type": "quantity", "quantity": "3", "effective_at": "2026-12-05T00:00:00Z"}
    assert env.post(f"/v1/subscriptions/{sid}/changes", late).status_code == 409


def test_purchases_attach_and_bill_once(env: Env) -> None:
    setup(env)
    sub = subscribe(env, "law-firm", "pro", start="2026-10-01T00:00:00Z")
    hw = {
        "customer": "law-firm",
        "subscription": sub["id"],
        "product": "phone-hardware",
        "price": {"model": "flat", "amount": "89.99"},
        "quantity": "3",
        "description": "Desk phone",
    }
    p = ok(env.post("/v1/purchases", hw))
    assert p["amount"] == "269.97" and p["billed_invoice_id"] is None
    listed = ok(env.get("/v1/purchases", params={"customer": "law-firm", "unbilled": True}), 200)
    assert [x["id"] for x in listed["data"]] == [p["id"]]
    body = upcoming(env, "law-firm")
    assert [line["amount"] for line in by_kind(body, "one_off")] == ["269.97"]
    bad = env.post("/v1/purchases", {**hw, "price": {"model": "percentage", "rate": "3"}})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "price.model"


def test_validation_and_scope(env: Env) -> None:
    setup(env)
    env.account("msp2", kind="reseller")
    r = env.post("/v1/subscriptions", {"customer": "law-firm", "plan": "basic", "quantity": "x"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "quantity"
    r = env.post(
        "/v1/subscriptions",
        {"customer": "law-firm", "plan": "basic", "start": "2026-11-01T00:00:00"},
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "start"
    sub = subscribe(env, "law-firm", "basic", billing_anchor=31, start="2026-01-31T00:00:00Z")
    other = env.key_for("msp2")
    assert env.get(f"/v1/subscriptions/{sub['id']}", key=other).status_code == 404
    assert env.get("/v1/customers/law-firm/upcoming", key=other).status_code == 404
    # anchor 31 clamps: February's period ends on the 28th, March's on the 31st
    feb = upcoming(env, "law-firm", at="2026-02-15T00:00:00Z")
    assert feb["period_start"].startswith("2026-01-31") and feb["period_end"].startswith(
        "2026-02-28"
    )
    mar = upcoming(env, "law-firm", at="2026-03-15T00:00:00Z")
    assert mar["period_end"].startswith("2026-03-31")
    wrong = {"type": "add_on_removed", "key": "nothing"}
    assert env.post(f"/v1/subscriptions/{sub['id']}/changes", wrong).status_code == 422
    listed = ok(env.get("/v1/subscriptions", params={"customer": "law-firm"}), 200)
    assert [s["id"] for s in listed["data"]] == [sub["id"]]
