"""The email log, in-app notifications and notification preferences over SQLAlchemy Core."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select, update

from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _dialect_insert, _Repository
from cpd.domain.messaging import (
    Communication,
    CommunicationStatus,
    Notification,
    NotificationPreferences,
)
from cpd.domain.pages import Page, PageRequest


def _communication(row: Row[Any]) -> Communication:
    values = dict(row._mapping)
    values["status"] = CommunicationStatus(values["status"])
    return Communication(**values)


class SqlCommunicationLog(_Repository):
    _c = t.communications.c

    async def get(self, communication_id: UUID) -> Communication | None:
        query = select(t.communications).where(self._c.id == communication_id)
        row = (await self._db.execute(query)).first()
        return _communication(row) if row else None

    async def record(self, communication: Communication) -> None:
        values = asdict(communication) | {"status": communication.status.value}
        insert_ = _dialect_insert(self._db)(t.communications).values(values)
        changed = {name: insert_.excluded[name] for name in values if name != "id"}
        await self._db.execute(
            insert_.on_conflict_do_update(index_elements=[self._c.id], set_=changed)
        )

    async def list_for_organization(
        self, organization_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        return await self._list(self._c.organization_id == organization_id, status, page)

    async def list_for_user(
        self, user_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        return await self._list(self._c.user_id == user_id, status, page)

    async def _list(
        self, owner: Any, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        query = select(t.communications).where(owner)
        if status is not None:
            query = query.where(self._c.status == status.value)
        query = query.order_by(self._c.created_at.desc(), self._c.id.desc())
        return await self._page(query, page, _communication)


def _notification(row: Row[Any]) -> Notification:
    return Notification(**row._mapping)  # columns are named as the fields


class SqlNotificationRepository(_Repository):
    _c = t.notifications.c

    async def add(self, notification: Notification) -> bool:
        insert_ = _dialect_insert(self._db)(t.notifications).values(asdict(notification))
        result = await self._db.execute(insert_.on_conflict_do_nothing(index_elements=["id"]))
        return bool(result.rowcount == 1)

    async def get(self, notification_id: UUID) -> Notification | None:
        query = select(t.notifications).where(self._c.id == notification_id)
        row = (await self._db.execute(query)).first()
        return _notification(row) if row else None

    async def list_for_user(
        self, user_id: UUID, *, unread_only: bool, page: PageRequest
    ) -> Page[Notification]:
        query = select(t.notifications).where(self._c.user_id == user_id)
        if unread_only:
            query = query.where(self._c.read_at.is_(None))
        query = query.order_by(self._c.created_at.desc(), self._c.id.desc())
        return await self._page(query, page, _notification)

    async def unread_count(self, user_id: UUID) -> int:
        query = select(func.count()).where(self._c.user_id == user_id, self._c.read_at.is_(None))
        return int((await self._db.execute(query)).scalar_one())

    async def mark_read(self, notification_id: UUID, now: datetime) -> None:
        await self._db.execute(
            update(t.notifications)
            .where(self._c.id == notification_id, self._c.read_at.is_(None))
            .values(read_at=now)
        )

    async def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        result = await self._db.execute(
            update(t.notifications)
            .where(self._c.user_id == user_id, self._c.read_at.is_(None))
            .values(read_at=now)
        )
        return int(result.rowcount)


class SqlNotificationPreferencesRepository(_Repository):
    _c = t.notification_preferences.c

    async def get(self, user_id: UUID) -> NotificationPreferences | None:
        query = select(t.notification_preferences).where(self._c.user_id == user_id)
        row = (await self._db.execute(query)).first()
        return NotificationPreferences(**row._mapping) if row else None

    async def save(self, preferences: NotificationPreferences) -> None:
        values = asdict(preferences)
        insert_ = _dialect_insert(self._db)(t.notification_preferences).values(values)
        changed = {name: insert_.excluded[name] for name in values if name != "user_id"}
        await self._db.execute(
            insert_.on_conflict_do_update(index_elements=[self._c.user_id], set_=changed)
        )


class SqlMessaging:
    """Messaging's repositories, one base of ``SqlUnitOfWork``."""

    communications = RepositorySlot(SqlCommunicationLog)
    notifications = RepositorySlot(SqlNotificationRepository)
    notification_preferences = RepositorySlot(SqlNotificationPreferencesRepository)
