"""Plans through the real HTTP app and CLI: versions, ladders, 422s, migration."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from support import Env

sys.path.insert(0, str(Path(__file__).parents[1] / "subscriptions"))
from uc_catalog import build_catalog, create_plans, ok, seat, subscribe

from meterly.cli import app as cli_app


def test_versions_ladder_and_migration(env: Env) -> None:
    build_catalog(env)
    create_plans(env)
    env.account("law-firm")
    ladder = ok(env.get("/v1/plans", params={"ladder": "uc"}), 200)["data"]
    assert [(p["key"], p["level"]) for p in ladder] == [("basic", 1), ("pro", 2)]
    basic = ok(env.get("/v1/plans/basic"), 200)
    assert basic["charges"][0] == {
        "product": "uc-seat",
        "kind": "seat",
        "meter": None,
        "description": "Uc Seat",
        "price": {
            "product": "uc-seat", "currency": "USD", "interval": "month", "timing": "in_arrears",
            "rounding_mode": "half_up", "model": "per_unit", "unit_amount": "20.00",
            "free_units": "0",
        },
        "wholesale": "pooled",
    }  # fmt: skip
    sub = subscribe(env, "law-firm", "basic", start="2026-10-01T00:00:00Z", quantity="3")
    v2 = ok(env.patch("/v1/plans/basic", {"charges": [seat("22.00")]}), 200)
    assert v2["version"] == 2 and v2["entitlements"] == basic["entitlements"]
    assert (
        ok(env.get("/v1/plans/basic", params={"version": 1}), 200)["charges"][0]["price"][
            "unit_amount"
        ]
        == "20.00"
    )
    assert len(ok(env.get("/v1/plans/basic/versions"), 200)["data"]) == 2
    assert ok(env.get(f"/v1/subscriptions/{sub['id']}"), 200)["version"] == 1  # stays
    moved = ok(env.post("/v1/plans/basic/migrate", {"at": "2026-11-11T00:00:00Z"}), 200)
    assert moved == {
        "plan": "basic",
        "to_version": 2,
        "effective_at": "2026-11-11T00:00:00Z",
        "migrated": [sub["id"]],
    }
    after = ok(env.get(f"/v1/subscriptions/{sub['id']}"), 200)
    assert after["version"] == 2 and after["changes"][-1]["type"] == "migrate"
    again = ok(env.post("/v1/plans/basic/migrate", {"at": "2026-11-12T00:00:00Z"}), 200)
    assert again["migrated"] == []
    # migration is prorated like any change: 10 days at v1 and 20 days at v2
    up = ok(env.get("/v1/customers/law-firm/upcoming", params={"at": "2026-11-20T00:00:00Z"}), 200)
    seats = [line["amount"] for line in up["lines"] if line["kind"] == "recurring"]
    assert seats == ["20.00", "44.00"]


@pytest.mark.parametrize(
    ("charge", "field"),
    [
        ({"product": "ghost", "price": {"model": "flat", "amount": "1"}}, "charges.0.product"),
        (
            {"product": "uc-seat", "price": {"model": "flat", "amount": "1", "currency": "EUR"}},
            "charges.0.price.currency",
        ),
        (
            {
                "product": "fax-page",
                "meter": "fax-pages",
                "price": {
                    "model": "graduated",
                    "tiers": [{"up_to": "5", "unit_amount": "1"}, {"up_to": "2"}, {"up_to": None}],
                },
            },
            "charges.0.price.tiers.1.up_to",
        ),
        (
            {"product": "fax-page", "price": {"model": "per_unit", "unit_amount": "1"}},
            "charges.0.meter",
        ),
        (
            {"product": "uc-seat", "price": {"model": "percentage", "rate": "3"}},
            "charges.0.price.model",
        ),
        ({"product": "uc-seat"}, "charges.0.price"),
    ],
)
def test_invalid_charges_name_the_field(env: Env, charge: dict[str, Any], field: str) -> None:
    build_catalog(env)
    r = env.post("/v1/plans", {"key": "p", "name": "P", "charges": [charge]})
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["details"]]


def test_entitlement_needs_feature_and_meter(env: Env) -> None:
    build_catalog(env)
    r = env.post(
        "/v1/plans", {"key": "p", "name": "P", "entitlements": [{"feature": "fax", "limit": "5"}]}
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "entitlements.0.meter"
    r = env.post("/v1/plans", {"key": "p", "name": "P", "entitlements": [{"feature": "nope"}]})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "entitlements.0.feature"
    ok(env.post("/v1/plans", {"key": "p", "name": "P"}))
    assert env.post("/v1/plans", {"key": "p", "name": "P"}).status_code == 409


def test_cli_plans_and_price_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERLY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli_app, list(args))
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if "--json" in args and code == 0 else result.output

    run("products", "create", "uc-seat", "--name", "Seat", "--kind", "seat")
    run("features", "create", "recording", "--name", "Recording")
    run("accounts", "create", "law-firm", "--name", "Law firm")
    plan = {
        "key": "basic",
        "name": "Basic",
        "charges": [seat("20")],
        "entitlements": [{"feature": "recording"}],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert run("plans", "create", "--plan-file", str(path), "--json")["version"] == 1
    sub = run(
        "subscriptions", "create", "--customer", "law-firm", "--plan", "basic",
        "--start", "2026-10-01T00:00:00Z", "--quantity", "4", "--json",
    )  # fmt: skip
    assert sub["quantity"] == "4"
    run("plans", "update", "basic", "--plan", json.dumps({"charges": [seat("25")]}))
    moved = run(
        "plans", "migrate", "basic", "--to-version", "2", "--at", "2026-11-01T00:00:00Z", "--json"
    )
    assert moved["migrated"] == [sub["id"]]
    check = run("entitlements", "check", "law-firm", "recording", "--json")
    assert check["has_access"] is True
    run("entitlements", "check", "law-firm", "nothing", code=3)
    up = run("subscriptions", "upcoming", "law-firm", "--at", "2026-11-20T00:00:00Z", "--json")
    assert up["subtotal"] == "100.00"  # 4 seats × 25 for the whole of November
    quote = run(
        "price", "preview", "--price", json.dumps({"model": "package", "package_size": "100",
        "package_amount": "5"}), "--quantity", "250", "--json",
    )  # fmt: skip
    assert quote["amount"] == "15.00"
    out = run("price", "preview", "--price", '{"model": "volume", "tiers": []}', code=2)
    assert "price.tiers" in out
    run("plans", "migrate", "ghost", code=1)
    assert "--to-version" in run("plans", "migrate", "--help")
