"""Ledger tables of subscriptions, their changes and one-off purchases.

The subscription row caches what lists filter by (customer, plan, start, end); the truth over
time is `start` plus the ordered `subscription_changes`, from which the state at any instant is
derived (subscriptions.timeline) — billing replays it per period.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meterly.storage.ledger import Base, Money, UTCDateTime, utcnow


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_customer_start", "customer_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    # the version at creation; later versions come from changes (plan / migrate)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trial_days: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[Decimal] = mapped_column(Money())  # at creation
    billing_anchor: Mapped[int] = mapped_column(Integer)  # day of month, 1-31
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SubscriptionChange(Base):
    __tablename__ = "subscription_changes"
    __table_args__ = (Index("ix_subscription_changes_sub_at", "subscription_id", "effective_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    # created | quantity | plan | migrate | add_on_added | add_on_removed | cancel
    kind: Mapped[str] = mapped_column(String(20))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    key_id: Mapped[int | None] = mapped_column(Integer)  # who made it (None: the CLI)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OneOffPurchase(Base):
    """Hardware, set-up fees: billed once on the customer's next invoice."""

    __tablename__ = "one_off_purchases"
    __table_args__ = (Index("ix_one_off_customer_billed", "customer_id", "billed_invoice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    product: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[dict[str, Any]] = mapped_column(JSON)
    precise_amount: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # set by the billing run that invoices it; no FK yet (the invoices table comes later)
    billed_invoice_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
