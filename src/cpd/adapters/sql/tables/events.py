"""Events and sessions, the catalog's PostgreSQL-only search, attendance and walk-ins."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.types import GUID
from sqlalchemy import (
    CHAR,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)

from cpd.adapters.sql.tables.base import _json, _timestamp, clashes, metadata

__all__ = [
    "EVENTS_SEARCH_DOCUMENT",
    "POSTGRESQL_ONLY_DDL",
    "POSTGRESQL_ONLY_OBJECTS",
    "PUBLISHED",
    "attendance",
    "event_sessions",
    "events",
    "include_in_autogenerate",
    "walk_ins",
]  # what ``tables`` re-exports

# The catalog lists published events by start time; partial, so drafts and history cost nothing.
PUBLISHED = text("status = 'published'")

_SLUG = ("slug", "This organization already has an event with this slug.")

events = Table(
    "events",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title", String(200), nullable=False),
    Column("slug", String(60), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("description", Text, nullable=False),
    Column("format", String(20), nullable=False),
    Column("venue_name", String(200)),
    Column("venue_address", String(500)),
    Column("timezone", String(64), nullable=False),
    _timestamp("starts_at", nullable=True),
    _timestamp("ends_at", nullable=True),
    Column("capacity", Integer),
    # Kept by registrations with one conditional UPDATE; never written from ``Event``.
    Column("seats_taken", Integer, nullable=False, server_default=text("0")),
    Column("price_amount", Integer, nullable=False),
    Column("price_currency", CHAR(3), nullable=False),
    Column("cpd_credits", Numeric(7, 2), nullable=False),
    Column("credit_category", String(100)),
    Column("tags", _json(), nullable=False),
    _timestamp("registration_opens_at", nullable=True),
    _timestamp("registration_closes_at", nullable=True),
    Column("attendance_threshold_percent", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("refund_policy", _json(), nullable=True),  # NULL: the organization's applies
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _timestamp("completed_at", nullable=True),
    # Who completed it: a record, not a link (the account may be deleted; the record stays).
    Column("completed_by", GUID),
    # Why staff completed it before its last session ended.
    Column("completion_override_reason", String(500)),
    # A copy of the sessions as the catalog shows them, ``[[id, title, starts_at, ends_at]]`` in
    # start order (JSON text), written with ``event_sessions`` by ``SqlEventRepository`` in the
    # same transaction. ``event_sessions`` stays the truth; this spares the public list a
    # lookup per event (figures: bench/README.md).
    Column("sessions_json", Text, nullable=False, server_default=text("'[]'")),
    # The event as the catalog lists it, less organization and seats (catalog_documents.py).
    Column("view_json", Text, nullable=False, server_default=text("'{}'")),
    UniqueConstraint("organization_id", "slug", name="uq_events_organization_id_slug"),
    CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
    Index(
        "ix_events_published_starts_at",
        "starts_at",
        "id",
        postgresql_where=PUBLISHED,
        sqlite_where=PUBLISHED,
    ),
    # An organization's published events in order (its public page, ``organization=``).
    Index(
        "ix_events_published_organization_id_starts_at",
        "organization_id",
        "starts_at",
        "id",
        postgresql_where=PUBLISHED,
        sqlite_where=PUBLISHED,
    ),
    info=clashes((_SLUG, "uq_events_organization_id_slug", "events.organization_id, events.slug")),
)

# PostgreSQL only, outside the table definition because SQLite has no equivalent: a stored
# tsvector for the catalog's ``q`` and GIN indexes over it and over tags. Words are runs of ASCII
# letters and digits or of non-ASCII characters (punctuation splits them, so "COVID-19" gives
# "covid" and "19"), matching ``cpd.adapters.sql.catalog`` and the memory adapter.
EVENTS_SEARCH_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "title || ' ' || summary || ' ' || tags::text, "
    "'[^0-9A-Za-z\\u0080-\\U0010FFFF]+', ' ', 'g'))"
)
POSTGRESQL_ONLY_DDL = (
    "ALTER TABLE events ADD COLUMN search tsvector "
    f"GENERATED ALWAYS AS ({EVENTS_SEARCH_DOCUMENT}) STORED",
    "CREATE INDEX ix_events_search ON events USING gin (search)",
    "CREATE INDEX ix_events_tags ON events USING gin (tags jsonb_path_ops)",
)
# What autogenerate must not report as drift: (table, column or index name).
POSTGRESQL_ONLY_OBJECTS = frozenset(
    {("events", "search"), ("events", "ix_events_search"), ("events", "ix_events_tags")}
)


@event.listens_for(events, "after_create")
def _create_postgresql_only(_: Table, connection: Connection, **__: Any) -> None:
    """``metadata.create_all`` builds what migration 0002 builds."""
    if connection.dialect.name == "postgresql":
        for statement in POSTGRESQL_ONLY_DDL:
            connection.exec_driver_sql(statement)


def include_in_autogenerate(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object``: leave the PostgreSQL-only DDL above out of comparisons."""
    if type_ in {"column", "index"}:
        table = getattr(obj, "table", None)
        if table is not None and (table.name, name) in POSTGRESQL_ONLY_OBJECTS:
            return False
    return True


event_sessions = Table(
    "event_sessions",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("event_id", GUID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    _timestamp("starts_at"),
    _timestamp("ends_at"),
    Column("room", String(200)),
    Column("join_url", String(2000)),
    Index("ix_event_sessions_event_id_starts_at", "event_id", "starts_at"),
)

attendance = Table(
    "attendance",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("event_id", GUID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column(
        "session_id",
        GUID,
        ForeignKey("event_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # The registration attended under; none on rows older than the walk-ins table, or after the
    # registration was deleted.
    Column(
        "registration_id",
        GUID,
        ForeignKey("registrations.id", ondelete="SET NULL", use_alter=True),
        index=True,
    ),
    Column("minutes_attended", Integer, nullable=False),
    Column("source", String(20), nullable=False),
    _timestamp("recorded_at"),
    _timestamp("checked_in_at", nullable=True),
    UniqueConstraint("session_id", "user_id", name="uq_attendance_session_id_user_id"),
    Index("ix_attendance_event_id_user_id", "event_id", "user_id"),
    Index("ix_attendance_user_id", "user_id"),
)

# Walk-ins: attendance of people staff let in unregistered, under what staff typed (no account).
walk_ins = Table(
    "walk_ins",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("event_id", GUID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column(
        "session_id",
        GUID,
        ForeignKey("event_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("email", String(254), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("minutes_attended", Integer, nullable=False),
    _timestamp("recorded_at"),
    _timestamp("checked_in_at", nullable=True),
    UniqueConstraint("session_id", "email", name="uq_walk_ins_session_id_email"),
    Index("ix_walk_ins_event_id", "event_id"),
)
