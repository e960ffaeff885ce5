"""communications (the email log), notifications and notification_preferences

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28

Written beside another 0007; the chain is put in order when both are merged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _guid(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, GUID(length=16), nullable=nullable)


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "communications",
        _guid("id", nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        _guid("user_id"),
        _guid("organization_id"),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("related_type", sa.String(length=50), nullable=True),
        _guid("related_id"),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _utc("created_at"),
        _utc("sent_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_communications_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_communications_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communications")),
    )
    op.create_index(
        "ix_communications_organization_id_created_at",
        "communications",
        ["organization_id", "created_at"],
    )
    op.create_index(
        "ix_communications_user_id_created_at", "communications", ["user_id", "created_at"]
    )
    op.create_table(
        "notifications",
        _guid("id", nullable=False),
        _guid("user_id", nullable=False),
        _guid("organization_id"),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("related_type", sa.String(length=50), nullable=True),
        _guid("related_id"),
        _utc("created_at"),
        _utc("read_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_notifications_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_user_id_created_at", "notifications", ["user_id", "created_at"]
    )
    op.create_table(
        "notification_preferences",
        _guid("user_id", nullable=False),
        sa.Column("event_reminders", sa.Boolean(), nullable=False),
        sa.Column("waitlist_updates", sa.Boolean(), nullable=False),
        _utc("updated_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_user_id_created_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_communications_user_id_created_at", table_name="communications")
    op.drop_index("ix_communications_organization_id_created_at", table_name="communications")
    op.drop_table("communications")
