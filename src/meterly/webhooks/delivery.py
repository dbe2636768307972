"""The worker duty that delivers due webhook messages, signed, with retries and a log."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy import select

from meterly.jobs.worker import duty
from meterly.runtime import Runtime
from meterly.webhooks import signing
from meterly.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

BATCH = 50
LEASE = timedelta(minutes=2)  # a delivery in flight is not picked up by another worker
TIMEOUT = 10.0


@duty
def deliver_due(runtime: Runtime, now: datetime) -> int:
    with runtime.ledger.unit_of_work() as s:
        stmt = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
        )
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(s.scalars(stmt))
        for d in s.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))):
            d.next_attempt_at = now + LEASE
    for delivery_id in ids:
        _deliver(runtime, delivery_id, now)
    return len(ids)


def _deliver(runtime: Runtime, delivery_id: int, now: datetime) -> None:
    with runtime.ledger.sessions() as s:
        row = s.execute(
            select(WebhookDelivery, WebhookEndpoint, WebhookMessage)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
            .where(WebhookDelivery.id == delivery_id)
        ).first()
        if row is None:
            return
        _, endpoint, message = row
        url, secret, msg_id, payload = endpoint.url, endpoint.secret, message.id, message.payload
    body = orjson.dumps(payload)
    # the signed timestamp is the real send time: receivers check it against their own clock
    headers = signing.headers(secret, msg_id, int(time.time()), body)
    status: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        r = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
        status = r.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}: {r.text[:500]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    elapsed = int((time.monotonic() - started) * 1000)
    with runtime.ledger.unit_of_work() as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None:
            return
        d.attempts += 1
        d.last_status_code = status
        d.last_error = error
        s.add(
            WebhookAttempt(
                delivery_id=d.id, at=now, status_code=status, error=error, duration_ms=elapsed
            )
        )
        if error is None:
            d.status = "succeeded"
            d.delivered_at = now
            d.next_attempt_at = None
        else:
            delay = signing.next_delay(d.attempts)
            if delay is None:
                d.status = "failed"
                d.next_attempt_at = None
            else:
                d.next_attempt_at = now + delay
