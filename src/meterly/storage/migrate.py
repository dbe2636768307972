"""Apply Alembic migrations and create the provider (root) account on first upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.storage.ledger import Ledger

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(ledger: Ledger, provider_id: str, provider_name: str) -> None:
    cfg = alembic_config()
    # SQLite: the write engine's BEGIN IMMEDIATE gives Alembic one write transaction.
    with ledger.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with ledger.unit_of_work() as s:
        if s.scalar(select(Account).where(Account.parent_id.is_(None))) is None:
            root = Account(external_id=provider_id, name=provider_name, kind="provider", path="/")
            s.add(root)
            s.flush()
            root.path = f"/{root.id}/"


def revision(ledger: Ledger, message: str) -> None:
    """Developer helper: autogenerate a migration from the models."""
    cfg = alembic_config()
    with ledger.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
