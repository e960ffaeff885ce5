"""Platform: the task outbox, the webhook inbox, idempotency keys and jobs."""

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

from cpd.adapters.sql.tables.base import _json, _timestamp, metadata

__all__ = ["idempotency_keys", "jobs", "outbox", "webhook_events"]  # what ``tables`` re-exports

outbox = Table(
    "outbox",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("payload", _json(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),  # handler runs
    Column("relay_claims", Integer, nullable=False, server_default=text("0")),  # handoffs
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

# Long-running work that staff follow (issuing an event's certificates in bulk).
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
