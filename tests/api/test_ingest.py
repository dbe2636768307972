"""Event ingestion through the real HTTP app: shapes, per-index rejection, dedup, attribution."""

from __future__ import annotations

import threading
from typing import Any

import orjson

from support import Env


def ev(i: int | str, subject: str = "law-firm", **kw: Any) -> dict[str, Any]:
    return {
        "id": str(i),
        "type": kw.pop("type", "call.completed"),
        "subject": subject,
        "time": kw.pop("time", "2026-11-02T15:00:00Z"),
        "data": kw.pop("data", {"duration_seconds": 61}),
        **kw,
    }


def test_single_event_and_batch(env: Env) -> None:
    env.account("law-firm")
    r = env.post("/v1/events", ev(1))
    assert r.status_code == 202
    assert r.json() == {"accepted": 1, "duplicates": 0, "unattributed": 0, "rejected": []}
    r = env.post("/v1/events", [ev(2), ev(3)])
    assert r.json()["accepted"] == 2
    assert env.runtime.events.count() == 3


def test_cloudevents_content_types(env: Env) -> None:
    env.account("law-firm")
    one = orjson.dumps({**ev("ce1"), "specversion": "1.0"})
    r = env.client.post(
        "/v1/events",
        content=one,
        headers={**env.h(), "Content-Type": "application/cloudevents+json"},
    )
    assert r.status_code == 202 and r.json()["accepted"] == 1
    batch = orjson.dumps([ev("ce2"), ev("ce3")])
    r = env.client.post(
        "/v1/events",
        content=batch,
        headers={**env.h(), "Content-Type": "application/cloudevents-batch+json"},
    )
    assert r.json()["accepted"] == 2
    r = env.client.post(
        "/v1/events", content=batch, headers={**env.h(), "Content-Type": "text/plain"}
    )
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"


def test_malformed_events_rejected_by_index_valid_ones_kept(env: Env) -> None:
    env.account("law-firm")
    batch = [
        ev("ok-1"),
        {"type": "call.completed", "subject": "law-firm"},  # no id
        ev("bad-time", time="2026-11-02 15:00"),  # no offset
        ev("ok-2"),
        "not an object",
        ev("bad-data", data=[1, 2]),
        {"id": "x", "subject": "law-firm"},  # no type
    ]
    r = env.post("/v1/events", batch)
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 2
    rejected = {x["index"]: x for x in body["rejected"]}
    assert set(rejected) == {1, 2, 4, 5, 6}
    assert rejected[1]["errors"][0]["field"] == "id"
    assert rejected[2]["id"] == "bad-time" and rejected[2]["errors"][0]["field"] == "time"
    assert rejected[5]["errors"][0]["field"] == "data"
    assert rejected[6]["errors"][0]["field"] == "type"
    assert env.runtime.events.count() == 2


