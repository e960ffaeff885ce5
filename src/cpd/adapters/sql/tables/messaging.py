"""Messaging: the log of every email sent, in-app notifications, and who opted out of what."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from cpd.adapters.sql.tables.base import _timestamp, metadata

__all__ = [
    "communications",
    "notification_preferences",
    "notifications",
]  # what ``tables`` re-exports

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
