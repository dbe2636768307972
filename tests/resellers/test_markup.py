"""The markup maths: exact, money only, and a marked-up price rates to exactly factor x more."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from meterly.pricing import compile_price
from meterly.resellers.markup import factor, markup_price

D = Decimal
M = D(35)


def test_per_unit_keeps_full_precision() -> None:
    out = markup_price({"model": "per_unit", "unit_amount": "0.021", "free_units": "100"}, M)
    assert out["unit_amount"] == "0.02835" and out["free_units"] == "100"


def test_flat_package_and_minimums() -> None:
    flat = markup_price({"model": "flat", "amount": "20", "minimum_amount": "1"}, M)
    assert D(flat["amount"]) == D("27") and D(flat["minimum_amount"]) == D("1.35")
    pkg = markup_price({"model": "package", "package_size": "100", "package_amount": "3"}, M)
    assert D(pkg["package_amount"]) == D("4.05") and pkg["package_size"] == "100"


def test_graduated_tiers_amounts_not_bounds() -> None:
    out = markup_price(
        {
            "model": "graduated",
            "tiers": [
                {"up_to": "1000", "unit_amount": "0.02", "flat_amount": "5"},
                {"up_to": "5000", "block_size": "100", "block_amount": "1.10"},
                {"up_to": None, "unit_amount": "0.015"},
            ],
        },
        M,
    )
    t = out["tiers"]
    assert [x.get("up_to") for x in t] == ["1000", "5000", None]
    assert D(t[0]["unit_amount"]) == D("0.027") and D(t[0]["flat_amount"]) == D("6.75")
    assert t[1]["block_size"] == "100" and D(t[1]["block_amount"]) == D("1.485")
    assert D(t[2]["unit_amount"]) == D("0.02025")


def test_percentage_keeps_the_rate_and_marks_up_fees() -> None:
    out = markup_price(
        {
            "model": "percentage", "rate": "2.9", "fixed_amount": "0.30",
            "min_per_transaction": "0.50", "max_per_transaction": "10", "free_amount": "100",
        },
        M,
    )  # fmt: skip
    assert out["rate"] == "2.9" and out["free_amount"] == "100"
    assert D(out["fixed_amount"]) == D("0.405")
    assert D(out["min_per_transaction"]) == D("0.675") and D(out["max_per_transaction"]) == D(
        "13.5"
    )
    gp = markup_price(
        {
            "model": "graduated_percentage",
            "tiers": [{"up_to": "1000", "rate": "3", "flat_amount": "1"}, {"rate": "2"}],
        },
        M,
    )
    assert [t["rate"] for t in gp["tiers"]] == ["3", "2"]
    assert D(gp["tiers"][0]["flat_amount"]) == D("1.35")


def test_increments_groups_and_fees() -> None:
    out = markup_price(
        {
            "model": "increments", "connect_fee": "0.05", "min_per_call": "0.01",
            "max_per_call": "5", "call_rounding": {"decimals": 4},
            "groups": [
                {"start": "0", "unit_seconds": "60", "unit_amount": "0.02", "increment": "60"},
                {"start": "60", "unit_seconds": "60", "unit_amount": "0.012", "increment": "6"},
            ],
        },
        M,
    )  # fmt: skip
    g = out["groups"]
    assert D(g[0]["unit_amount"]) == D("0.027") and D(g[1]["unit_amount"]) == D("0.0162")
    assert [x["start"] for x in g] == ["0", "60"] and [x["increment"] for x in g] == ["60", "6"]
    assert D(out["connect_fee"]) == D("0.0675") and D(out["max_per_call"]) == D("6.75")
    single = markup_price(
        {"model": "increments", "unit_amount": "0.02", "first_increment": "30", "increment": "6"},
        M,
    )
    assert D(single["unit_amount"]) == D("0.027")
    assert single["first_increment"] == "30" and single["increment"] == "6"


def test_invalid_input_and_negative_markup() -> None:
    with pytest.raises(ValidationError):
        markup_price({"model": "per_unit", "unit_price": "1"}, M)
    with pytest.raises(ValueError):
        markup_price({"model": "flat", "amount": "1"}, D(-1))


amounts = st.decimals(min_value=0, max_value=10_000, places=5, allow_nan=False)
markups = st.decimals(min_value=0, max_value=500, places=3, allow_nan=False)
quantities = st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False)


@st.composite
def quantity_prices(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(["flat", "per_unit", "graduated", "volume", "package"]))
    base: dict[str, Any] = {"model": model}
    if model == "flat":
        base["amount"] = str(draw(amounts))
    elif model == "per_unit":
        base["unit_amount"] = str(draw(amounts))
    elif model == "package":
        base["package_size"] = str(draw(st.integers(1, 1000)))
        base["package_amount"] = str(draw(amounts))
    else:
        bounds = sorted(draw(st.sets(st.integers(1, 10**6), max_size=4)))
        tiers: list[dict[str, Any]] = []
        for up_to in [*bounds, None]:
            tier: dict[str, Any] = {"up_to": None if up_to is None else str(up_to)}
            if draw(st.booleans()):
                tier["block_size"] = str(draw(st.integers(1, 500)))
                tier["block_amount"] = str(draw(amounts))
            else:
                tier["unit_amount"] = str(draw(amounts))
            tier["flat_amount"] = str(draw(amounts))
            tiers.append(tier)
        base["tiers"] = tiers
    if draw(st.booleans()):
        low, high = sorted((draw(amounts), draw(amounts)))
        base["minimum_amount"], base["maximum_amount"] = str(low), str(high)
    return base


@settings(max_examples=150, deadline=None)
@given(quantity_prices(), markups, quantities)
def test_marked_up_price_rates_exactly_factor_times_more(
    price: dict[str, Any], markup: Decimal, quantity: Decimal
) -> None:
    marked = markup_price(price, markup)
    before = compile_price(price).precise(quantity)
    after = compile_price(marked).precise(quantity)
    with localcontext() as ctx:
        ctx.prec = 120
        assert after == before * factor(markup)


@settings(max_examples=100, deadline=None)
@given(quantity_prices())
def test_zero_markup_is_identity(price: dict[str, Any]) -> None:
    once = markup_price(price, D(0))
    assert {k: v for k, v in once.items()} == markup_price(once, D(0))
    assert compile_price(once).precise(D(123)) == compile_price(price).precise(D(123))
