"""Hand-worked rating examples for every price model and form.

Each row: a price, the usage (a Decimal quantity, a list of transactions, or None), the precise
total and the total rounded once to the currency's minor unit. The arithmetic is in the comments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from meterly.pricing import RatingInputError, compile_price, minor_units, rate, round_money

D = Decimal
BIG = D(10) ** 12

GRADUATED = {
    "model": "graduated",
    "tiers": [
        {"up_to": "1000", "unit_amount": "0.02", "flat_amount": "5"},
        {"up_to": None, "unit_amount": "0.015", "flat_amount": "10"},
    ],
}
GRADUATED_3 = {
    "model": "graduated",
    "tiers": [
        {"up_to": "1000", "unit_amount": "0.02"},
        {"up_to": "10000", "unit_amount": "0.015"},
        {"up_to": None, "unit_amount": "0.01"},
    ],
}
GRADUATED_BLOCKS = {
    "model": "graduated",
    "tiers": [
        {"up_to": "1000", "block_size": "100", "block_amount": "2.95"},
        {"up_to": None, "unit_amount": "0.01"},
    ],
}
GRADUATED_BLOCKS_FLAT = {
    "model": "graduated",
    "tiers": [
        {"up_to": "1000", "block_size": "100", "block_amount": "2.95"},
        {"up_to": None, "block_size": "1000", "block_amount": "10", "flat_amount": "1"},
    ],
}
VOLUME = {
    "model": "volume",
    "tiers": [
        {"up_to": "1000", "unit_amount": "0.02"},
        {"up_to": "10000", "unit_amount": "0.015", "flat_amount": "5"},
        {"up_to": None, "unit_amount": "0.01", "flat_amount": "10"},
    ],
}
VOLUME_BLOCKS = {
    "model": "volume",
    "tiers": [
        {"up_to": "1000", "block_size": "100", "block_amount": "2.95"},
        {"up_to": None, "block_size": "100", "block_amount": "2.00", "flat_amount": "5"},
    ],
}
PACKAGE = {"model": "package", "package_size": "100", "package_amount": "5.00"}
PERCENT = {"model": "percentage", "rate": "2.9", "fixed_amount": "0.30"}
GRAD_PERCENT = {
    "model": "graduated_percentage",
    "tiers": [{"up_to": "10000", "rate": "3"}, {"up_to": None, "rate": "2"}],
}
GRAD_PERCENT_FLAT = {
    "model": "graduated_percentage",
    "tiers": [{"up_to": "10000", "rate": "3"}, {"up_to": None, "rate": "2", "flat_amount": "25"}],
}
CALLS = {
    "model": "increments",
    "unit_seconds": "60",
    "unit_amount": "0.02",
    "first_increment": "60",
    "increment": "6",
}
GROUPS = {
    "model": "increments",
    "groups": [
        {"start": "0", "unit_seconds": "60", "unit_amount": "0.20", "increment": "60"},
        {"start": "60", "unit_seconds": "60", "unit_amount": "0.10", "increment": "6"},
    ],
}
GROUPS_3 = {
    "model": "increments",
    "groups": [
        *GROUPS["groups"],
        {"start": "600", "unit_seconds": "60", "unit_amount": "0.05", "increment": "60"},
    ],
}


def p(base: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {**base, **overrides}


EXAMPLES: list[tuple[str, dict[str, Any], Any, Decimal, Decimal]] = [
    # --- flat -------------------------------------------------------------------------------
    ("flat", {"model": "flat", "amount": "49.00"}, None, D("49"), D("49.00")),
    # JPY has no minor unit: 1234.5 → 1235 half-up, 1234 half-even (4 is even).
    (
        "flat-jpy-half-up",
        {"model": "flat", "amount": "1234.5", "currency": "JPY"},
        None,
        D("1234.5"),
        D("1235"),
    ),
    (
        "flat-jpy-half-even",
        {"model": "flat", "amount": "1234.5", "currency": "JPY", "rounding_mode": "half_even"},
        None,
        D("1234.5"),
        D("1234"),
    ),
    # --- per unit ---------------------------------------------------------------------------
    ("per-unit-zero", {"model": "per_unit", "unit_amount": "0.021"}, D(0), D(0), D("0.00")),
    # 100.5 × 0.021 = 2.1105 → 2.11
    (
        "per-unit-fraction",
        {"model": "per_unit", "unit_amount": "0.021"},
        D("100.5"),
        D("2.1105"),
        D("2.11"),
    ),
    # 10^12 × 0.021 = 21 000 000 000
    (
        "per-unit-huge",
        {"model": "per_unit", "unit_amount": "0.021"},
        BIG,
        D("21000000000"),
        D("21000000000.00"),
    ),
    # (150 − 100 free) × 0.021 = 1.05; under the free units nothing
    (
        "per-unit-free",
        {"model": "per_unit", "unit_amount": "0.021", "free_units": "100"},
        D(150),
        D("1.05"),
        D("1.05"),
    ),
    (
        "per-unit-all-free",
        {"model": "per_unit", "unit_amount": "0.021", "free_units": "100"},
        D(50),
        D(0),
        D("0.00"),
    ),
    # BHD has 3 decimals: 335 × 0.0015 = 0.5025 → 0.503 half-up, 0.502 half-even
    (
        "per-unit-bhd-half-up",
        {"model": "per_unit", "unit_amount": "0.0015", "currency": "BHD"},
        D(335),
        D("0.5025"),
        D("0.503"),
    ),
    (
        "per-unit-bhd-half-even",
        {
            "model": "per_unit",
            "unit_amount": "0.0015",
            "currency": "BHD",
            "rounding_mode": "half_even",
        },
        D(335),
        D("0.5025"),
        D("0.502"),
    ),
    # --- graduated --------------------------------------------------------------------------
    # zero usage still reaches the first band: its flat fee 5
    ("graduated-zero", GRADUATED, D(0), D(5), D("5.00")),
    # on the boundary: 1000 × 0.02 + 5 = 25; band 2 not reached
    ("graduated-boundary", GRADUATED, D(1000), D(25), D("25.00")),
    # 25 + 0.5 × 0.015 + 10 (band 2's flat fee) = 35.0075 → 35.01
    ("graduated-just-over", GRADUATED, D("1000.5"), D("35.0075"), D("35.01")),
    # 100.5 × 0.02 + 5 = 7.01
    ("graduated-fraction", GRADUATED, D("100.5"), D("7.01"), D("7.01")),
    # 25 + (10^12 − 1000) × 0.015 + 10 = 25 + 14 999 999 985 + 10
    ("graduated-huge", GRADUATED, BIG, D("15000000020"), D("15000000020.00")),
    # 1000 × 0.02 + 9000 × 0.015 = 20 + 135 = 155
    ("graduated-3-boundary", GRADUATED_3, D(10000), D(155), D("155.00")),
    # 155 + 1 × 0.01
    ("graduated-3-over", GRADUATED_3, D(10001), D("155.01"), D("155.01")),
    # JPY: 100 × 10 + 3 × 7.5 = 1022.5 → 1023 half-up, 1022 half-even
    (
        "graduated-jpy-half-up",
        {
            "model": "graduated",
            "currency": "JPY",
            "tiers": [{"up_to": "100", "unit_amount": "10"}, {"up_to": None, "unit_amount": "7.5"}],
        },
        D(103),
        D("1022.5"),
        D("1023"),
    ),
    (
        "graduated-jpy-half-even",
        {
            "model": "graduated",
            "currency": "JPY",
            "rounding_mode": "half_even",
            "tiers": [{"up_to": "100", "unit_amount": "10"}, {"up_to": None, "unit_amount": "7.5"}],
        },
        D(103),
        D("1022.5"),
        D("1022"),
    ),
    # --- graduated in blocks ----------------------------------------------------------------
    ("blocks-zero", GRADUATED_BLOCKS, D(0), D(0), D("0.00")),
    # 1 unit = one started block of 100: 2.95
    ("blocks-one", GRADUATED_BLOCKS, D(1), D("2.95"), D("2.95")),
    # 250 → 3 blocks × 2.95 = 8.85
    ("blocks-partial", GRADUATED_BLOCKS, D(250), D("8.85"), D("8.85")),
    # 1000 → 10 blocks = 29.50
    ("blocks-boundary", GRADUATED_BLOCKS, D(1000), D("29.5"), D("29.50")),
    # 29.50 + 0.5 × 0.01 = 29.505 → 29.51 half-up, 29.50 half-even
    ("blocks-then-units", GRADUATED_BLOCKS, D("1000.5"), D("29.505"), D("29.51")),
    (
        "blocks-then-units-half-even",
        p(GRADUATED_BLOCKS, rounding_mode="half_even"),
        D("1000.5"),
        D("29.505"),
        D("29.50"),
    ),
    # band 2: 1500 units → 2 blocks of 1000 × 10 + flat 1; 29.50 + 20 + 1
    ("blocks-with-flat", GRADUATED_BLOCKS_FLAT, D(2500), D("50.5"), D("50.50")),
    # --- volume -----------------------------------------------------------------------------
    ("volume-zero", VOLUME, D(0), D(0), D("0.00")),
    # 1000 × 0.02 (still band 1)
    ("volume-boundary", VOLUME, D(1000), D(20), D("20.00")),
    # the whole 1000.5 at band 2: 1000.5 × 0.015 + 5 = 20.0075 → 20.01
    ("volume-just-over", VOLUME, D("1000.5"), D("20.0075"), D("20.01")),
    # 100.5 × 0.02 = 2.01
    ("volume-fraction", VOLUME, D("100.5"), D("2.01"), D("2.01")),
    # 10^12 × 0.01 + 10
    ("volume-huge", VOLUME, BIG, D("10000000010"), D("10000000010.00")),
    # 1000 → 10 blocks × 2.95; 1001 → band 2: 11 blocks × 2.00 + 5
    ("volume-blocks-boundary", VOLUME_BLOCKS, D(1000), D("29.5"), D("29.50")),
    ("volume-blocks-over", VOLUME_BLOCKS, D(1001), D(27), D("27.00")),
    # --- package ----------------------------------------------------------------------------
    ("package-zero", PACKAGE, D(0), D(0), D("0.00")),
    ("package-exact", PACKAGE, D(100), D(5), D("5.00")),
    # ceil(100.5 / 100) = 2 packages
    ("package-fraction", PACKAGE, D("100.5"), D(10), D("10.00")),
    # floor(199 / 100) = 1
    ("package-down", p(PACKAGE, rounding="down"), D(199), D(5), D("5.00")),
    # (150 − 50) / 100 = 1; (151 − 50) → 2; 30 < 50 free → 0
    ("package-free", p(PACKAGE, free_units="50"), D(150), D(5), D("5.00")),
    ("package-free-over", p(PACKAGE, free_units="50"), D(151), D(10), D("10.00")),
    ("package-free-under", p(PACKAGE, free_units="50"), D(30), D(0), D("0.00")),
    # 10^12 / 100 = 10^10 packages × 5
    ("package-huge", PACKAGE, BIG, D("50000000000"), D("50000000000.00")),
    # --- percentage -------------------------------------------------------------------------
    ("percent-none", PERCENT, [], D(0), D("0.00")),
    # 100 × 2.9 % + 0.30 = 3.20
    ("percent-one", PERCENT, [D(100)], D("3.2"), D("3.20")),
    # 10 → 0.29 + 0.30 = 0.59; 100.5 → 2.9145 + 0.30 = 3.2145; total 3.8045 → 3.80
    ("percent-fraction", PERCENT, [D(10), D("100.5")], D("3.8045"), D("3.80")),
    # first 2 transactions free; the third pays 0.59
    ("percent-free-units", p(PERCENT, free_units="2"), [D(10), D(10), D(10)], D("0.59"), D("0.59")),
    # first 100 of volume free: 60 free; next 60 pays on 20: 0.58 + 0.30; then 10 → 0.59
    (
        "percent-free-amount",
        p(PERCENT, free_amount="100"),
        [D(60), D(60), D(10)],
        D("1.47"),
        D("1.47"),
    ),
    # both allowances: 1 free transaction runs out first; 50 → 1.45 + 0.30
    (
        "percent-free-units-first",
        p(PERCENT, free_units="1", free_amount="100"),
        [D(50), D(50)],
        D("1.75"),
        D("1.75"),
    ),
    # both allowances: the 100 volume runs out first (as in percent-free-amount)
    (
        "percent-free-amount-first",
        p(PERCENT, free_units="5", free_amount="100"),
        [D(60), D(60), D(10)],
        D("1.47"),
        D("1.47"),
    ),
    # 1 → 0.329 raised to 0.50; 100 → 3.20 capped 2.00; 1000 → 29.30 capped 2.00
    (
        "percent-min-max",
        p(PERCENT, min_per_transaction="0.50", max_per_transaction="2.00"),
        [D(1), D(100), D(1000)],
        D("4.5"),
        D("4.50"),
    ),
    # JPY: 12625 × 3.6 % = 454.5 → 455 half-up, 454 half-even
    (
        "percent-jpy",
        {"model": "percentage", "rate": "3.6", "currency": "JPY"},
        [D(12625)],
        D("454.5"),
        D("455"),
    ),
    (
        "percent-jpy-half-even",
        {"model": "percentage", "rate": "3.6", "currency": "JPY", "rounding_mode": "half_even"},
        [D(12625)],
        D("454.5"),
        D("454"),
    ),
    # 10^12 × 2.9 % + 0.30
    ("percent-huge", PERCENT, [BIG], D("29000000000.30"), D("29000000000.30")),
    # --- graduated percentage ---------------------------------------------------------------
    ("grad-percent-none", GRAD_PERCENT, [], D(0), D("0.00")),
    # 10000 × 3 % (on the boundary)
    ("grad-percent-boundary", GRAD_PERCENT, [D(10000)], D(300), D("300.00")),
    # volume 11000: 300 + 1000 × 2 % = 320
    ("grad-percent-two-bands", GRAD_PERCENT, [D(6000), D(5000)], D(320), D("320.00")),
    # 300 + 0.5 × 2 % + band 2's flat 25 = 325.01
    ("grad-percent-flat", GRAD_PERCENT_FLAT, [D("10000.5")], D("325.01"), D("325.01")),
    # 300 + (10^12 − 10000) × 2 % = 300 + 19 999 999 800
    ("grad-percent-huge", GRAD_PERCENT, [BIG], D("20000000100"), D("20000000100.00")),
    # --- increments, single rate (60/6 at 0.02 per 60 s) ------------------------------------
    ("calls-zero-second", CALLS, [D(0)], D(0), D("0.00")),
    ("calls-none", CALLS, [], D(0), D("0.00")),
    # 1 s → the first increment, 60 s → 0.02
    ("calls-short", CALLS, [D(1)], D("0.02"), D("0.02")),
    ("calls-first-increment", CALLS, [D(60)], D("0.02"), D("0.02")),
    # 61 s → 60 + 6 = 66 s → 66 × 0.02 / 60 = 0.022
    ("calls-61", CALLS, [D(61)], D("0.022"), D("0.02")),
    # 60.5 s → 66 s as well
    ("calls-fraction", CALLS, [D("60.5")], D("0.022"), D("0.02")),
    # 66 + 60 + 0 + (125 → 60 + 11 × 6 = 126) = 252 s → 0.084
    ("calls-several", CALLS, [D(61), D(30), D(0), D(125)], D("0.084"), D("0.08")),
    # connect fee once per call, not for the 0-second call: 0.022 + 0.05
    ("calls-connect", p(CALLS, connect_fee="0.05"), [D(61), D(0)], D("0.072"), D("0.07")),
    # 61 s → 0.022 raised to 0.03; 6000 s → 6000 billed → 2.00 capped at 1.00
    (
        "calls-min-max",
        p(CALLS, min_per_call="0.03", max_per_call="1.00"),
        [D(61), D(6000)],
        D("1.03"),
        D("1.03"),
    ),
    # each 0.022 rounded up to 0.03 per call (0.066 unrounded)
    (
        "calls-round-up",
        p(CALLS, call_rounding={"decimals": 2, "mode": "up"}),
        [D(61), D(61), D(61)],
        D("0.09"),
        D("0.09"),
    ),
    (
        "calls-round-down",
        p(CALLS, call_rounding={"decimals": 2, "mode": "down"}),
        [D(61), D(61), D(61)],
        D("0.06"),
        D("0.06"),
    ),
    # half_up at 4 decimals: 125 s → 126 s → 0.042 (exact); 67 s → 72 s → 0.024
    (
        "calls-round-half-up",
        p(CALLS, call_rounding={"decimals": 4, "mode": "half_up"}),
        [D(125), D(67)],
        D("0.066"),
        D("0.07"),
    ),
    # 10^12 s: (10^12 − 60) mod 6 = 4, so 10^12 + 2 billed s → × 0.02 / 60 = 333333333.334
    ("calls-huge", CALLS, [BIG], D("333333333.334"), D("333333333.33")),
    # --- increments, groups (0.20 for the first minute, then 0.10/min in 6 s) ---------------
    ("groups-zero", GROUPS, [D(0)], D(0), D("0.00")),
    # 30 s → group 1 portion 30 rounded up to 60 → 0.20
    ("groups-short", GROUPS, [D(30)], D("0.2"), D("0.20")),
    # 61 s → 0.20 + 6 s × 0.10 / 60 = 0.21
    ("groups-61", GROUPS, [D(61)], D("0.21"), D("0.21")),
    # 125 s → 0.20 + 66 s × 0.10 / 60 = 0.20 + 0.11
    ("groups-125", GROUPS, [D(125)], D("0.31"), D("0.31")),
    # 661 s → 60 s × 0.20/60 + 540 s × 0.10/60 + (61 → 120 s) × 0.05/60 = 0.20 + 0.90 + 0.10
    ("groups-three", GROUPS_3, [D(661)], D("1.2"), D("1.20")),
    # --- period minimum and maximum ---------------------------------------------------------
    # 100 × 0.021 = 2.10, trued up to 10
    (
        "minimum-true-up",
        {"model": "per_unit", "unit_amount": "0.021", "minimum_amount": "10"},
        D(100),
        D(10),
        D("10.00"),
    ),
    (
        "minimum-not-needed",
        {"model": "per_unit", "unit_amount": "0.021", "minimum_amount": "10"},
        D(1000),
        D(21),
        D("21.00"),
    ),
    # 1000 × 0.021 = 21 capped at 15
    (
        "maximum-cap",
        {"model": "per_unit", "unit_amount": "0.021", "maximum_amount": "15"},
        D(1000),
        D(15),
        D("15.00"),
    ),
    # huge graduated usage capped
    ("maximum-cap-graduated", p(GRADUATED, maximum_amount="1000"), BIG, D(1000), D("1000.00")),
    # transactions: 3.20 trued up to 5
    ("minimum-percent", p(PERCENT, minimum_amount="5"), [D(100)], D(5), D("5.00")),
]


@pytest.mark.parametrize(
    ("price", "usage", "precise", "amount"),
    [pytest.param(*row[1:], id=row[0]) for row in EXAMPLES],
)
def test_example(price: dict[str, Any], usage: Any, precise: Decimal, amount: Decimal) -> None:
    if isinstance(usage, list):
        rating = rate(price, transactions=usage)
    else:
        rating = rate(price, quantity=usage)
    assert rating.precise_amount == precise
    assert rating.amount == amount
    # Rounded to the currency's minor unit exactly (0.00, not 0 or 0.000).
    assert rating.amount.as_tuple().exponent == -minor_units(rating.currency)
    # The breakdown accounts for the precise total.
    assert sum((line.precise_amount for line in rating.lines), D(0)) == rating.precise_amount
    # The fast paths agree with the breakdown.
    rater = compile_price(price)
    if isinstance(usage, list):
        assert rater.amount(transactions=usage) == amount
    elif usage is not None:
        assert rater.amounts([usage]) == [amount]


def test_graduated_lines() -> None:
    rating = rate(GRADUATED, D("1000.5"))
    assert [(line.quantity, line.unit_amount, line.precise_amount) for line in rating.lines] == [
        (D(1000), D("0.02"), D(20)),
        (D(1), D(5), D(5)),
        (D("0.5"), D("0.015"), D("0.0075")),
        (D(1), D(10), D(10)),
    ]
    assert rating.lines[2].amount == D("0.01")


def test_block_lines_count_blocks() -> None:
    line = rate(GRADUATED_BLOCKS, D(250)).lines[0]
    assert (line.quantity, line.unit_amount, line.precise_amount) == (D(3), D("2.95"), D("8.85"))


def test_minimum_and_cap_lines() -> None:
    low = rate({"model": "per_unit", "unit_amount": "1", "minimum_amount": "10"}, D(4))
    assert low.lines[-1].description == "minimum true-up"
    assert low.lines[-1].precise_amount == D(6)
    high = rate({"model": "per_unit", "unit_amount": "1", "maximum_amount": "10"}, D(14))
    assert high.lines[-1].description == "cap"
    assert high.lines[-1].precise_amount == D(-4)


def test_percentage_lines() -> None:
    price = p(PERCENT, free_units="1", min_per_transaction="0.50", max_per_transaction="2.00")
    rating = rate(price, transactions=[D(10), D(1), D(1000)])
    descriptions = [line.description for line in rating.lines]
    assert descriptions[0].startswith("free transactions")
    assert descriptions[1].startswith("transactions at 2.9% + 0.30")
    assert rating.lines[1].quantity == 2
    # 1 → 0.329 (+0.171 to the minimum); 1000 → 29.30 (−27.30 to the maximum)
    assert rating.lines[2].precise_amount == D("0.171")
    assert rating.lines[3].precise_amount == D("-27.30")
    assert rating.precise_amount == D("2.50")


def test_increment_call_costs() -> None:
    calls = compile_price(CALLS).increments
    assert calls.billed_seconds(D(61)) == 66
    assert calls.billed_seconds(D(0)) == 0
    assert calls.call_cost(D(61)) == D("0.022")
    groups = compile_price(GROUPS).increments
    assert groups.billed_seconds(D(125)) == 126


def test_precise_amount_is_not_rounded_inside() -> None:
    # 7 s at 1 per 420 s, per second: 1/60 — the precise amount keeps far more than 12 places.
    price = {
        "model": "increments",
        "unit_seconds": "420",
        "unit_amount": "1",
        "first_increment": "0",
        "increment": "1",
    }
    rating = rate(price, transactions=[D(7)])
    assert -rating.precise_amount.as_tuple().exponent > 12  # type: ignore[operator]
    assert abs(rating.precise_amount * 60 - 1) < D("1e-40")
    assert rating.amount == D("0.02")


@pytest.mark.parametrize(
    ("price", "kwargs"),
    [
        (GRADUATED, {"transactions": [D(1)]}),
        (GRADUATED, {}),
        (PERCENT, {"quantity": D(1)}),
        (CALLS, {}),
        (GRADUATED, {"quantity": D(-1)}),
        (PERCENT, {"transactions": [D(-1)]}),
        (CALLS, {"transactions": [D(-1)]}),
    ],
)
def test_wrong_usage_is_refused(price: dict[str, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(RatingInputError):
        rate(price, **kwargs)


def test_flat_needs_no_usage() -> None:
    assert rate({"model": "flat", "amount": "9.99"}).amount == D("9.99")


def test_round_money() -> None:
    assert round_money(D("0.125"), "USD") == D("0.13")
    assert round_money(D("0.125"), "USD", "half_even") == D("0.12")
    assert round_money(D("0.0005"), "KWD") == D("0.001")
    assert round_money(D("99.5"), "KRW") == D("100")
    assert minor_units("isk") == 0
