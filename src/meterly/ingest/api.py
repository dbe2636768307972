"""HTTP endpoints for events: ingest (hot path: raw body + msgspec), list, void, amend."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from meterly.api.deps import PrincipalDep, RuntimeDep
from meterly.errors import InvalidInput, MeterlyError, TooLarge
from meterly.ingest import corrections, listing, service
from meterly.ingest.schemas import (
    AmendRequest,
    EventIn,
    EventList,
    EventOut,
    IngestResponse,
    VoidRequest,
)

router = APIRouter(prefix="/v1/events", tags=["events"])

JSON_TYPES = (
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
)

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            t: {
                "schema": {
                    "oneOf": [
                        EventIn.model_json_schema(),
                        {"type": "array", "items": EventIn.model_json_schema()},
                    ]
                }
            }
            for t in JSON_TYPES
        },
    }
}


class UnsupportedMediaType(MeterlyError):
    code = "unsupported_media_type"
    status = 415


@router.post(
    "",
    status_code=202,
    response_model=IngestResponse,
    openapi_extra=_BODY_DOC,
    summary="Ingest one event or a batch (up to 10,000 events / 10 MB)",
)
async def ingest_events(request: Request, principal: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Answers 202 once the events are on disk. Malformed events are rejected by index; the
    valid ones of the same batch are stored. Duplicates (same source and id) are acknowledged
    and not stored again."""
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"content type '{ctype}' is not accepted; send one of {', '.join(JSON_TYPES)}"
        )
    limit = runtime.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body over {limit} bytes; split it into smaller batches")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body over {limit} bytes; split it into smaller batches")
        chunks.append(chunk)
    body = b"".join(chunks)
    result = await run_in_threadpool(service.ingest, runtime, principal, body)
    return Response(orjson.dumps(result.as_dict()), status_code=202, media_type="application/json")


@router.get("", response_model=EventList)
def list_events(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    subject: str | None = None,
    type: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = None,
) -> EventList:
    return listing.list_events(runtime, principal, subject, type, from_, to, limit, cursor)


@router.post("/{source}/{event_id}/void", response_model=EventOut)
def void_event(
    source: str,
    event_id: str,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    body: Annotated[VoidRequest | None, Body()] = None,
) -> EventOut:
    return corrections.void(runtime, principal, source, event_id, body or VoidRequest())


_AMEND_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": AmendRequest.model_json_schema()}},
    }
}


@router.post("/{source}/{event_id}/amend", response_model=EventOut, openapi_extra=_AMEND_DOC)
async def amend_event(
    source: str, event_id: str, request: Request, principal: PrincipalDep, runtime: RuntimeDep
) -> EventOut:
    """Supersede an event's data and/or time; the original stays in its history."""
    items = service.decode_body(await request.body(), 1)
    if not isinstance(items[0], dict) or len(items) != 1:
        raise InvalidInput('send one JSON object: {"data": {...}, "time": "..."}')
    return await run_in_threadpool(
        corrections.amend, runtime, principal, source, event_id, items[0]
    )


@router.get("/{source}/{event_id}", response_model=EventOut)
def get_event(source: str, event_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> EventOut:
    return corrections.get(runtime, principal, source, event_id)
