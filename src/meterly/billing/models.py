"""Ledger tables of invoices, bill runs and the seller's billing profile.

Money is `Money` (DECIMAL(38,12); text on SQLite). Every line keeps its precise amount and its
amount rounded once to the currency's minor unit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meterly.storage.ledger import Base, Money, UTCDateTime, utcnow


class SellerProfile(Base):
    """A seller's billing settings and brand (provider or reseller)."""

    __tablename__ = "seller_profiles"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    number_prefix: Mapped[str] = mapped_column(String(20), default="INV")
    grace_hours: Mapped[int] = mapped_column(Integer, default=72)
    net_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    rounding_mode: Mapped[str] = mapped_column(String(10), default="half_up")
    display_name: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(String(100))
    logo_url: Mapped[str | None] = mapped_column(Text)  # data: URL or file path; never fetched
    primary_color: Mapped[str | None] = mapped_column(String(20))
    accent_color: Mapped[str | None] = mapped_column(String(20))
    invoice_footer: Mapped[str | None] = mapped_column(Text)
    support_email: Mapped[str | None] = mapped_column(String(300))
    support_phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NumberSequence(Base):
    """Gapless numbers per (seller, kind, year): taken in the finalizing transaction."""

    __tablename__ = "number_sequences"

    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # invoice | credit_note
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class BillRun(Base):
    __tablename__ = "bill_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|done
    job_id: Mapped[int | None] = mapped_column(Integer)
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    totals: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # currency -> total
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        # the bill run's idempotency guarantee: one invoice per (subscription, period)
        UniqueConstraint("subscription_id", "period_start", name="uq_invoice_subscription_period"),
        UniqueConstraint("seller_id", "number", name="uq_invoice_seller_number"),
        Index("ix_invoices_customer_period", "customer_id", "period_start"),
        Index("ix_invoices_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    bill_run_id: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(50))  # assigned at finalization
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft|finalized|paid|void
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # snapshots taken at finalization: a finalized invoice never changes
    seller_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customer_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    discount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    credits_applied: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    amount_paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    amount_due: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    finalize_after: Mapped[datetime | None] = mapped_column(UTCDateTime())  # end of grace
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InvoiceLine(Base):
    """One line. kind: fee | usage | proration | one_off | minimum | adjustment (charges, summed
    into the subtotal), discount (negative), tax and surcharge (on rounded lines), credit
    (prepaid credits applied, negative)."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    product: Mapped[str | None] = mapped_column(String(100))
    meter: Mapped[str | None] = mapped_column(String(200))
    price_key: Mapped[str | None] = mapped_column(String(100))
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quantity: Mapped[Decimal | None] = mapped_column(Money())
    unit_amount: Mapped[Decimal | None] = mapped_column(Money())
    # tier/band breakdown from the rating core: [{"description", "quantity", "unit_amount", ...}]
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    precise_amount: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    # what the line is about, for reports (margin per customer/product) and late adjustments
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
