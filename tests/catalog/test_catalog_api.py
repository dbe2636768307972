"""Catalog through the real HTTP app: products, features, price books, prices, preview, scope."""

from __future__ import annotations

from typing import Any

import pytest

from support import Env

EVERY_MODEL: list[dict[str, Any]] = [
    {"model": "flat", "amount": "49.00"},
    {"model": "per_unit", "unit_amount": "0.021", "free_units": "0"},
    {
        "model": "graduated",
        "tiers": [
            {"up_to": "1000", "unit_amount": "0.02", "flat_amount": "0"},
            {"up_to": None, "unit_amount": "0.015", "flat_amount": "0"},
        ],
    },
    {
        "model": "volume",
        "tiers": [
            {"up_to": "1000", "block_size": "100", "block_amount": "2.95"},
            {"up_to": None, "unit_amount": "0.01"},
        ],
    },
    {"model": "package", "package_size": "100", "package_amount": "5.00", "rounding": "up"},
    {"model": "percentage", "rate": "2.9", "fixed_amount": "0.30", "free_amount": "100"},
    {
        "model": "graduated_percentage",
        "tiers": [{"up_to": "10000", "rate": "3"}, {"up_to": None, "rate": "2"}],
    },
    {
        "model": "increments",
        "unit_seconds": "60",
        "unit_amount": "0.02",
        "first_increment": "60",
        "increment": "6",
        "connect_fee": "0",
    },
    {
        "model": "increments",
        "groups": [
            {"start": "0", "unit_seconds": "60", "unit_amount": "0.20", "increment": "60"},
            {"start": "60", "unit_seconds": "60", "unit_amount": "0.10", "increment": "6"},
        ],
        "call_rounding": {"decimals": 4, "mode": "up"},
    },
]


def product(env: Env, key: str, kind: str = "usage", key_: str | None = None) -> dict[str, Any]:
    r = env.post("/v1/products", {"key": key, "name": key.title(), "kind": kind}, key=key_)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_products_features_and_books(env: Env) -> None:
    out = product(env, "uc-seat", "seat")
    assert out["seller"] == "skyline" and out["kind"] == "seat"
    dup = env.post("/v1/products", {"key": "uc-seat", "name": "x", "kind": "seat"})
    assert dup.status_code == 409 and dup.json()["details"][0]["field"] == "key"
    bad = env.post("/v1/products", {"key": "Bad Key", "name": "x", "kind": "seat"})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "key"
    r = env.patch("/v1/products/uc-seat", {"unit": "seat"})
    assert r.status_code == 200 and r.json()["unit"] == "seat"
    assert env.post("/v1/features", {"key": "call-recording", "name": "Rec"}).status_code == 201
    assert [f["key"] for f in env.get("/v1/features").json()["data"]] == ["call-recording"]
    assert env.post("/v1/price-books", {"key": "retail", "name": "Retail"}).status_code == 201
    assert env.get("/v1/products/nope").status_code == 404


@pytest.mark.parametrize("definition", EVERY_MODEL, ids=lambda d: str(d["model"]))
def test_every_model_is_stored_as_validated_json(env: Env, definition: dict[str, Any]) -> None:
    product(env, "thing")
    r = env.post("/v1/prices", {"product": "thing", "key": "p1", **definition})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["model"] == definition["model"] and body["currency"] == "USD"
    assert body["interval"] == "month" and body["timing"] == "in_arrears"
    assert body["price_book"] == "default" and body["price"]["product"] == "thing"
    assert env.get("/v1/prices/p1").json()["price"] == body["price"]
    listed = env.get("/v1/prices", params={"product": "thing", "currency": "usd"}).json()["data"]
    assert [p["key"] for p in listed] == ["p1"]


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (
            {
                "model": "graduated",
                "tiers": [
                    {"up_to": "1000", "unit_amount": "1"},
                    {"up_to": "500", "unit_amount": "1"},
                    {"up_to": None, "unit_amount": "1"},
                ],
            },
            "tiers.1.up_to",
        ),
        (
            {"model": "volume", "tiers": [{"up_to": None, "unit_amount": "1"}, {"up_to": "5"}]},
            "tiers.0.up_to",
        ),
        ({"model": "percentage", "rate": "101"}, "rate"),
        ({"model": "flat", "amount": "-1"}, "amount"),
        ({"model": "flat", "amount": "1", "currency": "XYZ"}, "currency"),
        ({"model": "nope"}, "model"),
        (
            {
                "model": "increments",
                "unit_amount": "1",
                "groups": [{"start": "0", "unit_amount": "1"}],
            },
            "groups",
        ),
        ({"model": "per_unit", "unit_price": "1"}, "unit_price"),
    ],
)
def test_invalid_definitions_name_the_field(
    env: Env, definition: dict[str, Any], field: str
) -> None:
    product(env, "thing")
    r = env.post("/v1/prices", {"product": "thing", **definition})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_input"
    assert field in [d["field"] for d in body["details"]], body
    preview = env.post("/v1/prices/preview", {"price": definition, "quantity": "1"})
    assert preview.status_code == 422
    assert f"price.{field}" in [d["field"] for d in preview.json()["details"]]


