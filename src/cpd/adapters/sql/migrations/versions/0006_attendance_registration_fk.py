"""attendance.registration_id refers to registrations (attendance attaches to registrations)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _attendance(*, registration_fk: bool) -> sa.Table:
    """The table as 0002 made it (and 0006, with ``registration_fk``). SQLite alters a table by
    copying it, and reflection would see GUIDs and UTC timestamps only by their affinity; the
    copy is made from this instead."""

    def guid(name: str, *, nullable: bool = False) -> sa.Column[object]:
        return sa.Column(name, GUID(length=16), nullable=nullable)

    def utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
        return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)

    return sa.Table(
        "attendance",
        sa.MetaData(),
        guid("id"),
        guid("event_id"),
        guid("session_id"),
        guid("user_id"),
        guid("registration_id", nullable=True),
        sa.Column("minutes_attended", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        utc("recorded_at"),
        utc("checked_in_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_attendance_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name="fk_attendance_session_id_event_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_attendance_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attendance"),
        sa.UniqueConstraint("session_id", "user_id", name="uq_attendance_session_id_user_id"),
        sa.Index("ix_attendance_event_id_user_id", "event_id", "user_id"),
        sa.Index("ix_attendance_user_id", "user_id"),
        *(
            [
                sa.ForeignKeyConstraint(
                    ["registration_id"],
                    ["registrations.id"],
                    name="fk_attendance_registration_id_registrations",
                    ondelete="SET NULL",
                ),
                sa.Index("ix_attendance_registration_id", "registration_id"),
            ]
            if registration_fk
            else []
        ),
    )


def upgrade() -> None:
    # Rows written before registrations existed may name none; any other dangling id is cleared.
    op.execute(
        "UPDATE attendance SET registration_id = NULL WHERE registration_id IS NOT NULL"
        " AND registration_id NOT IN (SELECT id FROM registrations)"
    )
    with op.batch_alter_table("attendance", copy_from=_attendance(registration_fk=False)) as batch:
        batch.create_foreign_key(
            "fk_attendance_registration_id_registrations",
            "registrations",
            ["registration_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_attendance_registration_id", ["registration_id"])


def downgrade() -> None:
    with op.batch_alter_table("attendance", copy_from=_attendance(registration_fk=True)) as batch:
        batch.drop_index("ix_attendance_registration_id")
        batch.drop_constraint("fk_attendance_registration_id_registrations", type_="foreignkey")
