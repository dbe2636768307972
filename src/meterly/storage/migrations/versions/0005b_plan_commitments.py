"""billing: plan commitments (minimum per period, spending cap)

Revision ID: 0005b
Revises: 0005 (billing money)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import meterly.storage.ledger

revision = "0005b"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_commitments",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("minimum", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True),
        sa.Column("cap", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True),
        sa.Column("updated_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("plan_id"),
    )


def downgrade() -> None:
    op.drop_table("plan_commitments")
