"""A provider catalog with a wholesale book holding one price of each model, and a plan."""

from __future__ import annotations

from typing import Any

from support import Env

WHOLESALE: dict[str, dict[str, Any]] = {
    "seat": {"product": "uc-seat", "model": "per_unit", "unit_amount": "20.00"},
    "did": {"product": "phone-number", "model": "flat", "amount": "1.50"},
    "fax": {
        "product": "fax-page", "meter": "fax-pages", "model": "graduated",
        "tiers": [
            {"up_to": "1000", "unit_amount": "0.021", "flat_amount": "2"},
            {"up_to": None, "unit_amount": "0.015"},
        ],
    },
    "storage": {
        "product": "storage", "meter": "fax-pages", "model": "package",
        "package_size": "10", "package_amount": "0.50", "minimum_amount": "1",
    },
    "card": {
        "product": "hardware", "meter": "fax-pages", "model": "percentage", "rate": "2.9",
        "fixed_amount": "0.30", "max_per_transaction": "10",
    },
    "calls": {
        "product": "minutes", "meter": "fax-pages", "model": "increments", "connect_fee": "0.01",
        "groups": [
            {"start": "0", "unit_amount": "0.02", "increment": "60"},
            {"start": "60", "unit_amount": "0.012", "increment": "6"},
        ],
    },
}  # fmt: skip


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def build_provider_catalog(env: Env, plan: bool = True) -> None:
    ok(
        env.post(
            "/v1/meters",
            {"key": "fax-pages", "name": "Fax", "event_type": "fax.sent", "aggregation": "count"},
        )
    )
    for key, kind in [
        ("uc-seat", "seat"), ("phone-number", "add_on"), ("fax-page", "usage"),
        ("storage", "usage"), ("hardware", "usage"), ("minutes", "usage"),
    ]:  # fmt: skip
        ok(env.post("/v1/products", {"key": key, "name": key.title(), "kind": kind}))
    ok(env.post("/v1/features", {"key": "fax", "name": "Fax"}))
    ok(env.post("/v1/price-books", {"key": "wholesale", "name": "Wholesale"}))
    for key, price in WHOLESALE.items():
        ok(env.post("/v1/prices", {**price, "key": key, "price_book": "wholesale"}))
    # a price outside the template book: must not be copied
    ok(env.post("/v1/prices", {**WHOLESALE["seat"], "key": "direct-seat"}))
    if plan:
        ok(
            env.post(
                "/v1/plans",
                {
                    "key": "basic", "name": "Basic", "ladder": "uc", "level": 1,
                    "charges": [
                        {"product": "uc-seat", "price_key": "seat"},
                        {"product": "fax-page", "price_key": "fax"},
                    ],
                    "entitlements": [{"feature": "fax"}],
                },
            )
        )  # fmt: skip


def onboard(env: Env, external_id: str, key: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"external_id": external_id, "name": fields.pop("name", external_id.upper()), **fields}
    return ok(env.post("/v1/resellers", body, key=key))
