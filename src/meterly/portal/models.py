"""Ledger table of portal sessions: a link's token is stored only as its hash, like API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meterly.storage.ledger import Base, UTCDateTime, utcnow


class PortalSession(Base):
    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_by_key_id: Mapped[int | None] = mapped_column(Integer)  # None: the local CLI
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
