"""walk_ins: attendance of people without a registration, as staff typed them

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _guid(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, GUID(length=16), nullable=nullable)


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_index("ix_walk_ins_event_id", table_name="walk_ins")
    op.drop_table("walk_ins")
