"""API shapes of the events domain (documentation and responses; ingest parses raw bytes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventIn(BaseModel):
    """One event, with the CloudEvents field names."""

    id: str = Field(description="Unique per source; (source, id) is the dedup key")
    source: str = Field("api", description="Where the event comes from")
    type: str = Field(description="Event type, matched by meters' event_type")
    subject: str = Field(description="An account's external_id or one of its subject aliases")
    time: datetime | None = Field(None, description="RFC 3339 with offset; default: receipt time")
    data: dict[str, Any] = Field(default_factory=dict)


class FieldError(BaseModel):
    field: str
    message: str


class Rejected(BaseModel):
    index: int
    id: str | None
    errors: list[FieldError]


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    unattributed: int
    rejected: list[Rejected]


class ValueError_(BaseModel):
    meter: str
    message: str


class CorrectionOut(BaseModel):
    seq: int
    kind: str
    actor: str
    reason: str | None
    data: dict[str, Any] | None
    time: datetime | None
    at: datetime


class EventOut(BaseModel):
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    data: dict[str, Any]
    received_at: datetime
    status: str = Field(description="ok, voided or amended")
    errors: list[ValueError_] = Field(default_factory=list, description="per-meter value errors")
    history: list[CorrectionOut] | None = None


class EventList(BaseModel):
    data: list[EventOut]
    next_cursor: str | None = None


class VoidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = None


class AmendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] | None = None
    time: datetime | None = None
    reason: str | None = None
