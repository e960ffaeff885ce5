"""events, sessions, courses, enrollments and attendance; the catalog's indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED = "status = 'published'"

# PostgreSQL only (SQLite has no tsvector or GIN): the catalog's ``q`` searches a stored
# tsvector of title, summary and tags, where a word is a run of ASCII letters and digits or of
# non-ASCII characters; ``tag`` uses ``tags @> '["x"]'``. A copy, not an import of tables.py, so
# this revision keeps meaning what it meant when it was written.
POSTGRESQL_ONLY = (
    "ALTER TABLE events ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig, regexp_replace("
    "title || ' ' || summary || ' ' || tags::text, "
    r"'[^0-9A-Za-z\u0080-\U0010FFFF]+', ' ', 'g'))) STORED",
    "CREATE INDEX ix_events_search ON events USING gin (search)",
    "CREATE INDEX ix_events_tags ON events USING gin (tags jsonb_path_ops)",
)


def _guid() -> advanced_alchemy.types.guid.GUID:
    return advanced_alchemy.types.guid.GUID(length=16)


def _utc() -> advanced_alchemy.types.datetime.DateTimeUTC:
    return advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", _guid(), nullable=False),
        sa.Column("organization_id", _guid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("price_amount", sa.Integer(), nullable=False),
        sa.Column("price_currency", sa.CHAR(length=3), nullable=False),
        sa.Column("cpd_credits", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("credit_category", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_courses_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("organization_id", "slug", name="uq_courses_organization_id_slug"),
    )
    op.create_table(
        "events",
        sa.Column("id", _guid(), nullable=False),
        sa.Column("organization_id", _guid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("venue_name", sa.String(length=200), nullable=True),
        sa.Column("venue_address", sa.String(length=500), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", _utc(), nullable=True),
        sa.Column("ends_at", _utc(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("seats_taken", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("price_amount", sa.Integer(), nullable=False),
        sa.Column("price_currency", sa.CHAR(length=3), nullable=False),
        sa.Column("cpd_credits", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("credit_category", sa.String(length=100), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("registration_opens_at", _utc(), nullable=True),
        sa.Column("registration_closes_at", _utc(), nullable=True),
        sa.Column("attendance_threshold_percent", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("sessions_json", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("view_json", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.CheckConstraint("seats_taken >= 0", name=op.f("ck_events_seats_taken_not_negative")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("organization_id", "slug", name="uq_events_organization_id_slug"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_published_starts_at",
            ["starts_at", "id"],
            unique=False,
            postgresql_where=sa.text(PUBLISHED),
            sqlite_where=sa.text(PUBLISHED),
        )
        batch_op.create_index(
            "ix_events_published_organization_id_starts_at",
            ["organization_id", "starts_at", "id"],
            unique=False,
            postgresql_where=sa.text(PUBLISHED),
            sqlite_where=sa.text(PUBLISHED),
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_ONLY:
            op.execute(statement)

    op.create_table(
        "enrollments",
        sa.Column("id", _guid(), nullable=False),
        sa.Column("course_id", _guid(), nullable=False),
        sa.Column("user_id", _guid(), nullable=False),
        sa.Column("enrolled_at", _utc(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_enrollments_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_enrollments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("course_id", "user_id", name="uq_enrollments_course_id_user_id"),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index("ix_enrollments_user_id", ["user_id"], unique=False)

    op.create_table(
        "event_sessions",
        sa.Column("id", _guid(), nullable=False),
        sa.Column("event_id", _guid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=True),
        sa.Column("join_url", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_sessions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_sessions")),
    )
    with op.batch_alter_table("event_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_sessions_event_id_starts_at", ["event_id", "starts_at"], unique=False
        )

    op.create_table(
        "attendance",
        sa.Column("id", _guid(), nullable=False),
        sa.Column("event_id", _guid(), nullable=False),
        sa.Column("session_id", _guid(), nullable=False),
        sa.Column("user_id", _guid(), nullable=False),
        sa.Column("registration_id", _guid(), nullable=True),
        sa.Column("minutes_attended", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("checked_in_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_attendance_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f("fk_attendance_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_attendance_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint("session_id", "user_id", name="uq_attendance_session_id_user_id"),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_event_id_user_id", ["event_id", "user_id"], unique=False
        )
        batch_op.create_index("ix_attendance_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (and on PostgreSQL the generated column) with it.
    op.drop_table("attendance")
    op.drop_table("event_sessions")
    op.drop_table("enrollments")
    op.drop_table("events")
    op.drop_table("courses")
