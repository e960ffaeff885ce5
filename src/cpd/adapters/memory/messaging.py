"""The communication log, notifications and preferences, in memory."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from cpd.adapters.memory.base import Tables, _newest_first, _page, _Repo
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.messaging import (
    Communication,
    CommunicationStatus,
    Notification,
    NotificationPreferences,
)
from cpd.domain.pages import Page, PageRequest


class MemoryCommunicationLog(_Repo):
    async def get(self, communication_id: UUID) -> Communication | None:
        return copy.copy(self._state.communications.get(communication_id))

    async def record(self, communication: Communication) -> None:
        self._state.communications[communication.id] = copy.copy(communication)

    async def list_for_organization(
        self, organization_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        return self._list(lambda c: c.organization_id == organization_id, status, page)

    async def list_for_user(
        self, user_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        return self._list(lambda c: c.user_id == user_id, status, page)

    def _list(
        self,
        owned: Callable[[Communication], bool],
        status: CommunicationStatus | None,
        page: PageRequest,
    ) -> Page[Communication]:
        found = [
            copy.copy(c)
            for c in self._state.communications.values()
            if owned(c) and (status is None or c.status is status)
        ]
        return _page(_newest_first(found, lambda c: (c.created_at, c.id)), page)


class MemoryNotificationRepository(_Repo):
    async def add(self, notification: Notification) -> bool:
        if notification.id in self._state.notifications:
            return False
        self._state.notifications[notification.id] = copy.copy(notification)
        return True

    async def get(self, notification_id: UUID) -> Notification | None:
        return copy.copy(self._state.notifications.get(notification_id))

    async def list_for_user(
        self, user_id: UUID, *, unread_only: bool, page: PageRequest
    ) -> Page[Notification]:
        found = [
            copy.copy(n)
            for n in self._state.notifications.values()
            if n.user_id == user_id and not (unread_only and n.is_read)
        ]
        return _page(_newest_first(found, lambda n: (n.created_at, n.id)), page)

    async def unread_count(self, user_id: UUID) -> int:
        return sum(
            1 for n in self._state.notifications.values() if n.user_id == user_id and not n.is_read
        )

    async def mark_read(self, notification_id: UUID, now: datetime) -> None:
        found = self._state.notifications.get(notification_id)
        if found is not None and not found.is_read:
            self._state.notifications[notification_id] = replace(found, read_at=now)

    async def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        notifications = self._state.notifications
        unread = [k for k, n in notifications.items() if n.user_id == user_id and not n.is_read]
        for key in unread:
            notifications[key] = replace(notifications[key], read_at=now)
        return len(unread)


class MemoryNotificationPreferencesRepository(_Repo):
    async def get(self, user_id: UUID) -> NotificationPreferences | None:
        return copy.copy(self._state.notification_preferences.get(user_id))

    async def save(self, preferences: NotificationPreferences) -> None:
        self._state.notification_preferences[preferences.user_id] = copy.copy(preferences)


@dataclass
class MessagingTables(Tables):
    communications: dict[UUID, Communication] = field(default_factory=dict)
    notifications: dict[UUID, Notification] = field(default_factory=dict)
    notification_preferences: dict[UUID, NotificationPreferences] = field(default_factory=dict)


class MemoryMessaging:
    """Messaging's repositories, one base of ``MemoryUnitOfWork``."""

    communications = RepositorySlot(MemoryCommunicationLog)
    notifications = RepositorySlot(MemoryNotificationRepository)
    notification_preferences = RepositorySlot(MemoryNotificationPreferencesRepository)
