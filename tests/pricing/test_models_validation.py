"""Every invalid price definition is refused, with the error's loc naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from meterly.pricing import GraduatedPrice, PercentagePrice, dump_price, parse_price

TIERS_OK = [{"up_to": "1000", "unit_amount": "0.02"}, {"up_to": None, "unit_amount": "0.01"}]
CALLS_OK = {"model": "increments", "unit_amount": "0.02", "first_increment": "60", "increment": "6"}
GROUPS_OK = [
    {"start": "0", "unit_amount": "0.20", "increment": "60"},
    {"start": "60", "unit_amount": "0.10", "increment": "6"},
]

INVALID: list[tuple[str, dict[str, Any], tuple[str | int, ...], str]] = [
    ("unknown-model", {"model": "tiered"}, ("model",), "unknown model"),
    ("missing-model", {"amount": "1"}, ("model",), "model is required"),
    (
        "unknown-currency",
        {"model": "flat", "amount": "1", "currency": "XXY"},
        ("flat", "currency"),
        "unknown currency",
    ),
    ("negative-amount", {"model": "flat", "amount": "-1"}, ("flat", "amount"), "negative"),
    ("not-a-number", {"model": "flat", "amount": "abc"}, ("flat", "amount"), "decimal"),
    (
        "negative-unit",
        {"model": "per_unit", "unit_amount": "-0.01"},
        ("per_unit", "unit_amount"),
        "negative",
    ),
    (
        "negative-minimum",
        {"model": "flat", "amount": "1", "minimum_amount": "-5"},
        ("flat", "minimum_amount"),
        "negative",
    ),
    (
        "max-below-min",
        {"model": "flat", "amount": "1", "minimum_amount": "5", "maximum_amount": "4"},
        ("flat", "maximum_amount"),
        "minimum_amount",
    ),
    (
        "unknown-interval",
        {"model": "flat", "amount": "1", "interval": "fortnight"},
        ("flat", "interval"),
        "Input should be",
    ),
    (
        "unknown-field",
        {"model": "flat", "amount": "1", "unit_price": "2"},
        ("flat", "unit_price"),
        "Extra inputs",
    ),
    (
        "unordered-tiers",
        {"model": "graduated", "tiers": [{"up_to": "1000"}, {"up_to": "500"}, {"up_to": None}]},
        ("graduated", "tiers"),
        "greater than the previous",
    ),
    (
        "overlapping-tiers",
        {"model": "volume", "tiers": [{"up_to": "1000"}, {"up_to": "1000"}, {"up_to": None}]},
        ("volume", "tiers"),
        "must not overlap",
    ),
    (
        "open-tier-not-last",
        {"model": "graduated", "tiers": [{"up_to": None}, {"up_to": "1000"}]},
        ("graduated", "tiers"),
        "only the last tier may be open",
    ),
    (
        "last-tier-not-open",
        {"model": "graduated", "tiers": [{"up_to": "1000"}, {"up_to": "2000"}]},
        ("graduated", "tiers"),
        "last tier must be open",
    ),
    ("no-tiers", {"model": "graduated", "tiers": []}, ("graduated", "tiers"), "at least one"),
    (
        "negative-tier-amount",
        {"model": "graduated", "tiers": [{"up_to": "1000", "unit_amount": "-1"}, {"up_to": None}]},
        ("graduated", "tiers", 0, "unit_amount"),
        "negative",
    ),
    (
        "zero-block-size",
        {"model": "graduated", "tiers": [{"up_to": None, "block_size": "0", "block_amount": "1"}]},
        ("graduated", "tiers", 0, "block_size"),
        "greater than zero",
    ),
    (
        "block-without-amount",
        {"model": "volume", "tiers": [{"up_to": None, "block_size": "100"}]},
        ("volume", "tiers", 0, "block_amount"),
        "together",
    ),
    (
        "blocks-and-unit-amount",
        {
            "model": "volume",
            "tiers": [
                {"up_to": None, "block_size": "100", "block_amount": "1", "unit_amount": "1"}
            ],
        },
        ("volume", "tiers", 0, "block_amount"),
        "unit_amount",
    ),
    (
        "zero-package-size",
        {"model": "package", "package_size": "0", "package_amount": "5"},
        ("package", "package_size"),
        "greater than zero",
    ),
    (
        "negative-package-amount",
        {"model": "package", "package_size": "10", "package_amount": "-5"},
        ("package", "package_amount"),
        "negative",
    ),
    (
        "rate-above-100",
        {"model": "percentage", "rate": "101"},
        ("percentage", "rate"),
        "between 0 and 100",
    ),
    (
        "rate-negative",
        {"model": "percentage", "rate": "-1"},
        ("percentage", "rate"),
        "between 0 and 100",
    ),
    (
        "band-rate-above-100",
        {"model": "graduated_percentage", "tiers": [{"up_to": None, "rate": "150"}]},
        ("graduated_percentage", "tiers", 0, "rate"),
        "between 0 and 100",
    ),
    (
        "fractional-free-transactions",
        {"model": "percentage", "rate": "1", "free_units": "1.5"},
        ("percentage", "free_units"),
        "whole number",
    ),
    (
        "max-below-min-per-transaction",
        {
            "model": "percentage",
            "rate": "1",
            "min_per_transaction": "1",
            "max_per_transaction": "0.5",
        },
        ("percentage", "max_per_transaction"),
        "min_per_transaction",
    ),
    (
        "groups-mixed-with-single-rate",
        {**CALLS_OK, "groups": GROUPS_OK},
        ("increments", "groups"),
        "cannot be combined",
    ),
    (
        "groups-not-from-zero",
        {"model": "increments", "groups": [{"start": "10", "unit_amount": "0.1"}]},
        ("increments", "groups"),
        "start at 0",
    ),
    (
        "groups-not-increasing",
        {"model": "increments", "groups": [GROUPS_OK[0], {**GROUPS_OK[1], "start": "0"}]},
        ("increments", "groups"),
        "strictly increasing",
    ),
    ("no-rate", {"model": "increments"}, ("increments", "groups"), "unit_amount"),
    (
        "zero-increment",
        {**CALLS_OK, "increment": "0"},
        ("increments", "increment"),
        "greater than zero",
    ),
    (
        "zero-group-increment",
        {"model": "increments", "groups": [{**GROUPS_OK[0], "increment": "0"}]},
        ("increments", "groups", 0, "increment"),
        "greater than zero",
    ),
    (
        "max-below-min-per-call",
        {**CALLS_OK, "min_per_call": "1", "max_per_call": "0.5"},
        ("increments", "max_per_call"),
        "min_per_call",
    ),
    (
        "bad-call-rounding",
        {**CALLS_OK, "call_rounding": {"decimals": 2, "mode": "sideways"}},
        ("increments", "call_rounding", "mode"),
        "Input should be",
    ),
    (
        "bad-rounding-mode",
        {"model": "flat", "amount": "1", "rounding_mode": "ceiling"},
        ("flat", "rounding_mode"),
        "Input should be",
    ),
]


@pytest.mark.parametrize(
    ("data", "loc", "message"), [pytest.param(*row[1:], id=row[0]) for row in INVALID]
)
def test_invalid_price_is_refused(
    data: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_price(data)
    errors = caught.value.errors()
    matching = [error for error in errors if error["loc"] == loc]
    assert matching, f"no error at {loc}: {errors}"
    assert any(message in error["msg"] for error in matching), matching


def test_valid_prices_round_trip_as_strings() -> None:
    price = parse_price({"model": "percentage", "rate": 2.9, "fixed_amount": "0.30"})
    assert isinstance(price, PercentagePrice)
    assert price.rate == Decimal("2.9")  # a float goes through repr: 2.9, not 2.8999…
    dumped = dump_price(price)
    assert dumped["rate"] == "2.9"
    assert dumped["fixed_amount"] == "0.30"
    assert parse_price(dumped) == price


def test_decimal_strings_and_ints_accepted() -> None:
    price = parse_price(
        {
            "model": "graduated",
            "tiers": [{"up_to": 1000, "unit_amount": "0.02"}, {"up_to": None, "unit_amount": 0}],
        }
    )
    assert isinstance(price, GraduatedPrice)
    assert price.tiers[0].up_to == Decimal(1000)
    assert dump_price(price)["tiers"][0]["up_to"] == "1000"


def test_json_text_accepted_and_currency_normalized() -> None:
    price = parse_price('{"model": "flat", "amount": "1", "currency": "jpy"}')
    assert price.currency == "JPY"


def test_groups_form_accepted() -> None:
    price = parse_price({"model": "increments", "groups": GROUPS_OK, "connect_fee": "0.05"})
    assert price.model == "increments"


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "BHD", "KWD", "ISK", "CLP", "TND", "ZAR"])
def test_listed_currencies_accepted(code: str) -> None:
    assert parse_price({"model": "flat", "amount": "1", "currency": code}).currency == code
