"""The schema. Core tables (not ORM classes): rows map straight to domain dataclasses.

One module per bounded context, all on one ``metadata``; callers use ``tables.<name>``, and a
context's tables join the schema with their import here.
"""

from cpd.adapters.sql.tables.accounts import (
    invitations,
    memberships,
    organizations,
    password_reset_tokens,
    refresh_tokens,
    users,
)
from cpd.adapters.sql.tables.base import metadata
from cpd.adapters.sql.tables.certificates import (
    badges,
    certificate_sequences,
    certificate_templates,
    certificates,
    signing_keys,
)
from cpd.adapters.sql.tables.events import (
    EVENTS_SEARCH_DOCUMENT,
    POSTGRESQL_ONLY_DDL,
    POSTGRESQL_ONLY_OBJECTS,
    PUBLISHED,
    attendance,
    event_sessions,
    events,
    include_in_autogenerate,
    walk_ins,
)
from cpd.adapters.sql.tables.learning import courses, enrollments
from cpd.adapters.sql.tables.meetings import meeting_registrants, session_meetings
from cpd.adapters.sql.tables.messaging import (
    communications,
    notification_preferences,
    notifications,
)
from cpd.adapters.sql.tables.offline_payments import offline_payments, offline_refunds
from cpd.adapters.sql.tables.platform import idempotency_keys, jobs, outbox, webhook_events
from cpd.adapters.sql.tables.registrations import ACTIVE_REGISTRATION, registrations

__all__ = [
    "ACTIVE_REGISTRATION",
    "EVENTS_SEARCH_DOCUMENT",
    "POSTGRESQL_ONLY_DDL",
    "POSTGRESQL_ONLY_OBJECTS",
    "PUBLISHED",
    "attendance",
    "badges",
    "certificate_sequences",
    "certificate_templates",
    "certificates",
    "communications",
    "courses",
    "enrollments",
    "event_sessions",
    "events",
    "idempotency_keys",
    "include_in_autogenerate",
    "invitations",
    "jobs",
    "meeting_registrants",
    "memberships",
    "metadata",
    "notification_preferences",
    "notifications",
    "offline_payments",
    "offline_refunds",
    "organizations",
    "outbox",
    "password_reset_tokens",
    "refresh_tokens",
    "registrations",
    "session_meetings",
    "signing_keys",
    "users",
    "walk_ins",
    "webhook_events",
]
