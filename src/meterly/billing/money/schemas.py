"""API shapes of the money around invoices (amounts are decimal strings in JSON)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterly.catalog.schemas import check_key

Amount = Decimal
Duration = Literal["once", "repeating", "forever"]


def _currency(v: str | None) -> str | None:
    return v.upper() if v is not None else None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- credits ---------------------------------------------------------------------------------


class CreditGrantIn(_In):
    amount: Amount = Field(gt=0)
    currency: str | None = Field(None, description="default: the customer's currency")
    priority: int = Field(50, ge=0, le=1000, description="lower is applied first")
    expires_at: datetime | None = None
    products: list[str] = Field(default_factory=list, description="empty: any product")
    reason: str | None = Field(None, max_length=500)
    top_up: int | None = Field(None, description="add to this existing grant instead")
    low_threshold: Amount | None = Field(None, ge=0, description="credits.low for this grant")
    customer_low_threshold: Amount | None = Field(
        None, ge=0, description="credits.low when the customer's balance falls below this"
    )

    _c = field_validator("currency")(lambda cls, v: _currency(v))


class CreditGrantOut(BaseModel):
    id: int
    currency: str
    amount: Amount
    remaining: Amount
    priority: int
    expires_at: datetime | None
    products: list[str]
    reason: str | None
    source: str
    expired: bool
    created_at: datetime


class CreditMovementOut(BaseModel):
    id: int
    grant_id: int
    kind: str  # grant | top_up | credit_note | applied | expired
    amount: Amount
    invoice_id: int | None
    credit_note_id: int | None
    note: str | None
    at: datetime


class CreditsOut(BaseModel):
    customer: str
    balances: dict[str, Amount]  # currency -> usable balance now
    low_thresholds: dict[str, Amount]
    grants: list[CreditGrantOut]
    movements: list[CreditMovementOut]


# --- discounts -------------------------------------------------------------------------------


class _DiscountTerms(_In):
    percent_off: Amount | None = Field(None, gt=0, le=100)
    amount_off: Amount | None = Field(None, gt=0)
    currency: str | None = None
    duration: Duration = "once"
    duration_periods: int | None = Field(None, ge=1, description="for duration=repeating")
    applies_to: list[str] = Field(default_factory=list, description="products; empty: all")

    _c = field_validator("currency")(lambda cls, v: _currency(v))

    @model_validator(mode="after")
    def _terms(self) -> _DiscountTerms:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give exactly one of percent_off or amount_off")
        if self.amount_off is not None and self.currency is None:
            raise ValueError("amount_off needs a currency")
        if (self.duration == "repeating") != (self.duration_periods is not None):
            raise ValueError("duration_periods goes with duration=repeating, and only with it")
        return self


class CouponIn(_DiscountTerms):
    code: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    name: str | None = Field(None, max_length=300)
    max_redemptions: int | None = Field(None, ge=1)
    seller: str | None = Field(None, description="default: yours")


class CouponOut(BaseModel):
    code: str
    name: str | None
    percent_off: Amount | None
    amount_off: Amount | None
    currency: str | None
    duration: Duration
    duration_periods: int | None
    applies_to: list[str]
    max_redemptions: int | None
    redemptions: int
    active: bool
    seller: str
    created_at: datetime


class InlineDiscountIn(_DiscountTerms):
    name: str = Field("Discount", min_length=1, max_length=300)


class CustomerDiscountIn(_In):
    coupon: str | None = None
    discount: InlineDiscountIn | None = None
    starts_at: datetime | None = Field(None, description="default now")

    @model_validator(mode="after")
    def _one(self) -> CustomerDiscountIn:
        if (self.coupon is None) == (self.discount is None):
            raise ValueError('give either {"coupon": CODE} or an inline "discount"')
        return self


class CustomerDiscountOut(BaseModel):
    id: int
    customer: str
    coupon: str | None
    name: str
    percent_off: Amount | None
    amount_off: Amount | None
    currency: str | None
    duration: Duration
    duration_periods: int | None
    applies_to: list[str]
    periods_used: int
    active: bool
    starts_at: datetime
    ended_at: datetime | None


# --- taxes -----------------------------------------------------------------------------------

TaxKind = Literal["tax", "surcharge_percent", "surcharge_per_seat"]


class TaxRateIn(_In):
    key: str
    name: str = Field(min_length=1, max_length=300)
    jurisdiction: str | None = Field(None, max_length=100, description="e.g. US-NJ")
    kind: TaxKind = "tax"
    rate: Amount | None = Field(None, ge=0, le=100, description="percent, e.g. 6.625")
    amount_per_seat: Amount | None = Field(None, ge=0)
    currency: str | None = None
    seat_product: str | None = None
    applies_to: list[str] = Field(default_factory=list, description="products; empty: all")
    seller: str | None = Field(None, description="default: yours")

    _k = field_validator("key")(lambda cls, v: check_key(v))
    _c = field_validator("currency")(lambda cls, v: _currency(v))

    @model_validator(mode="after")
    def _shape(self) -> TaxRateIn:
        if self.kind == "surcharge_per_seat":
            if self.amount_per_seat is None or not self.seat_product or not self.currency:
                raise ValueError(
                    "a per-seat surcharge needs amount_per_seat, currency, seat_product"
                )
            if self.rate is not None:
                raise ValueError("a per-seat surcharge has no rate")
        elif self.rate is None or self.amount_per_seat is not None:
            raise ValueError(f"kind {self.kind} needs a rate (percent) and no amount_per_seat")
        return self


class TaxRateOut(BaseModel):
    id: int
    key: str
    name: str
    jurisdiction: str | None
    kind: TaxKind
    rate: Amount | None
    amount_per_seat: Amount | None
    currency: str | None
    seat_product: str | None
    applies_to: list[str]
    active: bool
    seller: str


class CustomerTaxIn(_In):
    jurisdiction: str | None = Field(None, max_length=100)
    rates: list[str] = Field(default_factory=list, description="tax rate keys assigned")
    exempt: bool = False
    exempt_surcharges: bool = Field(False, description="also exempt from regulatory surcharges")
    exempt_reason: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _reason(self) -> CustomerTaxIn:
        if (self.exempt or self.exempt_surcharges) and not self.exempt_reason:
            raise ValueError("an exemption needs exempt_reason (e.g. a certificate number)")
        return self


class CustomerTaxOut(BaseModel):
    customer: str
    jurisdiction: str | None
    rates: list[str]  # explicitly assigned
    applicable: list[TaxRateOut]  # what the next invoice will charge
    exempt: bool
    exempt_surcharges: bool
    exempt_reason: str | None


# --- payments --------------------------------------------------------------------------------


class PaymentIn(_In):
    amount: Amount = Field(gt=0)
    paid_at: datetime | None = Field(None, description="default now")
    method: Literal["card", "ach", "wire", "check", "cash", "credit", "other"] = "other"
    reference: str | None = Field(None, max_length=300)
    idempotency_key: str | None = Field(None, max_length=200)


class PaymentOut(BaseModel):
    id: int
    invoice_id: int
    amount: Amount
    currency: str
    paid_at: datetime
    method: str
    reference: str | None
    status: str
    processor: str
    processor_ref: str | None
    invoice_status: str
    invoice_amount_due: Amount
    created_at: datetime


# --- credit notes ----------------------------------------------------------------------------


class CreditNoteLineIn(_In):
    line_id: int | None = Field(None, description="the invoice line's id")
    position: int | None = Field(None, description="or its position on the invoice")
    amount: Amount | None = Field(None, gt=0, description="default: all that remains")
    quantity: Amount | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> CreditNoteLineIn:
        if self.amount is not None and self.quantity is not None:
            raise ValueError("give amount or quantity, not both")
        if (self.line_id is None) == (self.position is None):
            raise ValueError("give line_id or position")
        return self


class CreditNoteIn(_In):
    reason: str = Field(min_length=1, max_length=2000)
    lines: list[CreditNoteLineIn] | None = Field(None, description="omit: the whole invoice")
    refund: bool = Field(False, description="refunded rather than credited to the balance")
    refund_reference: str | None = Field(None, max_length=300)


class CreditNoteLineOut(BaseModel):
    position: int
    invoice_line_id: int
    kind: str
    description: str
    product: str | None
    quantity: Amount | None
    amount: Amount


class CreditNoteOut(BaseModel):
    """The document's data: everything a rendered credit note shows."""

    id: int
    number: str
    invoice_id: int
    invoice_number: str | None
    seller: str
    customer: str
    currency: str
    reason: str
    outcome: Literal["credit", "refunded"]
    subtotal: Amount
    tax_total: Amount
    total: Amount
    credit_grant_id: int | None
    refund_reference: str | None
    issued_at: datetime
    seller_details: dict[str, object]
    customer_details: dict[str, object]
    lines: list[CreditNoteLineOut]
