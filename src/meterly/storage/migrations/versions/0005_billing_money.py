"""billing money: credits, coupons and discounts, tax rates, payments, credit notes

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import meterly.storage.ledger

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column(
            "percent_off", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True
        ),
        sa.Column(
            "amount_off", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True
        ),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("duration", sa.String(length=10), nullable=False),
        sa.Column("duration_periods", sa.Integer(), nullable=True),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "code"),
    )
    op.create_index(op.f("ix_coupons_seller_id"), "coupons", ["seller_id"], unique=False)
    op.create_table(
        "credit_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.Column(
            "remaining", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("expires_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=True),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column(
            "low_threshold", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True
        ),
        sa.Column("expired_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_credit_grants_customer", "credit_grants", ["customer_id", "currency"], unique=False
    )
    op.create_table(
        "credit_settings",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "low_threshold", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("customer_id", "currency"),
    )
    op.create_table(
        "customer_tax",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=100), nullable=True),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.Column("exempt_surcharges", sa.Boolean(), nullable=False),
        sa.Column("exempt_reason", sa.String(length=500), nullable=True),
        sa.Column("updated_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("jurisdiction", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("rate", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True),
        sa.Column(
            "amount_per_seat", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True
        ),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("seat_product", sa.String(length=100), nullable=True),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "key"),
    )
    op.create_index(op.f("ix_tax_rates_seller_id"), "tax_rates", ["seller_id"], unique=False)
    op.create_table(
        "customer_discounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "percent_off", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True
        ),
        sa.Column(
            "amount_off", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True
        ),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("duration", sa.String(length=10), nullable=False),
        sa.Column("duration_periods", sa.Integer(), nullable=True),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("starts_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_customer_discounts_customer_id"),
        "customer_discounts",
        ["customer_id"],
        unique=False,
    )
    op.create_table(
        "customer_tax_rates",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"],
            ["tax_rates.id"],
        ),
        sa.PrimaryKeyConstraint("customer_id", "tax_rate_id"),
    )
    op.create_table(
        "credit_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["credit_grants.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_credit_movements_customer_at", "credit_movements", ["customer_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_credit_movements_grant_id"), "credit_movements", ["grant_id"], unique=False
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("subtotal", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.Column(
            "tax_total", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False
        ),
        sa.Column("total", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("credit_grant_id", sa.Integer(), nullable=True),
        sa.Column("refund_processor", sa.String(length=50), nullable=True),
        sa.Column("refund_ref", sa.String(length=300), nullable=True),
        sa.Column("seller_details", sa.JSON(), nullable=False),
        sa.Column("customer_details", sa.JSON(), nullable=False),
        sa.Column("issued_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_grant_id"],
            ["credit_grants.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "number", name="uq_credit_note_number"),
    )
    op.create_index(
        op.f("ix_credit_notes_invoice_id"), "credit_notes", ["invoice_id"], unique=False
    )
    op.create_table(
        "discount_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("discount_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column(
            "period_start", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("amount", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["discount_id"],
            ["customer_discounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("discount_id", "invoice_id"),
    )
    op.create_index(
        op.f("ix_discount_applications_discount_id"),
        "discount_applications",
        ["discount_id"],
        unique=False,
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("processor", sa.String(length=50), nullable=False),
        sa.Column("processor_ref", sa.String(length=300), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", meterly.storage.ledger.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "idempotency_key", name="uq_payments_idempotency"),
    )
    op.create_index(op.f("ix_payments_invoice_id"), "payments", ["invoice_id"], unique=False)
    op.create_index(
        "ix_payments_processor_ref", "payments", ["processor", "processor_ref"], unique=False
    )
    op.create_table(
        "credit_note_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_note_id", sa.Integer(), nullable=False),
        sa.Column("invoice_line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=True),
        sa.Column("quantity", meterly.storage.ledger.Money(precision=38, scale=12), nullable=True),
        sa.Column("amount", meterly.storage.ledger.Money(precision=38, scale=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_credit_note_lines_credit_note_id"),
        "credit_note_lines",
        ["credit_note_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_credit_note_lines_invoice_line_id"),
        "credit_note_lines",
        ["invoice_line_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_note_lines_invoice_line_id"), table_name="credit_note_lines")
    op.drop_index(op.f("ix_credit_note_lines_credit_note_id"), table_name="credit_note_lines")
    op.drop_table("credit_note_lines")
    op.drop_index("ix_payments_processor_ref", table_name="payments")
    op.drop_index(op.f("ix_payments_invoice_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_discount_applications_discount_id"), table_name="discount_applications")
    op.drop_table("discount_applications")
    op.drop_index(op.f("ix_credit_notes_invoice_id"), table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_index(op.f("ix_credit_movements_grant_id"), table_name="credit_movements")
    op.drop_index("ix_credit_movements_customer_at", table_name="credit_movements")
    op.drop_table("credit_movements")
    op.drop_table("customer_tax_rates")
    op.drop_index(op.f("ix_customer_discounts_customer_id"), table_name="customer_discounts")
    op.drop_table("customer_discounts")
    op.drop_index(op.f("ix_tax_rates_seller_id"), table_name="tax_rates")
    op.drop_table("tax_rates")
    op.drop_table("customer_tax")
    op.drop_table("credit_settings")
    op.drop_index("ix_credit_grants_customer", table_name="credit_grants")
    op.drop_table("credit_grants")
    op.drop_index(op.f("ix_coupons_seller_id"), table_name="coupons")
    op.drop_table("coupons")
