"""registrations: seats, holds, the waitlist, payment and refunds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One active registration per person per event (a copy of the domain's ACTIVE statuses, so this
# revision keeps meaning what it meant when it was written).
ACTIVE = "status IN ('pending_payment', 'confirmed', 'waitlisted', 'offered')"


def _guid() -> advanced_alchemy.types.guid.GUID:
    return advanced_alchemy.types.guid.GUID(length=16)


def _utc() -> advanced_alchemy.types.datetime.DateTimeUTC:
    return advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", _guid(), nullable=False),
        sa.Column("event_id", _guid(), nullable=False),
        sa.Column("user_id", _guid(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_due_amount", sa.Integer(), nullable=False),
        sa.Column("amount_due_currency", sa.CHAR(length=3), nullable=False),
        sa.Column("check_in_code", sa.String(length=64), nullable=False),
        sa.Column("attendees", _json(), nullable=False),
        sa.Column("hold_expires_at", _utc(), nullable=True),
        sa.Column("offer_expires_at", _utc(), nullable=True),
        sa.Column("waitlisted_at", _utc(), nullable=True),
        sa.Column("paid", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("refunded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("refund_policy", _json(), nullable=True),
        sa.Column("payment_reference", sa.String(length=255), nullable=True),
        sa.Column("refund_references", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint("seats > 0", name=op.f("ck_registrations_seats_positive")),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= paid",
            name=op.f("ck_registrations_refunded_within_paid"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_registrations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("check_in_code", name=op.f("uq_registrations_check_in_code")),
        sa.UniqueConstraint("payment_reference", name=op.f("uq_registrations_payment_reference")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_registrations_active_event_id_user_id",
            ["event_id", "user_id"],
            unique=True,
            postgresql_where=sa.text(ACTIVE),
            sqlite_where=sa.text(ACTIVE),
        )
        batch_op.create_index(
            "ix_registrations_event_id_status_waitlisted_at",
            ["event_id", "status", "waitlisted_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_registrations_status_hold_expires_at",
            ["status", "hold_expires_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_registrations_status_offer_expires_at",
            ["status", "offer_expires_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_registrations_user_id_created_at", ["user_id", "created_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("registrations")  # its indexes go with it
