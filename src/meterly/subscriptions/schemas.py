"""API shapes of subscriptions, changes, purchases, the upcoming invoice and entitlement checks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from meterly.catalog.schemas import PreviewLine


class AddOnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str | None = Field(
        None, description="Names the add-on on this subscription; default product"
    )
    product: str
    price: dict[str, Any] | None = None
    price_key: str | None = None
    quantity: str = "1"


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Field(description="external_id of the customer account")
    plan: str
    version: int | None = Field(None, ge=1, description="Default: the plan's latest")
    start: datetime | None = Field(None, description="Default now")
    end: datetime | None = None
    trial_days: int = Field(0, ge=0, le=3650)
    quantity: str = Field("1", description="Seats")
    billing_anchor: int | None = Field(
        None, ge=1, le=31, description="Day of month; default the start's; 29-31 clamp"
    )
    add_ons: list[AddOnIn] = Field(default_factory=list)


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_at: datetime | None = Field(None, description="Default now")


class QuantityChange(_Change):
    type: Literal["quantity"]
    quantity: str


class PlanChange(_Change):
    type: Literal["plan"]
    plan: str
    version: int | None = Field(None, ge=1)


class AddOnAdded(_Change):
    type: Literal["add_on_added"]
    add_on: AddOnIn


class AddOnRemoved(_Change):
    type: Literal["add_on_removed"]
    key: str


class Cancel(_Change):
    type: Literal["cancel"]
    at_period_end: bool = False


ChangeIn = Annotated[
    QuantityChange | PlanChange | AddOnAdded | AddOnRemoved | Cancel, Field(discriminator="type")
]


class ChangeOut(BaseModel):
    id: int
    type: str
    effective_at: datetime
    data: dict[str, Any]
    created_at: datetime


class AddOnOut(BaseModel):
    key: str
    product: str
    quantity: str
    price: dict[str, Any]


class SubscriptionOut(BaseModel):
    id: int
    customer: str
    seller: str
    plan: str
    version: int = Field(description="The plan version in force now")
    status: Literal["scheduled", "trialing", "active", "canceled"]
    start: datetime
    end: datetime | None
    trial_end: datetime | None
    quantity: str
    billing_anchor: int
    current_period_start: datetime | None
    current_period_end: datetime | None
    add_ons: list[AddOnOut]
    changes: list[ChangeOut]


class PurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str
    subscription: int | None = Field(
        None, description="Attach to one of the customer's subscriptions"
    )
    product: str
    price: dict[str, Any] | None = Field(None, description="e.g. {'model': 'flat', 'amount': '89'}")
    price_key: str | None = None
    quantity: str = "1"
    description: str | None = Field(None, max_length=300)
    purchased_at: datetime | None = None


class PurchaseOut(BaseModel):
    id: int
    customer: str
    subscription: int | None
    product: str
    description: str
    quantity: str
    currency: str
    precise_amount: str
    amount: str
    purchased_at: datetime
    billed_invoice_id: int | None


class UpcomingLine(BaseModel):
    kind: str
    description: str
    subscription: int | None
    product: str
    meter: str | None
    period_start: datetime
    period_end: datetime
    quantity: str
    unit_amount: str | None
    fraction: str | None
    tiers: list[PreviewLine]
    precise_amount: str
    amount: str


class UpcomingOut(BaseModel):
    customer: str
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    subscriptions: list[int]
    lines: list[UpcomingLine]
    subtotal: str


class EntitlementCheck(BaseModel):
    customer: str
    feature: str
    has_access: bool
    limit: str | None
    used: str | None
    remaining: str | None
    hard: bool
