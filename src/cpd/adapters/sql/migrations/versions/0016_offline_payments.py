"""offline_payments and offline_refunds: the offline gateway's ledger, in the database so
that every server process (``--workers``, several containers) sees the same payments

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offline_payments",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("start_key", sa.String(length=255), nullable=False),
        sa.Column("registration_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("refunded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_offline_payments")),
        sa.UniqueConstraint("start_key", name=op.f("uq_offline_payments_start_key")),
    )
    op.create_table(
        "offline_refunds",
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("receipt_reference", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["reference"],
            ["offline_payments.reference"],
            name=op.f("fk_offline_refunds_reference_offline_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_offline_refunds")),
    )


def downgrade() -> None:
    op.drop_table("offline_refunds")
    op.drop_table("offline_payments")
