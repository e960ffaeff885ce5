"""Events' ports: events and sessions, attendance, the catalog, meetings and the video provider."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from cpd.domain.attendance import AttendanceRecord, WalkInRecord
from cpd.domain.catalog import CourseFilters, CourseView, EventFilters, EventView
from cpd.domain.events import Event, SeatLedger, Venue
from cpd.domain.meetings import (
    Meeting,
    MeetingRegistrant,
    MeetingSpec,
    MeetingWebhook,
    Participant,
    RegistrantSpec,
    SessionMeeting,
    SessionRegistrant,
)
from cpd.domain.pages import PageRequest


class EventRepository(Protocol):
    async def get(self, event_id: UUID) -> Event | None:
        """The event with its sessions."""
        ...

    async def get_for_update(self, event_id: UUID) -> Event | None:
        """Load and lock the event row until commit (seat and session changes serialise)."""
        ...

    async def lock_seats(self, event_id: UUID) -> SeatLedger | None:
        """Lock the event row as ``get_for_update`` does, reading only its seat figures:
        the one query a registration makes under the lock."""
        ...

    async def seats_taken(self, event_id: UUID) -> int:
        """The stored seat count the catalog shows (0 for an unknown event); no lock."""
        ...

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool: ...
    async def add(self, event: Event) -> None: ...
    async def save(self, event: Event) -> None:
        """Write the event and make its stored sessions match ``event.sessions``."""
        ...

    async def delete(self, event_id: UUID) -> None: ...
    async def record_seats_taken(self, event_id: UUID, seats: int) -> None:
        """Keep the catalog's seat count (``seats_available``) in step with registrations."""
        ...


class AttendanceRepository(Protocol):
    async def record(self, records: list[AttendanceRecord]) -> None:
        """Insert or replace, keyed by (session, attendee): the latest record wins."""
        ...

    async def for_event(
        self, event_id: UUID, user_id: UUID | None = None
    ) -> list[AttendanceRecord]: ...
    async def record_walk_ins(self, records: list[WalkInRecord]) -> None:
        """Insert or replace, keyed by (session, email): the latest record wins."""
        ...

    async def walk_ins_for_event(self, event_id: UUID) -> list[WalkInRecord]: ...
    async def count_for_event(self, event_id: UUID) -> int:
        """Attendance records and walk-ins together."""
        ...


class MeetingRepository(Protocol):
    """Provider meetings of sessions, and registrations' registrants in them."""

    async def claim(self, meeting: SessionMeeting) -> bool:
        """Insert the row for a meeting about to be created; False if the session has one
        already (a savepoint keeps the clash from aborting the transaction)."""
        ...

    async def save(self, meeting: SessionMeeting) -> None:
        """Write the row's provider id, link, digest and sync time (insert if it is gone)."""
        ...

    async def remove(self, session_id: UUID) -> None:
        """Forget the meeting; its registrants go with it."""
        ...

    async def get(self, session_id: UUID) -> SessionMeeting | None: ...
    async def for_event(self, event_id: UUID) -> list[SessionMeeting]: ...
    async def by_meeting_id(self, provider: str, meeting_id: str) -> SessionMeeting | None: ...
    async def attendance_due(self, ended_before: datetime, limit: int) -> list[SessionMeeting]:
        """Created meetings of still-existing sessions of published or completed events that
        ended before ``ended_before`` and whose attendance was never synced, oldest first."""
        ...

    async def add_registrant(self, registrant: SessionRegistrant) -> None:
        """Insert or replace, keyed by (registration, session)."""
        ...

    async def registrants_for_session(self, session_id: UUID) -> list[SessionRegistrant]: ...
    async def registrants_for_registration(
        self, registration_id: UUID
    ) -> list[SessionRegistrant]: ...


class CatalogReader(Protocol):
    """The read side of the catalog: rows straight into views, outside any write transaction."""

    async def events(self, filters: EventFilters, page: PageRequest) -> list[EventView]: ...
    async def events_json(self, filters: EventFilters, page: PageRequest) -> bytes:
        """The same page as ``events``, as the JSON array the API sends (the hot path)."""
        ...

    async def count_events(self, filters: EventFilters) -> int: ...
    async def event(self, event_id: UUID) -> EventView | None: ...
    async def event_by_slug(self, organization_slug: str, event_slug: str) -> EventView | None: ...
    async def courses(self, filters: CourseFilters, page: PageRequest) -> list[CourseView]: ...
    async def count_courses(self, filters: CourseFilters) -> int: ...
    async def course(self, course_id: UUID) -> CourseView | None: ...


class VideoMeetings(Protocol):
    """Online meetings for sessions (Zoom, or a fake that keeps state in memory).

    Provider failures worth retrying raise the adapter's ``VideoProviderUnavailable`` (not a
    domain error); a missing meeting is ``NotFound``, a refused value ``InvalidInput``.
    Creating a meeting is not idempotent at the provider: the caller stores the id it gets
    and updates that meeting afterwards.
    """

    name: str

    async def create_meeting(self, spec: MeetingSpec) -> Meeting: ...
    async def update_meeting(self, meeting_id: str, spec: MeetingSpec) -> None:
        """Reschedule or rename; the id and join link stay the same."""
        ...

    async def delete_meeting(self, meeting_id: str) -> None:
        """Delete it; a meeting that is already gone is fine (retries and cleanups repeat)."""
        ...

    async def add_registrant(
        self, meeting_id: str, registrant: RegistrantSpec
    ) -> MeetingRegistrant:
        """Register a person (auto-approved); the same email again gets the same registrant."""
        ...

    async def participants(self, meeting_id: str) -> list[Participant]:
        """Every stay of every participant of a past meeting (all pages)."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> MeetingWebhook:
        """Verify and read a notification; raise InvalidInput naming the signature header when
        it does not verify (forged, stale, missing), or ``event`` for a kind not handled."""
        ...


class ScheduledSession(Protocol):
    @property
    def id(self) -> UUID: ...
    @property
    def title(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


class ScheduledEvent(Protocol):
    """What a calendar shows of an event: an ``Event`` or an ``EventView`` (no seat count)."""

    @property
    def id(self) -> UUID: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def venue(self) -> Venue | None: ...
    @property
    def status(self) -> str: ...
    @property
    def sessions(self) -> Sequence[ScheduledSession]: ...


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class CalendarWriter(Protocol):
    def calendar(self, events: Iterable[ScheduledEvent], *, name: str, base_url: str) -> bytes:
        """An iCalendar document (``.ics``) of the events' sessions, named ``name``."""
        ...


class EventsRepos(Protocol):
    """What a unit of work holds of events: one line in ``UnitOfWork``'s bases."""

    @property
    def events(self) -> EventRepository: ...
    @property
    def attendance(self) -> AttendanceRepository: ...
    @property
    def meetings(self) -> MeetingRepository: ...