def test_body_not_json_is_400_and_stores_nothing(env: Env) -> None:
    r = env.client.post(
        "/v1/events",
        content=b'[{"id": "1", "type": "t", "subject": "s"}, oops',
        headers={**env.h(), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert env.runtime.events.count() == 0


def test_too_many_events_or_bytes_is_413(env: Env) -> None:
    r = env.post("/v1/events", [ev(i) for i in range(10_001)])
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    big = (
        b'{"id": "1", "type": "t", "subject": "s", "data": {"pad": "'
        + b"x" * (10 * 1024 * 1024)
        + b'"}}'
    )
    r = env.client.post(
        "/v1/events", content=big, headers={**env.h(), "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert env.runtime.events.count() == 0


def test_retried_batch_is_stored_once(env: Env) -> None:
    env.account("law-firm")
    batch = [ev(i) for i in range(50)]
    assert env.post("/v1/events", batch).json()["accepted"] == 50
    again = env.post("/v1/events", batch).json()
    assert again["accepted"] == 0 and again["duplicates"] == 50
    # the same id from another source is a different event
    assert env.post("/v1/events", [ev(1, source="pbx-2")]).json()["accepted"] == 1
    # duplicates inside one batch
    r = env.post("/v1/events", [ev("d"), ev("d")]).json()
    assert r["accepted"] == 1 and r["duplicates"] == 1
    assert env.runtime.events.count() == 52


def test_concurrent_retries_store_once(env: Env) -> None:
    env.account("law-firm")
    batch = [ev(f"c{i}") for i in range(500)]
    results: list[dict[str, Any]] = []

    def send() -> None:
        results.append(env.post("/v1/events", batch).json())

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["accepted"] for r in results) == 500
    assert sum(r["duplicates"] for r in results) == 500 * 5
    assert env.runtime.events.count() == 500


def test_unattributed_counted_then_attributed_when_account_appears(env: Env) -> None:
    r = env.post("/v1/events", [ev("u1", subject="new-co"), ev("u2", subject="+15550001")])
    assert r.json()["unattributed"] == 2
    env.post(
        "/v1/meters",
        {"key": "calls", "name": "Calls", "event_type": "call.completed", "aggregation": "count"},
    )
    env.account("new-co", subject_aliases=["+15550001"])
    rows = env.get(
        "/v1/meters/calls/usage",
        params={"subject": "new-co", "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    ).json()["rows"]
    assert [row["value"] for row in rows] == ["2"]
    assert env.post("/v1/events", [ev("u3", subject="new-co")]).json()["unattributed"] == 0


def test_ingest_for_another_resellers_subject_never_counts_for_it(env: Env) -> None:
    env.account("msp-a", kind="reseller")
    env.account("msp-b", kind="reseller")
    env.account("cust-b", parent="msp-b")
    env.post(
        "/v1/meters",
        {"key": "calls", "name": "Calls", "event_type": "call.completed", "aggregation": "count"},
    )
    key_a = env.key_for("msp-a")
    r = env.post("/v1/events", [ev("x1", subject="cust-b")], key=key_a).json()
    assert r["unattributed"] == 1  # same answer as for an unknown subject: nothing leaks
    rows = env.get(
        "/v1/meters/calls/usage",
        params={"subject": "cust-b", "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    ).json()["rows"]
    assert [row["value"] for row in rows] == ["0"]


def test_time_defaults_to_receipt_and_source_to_api(env: Env) -> None:
    env.account("law-firm")
    e = ev("t1")
    del e["time"]
    env.post("/v1/events", e)
    got = env.get("/v1/events/api/t1").json()
    assert got["source"] == "api" and got["status"] == "ok"
    assert got["time"].startswith("20")


def test_numbers_a_double_would_change_are_summed_exactly(env: Env) -> None:
    env.account("law-firm")
    meter = {"key": "v", "name": "v", "event_type": "call.completed", "aggregation": "sum"}
    assert env.post("/v1/meters", {**meter, "value": "$.v"}).status_code == 201
    # Raw bytes: a Python float could not even carry these numbers to the server.
    pairs = [("0.123456789012345678", "0.000000000000000001"), ("12345678901234567.5", "0.5")]
    for n, (a, b) in enumerate(pairs):
        body = ",".join(
            f'{{"id": "{n}-{i}", "type": "call.completed", "subject": "law-firm-{n}", '
            f'"time": "2026-11-02T15:00:00Z", "data": {{"v": {v}}}}}'
            for i, v in enumerate((a, b))
        )
        r = env.client.post("/v1/events", content=f"[{body}]".encode(), headers=env.h())
        assert r.status_code == 202 and r.json()["accepted"] == 2
    for n, expected in enumerate(["0.123456789012345679", "12345678901234568"]):
        env.account(f"law-firm-{n}")
        r = env.get(
            "/v1/meters/v/usage",
            params={"subject": f"law-firm-{n}", "from": "2026-11-01T00:00:00Z",
                    "to": "2026-12-01T00:00:00Z"},
        )  # fmt: skip
        assert [row["value"] for row in r.json()["rows"]] == [expected], r.text


def test_one_bad_event_sends_the_batch_through_per_item_checks(env: Env) -> None:
    """The fast path takes whole batches only; a batch it refuses is still stored per item."""
    env.account("law-firm")
    batch = [ev(i) for i in range(50)]
    batch[17]["time"] = "2026-11-02T15:00:00"  # naive
    batch[30]["data"] = None  # defaults to {}
    r = env.post("/v1/events", batch)
    body = r.json()
    assert (body["accepted"], [x["index"] for x in body["rejected"]]) == (49, [17])
    assert body["rejected"][0]["errors"][0]["field"] == "time"
    r = env.post("/v1/events", [ev(i) for i in range(60)])
    assert r.json()["duplicates"] == 49 and r.json()["accepted"] == 11
