"""Ledger tables of plans. A version is immutable: editing a plan adds the next version."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meterly.storage.ledger import Base, Money, UTCDateTime, utcnow


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("seller_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    # Feature levels: plans sharing a ladder name, ordered by level (Basic 1, Pro 2, ...).
    ladder: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[int | None] = mapped_column(Integer)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanVersion(Base):
    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str] = mapped_column(String(10))
    # [{"product", "kind", "meter", "price": {...validated definition...}}]: a snapshot, so a
    # later edit of a catalog price never changes what an existing version bills.
    charges: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanEntitlement(Base):
    """One row per (version, feature) so the entitlement check is a single indexed lookup."""

    __tablename__ = "plan_entitlements"
    __table_args__ = (UniqueConstraint("plan_version_id", "feature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    feature: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    limit: Mapped[Decimal | None] = mapped_column(Money())  # None: on/off only
    meter: Mapped[str | None] = mapped_column(String(200))
    hard: Mapped[bool] = mapped_column(Boolean, default=False)
