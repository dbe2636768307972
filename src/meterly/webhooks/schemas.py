"""API shapes of webhooks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

EVENT_TYPES = (
    "invoice.drafted",
    "invoice.finalized",
    "invoice.paid",
    "invoice.voided",
    "invoice.overdue",
    "credit_note.created",
    "bill_run.completed",
    "credits.low",
)


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="http(s) URL that receives POSTs")
    event_types: list[str] = Field(default_factory=list, description="empty: every type")
    account: str | None = Field(None, description="external_id; default your own account")
    description: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")) or len(v) > 2000:
            raise ValueError("must be an http:// or https:// URL")
        return v

    @field_validator("event_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {', '.join(EVENT_TYPES)}")
        return v


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = None
    event_types: list[str] | None = None
    enabled: bool | None = None
    description: str | None = None

    _u = field_validator("url")(lambda cls, v: EndpointCreate._url(v) if v else v)
    _t = field_validator("event_types")(lambda cls, v: EndpointCreate._types(v) if v else v)


class EndpointOut(BaseModel):
    id: int
    account: str
    url: str
    event_types: list[str]
    enabled: bool
    description: str | None
    created_at: datetime
    secret: str | None = Field(None, description="signing secret; shown when created")


class EndpointList(BaseModel):
    data: list[EndpointOut]


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    message_id: str
    type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    delivered_at: datetime | None
    log: list[AttemptOut]


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
