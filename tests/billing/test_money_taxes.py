"""Taxes and regulatory surcharges, to the cent, through the real HTTP app: one line per rate,
computed on the rounded (and discounted) lines and rounded once per tax line."""

from __future__ import annotations

from money_helpers import START, adjustments_of, invoice, make_invoice, ok

from support import Env

TELECOM = ["uc-seat", "calls-domestic"]


def rates(env: Env) -> None:
    ok(
        env.post(
            "/v1/tax-rates",
            {"key": "nj-sales", "name": "NJ sales tax", "jurisdiction": "US-NJ", "rate": "6.625"},
        )
    )
    ok(
        env.post(
            "/v1/tax-rates",
            {
                "key": "usf",
                "name": "Universal Service Fund",
                "kind": "surcharge_percent",
                "rate": "34.4",
                "applies_to": TELECOM,
            },
        )
    )
    ok(
        env.post(
            "/v1/tax-rates",
            {
                "key": "e911",
                "name": "E911 fee",
                "kind": "surcharge_per_seat",
                "amount_per_seat": "0.75",
                "currency": "USD",
                "seat_product": "uc-seat",
            },
        )
    )


def test_sales_tax_is_on_rounded_lines_rounded_once_per_tax_line(env: Env) -> None:
    rates(env)
    env.account("law-firm")
    t = ok(env.post("/v1/customers/law-firm/tax", {"jurisdiction": "US-NJ"}), 200)
    assert [r["key"] for r in t["applicable"]] == ["nj-sales"]
    # three lines of 1.004 precise -> 1.00 each; tax per line would be 3 × 0.07 = 0.21, tax on
    # the precise amounts 0.1995…; the rule is 6.625% × 3.00 = 0.19875 -> 0.20
    inv = make_invoice(env, "law-firm", [("one_off", "fax-page", "1.004", "1")] * 3)
    out = invoice(env, inv)
    assert adjustments_of(env, inv) == [("tax", "NJ sales tax (6.625%)", "0.20")]
    assert (out["subtotal"], out["tax_total"], out["total"], out["amount_due"]) == (
        "3.00",
        "0.20",
        "3.20",
        "3.20",
    )


def test_usf_on_telecom_products_only_and_e911_per_seat(env: Env) -> None:
    rates(env)
    env.account("law-firm")
    ok(
        env.post("/v1/customers/law-firm/tax", {"jurisdiction": "US-NJ", "rates": ["usf", "e911"]}),
        200,
    )
    inv = make_invoice(
        env,
        "law-firm",
        [
            ("fee", "uc-seat", "349.86", "14"),  # 14 seats × 24.99
            ("usage", "calls-domestic", "12.345", "1234.5"),  # -> 12.35 (half-up)
            ("one_off", "phone-hardware", "189.00", "1"),  # not telecom: no USF
            ("proration", "uc-seat", "8.06", "1"),  # restates seats: no extra E911
        ],
    )
    # NJ on everything: 6.625% × 559.27 = 37.0516… -> 37.05
    # USF on telecom: 34.4% × (349.86 + 12.35 + 8.06 = 370.27) = 127.37288 -> 127.37
    # E911: 14 seats × 0.75 = 10.50
    assert adjustments_of(env, inv) == [
        ("tax", "NJ sales tax (6.625%)", "37.05"),
        ("surcharge", "Universal Service Fund (34.4%)", "127.37"),
        ("surcharge", "E911 fee (14 × 0.75)", "10.50"),
    ]
    out = invoice(env, inv)
    assert (out["subtotal"], out["tax_total"], out["total"]) == ("559.27", "174.92", "734.19")


def test_exempt_customer_gets_no_tax_and_surcharge_exemption_is_separate(env: Env) -> None:
    rates(env)
    env.account("non-profit")
    env.account("agency")
    body = {"jurisdiction": "US-NJ", "rates": ["usf", "e911"], "exempt": True}
    assert env.post("/v1/customers/non-profit/tax", body).status_code == 422  # needs a reason
    ok(env.post("/v1/customers/non-profit/tax", {**body, "exempt_reason": "NJ ST-5 #123"}), 200)
    ok(
        env.post(
            "/v1/customers/agency/tax",
            {**body, "exempt_surcharges": True, "exempt_reason": "federal agency"},
        ),
        200,
    )
    charges = [("fee", "uc-seat", "100.00", "4")]
    exempt = make_invoice(env, "non-profit", charges)
    assert [x[0] for x in adjustments_of(env, exempt)] == ["surcharge", "surcharge"]
    assert adjustments_of(env, make_invoice(env, "agency", charges)) == []
    assert invoice(env, make_invoice(env, "agency", charges))["total"] == "100.00"
    got = ok(env.get("/v1/customers/non-profit/tax"), 200)
    assert (got["exempt"], got["exempt_reason"], got["rates"]) == (
        True,
        "NJ ST-5 #123",
        ["e911", "usf"],
    )


def test_tax_is_on_discounted_lines(env: Env) -> None:
    rates(env)
    env.account("law-firm")
    ok(env.post("/v1/customers/law-firm/tax", {"jurisdiction": "US-NJ", "rates": ["usf"]}), 200)
    ok(
        env.post(
            "/v1/coupons", {"code": "HW15", "percent_off": "15", "applies_to": ["phone-hardware"]}
        )
    )
    ok(env.post("/v1/customers/law-firm/discounts", {"coupon": "HW15", "starts_at": START}))
    inv = make_invoice(
        env,
        "law-firm",
        [
            ("fee", "uc-seat", "99.95", "5"),
            ("one_off", "phone-hardware", "189.99", "1"),
        ],
    )
    # 15% × 189.99 = 28.4985 -> 28.50; NJ 6.625% × (99.95 + 161.49) = 17.32040 -> 17.32;
    # USF 34.4% × 99.95 = 34.3828 -> 34.38 (the discount was on hardware only)
    assert adjustments_of(env, inv) == [
        ("discount", "Coupon HW15 (15% off on phone-hardware)", "-28.50"),
        ("tax", "NJ sales tax (6.625%)", "17.32"),
        ("surcharge", "Universal Service Fund (34.4%)", "34.38"),
    ]
    assert invoice(env, inv)["total"] == "313.14"  # 289.94 − 28.50 + 51.70


def test_rates_and_assignments_are_scoped_to_the_seller(env: Env) -> None:
    env.account("msp", kind="reseller")
    msp_key = env.key_for("msp")
    env.account("dentist", key=msp_key)
    ok(env.post("/v1/tax-rates", {"key": "nj", "name": "NJ", "rate": "6.625"}, key=msp_key))
    customer_key = env.key_for("dentist")
    denied = env.post(
        "/v1/customers/dentist/tax", {"exempt": True, "exempt_reason": "me"}, key=customer_key
    )
    assert denied.status_code == 403
    # the provider's own rates are not the reseller's: assigning one is not found
    ok(env.post("/v1/tax-rates", {"key": "ny", "name": "NY", "rate": "4"}))
    assert env.post("/v1/customers/dentist/tax", {"rates": ["ny"]}).status_code == 404
    ok(env.post("/v1/customers/dentist/tax", {"rates": ["nj"]}, key=msp_key), 200)
    env.account("other-msp", kind="reseller")
    other = env.key_for("other-msp")
    assert env.get("/v1/customers/dentist/tax", key=other).status_code == 404
    assert [r["key"] for r in ok(env.get("/v1/tax-rates", key=msp_key), 200)["data"]] == ["nj"]
