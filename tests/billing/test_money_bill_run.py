"""End to end: November billed through the real bill run and worker (tests/billing/scenario.py)
with a coupon, taxes and surcharges, and prepaid credits; finalized, paid and credited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scenario import AS_OF, NOV, build, check, ok

from meterly.jobs.worker import Worker
from support import Env

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
FUTURE = "2027-06-30T00:00:00Z"


def money_setup(env: Env) -> None:
    ok(
        env.post(
            "/v1/tax-rates",
            {"key": "nj", "name": "NJ sales tax", "jurisdiction": "US-NJ", "rate": "6.625"},
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
                "applies_to": ["uc-seat", "call-minutes"],
            },
        )
    )
    ok(
        env.post(
            "/v1/tax-rates",
            {
                "key": "e911",
                "name": "E911",
                "kind": "surcharge_per_seat",
                "amount_per_seat": "0.75",
                "currency": "USD",
                "seat_product": "uc-seat",
            },
        )
    )
    for customer in ("law-firm", "sole-prop"):
        ok(
            env.post(
                f"/v1/customers/{customer}/tax", {"jurisdiction": "US-NJ", "rates": ["usf", "e911"]}
            ),
            200,
        )
    ok(
        env.post(
            "/v1/customers/preschool/tax",
            {
                "jurisdiction": "US-NJ",
                "exempt": True,
                "rates": ["usf", "e911"],
                "exempt_reason": "NJ ST-5 exempt org",
            },
        ),
        200,
    )
    ok(
        env.post(
            "/v1/coupons",
            {
                "code": "WELCOME10",
                "percent_off": "10",
                "duration": "repeating",
                "duration_periods": 3,
            },
        )
    )
    ok(env.post("/v1/customers/law-firm/discounts", {"coupon": "WELCOME10", "starts_at": NOV}))
    for body in [
        {
            "amount": "150.00",
            "products": ["phone-hardware"],
            "reason": "hardware allowance",
            "expires_at": FUTURE,
        },
        {"amount": "40.00", "reason": "welcome credit"},
    ]:
        ok(env.post("/v1/customers/sole-prop/credits", body))


def invoice_of(env: Env, customer: str) -> dict[str, Any]:
    [summary] = ok(env.get("/v1/invoices", params={"customer": customer}), 200)["data"]
    return ok(env.get(f"/v1/invoices/{summary['id']}"), 200)


def money_lines(inv: dict[str, Any]) -> list[tuple[str, str, str]]:
    kinds = {"discount", "tax", "surcharge", "credit"}
    return [(x["kind"], x["description"], x["amount"]) for x in inv["lines"] if x["kind"] in kinds]


def test_a_month_with_coupon_taxes_and_credits_to_the_cent(env: Env) -> None:
    build(env)
    money_setup(env)
    ok(env.post("/v1/bill-runs", {"as_of": AS_OF}), 202)
    Worker(env.runtime, clock=lambda: NOW).run_until_idle()
    law = invoice_of(env, "law-firm")
    check(law, "law-firm")  # the charge lines are the core's, unchanged
    # 10% × 280.53 = 28.053 -> 28.05, allocated 6.67 / 18.66 / 2.47 / 0.25 (largest remainder);
    # NJ 6.625% × 252.48 = 16.7268 -> 16.73; USF 34.4% × (60.00 + 168.01 + 22.22) = 86.07912
    # -> 86.08; E911: the 14 seats in service at the period's end × 0.75 = 10.50
    assert money_lines(law) == [
        ("discount", "Coupon WELCOME10 (10% off)", "-28.05"),
        ("tax", "NJ sales tax (6.625%)", "16.73"),
        ("surcharge", "Universal Service Fund (34.4%)", "86.08"),
        ("surcharge", "E911 (14 × 0.75)", "10.50"),
    ]
    assert (law["subtotal"], law["discount_total"], law["tax_total"], law["total"]) == (
        "280.53",
        "28.05",
        "113.31",
        "365.79",
    )
    school = invoice_of(env, "preschool")
    check(school, "preschool")
    # exempt from tax, not from surcharges: USF 34.4% × (50 + 75 + 2 + 3) = 44.72; E911 5 × 0.75
    assert money_lines(school) == [
        ("surcharge", "Universal Service Fund (34.4%)", "44.72"),
        ("surcharge", "E911 (5 × 0.75)", "3.75"),
    ]
    sole = invoice_of(env, "sole-prop")
    check(sole, "sole-prop")
    # NJ 6.625% × 230.18 = 15.2494 -> 15.25; USF 34.4% × 50.20 = 17.2688 -> 17.27; E911 1 seat
    # total 263.45; credits: hardware grant (expires first) pays the phones 150.00 of 179.98,
    # then the welcome credit 40.00
    assert money_lines(sole) == [
        ("tax", "NJ sales tax (6.625%)", "15.25"),
        ("surcharge", "Universal Service Fund (34.4%)", "17.27"),
        ("surcharge", "E911 (1 × 0.75)", "0.75"),
        ("credit", "Prepaid credit: hardware allowance", "-150.00"),
        ("credit", "Prepaid credit: welcome credit", "-40.00"),
    ]
    assert (sole["total"], sole["credits_applied"], sole["amount_due"]) == (
        "263.45",
        "190.00",
        "73.45",
    )
    # the drafts only project the credits; finalizing consumes them
    assert ok(env.get("/v1/customers/sole-prop/credits"), 200)["balances"] == {"USD": "190.00"}
    final = ok(env.post(f"/v1/invoices/{sole['id']}/finalize"), 200)
    assert final["amount_due"] == "73.45" and final["number"]
    assert ok(env.get("/v1/customers/sole-prop/credits"), 200)["balances"] == {"USD": "0.00"}
    paid = ok(env.post(f"/v1/invoices/{sole['id']}/payments", {"amount": "73.45"}))
    assert paid["invoice_status"] == "paid"
    # a credit note for one of the two phones (89.99 + 6.625% of it), back to the balance
    phone = next(x for x in final["lines"] if x["kind"] == "one_off")
    one = {"reason": "returned", "lines": [{"position": phone["position"], "quantity": "1"}]}
    cn = ok(env.post(f"/v1/invoices/{sole['id']}/credit-notes", one))
    assert cn["number"].endswith("-CN-2026-000001")
    assert [(x["description"], x["amount"]) for x in cn["lines"]] == [
        ("Desk phone", "89.99"),
        ("NJ sales tax (6.625%)", "5.96"),
    ]
    assert ok(env.get("/v1/customers/sole-prop/credits"), 200)["balances"] == {"USD": "95.95"}
