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
    WalkInRecord,
    WalkInSummary,
    check_in_opens,
    summarise,
    summarise_walk_ins,
    summary_for,
)
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.events import Event, EventStatus, Session
from cpd.domain.registrations import Registration, RegistrationStatus, check_in_code_candidates
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.access import is_staff, require_staff
from cpd.services.common.lookups import EVENT_NOT_FOUND, existing_event, own_registration
from cpd.services.events.reactions import EventReactions

NOT_REGISTERED = "Not a confirmed registration of this event."


@dataclass(frozen=True, slots=True)
class WalkIn:
    """Someone without a registration whom staff let in, as staff typed them."""

    email: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class AttendanceEntry:
    """Who attended: a registered person, a registration, or a walk-in (exactly one)."""

    user_id: UUID | None = None
    minutes_attended: int | None = None
    checked_in_at: datetime | None = None
    registration_id: UUID | None = None
    walk_in: WalkIn | None = None


@dataclass(frozen=True, slots=True)
class AttendeeSummary:
    """A summary with who it is about, for staff reports."""

    attendee: User
    summary: AttendanceSummary


@dataclass(frozen=True, slots=True)
class AttendanceReport:
    """Registered attendees (with their account's details) and walk-ins (as typed)."""

    attendees: list[AttendeeSummary]
    walk_ins: list[WalkInSummary]


class AttendanceService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock, reactions: EventReactions) -> None:
        self._uow = uow
        self._clock = clock
        self._reactions = reactions

    async def check_in_code(self, actor: Actor, registration_id: UUID) -> str:
        """The code the registrant shows at the door (as a QR code): theirs alone (anyone
        else, the event's staff too, gets 404), and only while confirmed."""
        async with self._uow() as uow:
            registration = await own_registration(uow, actor, registration_id)
        if registration.status is not RegistrationStatus.CONFIRMED:
            raise Conflict(
                f"This registration is {registration.status}: check-in needs a confirmed one."
            )
        return registration.check_in_code

    async def check_in(self, actor: Actor, event_id: UUID, code: str) -> AttendanceRecord:
        """QR check-in by staff: attendance for the session running now (or starting within
        the hour), attached to the registration."""
        now = self._clock.now()
        async with self._uow() as uow:
            event = await existing_event(uow, event_id)
            await require_staff(uow, actor, event.organization_id, not_found="Event not found.")
            registration = None
            for candidate in check_in_code_candidates(code):
                registration = await uow.registrations.by_check_in_code(event_id, candidate)
                if registration is not None:
                    break
            if registration is None:
                raise NotFound("No registration of this event has that code.", field="code")
            if registration.status is not RegistrationStatus.CONFIRMED:
                raise Conflict(f"This registration is {registration.status}, not confirmed.")
            session = next(
                (s for s in event.sessions if check_in_opens(s) <= now < s.ends_at),
                None,
            )
            if session is None:
                raise Conflict("No session of this event is running now.")
            record = AttendanceRecord.record(
                session,
                registration.user_id,
                source=AttendanceSource.STAFF,
                now=now,
                checked_in_at=now,
                registration_id=registration.id,
            )
            await uow.attendance.record([record])
            await uow.commit()
        return record

    async def record(
        self,
        actor: Actor,
        event_id: UUID,
        session_id: UUID,
        entries: list[AttendanceEntry],
        *,
        source: AttendanceSource = AttendanceSource.STAFF,
    ) -> list[AttendanceRecord | WalkInRecord]:
        """Record (or correct) attendance for one session; all entries or none are saved.

        Only the event's confirmed registrants, by person or registration, and walk-ins by
        the email staff type: any other person is refused alike, whether or not they have
        an account, so an event's staff learn nothing of the platform's users."""
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
            records: list[AttendanceRecord | WalkInRecord] = []
            for index, (entry, attendee) in enumerate(zip(entries, attendees, strict=True)):
                try:
                    records.append(_record(session, entry, attendee, source=source, now=now))
                except InvalidInput as error:  # say which entry of the batch was wrong
                    raise InvalidInput(
                        error.detail, field=f"attendees[{index}].{error.field}"
                    ) from None
            await uow.attendance.record([r for r in records if isinstance(r, AttendanceRecord)])
            await uow.attendance.record_walk_ins(
                [r for r in records if isinstance(r, WalkInRecord)]
            )
            await self._reactions.attendance_changed(uow, event, now)
            await uow.commit()
        return records

    async def summaries(self, actor: Actor, event_id: UUID) -> AttendanceReport:
        async with self._uow() as uow:
            event = await _event(uow, event_id)
            await require_staff(uow, actor, event.organization_id, not_found=EVENT_NOT_FOUND)
            records = await uow.attendance.for_event(event_id)
            # Records from before attendance needed a registration (any user id staff typed)
            # are left out: showing their account's details is the leak this rule closed.
            registered = {r.user_id for r in records if r.registration_id is not None}
            summaries = summarise(event, [r for r in records if r.user_id in registered])
            users = {u.id: u for u in await uow.users.get_many([s.user_id for s in summaries])}
            walk_ins = summarise_walk_ins(event, await uow.attendance.walk_ins_for_event(event_id))
        attendees = [AttendeeSummary(users[s.user_id], s) for s in summaries if s.user_id in users]
        return AttendanceReport(attendees, walk_ins)

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


