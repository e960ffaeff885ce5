"""Provider meetings of sessions and their registrants."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    text,
)

from cpd.adapters.sql.tables.base import _timestamp, metadata

__all__ = ["meeting_registrants", "session_meetings"]  # what ``tables`` re-exports

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
