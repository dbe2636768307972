"""Ledger table of meters. The spec fields are frozen once events match them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meterly.storage.ledger import Base, UTCDateTime, utcnow


class Meter(Base):
    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("owner_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str] = mapped_column(String(200))
    aggregation: Mapped[str] = mapped_column(String(32))
    value: Mapped[str | None] = mapped_column(String(500))
    group_by: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    filter: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
