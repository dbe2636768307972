"""Void and amend: audited, history kept, meters follow the latest version."""

from __future__ import annotations

from support import Env

NOV = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "subject": "c1"}


def setup(env: Env) -> None:
    env.account("c1")
    env.post(
        "/v1/meters",
        {"key": "secs", "name": "s", "event_type": "call", "aggregation": "sum", "value": "$.s"},
    )
    env.post(
        "/v1/events",
        [
            {
                "id": "1",
                "type": "call",
                "subject": "c1",
                "time": "2026-11-02T10:00:00Z",
                "data": {"s": 60},
            },
            {
                "id": "2",
                "type": "call",
                "subject": "c1",
                "time": "2026-11-02T11:00:00Z",
                "data": {"s": 30},
            },
        ],
    )


def total(env: Env) -> str:
    rows = env.get("/v1/meters/secs/usage", params=NOV).json()["rows"]
    return str(rows[0]["value"]) if rows else "none"


def test_void_excludes_event_and_keeps_history(env: Env) -> None:
    setup(env)
    assert total(env) == "90"
    r = env.post("/v1/events/api/2/void", {"reason": "test call"})
    assert r.status_code == 200 and r.json()["status"] == "voided"
    assert total(env) == "60"
    listed = {e["id"]: e["status"] for e in env.get("/v1/events").json()["data"]}
    assert listed == {"1": "ok", "2": "voided"}
    hist = env.get("/v1/events/api/2").json()["history"]
    assert [h["kind"] for h in hist] == ["void"] and hist[0]["reason"] == "test call"
    audit = (
        env.runtime.ledger.sessions()
        .execute(__import__("sqlalchemy").text("select action, object_id from audit_log"))
        .all()
    )
    assert ("event.void", "api/2") in [tuple(a) for a in audit]


def test_amend_supersedes_data_and_time(env: Env) -> None:
    setup(env)
    r = env.post("/v1/events/api/1/amend", {"data": {"s": 0.5}, "reason": "rerated"})
    assert r.status_code == 200 and r.json()["status"] == "amended"
    assert total(env) == "30.5"
    # move event 2 out of November: it no longer counts there
    env.post("/v1/events/api/2/amend", {"time": "2026-12-01T00:00:00Z"})
    assert total(env) == "0.5"
    hist = env.get("/v1/events/api/1").json()["history"]
    assert hist[0]["data"] == {"s": 0.5}


def test_corrections_of_unknown_or_foreign_events_are_404(env: Env) -> None:
    setup(env)
    assert env.post("/v1/events/api/nope/void", {}).status_code == 404
    env.account("msp", kind="reseller")
    key = env.key_for("msp")
    assert env.post("/v1/events/api/1/void", {}, key=key).status_code == 404
    assert total(env) == "90"


def test_bad_amendments_are_422(env: Env) -> None:
    setup(env)
    assert env.post("/v1/events/api/1/amend", {}).status_code == 422
    r = env.post("/v1/events/api/1/amend", {"time": "yesterday"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "time"
    assert env.post("/v1/events/api/1/amend", {"data": [1]}).status_code == 422
