"""walk_ins: attendance of people without a registration, as staff typed them;
organizations.approved_at: new organizations may await a superadmin's approval;
invitations: joining an organization is by an emailed link the invited account accepts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _guid(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, GUID(length=16), nullable=nullable)


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("organizations", _utc("approved_at", nullable=True))
    # Organizations already running were trusted when they were made: they stay approved.
    op.execute("UPDATE organizations SET approved_at = created_at")
    op.create_table(
        "walk_ins",
        _guid("id"),
        _guid("event_id"),
        _guid("session_id"),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("minutes_attended", sa.Integer(), nullable=False),
        _utc("recorded_at"),
        _utc("checked_in_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_walk_ins_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name="fk_walk_ins_session_id_event_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_walk_ins"),
        sa.UniqueConstraint("session_id", "email", name="uq_walk_ins_session_id_email"),
    )
    op.create_index("ix_walk_ins_event_id", "walk_ins", ["event_id"])
    op.create_table(
        "invitations",
        _guid("id"),
        _guid("organization_id"),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _guid("invited_by", nullable=True),
        _utc("created_at"),
        _utc("expires_at"),
        _utc("accepted_at", nullable=True),
        _guid("accepted_by", nullable=True),
        _utc("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_invitations_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name="fk_invitations_invited_by_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["users.id"],
            name="fk_invitations_accepted_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index(
        "ix_invitations_organization_id_email", "invitations", ["organization_id", "email"]
    )


def downgrade() -> None:
    op.drop_index("ix_invitations_organization_id_email", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("ix_walk_ins_event_id", table_name="walk_ins")
    op.drop_table("walk_ins")
    # Not a batch alteration: on SQLite that copies the table and drops the old one, which
    # deletes every event (ON DELETE CASCADE). SQLite drops a plain column in place.
    op.drop_column("organizations", "approved_at")
