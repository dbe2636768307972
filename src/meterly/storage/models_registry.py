"""Imports every domain's ledger models so `Base.metadata` is complete (Alembic, tests)."""

from __future__ import annotations

from meterly.accounts import models as _accounts
from meterly.metering import models as _metering
from meterly.storage.ledger import Base

__all__ = ["Base", "_accounts", "_metering"]
