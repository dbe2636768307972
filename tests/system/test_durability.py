"""A 202 means on disk: SIGKILL the server right after acknowledgements, restart, find all."""

from __future__ import annotations

import threading

import httpx
import pytest

from servers import Server

pytestmark = pytest.mark.slow


def batch(start: int, n: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"e{i}",
            "type": "call",
            "subject": "c1",
            "time": "2026-11-02T10:00:00Z",
            "data": {"s": i},
        }
        for i in range(start, start + n)
    ]


def count_usage(client: httpx.Client) -> str:
    r = client.get(
        "/v1/meters/calls/usage",
        params={"subject": "c1", "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["rows"][0]["value"])


def test_sigkill_after_acknowledgement_loses_nothing(server: Server) -> None:
    key = server.cli("keys", "create", "--name", "durability").strip().splitlines()[-1]
    server.cli("accounts", "create", "c1", "--name", "C1")
    server.cli("meters", "create", "calls", "--name", "Calls", "--event-type", "call")
    server.start()
    headers = {"Authorization": f"Bearer {key}"}
    acked: set[str] = set()
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for n in range(20):
            r = client.post("/v1/events", json=batch(n * 250, 250))
            assert r.status_code == 202
            acked.update(e["id"] for e in batch(n * 250, 250))
        # concurrent senders, then a kill while more requests may be in flight
        errors: list[BaseException] = []

        def sender(base: int) -> None:
            try:
                for k in range(5):
                    rr = client.post("/v1/events", json=batch(base + k * 100, 100))
                    if rr.status_code == 202:
                        acked.update(e["id"] for e in batch(base + k * 100, 100))
            except httpx.HTTPError as exc:  # the kill may cut a request short: not acked
                errors.append(exc)

        threads = [threading.Thread(target=sender, args=(100_000 + t * 1000,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    server.kill()
    server.start()
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        assert int(count_usage(client)) == len(acked)
        # dedup survives the restart: the first batch comes back as duplicates
        again = client.post("/v1/events", json=batch(0, 250)).json()
        assert again["duplicates"] == 250 and again["accepted"] == 0


def test_kill_mid_stream_keeps_every_acknowledged_event(server: Server) -> None:
    key = server.cli("keys", "create", "--name", "k").strip().splitlines()[-1]
    server.cli("accounts", "create", "c1", "--name", "C1")
    server.cli("meters", "create", "calls", "--name", "Calls", "--event-type", "call")
    server.start()
    headers = {"Authorization": f"Bearer {key}"}
    acked: set[str] = set()
    stop = threading.Event()

    def sender(base: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as c:
            for k in range(200):
                if stop.is_set():
                    return
                try:
                    rr = c.post("/v1/events", json=batch(base + k * 50, 50))
                except httpx.HTTPError:
                    return
                if rr.status_code == 202:
                    acked.update(e["id"] for e in batch(base + k * 50, 50))

    threads = [threading.Thread(target=sender, args=(t * 100_000,)) for t in range(3)]
    for t in threads:
        t.start()
    while len(acked) < 2000 and any(t.is_alive() for t in threads):
        threading.Event().wait(0.01)
    server.kill()  # SIGKILL while senders are mid-request
    stop.set()
    for t in threads:
        t.join()
    server.start()
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        assert int(count_usage(client)) >= len(acked) > 0
        ids = sorted(acked)[:500]
        seen = 0
        for i in range(0, len(ids), 100):
            chunk = [
                {"id": x, "type": "call", "subject": "c1", "time": "2026-11-02T10:00:00Z"}
                for x in ids[i : i + 100]
            ]
            seen += client.post("/v1/events", json=chunk).json()["duplicates"]
        assert seen == len(ids)  # every acknowledged id is already stored
