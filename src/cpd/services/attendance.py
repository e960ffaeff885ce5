"""Recording who attended which session, and summarising it per attendee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from cpd.domain.accounts import Actor, User
from cpd.domain.attendance import (
    AttendanceRecord,
    AttendanceSource,
    AttendanceSummary,
    summarise,
    summary_for,
)
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.events import Event, EventStatus
from cpd.ports.persistence import UnitOfWork, UnitOfWorkFactory
from cpd.ports.services import Clock
from cpd.services.access import is_staff, require_staff
from cpd.services.certificates import queue_event_certificates
from cpd.services.events import EVENT_NOT_FOUND


@dataclass(frozen=True, slots=True)
class AttendanceEntry:
    """Who attended, by person or by registration (exactly one)."""

    user_id: UUID | None = None
    minutes_attended: int | None = None
    checked_in_at: datetime | None = None
    registration_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class AttendeeSummary:
    """A summary with who it is about, for staff reports."""

    attendee: User
    summary: AttendanceSummary


class AttendanceService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(
        self,
        actor: Actor,
        event_id: UUID,
        session_id: UUID,
        entries: list[AttendanceEntry],
        *,
        source: AttendanceSource = AttendanceSource.STAFF,
    ) -> list[AttendanceRecord]:
        """Record (or correct) attendance for one session; all entries or none are saved."""
        if not entries:
            raise InvalidInput("Give at least one attendee.", field="attendees")
        now = self._clock.now()
        async with self._uow() as uow:
            event = await _event(uow, event_id)
            await require_staff(uow, actor, event.organization_id, not_found=EVENT_NOT_FOUND)
            if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
                raise Conflict(f"Attendance cannot be recorded for a {event.status} event.")
            session = event.session(session_id)
            attendees = await _attendees(uow, event_id, entries)
            records = []
            for index, (entry, (user_id, registration_id)) in enumerate(
                zip(entries, attendees, strict=True)
            ):
                try:
                    record = AttendanceRecord.record(
                        session,
                        user_id,
                        source=source,
                        now=now,
                        minutes_attended=entry.minutes_attended,
                        checked_in_at=entry.checked_in_at,
                        registration_id=registration_id,
                    )
                except InvalidInput as error:  # say which entry of the batch was wrong
                    raise InvalidInput(
                        error.detail, field=f"attendees[{index}].{error.field}"
                    ) from None
                records.append(record)
            await uow.attendance.record(records)
            if event.status is EventStatus.COMPLETED:  # a correction may earn a certificate
                await queue_event_certificates(uow, event, now=now, created_by=None)
            await uow.commit()
        return records

    async def summaries(self, actor: Actor, event_id: UUID) -> list[AttendeeSummary]:
        async with self._uow() as uow:
            event = await _event(uow, event_id)
            await require_staff(uow, actor, event.organization_id, not_found=EVENT_NOT_FOUND)
            summaries = summarise(event, await uow.attendance.for_event(event_id))
            users = {u.id: u for u in await uow.users.get_many([s.user_id for s in summaries])}
        return [AttendeeSummary(users[s.user_id], s) for s in summaries if s.user_id in users]

    async def my_summary(self, actor: Actor, event_id: UUID) -> AttendanceSummary:
        async with self._uow() as uow:
            event = await _event(uow, event_id)
            if not (event.is_public or await is_staff(uow, actor, event.organization_id)):
                raise NotFound(EVENT_NOT_FOUND)
            mine = await uow.attendance.for_event(event_id, actor.user_id)
        found = summarise(event, mine)
        if found:
            return found[0]
        return summary_for(
            actor.user_id, {}, event.scheduled_minutes, event.attendance_threshold_percent
        )


async def _attendees(
    uow: UnitOfWork, event_id: UUID, entries: list[AttendanceEntry]
) -> list[tuple[UUID, UUID | None]]:
    """(person, registration) per entry. A person's attendance attaches to their confirmed
    registration; one without (a walk-in staff let in) is recorded with none."""
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    registration_ids = {e.registration_id for e in entries if e.registration_id is not None}
    confirmed = await uow.registrations.confirmed_for(
        event_id, user_ids=user_ids, ids=registration_ids
    )
    by_id = {r.id: r for r in confirmed}
    by_user = {r.user_id: r.id for r in confirmed}
    known = {u.id for u in await uow.users.get_many(list(user_ids))}
    found: list[tuple[UUID, UUID | None]] = []
    for index, entry in enumerate(entries):
        if (entry.user_id is None) == (entry.registration_id is None):
            raise InvalidInput(
                "Give either user_id or registration_id.", field=f"attendees[{index}].user_id"
            )
        if entry.registration_id is not None:
            registration = by_id.get(entry.registration_id)
            if registration is None:
                raise InvalidInput(
                    "Not a confirmed registration of this event.",
                    field=f"attendees[{index}].registration_id",
                )
            found.append((registration.user_id, registration.id))
        elif entry.user_id not in known:
            raise InvalidInput("No such user.", field=f"attendees[{index}].user_id")
        else:
            found.append((entry.user_id, by_user.get(entry.user_id)))
    return found


async def _event(uow: UnitOfWork, event_id: UUID) -> Event:
    event = await uow.events.get(event_id)
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event
