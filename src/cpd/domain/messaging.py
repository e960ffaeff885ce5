"""What the platform tells people: outgoing emails, their delivery log, in-app notifications,
and which optional emails each person has asked not to receive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from cpd.domain.errors import InvalidInput

# Templates (``cpd/adapters/mail/email_templates/<name>.txt.j2`` and ``.html.j2``).
WELCOME = "welcome"
ACCOUNT_EXISTS = "account_exists"  # someone signed up again with an address that has an account
PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name
EVENT_REMINDER = "event_reminder"
CERTIFICATE_ISSUED = "certificate_issued"
ORGANIZATION_INVITATION = "organization_invitation"
REGISTRATION_PREFIX = "registration_"  # + a registration status, or offer_expired

REMINDER_HOURS = frozenset({1, 24})


class Preference(StrEnum):
    """Optional kinds of email a person may turn off. Everything else (password reset,
    confirmations, payment and refund receipts, offers) is transactional and always sent."""

    EVENT_REMINDERS = "event_reminders"
    WAITLIST_UPDATES = "waitlist_updates"


_PREFERENCE_NAMES = frozenset(p.value for p in Preference)
_OPTIONAL: dict[str, Preference] = {
    EVENT_REMINDER: Preference.EVENT_REMINDERS,
    f"{REGISTRATION_PREFIX}waitlisted": Preference.WAITLIST_UPDATES,
    f"{REGISTRATION_PREFIX}offer_expired": Preference.WAITLIST_UPDATES,
}


def preference_for(template: str) -> Preference | None:
    """The preference that governs a template; None for transactional email."""
    return _OPTIONAL.get(template)


@dataclass(slots=True)
class NotificationPreferences:
    user_id: UUID
    updated_at: datetime | None = None  # None: never changed, the defaults apply
    event_reminders: bool = True
    waitlist_updates: bool = True

    def allows(self, template: str) -> bool:
        preference = preference_for(template)
        return preference is None or bool(getattr(self, preference.value))

    def change(self, changes: dict[str, bool], *, now: datetime) -> None:
        for name, value in changes.items():
            if name not in _PREFERENCE_NAMES:
                raise InvalidInput("Unknown preference.", field=name)
            if not isinstance(value, bool):
                raise InvalidInput("Must be true or false.", field=name)
            setattr(self, name, value)
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class Related:
    """The object an email is about, e.g. ``Related("registration", id)``."""

    type: str
    id: UUID


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """An email to send, as plain values: the template renders it at send time.

    ``context`` must survive a JSON round trip (it travels in a task payload).
    """

    template: str
    to: str
    context: dict[str, Any]
    user_id: UUID | None = None
    organization_id: UUID | None = None
    related: Related | None = None


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    summary: str  # one or two sentences: the in-app notification's body
    text: str
    html: str


class CommunicationStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"


@dataclass(slots=True)
class Communication:
    """One email the platform tried to send; retries of the same message update this row."""

    id: UUID  # the delivery id: a task id, or a business key (reminders)
    recipient: str
    template: str
    subject: str
    status: CommunicationStatus
    created_at: datetime
    user_id: UUID | None = None
    organization_id: UUID | None = None
    related_type: str | None = None
    related_id: UUID | None = None
    provider_message_id: str | None = None
    error: str | None = None
    attempts: int = 1
    sent_at: datetime | None = None


@dataclass(slots=True)
class Notification:
    """An in-app notification; its id is the delivery id of the email it accompanies."""

    id: UUID
    user_id: UUID
    kind: str  # the email template it came with
    title: str
    body: str
    created_at: datetime
    organization_id: UUID | None = None
    related_type: str | None = None
    related_id: UUID | None = None
    read_at: datetime | None = None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    total: int
    limit: int
    offset: int
    unread: int  # across all pages, not just this one


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # "maintype/subtype"
    data: bytes


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None  # set from the task id so a resend is recognisably the same
    attachments: tuple[Attachment, ...] = ()
