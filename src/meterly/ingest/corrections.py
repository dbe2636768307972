"""Void and amend: new records in the event store's audit trail, never updates of the original."""

from __future__ import annotations

from typing import Any

import orjson

from meterly.accounts import audit
from meterly.accounts.scope import Principal
from meterly.errors import Conflict, InvalidInput, NotFound
from meterly.ingest.parse import _encoder, parse_time
from meterly.ingest.schemas import CorrectionOut, EventOut, VoidRequest
from meterly.ingest.service import tenant_of
from meterly.runtime import Runtime
from meterly.storage.events.base import Correction, CorrectionRecord, StoredEvent


def actor_of(principal: Principal) -> str:
    return f"key:{principal.key_id}" if principal.key_id is not None else "cli"


def event_out(e: StoredEvent, history: list[CorrectionRecord] | None = None) -> EventOut:
    return EventOut(
        id=e.id,
        source=e.source,
        type=e.type,
        subject=e.subject,
        time=e.time,
        data=orjson.loads(e.data),
        received_at=e.received_at,
        status=e.status,
        history=None
        if history is None
        else [
            CorrectionOut(
                seq=h.seq,
                kind=h.kind,
                actor=h.actor,
                reason=h.reason,
                data=orjson.loads(h.data) if h.data else None,
                time=h.time,
                at=h.at,
            )
            for h in history
        ],
    )


def get(runtime: Runtime, principal: Principal, source: str, event_id: str) -> EventOut:
    tenant = tenant_of(principal)
    e = runtime.events.get(tenant, source, event_id)
    if e is None:
        raise NotFound(f"event '{source}/{event_id}' not found")
    return event_out(e, runtime.events.history(tenant, source, event_id))


def _apply(runtime: Runtime, principal: Principal, c: Correction) -> EventOut:
    try:
        e = runtime.events.correct(c)
    except LookupError:
        raise NotFound(f"event '{c.source}/{c.id}' not found") from None
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    with runtime.ledger.unit_of_work() as s:
        audit.record(
            s, principal, f"event.{c.kind}", "event", f"{c.source}/{c.id}", reason=c.reason
        )
    return event_out(e, runtime.events.history(c.tenant, c.source, c.id))


def void(
    runtime: Runtime, principal: Principal, source: str, event_id: str, body: VoidRequest
) -> EventOut:
    c = Correction(tenant_of(principal), source, event_id, "void", actor_of(principal), body.reason)
    return _apply(runtime, principal, c)


def amend(
    runtime: Runtime, principal: Principal, source: str, event_id: str, body: dict[str, Any]
) -> EventOut:
    """`body` is decoded with Decimal numbers (see ingest.parse) so amended data stays exact."""
    unknown = set(body) - {"data", "time", "reason"}
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {sorted(unknown)}; an amendment takes data, time and reason",
            [{"field": f, "message": "not allowed"} for f in sorted(unknown)],
        )
    data, raw_time, reason = body.get("data"), body.get("time"), body.get("reason")
    if data is None and raw_time is None:
        raise InvalidInput(
            "an amendment needs a new data object and/or time",
            [{"field": "data", "message": "required when time is absent"}],
        )
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("data must be a JSON object", [{"field": "data", "message": "object"}])
    try:
        t = parse_time(raw_time) if raw_time is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc), [{"field": "time", "message": str(exc)}]) from None
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be a string", [{"field": "reason", "message": "string"}])
    c = Correction(
        tenant_of(principal),
        source,
        event_id,
        "amend",
        actor_of(principal),
        reason,
        data=_encoder.encode(data).decode() if data is not None else None,
        time=t,
    )
    return _apply(runtime, principal, c)
