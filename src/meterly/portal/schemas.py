"""Request and response bodies of the portal-session endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from meterly.portal.service import DEFAULT_TTL_MINUTES, MAX_TTL_MINUTES


class PortalSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Field(description="external_id of the customer (or reseller) in your subtree")
    ttl_minutes: int = Field(
        DEFAULT_TTL_MINUTES, ge=1, le=MAX_TTL_MINUTES, description="how long the link works"
    )


class PortalSessionOut(BaseModel):
    id: int
    customer: str
    url: str = Field(description="open in a browser; the token in it is shown only once")
    expires_at: datetime


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str


class RevokeOut(BaseModel):
    customer: str
    revoked: int
