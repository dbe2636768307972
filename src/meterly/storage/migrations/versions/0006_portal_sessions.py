"""portal: customer portal sessions (hashed link tokens with an expiry)

Revision ID: 0006
Revises: 0005b (plan commitments)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import meterly.storage.ledger

revision = "0006"
down_revision = "0005b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_portal_sessions_customer_id", "portal_sessions", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_customer_id", table_name="portal_sessions")
    op.drop_table("portal_sessions")
