"""Discounts and coupons through the real HTTP app: percentage and fixed, once / N periods /
forever, whole invoice or products, each period counted once at finalization."""

from __future__ import annotations

from money_helpers import START, adjustments_of, finalize, invoice, make_invoice, ok

from support import Env

SEATS = [("fee", "uc-seat", "249.90", "10"), ("usage", "calls-domestic", "37.45", "749")]


def test_ten_percent_for_three_periods_applies_to_periods_one_to_three_only(env: Env) -> None:
    env.account("law-firm")
    c = ok(
        env.post(
            "/v1/coupons",
            {
                "code": "WELCOME10",
                "name": "Welcome",
                "percent_off": "10",
                "duration": "repeating",
                "duration_periods": 3,
            },
        )
    )
    assert (c["redemptions"], c["duration_periods"]) == (0, 3)
    d = ok(
        env.post("/v1/customers/law-firm/discounts", {"coupon": "WELCOME10", "starts_at": START})
    )
    assert (d["coupon"], d["periods_used"], d["active"]) == ("WELCOME10", 0, True)
    totals = []
    for period in range(4):
        inv = make_invoice(env, "law-firm", SEATS, period=period)
        finalize(env, inv)
        totals.append((adjustments_of(env, inv), invoice(env, inv)["total"]))
    # 10% × 287.35 = 28.735 -> 28.74 (half-up), once per invoice, on the whole invoice
    discounted = ([("discount", "Welcome (10% off)", "-28.74")], "258.61")
    assert totals == [discounted] * 3 + [([], "287.35")]
    d = ok(env.get("/v1/customers/law-firm/discounts"), 200)["data"][0]
    assert (d["periods_used"], d["active"]) == (3, False)


def test_draft_rebuilds_do_not_spend_periods_and_once_means_one_period(env: Env) -> None:
    env.account("law-firm")
    ok(env.post("/v1/coupons", {"code": "FIVE", "amount_off": "5", "currency": "USD"}))
    ok(env.post("/v1/customers/law-firm/discounts", {"coupon": "FIVE", "starts_at": START}))
    first = make_invoice(env, "law-firm", SEATS)
    second = make_invoice(env, "law-firm", SEATS, period=1)
    # both drafts project the discount: nothing is spent until a finalization
    assert (
        adjustments_of(env, first)
        == adjustments_of(env, second)
        == [("discount", "Coupon FIVE (amount off)", "-5.00")]
    )
    finalize(env, first)
    make_invoice(env, "law-firm", SEATS, period=2)
    finalize(env, second)  # rebuilt at finalization: the period is gone
    assert adjustments_of(env, second) == []
    assert invoice(env, first)["total"] == "282.35"


def test_fixed_discount_on_products_is_capped_and_forever_keeps_going(env: Env) -> None:
    env.account("law-firm")
    ok(
        env.post(
            "/v1/customers/law-firm/discounts",
            {
                "starts_at": START,
                "discount": {
                    "name": "Loyal caller",
                    "amount_off": "50",
                    "currency": "USD",
                    "duration": "forever",
                    "applies_to": ["calls-domestic"],
                },
            },
        )
    )
    for period in range(3):
        inv = make_invoice(env, "law-firm", SEATS, period=period)
        finalize(env, inv)
        # capped at the calls line: 37.45 (a discount never takes a line below zero)
        assert adjustments_of(env, inv) == [
            ("discount", "Loyal caller (amount off on calls-domestic)", "-37.45")
        ]
    assert invoice(env, inv)["total"] == "249.90"


def test_two_discounts_apply_in_order_and_wrong_currency_is_skipped(env: Env) -> None:
    env.account("law-firm")
    body = {"starts_at": START}
    ok(
        env.post(
            "/v1/customers/law-firm/discounts",
            {**body, "discount": {"name": "Half", "percent_off": "50", "duration": "forever"}},
        )
    )
    ok(
        env.post(
            "/v1/customers/law-firm/discounts",
            {**body, "discount": {"name": "Ten euros", "amount_off": "10", "currency": "EUR"}},
        )
    )
    ok(
        env.post(
            "/v1/customers/law-firm/discounts",
            {**body, "discount": {"name": "Third", "percent_off": "33.333", "duration": "forever"}},
        )
    )
    inv = make_invoice(env, "law-firm", [("fee", "uc-seat", "99.99", "1")])
    # 50% × 99.99 = 49.995 -> 50.00, then 33.333% × 49.99 = 16.6631… -> 16.66
    assert adjustments_of(env, inv) == [
        ("discount", "Half (50% off)", "-50.00"),
        ("discount", "Third (33.333% off)", "-16.66"),
    ]
    assert invoice(env, inv)["discount_total"] == "66.66"


def test_coupon_rules_and_scope(env: Env) -> None:
    env.account("law-firm")
    bad = [
        {"code": "X", "percent_off": "10", "amount_off": "1", "currency": "USD"},
        {"code": "X", "amount_off": "1"},
        {"code": "X", "percent_off": "10", "duration": "repeating"},
        {"code": "X", "percent_off": "110"},
    ]
    for body in bad:
        assert env.post("/v1/coupons", body).status_code == 422, body
    ok(env.post("/v1/coupons", {"code": "ONE", "percent_off": "10", "max_redemptions": 1}))
    assert env.post("/v1/coupons", {"code": "ONE", "percent_off": "5"}).status_code == 409
    ok(env.post("/v1/customers/law-firm/discounts", {"coupon": "ONE"}))
    env.account("preschool")
    assert env.post("/v1/customers/preschool/discounts", {"coupon": "ONE"}).status_code == 409
    assert env.post("/v1/customers/preschool/discounts", {"coupon": "NOPE"}).status_code == 404
    own = env.key_for("law-firm")
    assert (
        env.post("/v1/customers/law-firm/discounts", {"coupon": "ONE"}, key=own).status_code == 403
    )
    assert env.get("/v1/customers/preschool/discounts", key=own).status_code == 404
    assert len(ok(env.get("/v1/customers/law-firm/discounts", key=own), 200)["data"]) == 1
    d = ok(env.get("/v1/customers/law-firm/discounts"), 200)["data"][0]
    ended = ok(
        env.client.delete(f"/v1/customers/law-firm/discounts/{d['id']}", headers=env.h()), 200
    )
    assert ended["active"] is False
