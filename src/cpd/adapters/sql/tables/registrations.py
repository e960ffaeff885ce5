"""Registrations."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import (
    CHAR,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from cpd.adapters.sql.tables.base import _json, _timestamp, clashes, metadata

__all__ = ["ACTIVE_REGISTRATION", "registrations"]  # what ``tables`` re-exports

# Registrations. One active registration (``cpd.domain.registrations.ACTIVE``) per person per
# event, enforced by a partial unique index so a race between two requests ends in Conflict.
ACTIVE_REGISTRATION = text("status IN ('pending_payment', 'confirmed', 'waitlisted', 'offered')")

_REGISTERED = ("event_id", "You already have a registration for this event.")
_CHECK_IN_CODE = ("check_in_code", "This check-in code is already in use.")

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
    # RefundPolicy.as_json(), snapshotted when paid; NULL until then.
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
    info=clashes(
        (
            _REGISTERED,
            "uq_registrations_active_event_id_user_id",
            "registrations.event_id, registrations.user_id",
        ),
        (_CHECK_IN_CODE, "uq_registrations_check_in_code", "registrations.check_in_code"),
    ),
)
