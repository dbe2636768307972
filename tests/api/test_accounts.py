"""Accounts, keys and tenancy through the real HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

from support import Env


def test_healthz_needs_no_key(env: Env) -> None:
    r = env.client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_v1_requires_a_valid_key(env: Env) -> None:
    r = env.client.get("/v1/accounts")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert set(r.json()) == {"error", "message", "details"}
    r = env.client.get("/v1/accounts", headers={"Authorization": "Bearer mk_nope"})
    assert r.status_code == 401


def test_create_and_read_accounts(env: Env) -> None:
    msp = env.account("msp-a", name="MSP A", kind="reseller", timezone="America/New_York")
    assert msp["parent"] == "skyline" and msp["kind"] == "reseller"
    law = env.account("law-firm", parent="msp-a", subject_aliases=["+12125550100"], currency="USD")
    assert law["parent"] == "msp-a" and law["subject_aliases"] == ["+12125550100"]
    r = env.get("/v1/accounts/law-firm")
    assert r.status_code == 200 and r.json()["name"] == "law-firm"
    ids = [a["external_id"] for a in env.get("/v1/accounts").json()["data"]]
    assert ids == ["law-firm", "msp-a", "skyline"]


def test_validation_errors_name_the_field(env: Env) -> None:
    r = env.post("/v1/accounts", {"external_id": "x", "name": "X", "timezone": "Mars/Base"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_input"
    assert body["details"][0]["field"] == "timezone"
    r = env.post("/v1/accounts", {"external_id": "x", "name": "X", "currency": "usd"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "currency"


def test_duplicate_external_id_or_alias_is_409(env: Env) -> None:
    env.account("a1", subject_aliases=["sip:a1"])
    assert env.post("/v1/accounts", {"external_id": "a1", "name": "again"}).status_code == 409
    r = env.post("/v1/accounts", {"external_id": "a2", "name": "x", "subject_aliases": ["sip:a1"]})
    assert r.status_code == 409


def test_customer_cannot_parent_accounts(env: Env) -> None:
    env.account("c1")
    r = env.post("/v1/accounts", {"external_id": "c2", "name": "x", "parent": "c1"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "parent"


def test_resellers_never_see_each_other(env: Env) -> None:
    env.account("msp-a", kind="reseller")
    env.account("msp-b", kind="reseller")
    env.account("cust-a", parent="msp-a")
    env.account("cust-b", parent="msp-b")
    key_a = env.key_for("msp-a")
    key_b = env.key_for("msp-b")
    seen_a = {a["external_id"] for a in env.get("/v1/accounts", key=key_a).json()["data"]}
    assert seen_a == {"msp-a", "cust-a"}
    for path in ("/v1/accounts/cust-b", "/v1/accounts/msp-b", "/v1/accounts/skyline"):
        r = env.get(path, key=key_a)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    # creating under a sibling's account is refused as if it did not exist
    r = env.post("/v1/accounts", {"external_id": "x", "name": "x", "parent": "msp-b"}, key=key_a)
    assert r.status_code == 404
    # a reseller creates below itself by default
    r = env.post("/v1/accounts", {"external_id": "cust-a2", "name": "x"}, key=key_a)
    assert r.status_code == 201 and r.json()["parent"] == "msp-a"
    assert env.get("/v1/accounts/cust-a2", key=key_b).status_code == 404


def test_customer_key_sees_only_itself(env: Env) -> None:
    env.account("c1")
    env.account("c2")
    key = env.key_for("c1")
    assert [a["external_id"] for a in env.get("/v1/accounts", key=key).json()["data"]] == ["c1"]
    assert env.get("/v1/accounts/c2", key=key).status_code == 404


def test_openapi_docs_served(env: Env) -> None:
    assert env.client.get("/docs").status_code == 200
    spec = env.client.get("/openapi.json").json()
    assert "/v1/events" in spec["paths"] and "/v1/meters/{key}/usage" in spec["paths"]


def test_audit_log_records_who_did_what_scoped(env: Env) -> None:
    env.account("msp-a", kind="reseller")
    env.account("msp-b", kind="reseller")
    key_a = env.key_for("msp-a", "msp-a admin")
    env.post("/v1/accounts", {"external_id": "cust-a", "name": "A"}, key=key_a)
    env.post("/v1/accounts", {"external_id": "cust-b", "name": "B", "parent": "msp-b"})
    rows = env.get("/v1/audit", key=key_a).json()["data"]
    assert [(r["action"], r["object_id"]) for r in rows] == [("account.created", "cust-a")]
    assert rows[0]["key"].startswith("msp-a admin")
    every = env.get("/v1/audit", params={"action": "account.created"}).json()["data"]
    assert {r["object_id"] for r in every} >= {"msp-a", "msp-b", "cust-a", "cust-b"}
