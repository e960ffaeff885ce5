"""Messaging's ports: the communication log, notifications, preferences, mail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

from cpd.domain.messaging import (
    Communication,
    CommunicationStatus,
    EmailMessage,
    Notification,
    NotificationPreferences,
    RenderedEmail,
)
from cpd.domain.pages import Page, PageRequest


class CommunicationLog(Protocol):
    """Every email the platform sent or tried to send, one row per message."""

    async def get(self, communication_id: UUID) -> Communication | None: ...
    async def record(self, communication: Communication) -> None:
        """Insert, or replace the row with this id (a retry of the same message)."""
        ...

    async def list_for_organization(
        self, organization_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        """Newest first."""
        ...

    async def list_for_user(
        self, user_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        """Newest first."""
        ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification) -> bool:
        """Store it unless one with this id exists (a retried task): False then."""
        ...

    async def get(self, notification_id: UUID) -> Notification | None: ...
    async def list_for_user(
        self, user_id: UUID, *, unread_only: bool, page: PageRequest
    ) -> Page[Notification]:
        """Newest first."""
        ...

    async def unread_count(self, user_id: UUID) -> int: ...
    async def mark_read(self, notification_id: UUID, now: datetime) -> None:
        """Set ``read_at`` unless it is already set (the first reading counts)."""
        ...

    async def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        """Mark every unread notification of the user read; how many there were."""
        ...


class NotificationPreferencesRepository(Protocol):
    async def get(self, user_id: UUID) -> NotificationPreferences | None:
        """None until the user first changes them (the defaults apply)."""
        ...

    async def save(self, preferences: NotificationPreferences) -> None:
        """Insert or replace."""
        ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class EmailRenderer(Protocol):
    def render(self, template: str, context: Mapping[str, object]) -> RenderedEmail:
        """Subject, summary, plain text and HTML of a named template; a field the template
        needs that ``context`` lacks raises (``LookupError``), never renders blank."""
        ...


class MessagingRepos(Protocol):
    """What a unit of work holds of messaging: one line in ``UnitOfWork``'s bases."""

    @property
    def communications(self) -> CommunicationLog: ...
    @property
    def notifications(self) -> NotificationRepository: ...
    @property
    def notification_preferences(self) -> NotificationPreferencesRepository: ...
