"""Gapless invoice numbers per seller: `{prefix}-{year}-{seq:06d}`, e.g. `SKY-2026-000123`.

The number is taken in the finalizing transaction from a counter row locked for update, so a
rolled-back finalization gives its number back (no gap) and two finalizations never share one.
PostgreSQL: `SELECT … FOR UPDATE` on the row; SQLite: the engine starts every transaction with
BEGIN IMMEDIATE, so writers are serialised anyway. The row is created with an insert that ignores
a concurrent insert of the same key (ON CONFLICT DO NOTHING), then locked.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from meterly.billing.models import NumberSequence


def next_number(session: Session, seller_id: int, kind: str, year: int) -> int:
    """The next number of (seller, kind, year); the caller's transaction must commit it."""
    dialect = session.get_bind().dialect.name
    values = {"seller_id": seller_id, "kind": kind, "year": year, "last": 0}
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(NumberSequence).values(**values).on_conflict_do_nothing())
    row = session.scalars(
        select(NumberSequence)
        .where(
            NumberSequence.seller_id == seller_id,
            NumberSequence.kind == kind,
            NumberSequence.year == year,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    row.last += 1
    session.flush()
    return row.last


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:06d}"
