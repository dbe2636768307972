"""GET /v1/events works out value errors with a fixed number of event-store statements per page,
not one per listed event and meter."""

from __future__ import annotations

from typing import Any

import pytest

from meterly.storage.events.duckdb import DuckDBEventStore
from support import Env


class _Counting:
    """Wraps the DuckDB connection; counts statements run on the cursors reads open."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.statements = 0

    def cursor(self) -> Any:
        outer, cur = self, self._con.cursor()

        class Cursor:
            def execute(self, *args: Any) -> Any:
                outer.statements += 1
                return cur.execute(*args)

            def __getattr__(self, name: str) -> Any:
                return getattr(cur, name)

        return Cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_listing_statements_do_not_grow_with_page_size(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = env.runtime.events
    assert isinstance(store, DuckDBEventStore)
    env.account("c1")
    for key, path in [("secs", "$.s"), ("bytes", "$.b")]:
        body = {"key": key, "name": key, "event_type": "call.completed"}
        r = env.post("/v1/meters", {**body, "aggregation": "sum", "value": path})
        assert r.status_code == 201, r.text
    events = [
        {
            "id": str(i),
            "type": "call.completed",
            "subject": "c1",
            "time": f"2026-11-05T10:{i // 60:02d}:{i % 60:02d}Z",
            "data": {"s": "oops" if i % 2 else i, "b": i},
        }
        for i in range(300)
    ]
    assert env.post("/v1/events", events).status_code == 202
    counting = _Counting(store._con)
    monkeypatch.setattr(store, "_con", counting)
    counts = []
    for limit in (5, 50, 300):
        before = counting.statements
        r = env.get("/v1/events", params={"limit": limit})
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert len(data) == limit
        for e in data:  # odd ids have a text duration: the secs meter reports them
            want = (
                [{"meter": "secs", "message": e["errors"][0]["message"]}]
                if int(e["id"]) % 2
                else []
            )
            assert e["errors"] == want
        counts.append(counting.statements - before)
    assert counts[0] == counts[1] == counts[2]
