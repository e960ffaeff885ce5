"""Events in memory: events with their sessions, attendance, meetings (meetings.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import ClassVar
from uuid import UUID

from cpd.adapters.memory.base import (
    Embedded,
    ForeignKey,
    Keys,
    OnDelete,
    Tables,
    _Repo,
    delete_rows,
    rows_deleted,
)
from cpd.adapters.memory.meetings import MemoryMeetingRepository
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.attendance import AttendanceRecord, WalkInRecord
from cpd.domain.errors import Conflict
from cpd.domain.events import Event, SeatLedger
from cpd.domain.meetings import SessionMeeting, SessionRegistrant


class MemoryEventRepository(_Repo):
    async def get(self, event_id: UUID) -> Event | None:
        event = copy.deepcopy(self._state.events.get(event_id))
        if event is not None:  # in start order, as the SQL adapter reads them
            event.sessions.sort(key=lambda s: (s.starts_at, s.ends_at, s.id))
        return event

    get_for_update = get  # the transaction already holds the database lock

    async def lock_seats(self, event_id: UUID) -> SeatLedger | None:
        event = self._state.events.get(event_id)
        if event is None:
            return None
        return SeatLedger(event.status, event.capacity, self._state.seats_taken.get(event_id, 0))

    async def seats_taken(self, event_id: UUID) -> int:
        return self._state.seats_taken.get(event_id, 0)

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool:
        return any(
            e.organization_id == organization_id and e.slug == slug
            for e in self._state.events.values()
        )

    async def add(self, event: Event) -> None:
        self._check_slug(event)
        self._state.events[event.id] = copy.deepcopy(event)

    async def save(self, event: Event) -> None:
        self._check_slug(event)
        stored = self._state.events.get(event.id)
        self._state.events[event.id] = copy.deepcopy(event)
        kept = {session.id for session in event.sessions}
        removed = [s for s in stored.sessions if s.id not in kept] if stored else []
        rows_deleted(self._state, "event_sessions", removed)

    async def delete(self, event_id: UUID) -> None:
        self._state.seats_taken.pop(event_id, None)
        delete_rows(self._state, "events", [event_id])

    async def record_seats_taken(self, event_id: UUID, seats: int) -> None:
        self._state.seats_taken[event_id] = seats

    def _check_slug(self, event: Event) -> None:
        """The unique (organization, slug) constraint of the SQL schema."""
        if any(
            e.organization_id == event.organization_id and e.slug == event.slug and e.id != event.id
            for e in self._state.events.values()
        ):
            raise Conflict("This organization already has an event with this slug.", field="slug")


class MemoryAttendanceRepository(_Repo):
    async def record(self, records: list[AttendanceRecord]) -> None:
        for record in records:
            if record.registration_id not in (None, *self._state.registrations):
                raise Conflict("This change clashes with existing data.")  # as SQL's foreign key
        for record in records:
            self._state.attendance[(record.session_id, record.user_id)] = record

    async def for_event(
        self, event_id: UUID, user_id: UUID | None = None
    ) -> list[AttendanceRecord]:
        return sorted(
            (
                r
                for r in self._state.attendance.values()
                if r.event_id == event_id and (user_id is None or r.user_id == user_id)
            ),
            key=lambda r: (r.user_id, r.session_id),
        )

    async def record_walk_ins(self, records: list[WalkInRecord]) -> None:
        for record in records:
            self._state.walk_ins[(record.session_id, record.email)] = record

    async def walk_ins_for_event(self, event_id: UUID) -> list[WalkInRecord]:
        return sorted(
            (r for r in self._state.walk_ins.values() if r.event_id == event_id),
            key=lambda r: (r.email, r.session_id),
        )

    async def count_for_event(self, event_id: UUID) -> int:
        return len(await self.for_event(event_id)) + len(await self.walk_ins_for_event(event_id))


@dataclass
class EventsTables(Tables):
    FOREIGN_KEYS: ClassVar[Keys] = (
        Embedded("event_sessions", "event_id", "events", "sessions"),
        ForeignKey("attendance", "event_id", "events", OnDelete.CASCADE),
        ForeignKey("attendance", "session_id", "event_sessions", OnDelete.CASCADE),
        ForeignKey("attendance", "registration_id", "registrations", OnDelete.SET_NULL),
        ForeignKey("walk_ins", "event_id", "events", OnDelete.CASCADE),
        ForeignKey("walk_ins", "session_id", "event_sessions", OnDelete.CASCADE),
        ForeignKey("session_meetings", "event_id", "events", OnDelete.CASCADE),
        ForeignKey("meeting_registrants", "registration_id", "registrations", OnDelete.CASCADE),
        ForeignKey(
            "meeting_registrants", "session_id", "session_meetings", OnDelete.CASCADE, "session_id"
        ),
    )

    events: dict[UUID, Event] = field(default_factory=dict)
    seats_taken: dict[UUID, int] = field(default_factory=dict)  # the events column, kept apart
    attendance: dict[tuple[UUID, UUID], AttendanceRecord] = field(default_factory=dict)
    walk_ins: dict[tuple[UUID, str], WalkInRecord] = field(default_factory=dict)
    session_meetings: dict[UUID, SessionMeeting] = field(default_factory=dict)  # by session id
    meeting_registrants: dict[tuple[UUID, UUID], SessionRegistrant] = field(default_factory=dict)


class MemoryEvents:
    """Events' repositories, one base of ``MemoryUnitOfWork``."""

    events = RepositorySlot(MemoryEventRepository)
    attendance = RepositorySlot(MemoryAttendanceRepository)
    meetings = RepositorySlot(MemoryMeetingRepository)
