"""The schema. Core tables (not ORM classes): rows map straight to domain dataclasses."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.base import convention
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    CHAR,
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(naming_convention=convention)


def _timestamp(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def _json() -> Any:
    # advanced-alchemy 1.12's JsonB breaks on SQLAlchemy 2.1 (util.portable_instancemethod is gone).
    return JSON().with_variant(JSONB(), "postgresql")


users = Table(
    "users",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("is_superadmin", Boolean, nullable=False, server_default=text("false")),
    Column("professional_title", String(200)),
    Column("professional_body", String(200)),
    Column("registration_number", String(100)),
    Column("phone", String(50)),
    Column("timezone", String(64)),
    Column("bio", Text),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("slug", String(60), nullable=False, unique=True),
    Column("contact_email", String(254)),
    Column("logo_url", String(2000)),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

memberships = Table(
    "memberships",
    metadata,
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), nullable=False),
    _timestamp("created_at"),
    Index("ix_memberships_user_id", "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", GUID, nullable=False),
    _timestamp("issued_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    Index("ix_refresh_tokens_family_id", "family_id"),
    Index("ix_refresh_tokens_user_id", "user_id"),
)

password_reset_tokens = Table(
    "password_reset_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
    Index("ix_password_reset_tokens_user_id", "user_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("payload", _json(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("abandoned", Boolean, nullable=False, server_default=text("false")),
    Column("last_error", Text),
    _timestamp("created_at"),
    _timestamp("available_at"),
    _timestamp("dispatched_at", nullable=True),
    _timestamp("completed_at", nullable=True),
    # A worker running the task holds it until then, renewing while it runs: a second
    # delivery of the task (a queue's redelivery) cannot run it at the same time.
    _timestamp("running_until", nullable=True),
    Column("request_id", String(64)),
    # The relay's only query: undispatched tasks by due time. Partial, so it stays small.
    Index(
        "ix_outbox_due",
        "available_at",
        postgresql_where=text("dispatched_at IS NULL AND NOT abandoned"),
        sqlite_where=text("dispatched_at IS NULL AND NOT abandoned"),
    ),
)

# The catalog lists published events by start time; partial, so drafts and history cost nothing.
PUBLISHED = text("status = 'published'")

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
    _timestamp("created_at"),
    _timestamp("updated_at"),
    # A copy of the sessions as the catalog shows them, ``[[id, title, starts_at, ends_at]]`` in
    # start order (JSON text), written with ``event_sessions`` by ``SqlEventRepository`` in the
    # same transaction. ``event_sessions`` stays the truth; this spares the public list a
    # lookup per event (PostgreSQL: 62 instead of 143 us per page of 20).
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

courses = Table(
    "courses",
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
    Column("description", Text, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("price_amount", Integer, nullable=False),
    Column("price_currency", CHAR(3), nullable=False),
    Column("cpd_credits", Numeric(7, 2), nullable=False),
    Column("credit_category", String(100)),
    Column("status", String(20), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    UniqueConstraint("organization_id", "slug", name="uq_courses_organization_id_slug"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("course_id", GUID, ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _timestamp("enrolled_at"),
    Column("status", String(20), nullable=False),
    UniqueConstraint("course_id", "user_id", name="uq_enrollments_course_id_user_id"),
    Index("ix_enrollments_user_id", "user_id"),
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
    # The registration attended under; none for a walk-in recorded by staff.
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

# Registrations. One active registration (``cpd.domain.registrations.ACTIVE``) per person per
# event, enforced by a partial unique index so a race between two requests ends in Conflict.
ACTIVE_REGISTRATION = text("status IN ('pending_payment', 'confirmed', 'waitlisted', 'offered')")

registrations = Table(
    "registrations",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("event_id", GUID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount_due_amount", Integer, nullable=False),
    Column("amount_due_currency", CHAR(3), nullable=False),
    Column("check_in_code", String(64), nullable=False, unique=True),
    # [{"name", "email", "registration_number"}], one per seat or none.
    Column("attendees", _json(), nullable=False),
    _timestamp("hold_expires_at", nullable=True),
    _timestamp("offer_expires_at", nullable=True),
    _timestamp("waitlisted_at", nullable=True),
    Column("paid", Integer, nullable=False, server_default=text("0")),
    Column("refunded", Integer, nullable=False, server_default=text("0")),
    # [[days_before, percent]], snapshotted when paid; NULL until then.
    Column("refund_policy", _json(), nullable=True),
    Column("payment_reference", String(255), nullable=True, unique=True),
    Column("refund_references", _json(), nullable=False, server_default=text("'[]'")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    CheckConstraint("seats > 0", name="seats_positive"),
    CheckConstraint("refunded >= 0 AND refunded <= paid", name="refunded_within_paid"),
    Index(
        "uq_registrations_active_event_id_user_id",
        "event_id",
        "user_id",
        unique=True,
        postgresql_where=ACTIVE_REGISTRATION,
        sqlite_where=ACTIVE_REGISTRATION,
    ),
    # The waitlist in order, and the seats held (both by event and status).
    Index("ix_registrations_event_id_status_waitlisted_at", "event_id", "status", "waitlisted_at"),
    # Housekeeping: holds and offers whose time ran out.
    Index("ix_registrations_status_hold_expires_at", "status", "hold_expires_at"),
    Index("ix_registrations_status_offer_expires_at", "status", "offer_expires_at"),
    # A person's registrations, newest first.
    Index("ix_registrations_user_id_created_at", "user_id", "created_at"),
)


webhook_events = Table(
    "webhook_events",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    _timestamp("received_at"),
)


idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("resource_id", GUID),  # what the first request made (a registration)
    Column("response", Text),  # NULL until the answer is stored
    _timestamp("created_at"),
)


# Messaging: the log of every email sent, in-app notifications, and who opted out of what.

communications = Table(
    "communications",
    metadata,
    Column("id", GUID, primary_key=True),  # the delivery id: retries update this row
    Column("recipient", String(254), nullable=False),
    # The log outlives the people and tenants it mentions: operators still see what went out.
    Column("user_id", GUID, ForeignKey("users.id", ondelete="SET NULL")),
    Column("organization_id", GUID, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("template", String(100), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("related_type", String(50)),
    Column("related_id", GUID),
    Column("status", String(10), nullable=False),
    Column("provider_message_id", String(255)),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    _timestamp("created_at"),
    _timestamp("sent_at", nullable=True),
    # The two lists: an organization's log and a person's, newest first.
    Index("ix_communications_organization_id_created_at", "organization_id", "created_at"),
    Index("ix_communications_user_id_created_at", "user_id", "created_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", GUID, primary_key=True),  # the delivery id of the email it came with
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", GUID, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("kind", String(100), nullable=False),
    Column("title", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("related_type", String(50)),
    Column("related_id", GUID),
    _timestamp("created_at"),
    _timestamp("read_at", nullable=True),
    Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("event_reminders", Boolean, nullable=False),
    Column("waitlist_updates", Boolean, nullable=False),
    _timestamp("updated_at"),
)

# A provider meeting per session of an online or hybrid event. No foreign key to the session:
# when a session is removed its row stays until the sync has deleted the meeting at the
# provider (it needs the id for that), then goes. ``meeting_id`` is NULL while being created.
session_meetings = Table(
    "session_meetings",
    metadata,
    Column("session_id", GUID, primary_key=True),
    Column("event_id", GUID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("meeting_id", String(255)),
    Column("join_url", String(2000)),
    Column("spec_digest", String(64), nullable=False),
    _timestamp("claimed_at"),
    _timestamp("attendance_synced_at", nullable=True),
    UniqueConstraint("provider", "meeting_id", name="uq_session_meetings_provider_meeting_id"),
    Index("ix_session_meetings_event_id", "event_id"),
    # The attendance sweep: created meetings not yet synced.
    Index(
        "ix_session_meetings_unsynced",
        "session_id",
        postgresql_where=text("attendance_synced_at IS NULL AND meeting_id IS NOT NULL"),
        sqlite_where=text("attendance_synced_at IS NULL AND meeting_id IS NOT NULL"),
    ),
)

# A registration's registrant in a session's meeting: their id there and personal join link.
meeting_registrants = Table(
    "meeting_registrants",
    metadata,
    Column(
        "registration_id",
        GUID,
        ForeignKey("registrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "session_id",
        GUID,
        ForeignKey("session_meetings.session_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("registrant_id", String(255), nullable=False),
    Column("join_url", String(2000), nullable=False),
    _timestamp("created_at"),
    Index("ix_meeting_registrants_session_id", "session_id"),
)


# Certificates: the organization's designs and badges, the certificates issued with them, the
# keys that sign their credentials, and the jobs that issue them in bulk.

certificate_templates = Table(
    "certificate_templates",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(200), nullable=False),
    Column("source", LargeBinary, nullable=False),  # UTF-8 Typst source, at most 512 KiB
    Column("logo_data", LargeBinary),
    Column("logo_mime", String(50)),
    Column("signatory_name", String(120)),
    Column("signatory_title", String(120)),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Index("ix_certificate_templates_organization_id", "organization_id"),
    # At most one default per organization; ``save`` clears the old one first.
    Index(
        "uq_certificate_templates_default_organization_id",
        "organization_id",
        unique=True,
        postgresql_where=text("is_default"),
        sqlite_where=text("is_default"),
    ),
)

badges = Table(
    "badges",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("image_data", LargeBinary),
    Column("image_mime", String(50)),
    # ["<event or course id>", ...]: the activities whose certificates come with the badge.
    Column("awarded_for", _json(), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Index("ix_badges_organization_id", "organization_id"),
)

# One row per organization: the last certificate number handed out, taken by one upsert so
# concurrent issuers get disjoint ranges and a rolled-back range is handed out again.
certificate_sequences = Table(
    "certificate_sequences",
    metadata,
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("last_sequence", Integer, nullable=False),
)

# A certificate with its ``Holder`` and ``Activity`` flattened into columns. ``source_id`` is an
# event or a course (``source`` says which), so it has no foreign key.
certificates = Table(
    "certificates",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # No cascade: deleting a person must not silently delete their certificates (a revoked one
    # would drop out of the status list and verify as valid again).
    Column("holder_id", GUID, ForeignKey("users.id"), nullable=False),
    Column("holder_name", String(201), nullable=False),
    Column("registration_number", String(100)),
    Column("source", String(10), nullable=False),
    Column("source_id", GUID, nullable=False),
    Column("title", String(200), nullable=False),
    Column("cpd_credits", Numeric(6, 2), nullable=False),
    Column("credit_category", String(100)),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("completed_on", Date),
    Column("sequence", Integer, nullable=False),
    Column("serial_number", String(40), nullable=False),
    Column("verification_code", String(32), nullable=False, unique=True),
    _timestamp("issued_at"),
    Column("registration_id", GUID, ForeignKey("registrations.id", ondelete="SET NULL")),
    Column("enrollment_id", GUID, ForeignKey("enrollments.id", ondelete="SET NULL")),
    Column("template_id", GUID, ForeignKey("certificate_templates.id", ondelete="SET NULL")),
    Column("badge_ids", _json(), nullable=False),  # ["<badge id>", ...]
    Column("issued_by", GUID, ForeignKey("users.id", ondelete="SET NULL")),  # NULL: automatic
    Column("override_reason", String(500)),
    Column("version", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    _timestamp("revoked_at", nullable=True),
    Column("revoked_reason", String(500)),
    Column("pdf_key", String(500)),
    _timestamp("updated_at", nullable=True),
    # One per person per activity, ever (a revoked one included). Also serves the per-activity
    # reads (holders, unrendered, list_for_activity), which all lead with source_id.
    UniqueConstraint("source_id", "holder_id", name="uq_certificates_source_id_holder_id"),
    # The organization's numbering (serials, status-list positions); also its revoked list.
    UniqueConstraint(
        "organization_id", "sequence", name="uq_certificates_organization_id_sequence"
    ),
    # A person's certificates, newest first.
    Index("ix_certificates_holder_id_issued_at", "holder_id", "issued_at"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(1000), primary_key=True),  # "<JWKS URL>#<RFC 7638 thumbprint>"
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("algorithm", String(20), nullable=False),
    Column("public_jwk", _json(), nullable=False),
    Column("private_material", LargeBinary, nullable=False),  # wrapped by the adapter
    _timestamp("created_at"),
    Index("ix_signing_keys_organization_id", "organization_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("kind", String(50), nullable=False),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("subject_id", GUID, nullable=False),  # an event or a course: no foreign key
    Column("created_by", GUID, ForeignKey("users.id", ondelete="SET NULL")),  # NULL: platform
    Column("status", String(20), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("errors", _json(), nullable=False),  # ["<message>", ...], the first 50
    _timestamp("created_at"),
    _timestamp("started_at", nullable=True),
    _timestamp("finished_at", nullable=True),
)
