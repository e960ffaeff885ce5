"""session_meetings and meeting_registrants: a Zoom meeting per online session, and each
registration's registrant in it (issue 5, the Zoom wiring)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSYNCED = sa.text("attendance_synced_at IS NULL AND meeting_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "session_meetings",
        sa.Column("session_id", GUID(length=16), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("meeting_id", sa.String(length=255), nullable=True),
        sa.Column("join_url", sa.String(length=2000), nullable=True),
        sa.Column("spec_digest", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("attendance_synced_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_session_meetings_event_id_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_meetings"),
        sa.UniqueConstraint(
            "provider", "meeting_id", name="uq_session_meetings_provider_meeting_id"
        ),
    )
    op.create_index("ix_session_meetings_event_id", "session_meetings", ["event_id"])
    op.create_index(
        "ix_session_meetings_unsynced",
        "session_meetings",
        ["session_id"],
        postgresql_where=UNSYNCED,
        sqlite_where=UNSYNCED,
    )
    op.create_table(
        "meeting_registrants",
        sa.Column("registration_id", GUID(length=16), nullable=False),
        sa.Column("session_id", GUID(length=16), nullable=False),
        sa.Column("registrant_id", sa.String(length=255), nullable=False),
        sa.Column("join_url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name="fk_meeting_registrants_registration_id_registrations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["session_meetings.session_id"],
            name="fk_meeting_registrants_session_id_session_meetings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registration_id", "session_id", name="pk_meeting_registrants"),
    )
    op.create_index("ix_meeting_registrants_session_id", "meeting_registrants", ["session_id"])


def downgrade() -> None:
    op.drop_table("meeting_registrants")
    op.drop_table("session_meetings")
