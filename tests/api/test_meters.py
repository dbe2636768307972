"""Meters and usage through the real HTTP app: exact sums, DST windows, 409 on edits, CSV."""

from __future__ import annotations

from typing import Any

from support import Env

NOV = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}


def meter(env: Env, key: str, **kw: Any) -> dict[str, Any]:
    body = {"key": key, "name": key, "event_type": "call.completed", **kw}
    r = env.post("/v1/meters", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def send(env: Env, events: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
    r = env.post("/v1/events", events, key=key)
    assert r.status_code == 202, r.text
    return dict(r.json())


def usage(env: Env, key: str, **params: Any) -> list[dict[str, Any]]:
    r = env.get(f"/v1/meters/{key}/usage", params={**NOV, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["rows"])


def test_exact_decimal_sum(env: Env) -> None:
    env.account("c1")
    meter(env, "amount", aggregation="sum", value="$.amount")
    send(
        env,
        [
            {
                "id": "1",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-03T10:00:00Z",
                "data": {"amount": 0.1},
            },
            {
                "id": "2",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-03T11:00:00Z",
                "data": {"amount": "0.2"},
            },
            {
                "id": "3",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-03T12:00:00Z",
                "data": {"amount": 0.000000000000000001},
            },
        ],
    )
    assert [r["value"] for r in usage(env, "amount", subject="c1")] == ["0.300000000000000001"]


def test_meter_created_later_covers_stored_events(env: Env) -> None:
    env.account("c1")
    send(
        env,
        [
            {
                "id": str(i),
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-05T10:00:00Z",
                "data": {"d": i},
            }
            for i in range(5)
        ],
    )
    meter(env, "calls", aggregation="count")
    assert usage(env, "calls", subject="c1")[0]["value"] == "5"


def test_aggregations_and_value_errors(env: Env) -> None:
    env.account("c1")
    vals: list[Any] = [10, "2.5", None, "abc", True, 7]
    send(
        env,
        [
            {
                "id": str(i),
                "type": "call.completed",
                "subject": "c1",
                "time": f"2026-11-05T10:0{i}:00Z",
                "data": {"v": v},
            }
            for i, v in enumerate(vals)
        ],
    )
    for agg, expected in [
        ("sum", "19.5"),
        ("min", "2.5"),
        ("max", "10"),
        ("avg", "6.5"),
        ("latest", "7"),
        ("count", "6"),
    ]:
        meter(env, f"m-{agg}", aggregation=agg, value="$.v")
        assert usage(env, f"m-{agg}", subject="c1")[0]["value"] == expected, agg
    meter(env, "u", aggregation="unique_count", value="$.v")
    # 10, "2.5", "abc", true, 7 are five distinct JSON values; null is no value
    assert usage(env, "u", subject="c1")[0]["value"] == "5"
    listed = env.get("/v1/events", params={"subject": "c1"}).json()["data"]
    errors = {e["id"]: [x["meter"] for x in e["errors"]] for e in listed}
    assert "m-sum" in errors["3"] and "m-sum" in errors["4"] and "m-sum" in errors["2"]
    assert errors["0"] == []


def test_empty_range(env: Env) -> None:
    env.account("c1")
    meter(env, "calls", aggregation="count")
    meter(env, "secs", aggregation="sum", value="$.s")
    assert [r["value"] for r in usage(env, "calls", subject="c1")] == ["0"]
    assert usage(env, "secs", subject="c1") == []


def test_day_windows_follow_dst_in_new_york(env: Env) -> None:
    env.account("ny", timezone="America/New_York")
    meter(env, "calls", aggregation="count")
    # 2026-11-01 is the day New York falls back: that local day lasts 25 hours
    times = ["2026-11-01T04:30:00Z", "2026-11-02T04:30:00Z", "2026-11-02T05:30:00Z"]
    send(
        env,
        [
            {"id": str(i), "type": "call.completed", "subject": "ny", "time": t}
            for i, t in enumerate(times)
        ],
    )
    rows = usage(
        env,
        "calls",
        subject="ny",
        window="day",
        **{"from": "2026-11-01T04:00:00Z", "to": "2026-11-03T05:00:00Z"},
    )
    assert [(r["from"], r["to"], r["value"]) for r in rows] == [
        ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", "2"),
        ("2026-11-02T05:00:00Z", "2026-11-03T05:00:00Z", "1"),
    ]


def test_group_by_dimensions_and_csv(env: Env) -> None:
    env.account("c1")
    meter(
        env,
        "mins",
        aggregation="sum",
        value="$.s",
        group_by={"dest": "$.destination", "dir": "$.direction"},
    )
    send(
        env,
        [
            {
                "id": "1",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T10:00:00Z",
                "data": {"s": 60, "destination": "domestic", "direction": "out"},
            },
            {
                "id": "2",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T11:00:00Z",
                "data": {"s": 30, "destination": "international", "direction": "out"},
            },
            {
                "id": "3",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T12:00:00Z",
                "data": {"s": 15},
            },
        ],
    )
    rows = usage(env, "mins", subject="c1", group_by=["dest", "dir"])
    got = {(r["dimensions"]["dest"], r["dimensions"]["dir"]): r["value"] for r in rows}
    assert got == {("domestic", "out"): "60", ("international", "out"): "30", (None, None): "15"}
    r = env.get(
        "/v1/meters/mins/usage",
        params={**NOV, "subject": "c1", "group_by": "dest", "format": "csv"},
    )
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "from,to,subject,dest,value" and len(lines) == 4
    bad = env.get("/v1/meters/mins/usage", params={**NOV, "group_by": "nope"})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "group_by"


def test_filter_conditions(env: Env) -> None:
    env.account("c1")
    meter(
        env,
        "long-out",
        aggregation="count",
        filter=[
            {"path": "$.direction", "op": "eq", "value": "out"},
            {"path": "$.s", "op": "gt", "value": 30},
        ],
    )
    send(
        env,
        [
            {
                "id": "1",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T10:00:00Z",
                "data": {"s": 60, "direction": "out"},
            },
            {
                "id": "2",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T10:00:00Z",
                "data": {"s": 20, "direction": "out"},
            },
            {
                "id": "3",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T10:00:00Z",
                "data": {"s": 90, "direction": "in"},
            },
        ],
    )
    assert usage(env, "long-out", subject="c1")[0]["value"] == "1"


def test_editing_frozen_fields_with_events_is_409(env: Env) -> None:
    env.account("c1")
    meter(env, "secs", aggregation="sum", value="$.s")
    # no matching events yet: the definition may still change
    assert env.patch("/v1/meters/secs", {"value": "$.seconds"}).status_code == 200
    send(
        env,
        [
            {
                "id": "1",
                "type": "call.completed",
                "subject": "c1",
                "time": "2026-11-02T10:00:00Z",
                "data": {"seconds": 5},
            }
        ],
    )
    for change in (
        {"aggregation": "max"},
        {"value": "$.x"},
        {"event_type": "other"},
        {"filter": [{"path": "$.a", "op": "eq", "value": 1}]},
    ):
        r = env.patch("/v1/meters/secs", change)
        assert r.status_code == 409, change
        assert "new meter" in r.json()["message"]
    r = env.patch("/v1/meters/secs", {"name": "Seconds", "group_by": {"d": "$.dest"}})
    assert r.status_code == 200 and r.json()["name"] == "Seconds"


def test_invalid_meter_definitions_are_422(env: Env) -> None:
    for body, field in [
        ({"key": "x", "name": "x", "event_type": "t", "aggregation": "median"}, "aggregation"),
        ({"key": "x", "name": "x", "event_type": "t", "aggregation": "sum"}, ""),
        ({"key": "x", "name": "x", "event_type": "t", "aggregation": "sum", "value": "s"}, "value"),
        ({"key": "X Y", "name": "x", "event_type": "t", "aggregation": "count"}, "key"),
    ]:
        r = env.post("/v1/meters", body)
        assert r.status_code == 422, body
        assert r.json()["details"][0]["field"] == field


def test_resellers_never_see_each_others_meters_or_events(env: Env) -> None:
    env.account("msp-a", kind="reseller")
    env.account("msp-b", kind="reseller")
    env.account("cust-a", parent="msp-a")
    env.account("cust-b", parent="msp-b")
    key_a, key_b = env.key_for("msp-a"), env.key_for("msp-b")
    r = env.post(
        "/v1/meters",
        {"key": "a-only", "name": "A", "event_type": "t", "aggregation": "count"},
        key=key_a,
    )
    assert r.status_code == 201
    assert env.get("/v1/meters/a-only", key=key_b).status_code == 404
    assert "a-only" not in [m["key"] for m in env.get("/v1/meters", key=key_b).json()["data"]]
    send(
        env,
        [{"id": "e1", "type": "t", "subject": "cust-a", "time": "2026-11-02T10:00:00Z"}],
        key=key_a,
    )
    assert env.get("/v1/events", key=key_b).json()["data"] == []
    assert env.get("/v1/events", params={"subject": "cust-a"}, key=key_b).status_code == 404
    assert len(env.get("/v1/events", key=key_a).json()["data"]) == 1
    assert (
        env.get(
            "/v1/meters/a-only/usage", params={**NOV, "subject": "cust-a"}, key=key_b
        ).status_code
        == 404
    )
    rows = env.get(
        "/v1/meters/a-only/usage", params={**NOV, "subject": "cust-a"}, key=key_a
    ).json()["rows"]
    assert rows[0]["value"] == "1"