def test_price_needs_known_product_and_meter(env: Env) -> None:
    r = env.post("/v1/prices", {"product": "ghost", "model": "flat", "amount": "1"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "product"
    product(env, "thing")
    r = env.post(
        "/v1/prices", {"product": "thing", "meter": "nope", "model": "flat", "amount": "1"}
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "meter"


def test_archive_a_price(env: Env) -> None:
    product(env, "thing")
    env.post("/v1/prices", {"product": "thing", "key": "old", "model": "flat", "amount": "1"})
    assert env.patch("/v1/prices/old", {"active": False}).json()["active"] is False
    assert env.get("/v1/prices").json()["data"] == []
    assert len(env.get("/v1/prices", params={"active": "false"}).json()["data"]) == 1


def test_preview_quantity_transactions_and_currencies(env: Env) -> None:
    graduated = EVERY_MODEL[2]
    r = env.post("/v1/prices/preview", {"price": graduated, "quantity": "1234.5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "USD" and body["amount"] == "23.52"
    assert body["precise_amount"] == "23.517500000000"
    assert [line["quantity"] for line in body["lines"]] == ["1000", "234.5"]
    pct = {"price": {"model": "percentage", "rate": "2.9", "fixed_amount": "0.30"}}
    r = env.post("/v1/prices/preview", {**pct, "transactions": ["19.99", "5.00"]})
    assert r.json()["amount"] == "1.32"
    jpy = {"model": "per_unit", "unit_amount": "1.5", "currency": "JPY"}
    assert env.post("/v1/prices/preview", {"price": jpy, "quantity": "3"}).json()["amount"] == "5"
    bhd = {"model": "per_unit", "unit_amount": "0.0015", "currency": "BHD"}
    r = env.post("/v1/prices/preview", {"price": bhd, "quantity": "1001"})
    assert r.json()["amount"] == "1.502"
    wrong = env.post("/v1/prices/preview", {**pct, "quantity": "3"})
    assert wrong.status_code == 422 and wrong.json()["details"][0]["field"] == "quantity"
    assert env.get("/v1/prices").json()["data"] == []  # no side effects


def test_catalog_scope_follows_the_account_tree(env: Env) -> None:
    env.account("msp1", kind="reseller")
    env.account("msp2", kind="reseller")
    env.account("law-firm", parent="msp1")
    k1, k2, kc = env.key_for("msp1"), env.key_for("msp2"), env.key_for("law-firm")
    product(env, "uc-seat", "seat")  # the provider's
    product(env, "fax-page", "usage", key_=k1)  # msp1's own
    assert {p["key"] for p in env.get("/v1/products", key=k1).json()["data"]} == {
        "uc-seat",
        "fax-page",
    }
    assert [p["key"] for p in env.get("/v1/products", key=k2).json()["data"]] == ["uc-seat"]
    assert env.get("/v1/products/fax-page", key=k2).status_code == 404
    # a customer reads its seller's catalog only, and cannot write
    assert [p["key"] for p in env.get("/v1/products", key=kc).json()["data"]] == ["fax-page"]
    r = env.post("/v1/products", {"key": "x", "name": "x", "kind": "seat"}, key=kc)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    # the provider reads a reseller's catalog by naming it; a sibling cannot
    assert env.get("/v1/products", params={"seller": "msp1"}).status_code == 200
    assert env.get("/v1/products", params={"seller": "msp1"}, key=k2).status_code == 404
    # keys are unique per seller, not globally
    product(env, "uc-seat", "seat", key_=k2)