def _record(
    session: Session,
    entry: AttendanceEntry,
    attendee: tuple[UUID, UUID] | WalkIn,
    *,
    source: AttendanceSource,
    now: datetime,
) -> AttendanceRecord | WalkInRecord:
    if isinstance(attendee, WalkIn):
        return WalkInRecord.record(
            session,
            email=attendee.email,
            first_name=attendee.first_name,
            last_name=attendee.last_name,
            now=now,
            minutes_attended=entry.minutes_attended,
            checked_in_at=entry.checked_in_at,
        )
    user_id, registration_id = attendee
    return AttendanceRecord.record(
        session,
        user_id,
        source=source,
        now=now,
        minutes_attended=entry.minutes_attended,
        checked_in_at=entry.checked_in_at,
        registration_id=registration_id,
    )


async def _attendees(
    uow: UnitOfWork, event_id: UUID, entries: list[AttendanceEntry]
) -> list[tuple[UUID, UUID] | WalkIn]:
    """(person, their confirmed registration) or the walk-in, per entry. Accounts are never
    looked up: a person without a confirmed registration gets the answer an unknown id gets."""
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    registration_ids = {e.registration_id for e in entries if e.registration_id is not None}
    confirmed = await uow.registrations.confirmed_for(
        event_id, user_ids=user_ids, ids=registration_ids
    )
    by_id = {r.id: r for r in confirmed}
    by_user: dict[UUID | None, Registration] = {r.user_id: r for r in confirmed}
    found: list[tuple[UUID, UUID] | WalkIn] = []
    for index, entry in enumerate(entries):
        given = [entry.user_id, entry.registration_id, entry.walk_in]
        if sum(value is not None for value in given) != 1:
            raise InvalidInput(
                "Give one of user_id, registration_id or walk_in.",
                field=f"attendees[{index}].user_id",
            )
        if entry.walk_in is not None:
            found.append(entry.walk_in)
            continue
        if entry.registration_id is not None:
            registration, field = by_id.get(entry.registration_id), "registration_id"
        else:
            registration, field = by_user.get(entry.user_id), "user_id"
        if registration is None:
            raise InvalidInput(NOT_REGISTERED, field=f"attendees[{index}].{field}")
        found.append((registration.user_id, registration.id))
    return found


async def _event(uow: UnitOfWork, event_id: UUID) -> Event:
    event = await uow.events.get(event_id)
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event
