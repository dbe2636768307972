"""API shapes of bill runs and invoices. Amounts are decimal strings, never numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BillRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: datetime | None = Field(
        None, description="Bill periods that ended at or before this instant (default now)"
    )


class BillRunOut(BaseModel):
    id: int
    seller: str
    as_of: datetime
    status: str = Field(description="queued | running | retrying | done | incomplete")
    invoices: int
    totals: dict[str, str] = Field(description="currency -> total of the run's invoices")
    errors: list[dict[str, Any]]
    invoice_ids: list[int] = Field(default_factory=list)
    created_at: datetime
    finished_at: datetime | None


class LineOut(BaseModel):
    position: int
    kind: str
    description: str
    product: str | None
    meter: str | None
    period_start: datetime | None
    period_end: datetime | None
    quantity: str | None
    unit_amount: str | None
    tiers: list[dict[str, Any]] = Field(description="the rating breakdown (tiers, bands)")
    precise_amount: str
    amount: str
    meta: dict[str, Any]


class InvoiceSummary(BaseModel):
    id: int
    number: str | None
    status: str
    seller: str
    customer: str
    subscription: int | None
    currency: str
    period_start: datetime
    period_end: datetime
    total: str
    amount_due: str
    issued_at: datetime | None
    due_at: datetime | None


class InvoiceOut(InvoiceSummary):
    model_config = ConfigDict(extra="forbid")
    bill_run: int | None
    seller_details: dict[str, Any]
    customer_details: dict[str, Any]
    lines: list[LineOut]
    subtotal: str
    discount_total: str
    tax_total: str
    credits_applied: str
    amount_paid: str
    finalize_after: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    created_at: datetime


class CommitmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minimum: str | None = Field(None, description="Per period; a true-up line for the shortfall")
    cap: str | None = Field(None, description="Per period; usage charges above it are waived")


class CommitmentOut(BaseModel):
    plan: str
    minimum: str | None
    cap: str | None
