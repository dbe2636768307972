"""Webhooks end to end: outbox, signed delivery verified by `standardwebhooks`, retries with
backoff against a real receiver on 127.0.0.1 that fails at first, the log, redelivery."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from meterly.accounts.scope import account_in_scope
from meterly.cli_support import operator
from meterly.jobs.worker import Worker
from meterly.webhooks import service
from support import Env


class Receiver:
    """A real HTTP receiver that answers 500 to the first `fail_first` requests."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                code = 500 if len(outer.received) < outer.fail_first else 204
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body, code))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=2)
    yield r
    r.close()


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def emit(env: Env, account: str, type_: str, data: dict[str, Any]) -> None:
    with env.runtime.ledger.unit_of_work() as s:
        a = account_in_scope(s, operator(env.runtime), account)
        service.emit(s, a.id, type_, data)


def test_signed_delivery_with_retries_log_and_redelivery(env: Env, receiver: Receiver) -> None:
    env.account("msp-a", kind="reseller")
    key = env.key_for("msp-a")
    r = env.post(
        "/v1/webhooks", {"url": receiver.url, "event_types": ["invoice.finalized"]}, key=key
    )
    assert r.status_code == 201
    endpoint = r.json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    assert env.get(f"/v1/webhooks/{endpoint['id']}", key=key).json()["secret"] is None

    emit(env, "msp-a", "invoice.finalized", {"invoice": "INV-1", "total": "12.30"})
    emit(env, "msp-a", "invoice.paid", {"invoice": "INV-1"})  # filtered out by the endpoint

    clock = Clock(datetime.fromisoformat("2026-12-01T00:00:00+00:00"))
    worker = Worker(env.runtime, clock)
    worker.run_once()
    assert len(receiver.received) == 1  # first attempt: 500
    worker.run_once()
    assert len(receiver.received) == 1  # not due yet: backoff
    clock.now += timedelta(seconds=5)
    worker.run_once()
    assert len(receiver.received) == 2  # second attempt: 500
    clock.now += timedelta(seconds=29)
    worker.run_once()
    assert len(receiver.received) == 2  # the second delay is 30 s
    clock.now += timedelta(seconds=1)
    worker.run_once()
    assert [code for _, _, code in receiver.received] == [500, 500, 204]

    headers, body, _ = receiver.received[-1]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "invoice.finalized" and payload["data"]["total"] == "12.30"
    assert orjson.loads(body)["data"]["invoice"] == "INV-1"

    deliveries = env.get(f"/v1/webhooks/{endpoint['id']}/deliveries", key=key).json()["data"]
    assert len(deliveries) == 1
    d = deliveries[0]
    assert d["status"] == "succeeded" and d["attempts"] == 3
    assert [a["status_code"] for a in d["log"]] == [500, 500, 204]

    r = env.post(f"/v1/webhooks/deliveries/{d['id']}/redeliver", {}, key=key)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    clock.now += timedelta(minutes=1)
    worker.run_once()
    assert len(receiver.received) == 4
    Webhook(secret).verify(receiver.received[-1][1], receiver.received[-1][0])


def test_gives_up_after_about_24_hours(env: Env) -> None:
    dead = Receiver(fail_first=10**6)
    try:
        r = env.post("/v1/webhooks", {"url": dead.url})
        endpoint_id = r.json()["id"]
        emit(env, "skyline", "bill_run.completed", {"invoices": 3})
        start = datetime.fromisoformat("2026-12-01T00:00:00+00:00")
        clock = Clock(start)
        worker = Worker(env.runtime, clock)
        for _ in range(60):  # 30 hours of 30-minute ticks
            worker.run_once()
            clock.now += timedelta(minutes=30)
        d = env.get(f"/v1/webhooks/{endpoint_id}/deliveries").json()["data"][0]
        assert d["status"] == "failed"
        assert d["attempts"] == 11
        last = datetime.fromisoformat(d["log"][-1]["at"])
        assert timedelta(hours=23) <= last - start <= timedelta(hours=26)
    finally:
        dead.close()


def test_endpoints_are_scoped_and_validated(env: Env) -> None:
    env.account("msp-a", kind="reseller")
    env.account("msp-b", kind="reseller")
    key_a, key_b = env.key_for("msp-a"), env.key_for("msp-b")
    r = env.post("/v1/webhooks", {"url": "http://127.0.0.1:9/x"}, key=key_a)
    eid = r.json()["id"]
    assert env.get(f"/v1/webhooks/{eid}", key=key_b).status_code == 404
    assert env.get("/v1/webhooks", key=key_b).json()["data"] == []
    # registering on another tenant's account is refused as not found
    r = env.post("/v1/webhooks", {"url": "http://127.0.0.1:9/x", "account": "msp-a"}, key=key_b)
    assert r.status_code == 404
    r = env.post("/v1/webhooks", {"url": "ftp://x", "event_types": ["nope"]}, key=key_a)
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["details"]} == {"url", "event_types"}
