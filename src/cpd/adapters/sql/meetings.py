"""Zoom meetings of sessions and their registrants, over SQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Row,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _dialect_insert, _Repository
from cpd.domain.events import EventStatus
from cpd.domain.meetings import SessionMeeting, SessionRegistrant


def _meeting(row: Row[Any]) -> SessionMeeting:
    return SessionMeeting(**row._mapping)  # columns are named as the fields


def _registrant(row: Row[Any]) -> SessionRegistrant:
    return SessionRegistrant(**row._mapping)


class SqlMeetingRepository(_Repository):
    async def claim(self, meeting: SessionMeeting) -> bool:
        """A savepoint keeps a second claim's key clash from aborting the surrounding work."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(insert(t.session_meetings).values(asdict(meeting)))
        except IntegrityError:
            if await self.get(meeting.session_id) is None:
                raise  # not the primary key: a missing event, say
            return False
        return True

    async def save(self, meeting: SessionMeeting) -> None:
        values = asdict(meeting)
        statement = _dialect_insert(self._db)(t.session_meetings).values(values)
        del values["session_id"]
        await self._db.execute(
            statement.on_conflict_do_update(index_elements=["session_id"], set_=values)
        )

    async def remove(self, session_id: UUID) -> None:
        c = t.session_meetings.c
        await self._db.execute(delete(t.session_meetings).where(c.session_id == session_id))

    async def get(self, session_id: UUID) -> SessionMeeting | None:
        c = t.session_meetings.c
        row = (
            await self._db.execute(select(t.session_meetings).where(c.session_id == session_id))
        ).first()
        return _meeting(row) if row else None

    async def for_event(self, event_id: UUID) -> list[SessionMeeting]:
        c = t.session_meetings.c
        query = (
            select(t.session_meetings)
            .where(c.event_id == event_id)
            .order_by(c.claimed_at, c.session_id)
        )
        return [_meeting(row) for row in await self._db.execute(query)]

    async def by_meeting_id(self, provider: str, meeting_id: str) -> SessionMeeting | None:
        c = t.session_meetings.c
        query = select(t.session_meetings).where(c.provider == provider, c.meeting_id == meeting_id)
        row = (await self._db.execute(query)).first()
        return _meeting(row) if row else None

    async def attendance_due(self, ended_before: datetime, limit: int) -> list[SessionMeeting]:
        m, s, e = t.session_meetings.c, t.event_sessions.c, t.events.c
        query = (
            select(t.session_meetings)
            .join(t.event_sessions, s.id == m.session_id)
            .join(t.events, e.id == m.event_id)
            .where(
                m.attendance_synced_at.is_(None),
                m.meeting_id.is_not(None),
                s.ends_at < ended_before,
                e.status.in_([EventStatus.PUBLISHED.value, EventStatus.COMPLETED.value]),
            )
            .order_by(s.ends_at, m.session_id)
            .limit(limit)
        )
        return [_meeting(row) for row in await self._db.execute(query)]

    async def add_registrant(self, registrant: SessionRegistrant) -> None:
        values = asdict(registrant)
        statement = _dialect_insert(self._db)(t.meeting_registrants).values(values)
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=["registration_id", "session_id"],
                set_={k: values[k] for k in ("registrant_id", "join_url", "created_at")},
            )
        )

    async def registrants_for_session(self, session_id: UUID) -> list[SessionRegistrant]:
        c = t.meeting_registrants.c
        query = (
            select(t.meeting_registrants)
            .where(c.session_id == session_id)
            .order_by(c.created_at, c.registration_id)
        )
        return [_registrant(row) for row in await self._db.execute(query)]

    async def registrants_for_registration(self, registration_id: UUID) -> list[SessionRegistrant]:
        c = t.meeting_registrants.c
        query = (
            select(t.meeting_registrants)
            .where(c.registration_id == registration_id)
            .order_by(c.created_at, c.session_id)
        )
        return [_registrant(row) for row in await self._db.execute(query)]
