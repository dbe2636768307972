"""Properties of rating that must hold for any price and usage (hypothesis)."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meterly.pricing import compile_price, minor_units, rate, round_money
from meterly.pricing.currency import MINOR_UNITS
from meterly.pricing.precision import CONTEXT

D = Decimal

quantities = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False)
amounts = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False)
rates = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)
durations = st.decimals(min_value=0, max_value=100_000, places=1, allow_nan=False)


@st.composite
def tiers(draw: st.DrawFn, blocks: bool = True) -> list[dict[str, Any]]:
    bounds = sorted(draw(st.sets(st.integers(1, 10**7), min_size=0, max_size=5)))
    result: list[dict[str, Any]] = []
    for up_to in [*bounds, None]:
        tier: dict[str, Any] = {"up_to": None if up_to is None else str(up_to)}
        if blocks and draw(st.booleans()):
            tier["block_size"] = str(draw(st.integers(1, 1000)))
            tier["block_amount"] = str(draw(amounts))
        else:
            tier["unit_amount"] = str(draw(amounts))
        tier["flat_amount"] = str(draw(st.sampled_from([D(0), D(0), draw(amounts)])))
        result.append(tier)
    return result


@settings(max_examples=200)
@given(tiers(), quantities, quantities)
def test_graduated_is_non_decreasing(
    tier_list: list[dict[str, Any]], a: Decimal, b: Decimal
) -> None:
    rater = compile_price({"model": "graduated", "tiers": tier_list})
    low, high = sorted((a, b))
    assert rater.precise(low) <= rater.precise(high)


@settings(max_examples=200)
@given(tiers(blocks=False), quantities)
def test_graduated_equals_sum_of_bands(tier_list: list[dict[str, Any]], q: Decimal) -> None:
    # Independent re-computation: each band's slice × its unit amount, + every reached flat fee.
    expected = D(0)
    lower = D(0)
    for index, tier in enumerate(tier_list):
        upper = None if tier["up_to"] is None else D(tier["up_to"])
        if index > 0 and q <= lower:
            break
        top = q if upper is None else min(q, upper)
        expected += (top - lower) * D(tier["unit_amount"]) + D(tier["flat_amount"])
        if upper is None:
            break
        lower = upper
    rating = rate({"model": "graduated", "tiers": tier_list}, q)
    assert rating.precise_amount == expected
    assert sum((line.precise_amount for line in rating.lines), D(0)) == expected


@settings(max_examples=200)
@given(tiers(blocks=False), quantities)
def test_volume_is_quantity_times_reached_unit(tier_list: list[dict[str, Any]], q: Decimal) -> None:
    reached = next(t for t in tier_list if t["up_to"] is None or q <= D(t["up_to"]))
    expected = q * D(reached["unit_amount"]) + D(reached["flat_amount"])
    assert rate({"model": "volume", "tiers": tier_list}, q).precise_amount == expected


@given(
    quantities,
    st.integers(1, 1000),
    amounts,
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
    st.sampled_from(["up", "down"]),
)
def test_package_never_charges_free_units(
    q: Decimal, size: int, amount: Decimal, free: Decimal, rounding: str
) -> None:
    price = {
        "model": "package",
        "package_size": str(size),
        "package_amount": str(amount),
        "free_units": str(free),
        "rounding": rounding,
    }
    total = rate(price, min(q, free)).precise_amount
    assert total == 0
    billed = rate(price, q).precise_amount
    assert billed >= 0
    # never more packages than needed to cover the units above the allowance
    assert billed <= (max(q - free, D(0)) / size + 1) * amount


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=12, allow_nan=False),
    st.sampled_from(sorted(MINOR_UNITS)),
    st.sampled_from(["half_up", "half_even"]),
)
def test_rounding_moves_at_most_half_a_minor_unit(
    amount: Decimal, currency: str, mode: Any
) -> None:
    rounded = round_money(amount, currency, mode)
    with localcontext(CONTEXT):
        assert abs(rounded - amount) <= D(1).scaleb(-minor_units(currency)) / 2
    assert rounded.as_tuple().exponent == -minor_units(currency)


@st.composite
def increments_prices(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {
            "model": "increments",
            "unit_seconds": str(draw(st.integers(1, 3600))),
            "unit_amount": str(draw(amounts)),
            "first_increment": str(draw(st.integers(0, 120))),
            "increment": str(draw(st.integers(1, 60))),
        }
    starts = sorted(draw(st.sets(st.integers(1, 1000), max_size=3)))
    return {
        "model": "increments",
        "groups": [
            {
                "start": str(start),
                "unit_seconds": "60",
                "unit_amount": str(draw(amounts)),
                "increment": str(draw(st.integers(1, 120))),
            }
            for start in [0, *starts]
        ],
    }


@given(increments_prices(), durations)
def test_increments_never_bill_less_than_the_duration(
    price: dict[str, Any], duration: Decimal
) -> None:
    calls = compile_price(price).increments
    assert calls.billed_seconds(duration) >= duration
    if duration == 0:
        assert calls.call_cost(duration) == 0


@given(increments_prices(), st.lists(durations, max_size=20))
def test_increments_period_total_is_sum_of_call_costs(
    price: dict[str, Any], calls: list[Decimal]
) -> None:
    rater = compile_price(price)
    with localcontext(CONTEXT):
        expected = sum((rater.increments.call_cost(d) for d in calls), D(0))
    assert abs(rater.precise(transactions=calls) - expected) < D("1e-30")


@given(
    rates,
    amounts,
    st.decimals(min_value=0, max_value=5, places=2, allow_nan=False),
    st.decimals(min_value=0, max_value=50, places=2, allow_nan=False),
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
)
def test_percentage_fee_within_min_and_max(
    pct: Decimal, fixed: Decimal, low: Decimal, spread: Decimal, amount: Decimal
) -> None:
    high = low + spread
    price = {
        "model": "percentage",
        "rate": str(pct),
        "fixed_amount": str(fixed),
        "min_per_transaction": str(low),
        "max_per_transaction": str(high),
    }
    total = rate(price, transactions=[amount]).precise_amount
    assert low <= total <= high


@given(
    rates,
    st.integers(0, 5),
    st.decimals(min_value=0, max_value=500, places=2, allow_nan=False),
    st.lists(st.decimals(min_value=0, max_value=300, places=2, allow_nan=False), max_size=15),
)
def test_percentage_free_allowance_never_costs_more(
    pct: Decimal, free_units: int, free_amount: Decimal, transactions: list[Decimal]
) -> None:
    base = {"model": "percentage", "rate": str(pct), "fixed_amount": "0.30"}
    full = rate(base, transactions=transactions).precise_amount
    free = {**base, "free_units": str(free_units), "free_amount": str(free_amount)}
    assert rate(free, transactions=transactions).precise_amount <= full
