"""Webhook endpoints and the outbox. `emit` is called inside the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.errors import NotFound
from meterly.storage.ledger import utcnow
from meterly.webhooks import signing
from meterly.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from meterly.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointPatch,
)


def emit(session: Session, account_id: int, type_: str, data: dict[str, Any]) -> str | None:
    """Queue `type_` for the account's endpoints that want it (nothing if none do)."""
    endpoints = [
        e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.account_id == account_id, WebhookEndpoint.enabled.is_(True)
            )
        )
        if not e.event_types or type_ in e.event_types
    ]
    if not endpoints:
        return None
    msg_id = "msg_" + uuid.uuid4().hex
    now = utcnow()
    payload = {"type": type_, "timestamp": now.astimezone(UTC).isoformat(), "data": data}
    session.add(WebhookMessage(id=msg_id, account_id=account_id, type=type_, payload=payload))
    session.flush()
    for e in endpoints:
        session.add(WebhookDelivery(message_id=msg_id, endpoint_id=e.id, next_attempt_at=now))
    return msg_id


def _out(e: WebhookEndpoint, account: str, secret: bool = False) -> EndpointOut:
    return EndpointOut(
        id=e.id,
        account=account,
        url=e.url,
        event_types=list(e.event_types),
        enabled=e.enabled,
        description=e.description,
        created_at=e.created_at,
        secret=e.secret if secret else None,
    )


def _endpoint(
    session: Session, principal: Principal, endpoint_id: int
) -> tuple[WebhookEndpoint, Account]:
    row = session.execute(
        select(WebhookEndpoint, Account)
        .join(Account, Account.id == WebhookEndpoint.account_id)
        .where(WebhookEndpoint.id == endpoint_id, in_subtree(principal))
    ).first()
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return row[0], row[1]


def create_endpoint(session: Session, principal: Principal, body: EndpointCreate) -> EndpointOut:
    account = account_in_scope(session, principal, body.account or principal.external_id)
    e = WebhookEndpoint(
        account_id=account.id,
        url=body.url,
        secret=signing.new_secret(),
        event_types=body.event_types,
        description=body.description,
    )
    session.add(e)
    session.flush()
    audit.record(session, principal, "webhook.created", "webhook_endpoint", str(e.id), account.id)
    return _out(e, account.external_id, secret=True)


def list_endpoints(session: Session, principal: Principal) -> list[EndpointOut]:
    rows = session.execute(
        select(WebhookEndpoint, Account)
        .join(Account, Account.id == WebhookEndpoint.account_id)
        .where(in_subtree(principal))
        .order_by(WebhookEndpoint.id)
    )
    return [_out(e, a.external_id) for e, a in rows]


def get_endpoint(session: Session, principal: Principal, endpoint_id: int) -> EndpointOut:
    e, a = _endpoint(session, principal, endpoint_id)
    return _out(e, a.external_id)


def update_endpoint(
    session: Session, principal: Principal, endpoint_id: int, body: EndpointPatch
) -> EndpointOut:
    e, a = _endpoint(session, principal, endpoint_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(e, name, value)
    audit.record(session, principal, "webhook.updated", "webhook_endpoint", str(e.id), a.id)
    return _out(e, a.external_id)


def delete_endpoint(session: Session, principal: Principal, endpoint_id: int) -> None:
    e, a = _endpoint(session, principal, endpoint_id)
    e.enabled = False  # deliveries keep their log; nothing new is sent
    audit.record(session, principal, "webhook.disabled", "webhook_endpoint", str(e.id), a.id)


def _delivery_out(session: Session, d: WebhookDelivery, type_: str) -> DeliveryOut:
    attempts = session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == d.id).order_by(WebhookAttempt.id)
    )
    return DeliveryOut(
        id=d.id,
        message_id=d.message_id,
        type=type_,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        delivered_at=d.delivered_at,
        log=[
            AttemptOut(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms)
            for a in attempts
        ],
    )


def list_deliveries(session: Session, principal: Principal, endpoint_id: int) -> list[DeliveryOut]:
    e, _ = _endpoint(session, principal, endpoint_id)
    rows = session.execute(
        select(WebhookDelivery, WebhookMessage.type)
        .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
        .where(WebhookDelivery.endpoint_id == e.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(200)
    )
    return [_delivery_out(session, d, t) for d, t in rows]


def redeliver(
    session: Session, principal: Principal, delivery_id: int, now: datetime
) -> DeliveryOut:
    row = session.execute(
        select(WebhookDelivery, WebhookMessage.type, Account.id)
        .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(Account, Account.id == WebhookEndpoint.account_id)
        .where(WebhookDelivery.id == delivery_id, in_subtree(principal))
    ).first()
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    d, type_, account_id = row
    d.status = "pending"
    d.attempts = 0  # a manual redelivery starts a fresh retry schedule
    d.next_attempt_at = now
    audit.record(
        session, principal, "webhook.redelivered", "webhook_delivery", str(d.id), account_id
    )
    return _delivery_out(session, d, type_)
