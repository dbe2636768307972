"""Skyline Voice's wholesale catalog and plan ladder (Basic, Pro, Enterprise).

Resellers are onboarded with a markup on these (POST /v1/resellers), so their retail prices are
derived: a Pro seat at $18.50 wholesale is $24.98 retail at 35 %. Minutes are metered in seconds
and priced per started minute of the period's total (a 60-second package).
"""

from __future__ import annotations

from typing import Any

PRODUCTS: list[dict[str, Any]] = [
    {"key": "uc-seat", "name": "Hosted UC seat", "kind": "seat", "unit": "seat"},
    {"key": "phone-number", "name": "Phone number (DID)", "kind": "add_on", "unit": "number"},
    {"key": "call-minutes-domestic", "name": "Domestic calling", "kind": "usage", "unit": "min"},
    {
        "key": "call-minutes-international",
        "name": "International calling",
        "kind": "usage",
        "unit": "min",
    },
    {"key": "toll-free-minutes", "name": "Toll-free inbound", "kind": "usage", "unit": "min"},
    {"key": "fax-page", "name": "Fax pages", "kind": "usage", "unit": "page"},
    {
        "key": "voicemail-storage-gb",
        "name": "Voicemail & recording storage",
        "kind": "usage",
        "unit": "GB-month",
    },
    {
        "key": "conference-bridge",
        "name": "Conference participant minutes",
        "kind": "usage",
        "unit": "min",
    },
    {"key": "phone-hardware", "name": "Phone hardware", "kind": "one_off", "unit": "device"},
]
FEATURES = [
    {"key": "fax", "name": "Fax to email"},
    {"key": "call-recording", "name": "Call recording"},
    {"key": "conference-bridges", "name": "Conference bridges"},
]


def _per_minute(amount: str) -> dict[str, Any]:
    return {"model": "package", "package_size": "60", "package_amount": amount, "rounding": "up"}


def _usage(product: str, meter: str, price: dict[str, Any]) -> dict[str, Any]:
    return {"product": product, "meter": meter, "price": price}


def fax_price(level: int) -> dict[str, Any]:
    """Basic pays every page; Pro and Enterprise include 100 and 500 pages a month."""
    if level == 1:
        return {"model": "per_unit", "unit_amount": "0.05"}
    free = "100" if level == 2 else "500"
    return {
        "model": "graduated",
        "tiers": [{"up_to": free, "unit_amount": "0"}, {"up_to": None, "unit_amount": "0.05"}],
    }


def plan(level: int) -> dict[str, Any]:
    name, key, seat = [
        ("Basic", "basic", "13.00"),
        ("Pro", "pro", "18.50"),
        ("Enterprise", "enterprise", "24.00"),
    ][level - 1]
    charges: list[dict[str, Any]] = [
        {"product": "uc-seat", "price": {"model": "per_unit", "unit_amount": seat}},
        _usage("call-minutes-domestic", "call-seconds-domestic", _per_minute("0.015")),
        _usage("call-minutes-international", "call-seconds-international", _per_minute("0.08")),
        _usage("toll-free-minutes", "call-seconds-toll-free", _per_minute("0.02")),
        _usage("fax-page", "fax-pages", fax_price(level)),
        _usage("voicemail-storage-gb", "storage-gb", {"model": "per_unit", "unit_amount": "0.07"}),
    ]
    entitlements: list[dict[str, Any]] = [
        {"feature": "fax", "limit": "5000", "meter": "fax-pages", "hard": False}
    ]
    if level >= 2:
        entitlements.append({"feature": "call-recording"})
    if level == 3:
        charges.append(
            _usage(
                "conference-bridge",
                "bridge-participant-minutes",
                {
                    "model": "graduated",
                    "tiers": [
                        {"up_to": "2000", "unit_amount": "0"},
                        {"up_to": None, "unit_amount": "0.01"},
                    ],
                },
            )
        )
        entitlements.append({"feature": "conference-bridges"})
    return {
        "key": key,
        "name": name,
        "ladder": "hosted-voice",
        "level": level,
        "charges": charges,
        "entitlements": entitlements,
    }


PLANS = [plan(1), plan(2), plan(3)]
NUMBER_PRICE = {"model": "per_unit", "unit_amount": "1.00"}
MARKUPS = {"metro-msp": "35", "harbor-it": "30", "pacific-tech": "40", "midtown-properties": "20"}


def wholesale_plan(
    key: str, name: str, seat_tiers: list[tuple[str | None, str]], minute: str, intl: str
) -> dict[str, Any]:
    """What a seller charges a reseller for its whole subtree: seats and minutes pooled (tiers
    apply to the reseller's total — volume discounts for bigger MSPs), fax per end customer."""
    seat = {
        "model": "graduated",
        "tiers": [{"up_to": up_to, "unit_amount": amount} for up_to, amount in seat_tiers],
    }
    return {"key": key, "name": name, "charges": [
        {"product": "uc-seat", "price": seat},
        _usage("call-minutes-domestic", "call-seconds-domestic", _per_minute(minute)),
        _usage("call-minutes-international", "call-seconds-international", _per_minute(intl)),
        _usage("toll-free-minutes", "call-seconds-toll-free", _per_minute("0.012")),
        {**_usage("fax-page", "fax-pages", {"model": "per_unit", "unit_amount": "0.03"}),
         "wholesale": "per_customer"},
        _usage("voicemail-storage-gb", "storage-gb", {"model": "per_unit",
                                                      "unit_amount": "0.05"}),
        _usage("conference-bridge", "bridge-participant-minutes",
               {"model": "per_unit", "unit_amount": "0.004"}),
    ]}  # fmt: skip


# Skyline to its MSPs; Metro to the property owner it resells through.
PROVIDER_WHOLESALE = wholesale_plan(
    "msp-wholesale", "MSP wholesale",
    [("100", "12.00"), ("500", "11.00"), (None, "10.00")], "0.011", "0.06",
)  # fmt: skip
METRO_WHOLESALE = wholesale_plan(
    "tenant-services-wholesale", "Tenant services wholesale",
    [(None, "15.00")], "0.016", "0.09",
)  # fmt: skip
