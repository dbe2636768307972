"""API shapes of plans."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meterly.catalog.schemas import check_key
from meterly.pricing.models import Interval


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str = Field(description="Product key; its kind says how the charge bills")
    price: dict[str, Any] | None = Field(None, description="An inline price definition")
    price_key: str | None = Field(None, description="Or the key of a catalog price")
    meter: str | None = Field(None, description="Usage charges: the meter (or the price's)")
    description: str | None = Field(None, max_length=300)
    wholesale: Literal["pooled", "per_customer"] = Field(
        "pooled", description="Billed to a reseller: tiers on its total, or per end customer"
    )


class EntitlementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feature: str
    enabled: bool = True
    limit: str | None = Field(None, description="Per period; needs a meter. None: on/off only")
    meter: str | None = None
    hard: bool = Field(False, description="true: refuse past the limit; false: bill overage")


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name: str = Field(min_length=1, max_length=300)
    currency: str = "USD"
    interval: Interval = "month"
    ladder: str | None = Field(None, max_length=100, description="Feature-level ladder name")
    level: int | None = Field(None, ge=0, description="Position in the ladder (Basic 1, Pro 2)")
    charges: list[ChargeIn] = Field(default_factory=list)
    entitlements: list[EntitlementIn] = Field(default_factory=list)

    _k = field_validator("key")(lambda cls, v: check_key(v))


class PlanPatch(BaseModel):
    """Any of name, currency, interval, charges, entitlements makes a new version; ladder and
    level are the plan's own and change in place."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=300)
    currency: str | None = None
    interval: Interval | None = None
    ladder: str | None = None
    level: int | None = Field(None, ge=0)
    charges: list[ChargeIn] | None = None
    entitlements: list[EntitlementIn] | None = None


class ChargeOut(BaseModel):
    product: str
    kind: str
    meter: str | None
    description: str
    price: dict[str, Any]
    wholesale: Literal["pooled", "per_customer"] = Field(
        "pooled", description="Billed to a reseller: tiers on its total, or per end customer"
    )


class EntitlementOut(BaseModel):
    feature: str
    enabled: bool
    limit: str | None
    meter: str | None
    hard: bool


class PlanOut(BaseModel):
    key: str
    name: str
    version: int
    latest_version: int
    currency: str
    interval: str
    ladder: str | None
    level: int | None
    seller: str
    charges: list[ChargeOut]
    entitlements: list[EntitlementOut]
    created_at: datetime


class MigrateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_version: int | None = Field(None, ge=1, description="Default: the latest version")
    at: datetime | None = Field(None, description="Effective time; default now")


class MigrateOut(BaseModel):
    plan: str
    to_version: int
    effective_at: datetime
    migrated: list[int] = Field(description="ids of the subscriptions moved")
