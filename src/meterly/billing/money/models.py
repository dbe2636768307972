"""Ledger tables of the money around invoices.

Every row names the seller whose books it belongs to (the customer's parent, the account that
invoices it), so a reseller's coupons, rates and credits never leak into a sibling's invoices.
Money is `Money` (DECIMAL(38,12); text on SQLite).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meterly.storage.ledger import Base, Money, UTCDateTime, utcnow


class CreditGrant(Base):
    """Prepaid credit. `remaining` caches the sum of its movements (the ledger is the truth)."""

    __tablename__ = "credit_grants"
    __table_args__ = (Index("ix_credit_grants_customer", "customer_id", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money())  # granted, top-ups included
    remaining: Mapped[Decimal] = mapped_column(Money())
    priority: Mapped[int] = mapped_column(Integer, default=50)  # lower is applied first
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    products: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: any product
    reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20), default="grant")  # grant | credit_note
    low_threshold: Mapped[Decimal | None] = mapped_column(Money())  # credits.low for this grant
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditMovement(Base):
    """One signed change of a grant: grant, top_up, credit_note (+), applied, expired (−)."""

    __tablename__ = "credit_movements"
    __table_args__ = (Index("ix_credit_movements_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("credit_grants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money())
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    credit_note_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditSettings(Base):
    """Per-customer balance alert: `credits.low` when the balance falls below the threshold."""

    __tablename__ = "credit_settings"

    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    low_threshold: Mapped[Decimal] = mapped_column(Money())


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (UniqueConstraint("seller_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(300))
    percent_off: Mapped[Decimal | None] = mapped_column(Money())
    amount_off: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    duration: Mapped[str] = mapped_column(String(10))  # once | repeating | forever
    duration_periods: Mapped[int | None] = mapped_column(Integer)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: whole invoice
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    redemptions: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerDiscount(Base):
    """A coupon redeemed onto a customer, or an inline discount. The terms are copied from the
    coupon at redemption so a later edit of the coupon never changes what was promised."""

    __tablename__ = "customer_discounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    name: Mapped[str] = mapped_column(String(300))
    percent_off: Mapped[Decimal | None] = mapped_column(Money())
    amount_off: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    duration: Mapped[str] = mapped_column(String(10))
    duration_periods: Mapped[int | None] = mapped_column(Integer)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DiscountApplication(Base):
    """A discount used on a finalized invoice. Periods used = distinct period starts, so two
    subscriptions invoiced for the same month spend one period of a repeating coupon."""

    __tablename__ = "discount_applications"
    __table_args__ = (UniqueConstraint("discount_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    discount_id: Mapped[int] = mapped_column(ForeignKey("customer_discounts.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TaxRate(Base):
    """kind: tax | surcharge_percent (rate % of the lines' basis) | surcharge_per_seat
    (amount_per_seat × the seat product's quantity)."""

    __tablename__ = "tax_rates"
    __table_args__ = (UniqueConstraint("seller_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    rate: Mapped[Decimal | None] = mapped_column(Money())  # percent, e.g. 6.625
    amount_per_seat: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    seat_product: Mapped[str | None] = mapped_column(String(100))
    products: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every product
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerTax(Base):
    """A customer's jurisdiction (every active rate of it applies) and exemption."""

    __tablename__ = "customer_tax"

    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(100))
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)  # from taxes
    exempt_surcharges: Mapped[bool] = mapped_column(Boolean, default=False)
    exempt_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CustomerTaxRate(Base):
    """A rate assigned to a customer explicitly (besides those of its jurisdiction)."""

    __tablename__ = "customer_tax_rates"

    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    tax_rate_id: Mapped[int] = mapped_column(ForeignKey("tax_rates.id"), primary_key=True)


class Payment(Base):
    """A payment against an invoice. Recorded by hand today (processor "manual", status
    succeeded); a processor connection creates pending rows and settles them by processor_ref."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("seller_id", "idempotency_key", name="uq_payments_idempotency"),
        Index("ix_payments_processor_ref", "processor", "processor_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="succeeded")  # pending|failed|...
    processor: Mapped[str] = mapped_column(String(50), default="manual")
    processor_ref: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditNote(Base):
    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("seller_id", "number", name="uq_credit_note_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    number: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(Money())  # charges credited (after discounts)
    tax_total: Mapped[Decimal] = mapped_column(Money())  # taxes and surcharges credited
    total: Mapped[Decimal] = mapped_column(Money())
    # credit: back to the customer's balance (credit_grant_id); refunded: money returned
    outcome: Mapped[str] = mapped_column(String(20))
    credit_grant_id: Mapped[int | None] = mapped_column(ForeignKey("credit_grants.id"))
    refund_processor: Mapped[str | None] = mapped_column(String(50))
    refund_ref: Mapped[str | None] = mapped_column(String(300))
    seller_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customer_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditNoteLine(Base):
    """One credited amount, pointing at the invoice line it credits (a charge, tax or
    surcharge line), so what remains creditable per line is a sum over these rows."""

    __tablename__ = "credit_note_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id"), index=True)
    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("invoice_lines.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # the invoice line's kind
    description: Mapped[str] = mapped_column(String(500))
    product: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal | None] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
