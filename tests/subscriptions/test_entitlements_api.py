"""Entitlement checks through the real HTTP app: on/off, soft and hard metered limits, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from uc_catalog import build_catalog, create_plans, fax_events, ok, subscribe

from support import Env


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_entitlements_from_plan_and_current_usage(env: Env) -> None:
    build_catalog(env)
    create_plans(env)
    env.account("law-firm", subject_aliases=["lf-pbx"])
    env.account("preschool")
    now = datetime.now(UTC).replace(microsecond=0)
    # started a moment ago: the current period (anchored today) holds the events just sent
    sub = subscribe(env, "law-firm", "basic", start=iso(now - timedelta(seconds=30)))
    fax_events(env, "law-firm", [iso(now - timedelta(seconds=5))] * 100)
    fax_events(env, "lf-pbx", [iso(now - timedelta(seconds=5))] * 50, prefix="alias")
    fax = ok(env.get("/v1/entitlements/law-firm/fax"), 200)
    assert fax == {
        "customer": "law-firm",
        "feature": "fax",
        "has_access": True,  # soft: overage is billed, not refused
        "limit": "100",
        "used": "150",
        "remaining": "0",
        "hard": False,
    }
    assert ok(env.get("/v1/entitlements/law-firm/recording"), 200)["has_access"] is False
    change = {"type": "plan", "plan": "pro"}
    ok(env.post(f"/v1/subscriptions/{sub['id']}/changes", change))
    assert ok(env.get("/v1/entitlements/law-firm/recording"), 200) == {
        "customer": "law-firm",
        "feature": "recording",
        "has_access": True,
        "limit": None,
        "used": None,
        "remaining": None,
        "hard": False,
    }
    pro_fax = ok(env.get("/v1/entitlements/law-firm/fax"), 200)
    assert (pro_fax["limit"], pro_fax["remaining"], pro_fax["hard"]) == ("1000", "850", True)
    # a customer key checks its own; nobody sees outside their subtree
    own = env.key_for("law-firm")
    assert ok(env.get("/v1/entitlements/law-firm/fax", key=own), 200)["used"] == "150"
    other = env.key_for("preschool")
    assert env.get("/v1/entitlements/law-firm/fax", key=other).status_code == 404
    assert ok(env.get("/v1/entitlements/preschool/fax"), 200)["has_access"] is False
    assert env.get("/v1/entitlements/nobody/fax").status_code == 404


def test_hard_limit_refuses_once_reached(env: Env) -> None:
    build_catalog(env)
    ok(env.post("/v1/plans", {
        "key": "tiny", "name": "Tiny",
        "entitlements": [{"feature": "fax", "limit": "3", "meter": "fax-pages", "hard": True}],
    }))  # fmt: skip
    env.account("solo")
    now = datetime.now(UTC).replace(microsecond=0)
    subscribe(env, "solo", "tiny", start=iso(now - timedelta(seconds=30)))
    fax_events(env, "solo", [iso(now - timedelta(seconds=5))] * 2)
    assert ok(env.get("/v1/entitlements/solo/fax"), 200)["has_access"] is True
    fax_events(env, "solo", [iso(now - timedelta(seconds=4))], prefix="more")
    refused = ok(env.get("/v1/entitlements/solo/fax"), 200)
    assert (refused["has_access"], refused["used"], refused["remaining"]) == (False, "3", "0")
