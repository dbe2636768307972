"""Ledger tables of the accounts domain: the account tree, subject aliases, API keys, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meterly.storage.ledger import Base, UTCDateTime, utcnow


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # provider | reseller | customer
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    # materialized path "/1/7/42/": subtree = path LIKE '/1/7/%' (one indexed prefix scan)
    path: Mapped[str] = mapped_column(String(1000), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    aliases: Mapped[list[AccountAlias]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this account, inclusive."""
        return [int(p) for p in self.path.strip("/").split("/")]


class AccountAlias(Base):
    __tablename__ = "account_aliases"

    alias: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    account: Mapped[Account] = relationship(back_populates="aliases")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists, never the secret
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    key_id: Mapped[int | None] = mapped_column(Integer)  # None: the CLI (local operator)
    account_id: Mapped[int] = mapped_column(Integer)  # the account whose subtree owns the object
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(300))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
