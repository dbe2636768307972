"""Prepaid credits through the real HTTP app: application order (priority, then expiry, then
age), product-restricted grants, projection on drafts and consumption at finalization, the
movement ledger, top-ups, expiry and the credits.low alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from money_helpers import adjustments_of, finalize, hook, invoice, make_invoice, messages, ok

from meterly.jobs.worker import Worker
from support import Env

SOON = (datetime.now(UTC) + timedelta(days=30)).isoformat()
LATER = (datetime.now(UTC) + timedelta(days=300)).isoformat()


def grant(env: Env, customer: str, **body: object) -> int:
    return int(ok(env.post(f"/v1/customers/{customer}/credits", body))["id"])


def test_credits_apply_by_priority_then_expiry_then_age(env: Env) -> None:
    env.account("law-firm")
    old = grant(env, "law-firm", amount="20", reason="old")  # no expiry, oldest
    young = grant(env, "law-firm", amount="20", reason="young")
    late = grant(env, "law-firm", amount="20", reason="late", expires_at=LATER)
    soon = grant(env, "law-firm", amount="20", reason="soon", expires_at=SOON)
    first = grant(env, "law-firm", amount="15", reason="promo", priority=10)
    hw = grant(
        env, "law-firm", amount="500", reason="hardware", priority=0, products=["phone-hardware"]
    )
    inv = make_invoice(
        env,
        "law-firm",
        [
            ("fee", "uc-seat", "80.00", "4"),
            ("one_off", "phone-hardware", "30.00", "1"),
        ],
        now=datetime.now(UTC),
    )
    # 110.00 due: hardware grant first but only for the hardware (30.00), then priority 10
    # (15.00), then the priority-50 grants by expiry (soon, late) and then age (old, young)
    assert adjustments_of(env, inv) == [
        ("credit", "Prepaid credit: hardware", "-30.00"),
        ("credit", "Prepaid credit: promo", "-15.00"),
        ("credit", "Prepaid credit: soon", "-20.00"),
        ("credit", "Prepaid credit: late", "-20.00"),
        ("credit", "Prepaid credit: old", "-20.00"),
        ("credit", "Prepaid credit: young", "-5.00"),
    ]
    out = invoice(env, inv)
    assert (out["total"], out["credits_applied"], out["amount_due"]) == ("110.00", "110.00", "0.00")
    # a draft only projects: nothing consumed yet
    shown = ok(env.get("/v1/customers/law-firm/credits"), 200)
    assert shown["balances"] == {"USD": "595.00"}
    finalize(env, inv, datetime.now(UTC))
    assert invoice(env, inv)["status"] == "paid"  # credits covered it all
    shown = ok(env.get("/v1/customers/law-firm/credits"), 200)
    assert shown["balances"] == {"USD": "485.00"}
    remaining = {g["id"]: g["remaining"] for g in shown["grants"]}
    assert remaining == {
        hw: "470.00",
        first: "0.00",
        soon: "0.00",
        late: "0.00",
        old: "0.00",
        young: "15.00",
    }
    applied = [(m["grant_id"], m["amount"]) for m in shown["movements"] if m["kind"] == "applied"]
    assert applied == [
        (hw, "-30.00"),
        (first, "-15.00"),
        (soon, "-20.00"),
        (late, "-20.00"),
        (old, "-20.00"),
        (young, "-5.00"),
    ]
    assert all(m["invoice_id"] == inv for m in shown["movements"] if m["kind"] == "applied")


def test_credits_cover_taxes_but_restricted_grants_only_their_products(env: Env) -> None:
    env.account("law-firm")
    ok(env.post("/v1/tax-rates", {"key": "nj", "name": "NJ", "rate": "6.625"}))
    ok(env.post("/v1/customers/law-firm/tax", {"rates": ["nj"]}), 200)
    grant(env, "law-firm", amount="100", products=["uc-seat"], priority=1)
    grant(env, "law-firm", amount="3", reason="goodwill")
    inv = make_invoice(env, "law-firm", [("fee", "uc-seat", "40.00", "2")], now=datetime.now(UTC))
    # total 42.65 (tax 2.65): the seat grant pays the 40.00 of seats, goodwill 2.65 of tax
    assert adjustments_of(env, inv)[1:] == [
        ("credit", "Prepaid credit", "-40.00"),
        ("credit", "Prepaid credit: goodwill", "-2.65"),
    ]
    assert invoice(env, inv)["amount_due"] == "0.00"


def test_top_up_expiry_and_low_balance_alert(env: Env) -> None:
    env.account("law-firm")
    hook(env, ["credits.low"])
    gid = grant(env, "law-firm", amount="50", customer_low_threshold="25", expires_at=SOON)
    top = ok(env.post("/v1/customers/law-firm/credits", {"amount": "10", "top_up": gid}))
    assert (top["amount"], top["remaining"]) == ("60.00", "60.00")
    inv = make_invoice(env, "law-firm", [("fee", "uc-seat", "40.00", "1")], now=datetime.now(UTC))
    finalize(env, inv, datetime.now(UTC))
    lows = messages(env, "credits.low")
    assert [(m["balance"], m["threshold"]) for m in lows] == [("20.00", "25.00")]
    assert lows[0]["customer"] == "law-firm"
    second = make_invoice(
        env, "law-firm", [("fee", "uc-seat", "5.00", "1")], period=1, now=datetime.now(UTC)
    )
    finalize(env, second, datetime.now(UTC))
    assert len(messages(env, "credits.low")) == 1  # already below: no second alert
    # expiry: the worker's duty writes an `expired` movement for what is left
    Worker(env.runtime, clock=lambda: datetime.now(UTC) + timedelta(days=31)).run_until_idle()
    shown = ok(env.get("/v1/customers/law-firm/credits"), 200)
    kinds = [(m["kind"], m["amount"]) for m in shown["movements"]]
    assert kinds == [
        ("grant", "50.00"),
        ("top_up", "10.00"),
        ("applied", "-40.00"),
        ("applied", "-5.00"),
        ("expired", "-15.00"),
    ]
    assert shown["balances"] == {"USD": "0.00"}
    assert shown["grants"][0]["expired"] is True


def test_grants_are_checked_and_only_sellers_grant(env: Env) -> None:
    env.account("law-firm")
    for body in [
        {"amount": "0"},
        {"amount": "1.001"},
        {"amount": "1", "currency": "XXX"},
        {"amount": "1", "expires_at": "2020-01-01T00:00:00Z"},
    ]:
        assert env.post("/v1/customers/law-firm/credits", body).status_code == 422, body
    own = env.key_for("law-firm")
    assert env.post("/v1/customers/law-firm/credits", {"amount": "5"}, key=own).status_code == 403
    assert ok(env.get("/v1/customers/law-firm/credits", key=own), 200)["balances"] == {}
    env.account("preschool")
    assert env.get("/v1/customers/preschool/credits", key=own).status_code == 404
    assert (
        env.post("/v1/customers/law-firm/credits", {"amount": "5", "top_up": 999}).status_code
        == 404
    )
