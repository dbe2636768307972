"""One-step reseller onboarding through the real HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from chain_catalog import WHOLESALE, build_provider_catalog, ok, onboard

from support import Env

D = Decimal


def test_onboarding_creates_every_piece(env: Env) -> None:
    build_provider_catalog(env)
    out = onboard(env, "msp-a", name="MSP A", markup="35", timezone="America/New_York")
    assert out["account"]["kind"] == "reseller" and out["account"]["parent"] == "skyline"
    assert out["account"]["timezone"] == "America/New_York"
    assert out["api_key"]["secret"].startswith("mk_") and out["api_key"]["name"] == "admin"
    assert out["profile"]["configured"] is True
    assert out["profile"]["number_prefix"] == "MSP" and out["profile"]["display_name"] == "MSP A"
    book = out["price_book"]
    assert book["key"] == "retail" and book["template"] == "wholesale" and book["markup"] == "35"
    assert book["prices"] == list(WHOLESALE) and book["plans"] == ["basic"]

    key = out["api_key"]["secret"]
    prices = {p["key"]: p for p in ok(env.get("/v1/prices?seller=msp-a", key=key), 200)["data"]}
    assert set(prices) == set(WHOLESALE)  # direct-seat was not in the template
    assert all(p["price_book"] == "retail" and p["seller"] == "msp-a" for p in prices.values())
    assert prices["seat"]["price"]["unit_amount"] == "27.00"
    assert prices["did"]["price"]["amount"] == "2.025"
    tiers = prices["fax"]["price"]["tiers"]
    assert tiers[0]["unit_amount"] == "0.02835" and tiers[0]["up_to"] == "1000"
    assert D(tiers[0]["flat_amount"]) == D("2.70") and D(tiers[1]["unit_amount"]) == D("0.02025")
    assert D(prices["storage"]["price"]["package_amount"]) == D("0.675")
    assert D(prices["storage"]["price"]["minimum_amount"]) == D("1.35")
    card = prices["card"]["price"]
    assert card["rate"] == "2.9" and D(card["fixed_amount"]) == D("0.405")
    assert D(card["max_per_transaction"]) == D("13.5")
    groups = prices["calls"]["price"]["groups"]
    assert [D(g["unit_amount"]) for g in groups] == [D("0.027"), D("0.0162")]
    # products and meters are the provider's own, shared by every tier
    assert prices["fax"]["product"] == "fax-page" and prices["fax"]["meter"] == "fax-pages"
    products = ok(env.get("/v1/products", key=key), 200)["data"]
    assert {p["seller"] for p in products} == {"skyline"}

    plan = ok(env.get("/v1/plans/basic", key=key), 200)
    assert plan["seller"] == "msp-a" and plan["ladder"] == "uc" and plan["level"] == 1
    assert plan["charges"][0]["price"]["unit_amount"] == "27.00"
    assert plan["entitlements"][0]["feature"] == "fax"
    # the provider still sees its own plan and prices unchanged
    assert ok(env.get("/v1/plans/basic"), 200)["charges"][0]["price"]["unit_amount"] == "20.00"

    audit = ok(env.get("/v1/audit"), 200)["data"]
    assert any(a["action"] == "reseller.onboarded" and a["object_id"] == "msp-a" for a in audit)


def test_returned_key_sees_only_its_subtree(env: Env) -> None:
    build_provider_catalog(env, plan=False)
    key_a = onboard(env, "msp-a", markup="10")["api_key"]["secret"]
    key_b = onboard(env, "msp-b", markup="20")["api_key"]["secret"]
    env.account("law-firm", key=key_a)
    ids = [a["external_id"] for a in ok(env.get("/v1/accounts", key=key_a), 200)["data"]]
    assert ids == ["law-firm", "msp-a"]
    assert env.get("/v1/accounts/msp-b", key=key_a).status_code == 404
    assert env.get("/v1/accounts/skyline", key=key_a).status_code == 404
    # a sibling's price book and profile are invisible: 404, never 403
    assert env.get("/v1/prices?seller=msp-b", key=key_a).status_code == 404
    assert env.get("/v1/price-books?seller=msp-b", key=key_a).status_code == 404
    assert env.get("/v1/sellers/msp-b/profile", key=key_a).status_code == 404
    assert env.get("/v1/sellers/skyline/profile", key=key_a).status_code == 404
    r = env.client.put("/v1/sellers/msp-b/profile", json={"tax_id": "X"}, headers=env.h(key_a))
    assert r.status_code == 404
    # each reseller's own `seat` shadows the provider's for it and its customers
    assert ok(env.get("/v1/prices/seat", key=key_a), 200)["price"]["unit_amount"] == "22.00"
    assert ok(env.get("/v1/prices/seat", key=key_b), 200)["price"]["unit_amount"] == "24.00"
    cust = env.key_for("law-firm")
    assert ok(env.get("/v1/prices/seat", key=cust), 200)["seller"] == "msp-a"


def test_sub_reseller_builds_on_its_parents_retail_book(env: Env) -> None:
    build_provider_catalog(env)
    key_a = onboard(env, "msp-a", markup="35")["api_key"]["secret"]
    sub = onboard(env, "sub-1", key=key_a, name="Sub One", markup="10", number_prefix="SUB1")
    assert sub["account"]["parent"] == "msp-a"
    assert sub["price_book"]["template_seller"] == "msp-a"
    assert sub["price_book"]["template"] == "retail" and sub["price_book"]["plans"] == ["basic"]
    assert sub["profile"]["number_prefix"] == "SUB1"
    key_sub = sub["api_key"]["secret"]
    seat = ok(env.get("/v1/prices/seat", key=key_sub), 200)["price"]
    assert D(seat["unit_amount"]) == D("29.70")  # 20 x 1.35 x 1.10
    fax = ok(env.get("/v1/prices/fax", key=key_sub), 200)["price"]
    assert fax["tiers"][0]["unit_amount"] == "0.031185"
    # the provider may also onboard below a reseller it covers, naming the parent
    deep = onboard(env, "sub-2", parent="msp-a", markup="0", copy_plans=False)
    assert deep["account"]["parent"] == "msp-a" and deep["price_book"]["plans"] == []
    # ...but a reseller cannot reach beside itself
    key_b = onboard(env, "msp-b")["api_key"]["secret"]
    r = env.post("/v1/resellers", {"external_id": "x", "name": "x", "parent": "msp-a"}, key=key_b)
    assert r.status_code == 404


def test_onboarding_is_one_transaction(env: Env) -> None:
    build_provider_catalog(env, plan=False)
    r = env.post("/v1/resellers", {"external_id": "msp-a", "name": "A", "template": "nope"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "template"
    assert env.get("/v1/accounts/msp-a").status_code == 404  # nothing was left behind
    onboard(env, "msp-a")
    assert env.post("/v1/resellers", {"external_id": "msp-a", "name": "A"}).status_code == 409


def test_onboarding_validation_and_customer_keys(env: Env) -> None:
    for body, field in [
        ({"external_id": "a", "name": "A", "markup": "-5"}, "markup"),
        ({"external_id": "a", "name": "A", "number_prefix": "ab"}, "number_prefix"),
        ({"external_id": "a", "name": "A", "currency": "usd"}, "currency"),
        ({"external_id": "bad id", "name": "A"}, "external_id"),
    ]:
        r = env.post("/v1/resellers", body)
        assert r.status_code == 422 and r.json()["details"][0]["field"] == field, r.text
    env.account("law-firm")
    r = env.post("/v1/resellers", {"external_id": "x", "name": "X"}, key=env.key_for("law-firm"))
    assert r.status_code == 422


def test_provider_without_a_catalog_gets_an_empty_retail_book(env: Env) -> None:
    out = onboard(env, "msp-a")
    assert out["price_book"]["template"] is None and out["price_book"]["prices"] == []
    books = ok(env.get("/v1/price-books?seller=msp-a"), 200)["data"]
    assert [b["key"] for b in books] == ["retail"]
