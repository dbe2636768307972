"""A write is acknowledged only once committed: the request's unit of work commits before the
response goes out, so a failing commit answers an error (never a 2xx for lost data), and the
next request — on any connection — sees what the last one acknowledged."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from support import Env


def test_a_failing_commit_is_never_acknowledged(env: Env) -> None:
    def boom(session: Any) -> None:
        raise RuntimeError("disk full")

    client = TestClient(env.client.app, raise_server_exceptions=False)
    event.listen(Session, "before_commit", boom)
    try:
        r = client.post("/v1/products", json={"key": "lost", "name": "Lost", "kind": "usage"},
                        headers=env.h())  # fmt: skip
    finally:
        event.remove(Session, "before_commit", boom)
    assert r.status_code == 500, r.text  # not the 201 of a write that never landed
    assert env.get("/v1/products/lost").status_code == 404


def test_an_acknowledged_write_is_visible_to_the_next_request(env: Env) -> None:
    for i in range(20):
        r = env.post("/v1/products", {"key": f"p{i}", "name": f"P {i}", "kind": "usage"})
        assert r.status_code == 201, r.text
        assert env.get(f"/v1/products/p{i}").status_code == 200
