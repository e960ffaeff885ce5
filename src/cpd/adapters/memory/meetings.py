"""Zoom meetings of sessions and their registrants, in memory."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from cpd.adapters.memory.base import _Repo, delete_rows
from cpd.domain.errors import Conflict
from cpd.domain.events import EventStatus
from cpd.domain.meetings import SessionMeeting, SessionRegistrant


class MemoryMeetingRepository(_Repo):
    async def claim(self, meeting: SessionMeeting) -> bool:
        if meeting.session_id in self._state.session_meetings:
            return False
        self._check_keys(meeting)
        self._state.session_meetings[meeting.session_id] = meeting
        return True

    async def save(self, meeting: SessionMeeting) -> None:
        self._check_keys(meeting)
        self._state.session_meetings[meeting.session_id] = meeting

    def _check_keys(self, meeting: SessionMeeting) -> None:
        """The SQL schema's foreign key to events and unique (provider, meeting id)."""
        if meeting.event_id not in self._state.events:
            raise Conflict("This change clashes with existing data.")
        if meeting.meeting_id is not None and any(
            m.provider == meeting.provider
            and m.meeting_id == meeting.meeting_id
            and m.session_id != meeting.session_id
            for m in self._state.session_meetings.values()
        ):
            raise Conflict("This change clashes with existing data.")

    async def remove(self, session_id: UUID) -> None:
        delete_rows(self._state, "session_meetings", [session_id])

    async def get(self, session_id: UUID) -> SessionMeeting | None:
        return self._state.session_meetings.get(session_id)

    async def for_event(self, event_id: UUID) -> list[SessionMeeting]:
        found = [m for m in self._state.session_meetings.values() if m.event_id == event_id]
        return sorted(found, key=lambda m: (m.claimed_at, m.session_id))

    async def by_meeting_id(self, provider: str, meeting_id: str) -> SessionMeeting | None:
        return next(
            (
                m
                for m in self._state.session_meetings.values()
                if m.provider == provider and m.meeting_id == meeting_id
            ),
            None,
        )

    async def attendance_due(self, ended_before: datetime, limit: int) -> list[SessionMeeting]:
        due: list[tuple[datetime, SessionMeeting]] = []
        for meeting in self._state.session_meetings.values():
            event = self._state.events.get(meeting.event_id)
            if (
                meeting.meeting_id is None
                or meeting.attendance_synced_at is not None
                or event is None
                or event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED)
            ):
                continue
            session = next((s for s in event.sessions if s.id == meeting.session_id), None)
            if session is not None and session.ends_at < ended_before:
                due.append((session.ends_at, meeting))
        due.sort(key=lambda pair: (pair[0], pair[1].session_id))
        return [meeting for _, meeting in due[:limit]]

    async def add_registrant(self, registrant: SessionRegistrant) -> None:
        if (
            registrant.registration_id not in self._state.registrations
            or registrant.session_id not in self._state.session_meetings
        ):
            raise Conflict("This change clashes with existing data.")  # as SQL's foreign keys
        self._state.meeting_registrants[registrant.registration_id, registrant.session_id] = (
            registrant
        )

    async def registrants_for_session(self, session_id: UUID) -> list[SessionRegistrant]:
        found = [r for r in self._state.meeting_registrants.values() if r.session_id == session_id]
        return sorted(found, key=lambda r: (r.created_at, r.registration_id))

    async def registrants_for_registration(self, registration_id: UUID) -> list[SessionRegistrant]:
        found = [
            r
            for r in self._state.meeting_registrants.values()
            if r.registration_id == registration_id
        ]
        return sorted(found, key=lambda r: (r.created_at, r.session_id))
