"""Online meetings: a provider meeting per session of an online or hybrid event, registrants
with personal links, Zoom's notifications in, attendance out.

Meetings follow the event through the ``sync_meetings`` task, queued in the same transaction
as every change that may call for one (publish, edit, sessions added/changed/removed, cancel):
it creates missing meetings, updates changed ones and deletes those of removed sessions or of
a cancelled event, and points each session's ``join_url`` at its meeting. A provider's create
is not idempotent, so a row is claimed *before* asking it and the id stored the moment it
answers: a retry or a concurrent run finds the row and creates nothing. (The one gap: a run
that dies between the provider's answer and that commit leaves a meeting we never learn of.)

A confirmed registration queues ``add_meeting_registrants``, which registers the person with
each session's meeting and stores their registrant id and personal link (idempotent: the
provider answers the same registrant for the same email, and stored ones are skipped).

``receive_webhook`` verifies a notification, stores its id and queues its effect in one
transaction (a duplicate does nothing); the URL-validation challenge is answered and not
stored. The ``zoom_event`` task then acts on it: when a meeting ends, the participants report
(authoritative, unlike live join/leave notifications, which can be lost or arrive out of order)
becomes attendance for the session the stored meeting belongs to. A periodic job syncs every
meeting that ended a while ago and was never synced, so a lost notification loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from cpd.domain.accounts import Actor
from cpd.domain.attendance import AttendanceRecord, AttendanceSource, check_in_opens
from cpd.domain.errors import NotFound
from cpd.domain.events import Event, EventStatus, Session
from cpd.domain.meetings import (
    Invitee,
    MeetingSpec,
    MeetingWebhookKind,
    RegistrantSpec,
    SessionMeeting,
    SessionRegistrant,
    attendance_from_participants,
)
from cpd.domain.pages import MAX_PAGE_SIZE, PageRequest
from cpd.domain.registrations import Registration, RegistrationStatus
from cpd.domain.tasks import Task
from cpd.ports.events import VideoMeetings
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.tasks import handles
from cpd.services.events.reactions import EventReactions
from cpd.services.events.tasks import AddMeetingRegistrants, SyncMeetings, ZoomEvent

WEBHOOK_PROVIDER = "zoom"  # the inbox key: both adapters speak Zoom's webhook format
# A claim this old without an id belongs to a run that died (a create takes seconds).
CLAIM_LAPSE = timedelta(minutes=2)
# The participants report is ready some minutes after a meeting ends.
ATTENDANCE_GRACE = timedelta(minutes=15)
# A report still missing this long after the session is never coming (meeting never held).
ATTENDANCE_GIVE_UP = timedelta(hours=2)
log = logging.getLogger(__name__)

# meeting id -> (event id, session id), or None when no session has that meeting
SessionLocator = Callable[[str], Awaitable[tuple[UUID, UUID] | None]]


class MeetingBeingCreated(RuntimeError):
    """Another run is creating a session's meeting right now: retry the task later."""


@dataclass(frozen=True, slots=True)
class JoinLink:
    session_id: UUID
    join_url: str


def queue_meeting_sync(uow: UnitOfWork, event: Event, *, had_meetings: bool) -> None:
    """Queue ``sync_meetings`` when a change may call for meetings to be made, changed or
    removed: the event has online meetings now or had them before the change
    (``had_meetings``). Call it in the change's transaction."""
    if event.status is EventStatus.COMPLETED:
        return  # past meetings stay as they are
    if had_meetings or event.has_online_meetings:
        uow.outbox.add(SyncMeetings(event.id).task())


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    fresh: bool  # False: a duplicate, or a challenge (nothing stored)
    challenge: Mapping[str, str] | None = None  # the body to answer a URL validation with


class MeetingService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        meetings: VideoMeetings,
        reactions: EventReactions,
        locate_session: SessionLocator | None = None,
    ) -> None:
        self._uow = uow
        self._reactions = reactions
        self._clock = clock
        self._meetings = meetings
        self._locate_session = locate_session or self._stored_session

    async def receive_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookReceipt:
        """Verify (InvalidInput if forged or stale), store the id, queue the effect."""
        event = self._meetings.parse_webhook(payload, headers)
        if event.kind is MeetingWebhookKind.URL_VALIDATION:
            return WebhookReceipt(fresh=False, challenge=event.challenge_response)
        async with self._uow() as uow:
            fresh = await uow.webhooks.accept(WEBHOOK_PROVIDER, event.id, self._clock.now())
            if fresh:
                uow.outbox.add(ZoomEvent.of_webhook(event).task())
                await uow.commit()
        return WebhookReceipt(fresh=fresh)

    @handles(ZoomEvent)
    async def apply_event(self, task: Task) -> None:
        """The ``zoom_event`` task. Joins and leaves need no action of their own: the report
        read when the meeting ends holds every stay."""
        news = ZoomEvent.of(task)
        if news.kind is not MeetingWebhookKind.MEETING_ENDED or news.meeting_id is None:
            return
        meeting_id = news.meeting_id
        located = await self._locate_session(meeting_id)
        if located is None:
            log.warning("meeting %s ended, but no session is linked to it", meeting_id)
            return
        event_id, session_id = located
        await self.sync_attendance(event_id, session_id, meeting_id)

    async def sync_attendance(
        self, event_id: UUID, session_id: UUID, meeting_id: str
    ) -> list[AttendanceRecord]:
        """Attendance of the session from the meeting's participants report, for confirmed
        registrants matched by their stored registrant id, else by email. Repeatable: records
        are keyed by (session, person). Attendance staff recorded by hand is left alone; nobody
        present gets no record. The stored meeting is marked synced."""
        participants = await self._meetings.participants(meeting_id)  # outside any transaction
        now = self._clock.now()
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            if event is None:
                raise NotFound("Event not found.", field="event_id")
            session = event.session(session_id)
            if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
                log.warning("no attendance for meeting %s: event is %s", meeting_id, event.status)
                return []
            if now < check_in_opens(session):  # held early (a rehearsal): not the session
                log.warning("no attendance for meeting %s: its session has not started", meeting_id)
                return []  # left unsynced: the periodic sync reads it after the session
            confirmed = await _confirmed(uow, event_id)
            users = {u.id: u for u in await uow.users.get_many([r.user_id for r in confirmed])}
            registrant_ids = {
                r.registration_id: r.registrant_id
                for r in await uow.meetings.registrants_for_session(session_id)
            }
            invitees = [
                Invitee(
                    (r.user_id, r.id),
                    email=users[r.user_id].email,
                    registrant_id=registrant_ids.get(r.id),
                )
                for r in confirmed
                if r.user_id in users
            ]
            by_hand = {
                r.user_id
                for r in await uow.attendance.for_event(event_id)
                if r.session_id == session_id and r.source is not AttendanceSource.ZOOM
            }
            found = attendance_from_participants(
                session, participants, invitees, open_until=min(now, session.ends_at)
            )
            records = [
                AttendanceRecord.record(
                    session,
                    user_id,
                    source=AttendanceSource.ZOOM,
                    now=now,
                    minutes_attended=minutes,
                    registration_id=registration_id,
                )
                for (user_id, registration_id), minutes in found.minutes.items()
                if minutes > 0 and user_id not in by_hand
            ]
            if records:
                await uow.attendance.record(records)
                await self._reactions.attendance_changed(uow, event, now)
            stored = await uow.meetings.get(session_id)
            if stored is not None and stored.meeting_id == meeting_id:
                await uow.meetings.save(replace(stored, attendance_synced_at=now))
            await uow.commit()
        if found.unmatched:
            log.info(
                "meeting %s: %d participant stays matched no confirmed registrant",
                meeting_id,
                len(found.unmatched),
            )
        return records

    async def sync_due_attendance(self, *, limit: int = 50) -> int:
        """The periodic job: attendance of meetings that ended ``ATTENDANCE_GRACE`` ago and
        were never synced (their ``meeting.ended`` notification was lost, or not sent)."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.meetings.attendance_due(now - ATTENDANCE_GRACE, limit)
        synced = 0
        for meeting in due:
            assert meeting.meeting_id is not None  # attendance_due lists created meetings only
            try:
                await self.sync_attendance(meeting.event_id, meeting.session_id, meeting.meeting_id)
                synced += 1
            except NotFound:
                # No report (the meeting was never held, or deleted at the provider): try
                # again next time, and give up once it cannot be a late report any more.
                await self._give_up_if_old(meeting, now)
            except Exception:  # one meeting's failure must not stop the others
                log.exception("attendance sync of meeting %s failed", meeting.meeting_id)
        return synced

    async def _give_up_if_old(self, meeting: SessionMeeting, now: datetime) -> None:
        async with self._uow() as uow:
            session = _session_of(await uow.events.get(meeting.event_id), meeting.session_id)
            if session is None or now - session.ends_at >= ATTENDANCE_GIVE_UP:
                log.warning("meeting %s has no participants report; not synced", meeting.meeting_id)
                await uow.meetings.save(replace(meeting, attendance_synced_at=now))
                await uow.commit()

    async def _stored_session(self, meeting_id: str) -> tuple[UUID, UUID] | None:
        async with self._uow() as uow:
            found = await uow.meetings.by_meeting_id(self._meetings.name, meeting_id)
        return None if found is None else (found.event_id, found.session_id)

    # -- meetings follow the event -------------------------------------------------------------

    @handles(SyncMeetings)
    async def sync_meetings(self, task: Task) -> None:
        """The ``sync_meetings`` task."""
        await self.sync_event(SyncMeetings.of(task).event_id)

    async def sync_event(self, event_id: UUID) -> None:
        """Make the provider's meetings match the event's sessions (see the module doc).
        Idempotent: a second run finds every meeting stored and in step, and does nothing."""
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            stored = await uow.meetings.for_event(event_id)
        if event is not None and event.status is EventStatus.COMPLETED:
            return  # past meetings stay: their reports are attendance
        wanted = (
            {s.id: MeetingSpec.for_session(event, s) for s in event.sessions}
            if event is not None and event.has_online_meetings
            else {}
        )
        busy = False
        have: set[UUID] = set()
        for meeting in stored:
            spec = wanted.get(meeting.session_id)
            if meeting.meeting_id is None:  # being created, or its creator died
                if self._clock.now() - meeting.claimed_at < CLAIM_LAPSE:
                    busy = True
                    have.add(meeting.session_id)
                    continue
                log.warning("claim on session %s lapsed; creating anew", meeting.session_id)
                await self._forget(meeting)
            elif spec is None:
                await self._drop(meeting)
            elif meeting.spec_digest != spec.digest:
                if await self._update(meeting, spec):
                    have.add(meeting.session_id)
            else:
                have.add(meeting.session_id)
        for session_id, spec in wanted.items():
            if session_id not in have:
                await self._create(event_id, session_id, spec)
        if busy:
            raise MeetingBeingCreated(f"a meeting of event {event_id} is being created")

    async def _create(self, event_id: UUID, session_id: UUID, spec: MeetingSpec) -> None:
        claim = SessionMeeting(
            session_id=session_id,
            event_id=event_id,
            provider=self._meetings.name,
            claimed_at=self._clock.now(),
        )
        async with self._uow() as uow:
            if not await uow.meetings.claim(claim):
                raise MeetingBeingCreated(f"session {session_id} was claimed meanwhile")
            await uow.commit()
        try:
            meeting = await self._meetings.create_meeting(spec)
        except Exception:
            await self._forget(claim)  # nothing was created (a timeout may have: logged)
            log.warning("creating the meeting of session %s failed", session_id)
            raise
        row = claim.created(meeting, spec)
        async with self._uow() as uow:  # first of all: never create it twice
            await uow.meetings.save(row)
            await uow.commit()
        async with self._uow() as uow:
            event = await uow.events.get_for_update(event_id)
            still = (
                event is not None
                and event.has_online_meetings
                and any(s.id == session_id for s in event.sessions)
            )
            if event is not None and still:
                event.link_session(session_id, meeting.join_url)
                await uow.events.save(event)
                for registration in await _confirmed(uow, event_id):
                    uow.outbox.add(AddMeetingRegistrants(registration.id).task())
                await uow.commit()
        if not still:  # removed or cancelled while the provider was creating it
            await self._drop(row)

    async def _update(self, meeting: SessionMeeting, spec: MeetingSpec) -> bool:
        """Reschedule at the provider; False when it no longer has the meeting (then the row
        is forgotten and the meeting made again)."""
        assert meeting.meeting_id is not None
        try:
            await self._meetings.update_meeting(meeting.meeting_id, spec)
        except NotFound:
            log.warning("meeting %s is gone at the provider; making a new one", meeting.meeting_id)
            await self._forget(meeting)
            return False
        async with self._uow() as uow:
            current = await uow.meetings.get(meeting.session_id)
            if current is not None and current.meeting_id == meeting.meeting_id:
                await uow.meetings.save(replace(current, spec_digest=spec.digest))
                await uow.commit()
        return True

    async def _drop(self, meeting: SessionMeeting) -> None:
        """Delete the meeting at the provider, then forget it and unlink its session."""
        if meeting.meeting_id is not None:
            await self._meetings.delete_meeting(meeting.meeting_id)
        await self._forget(meeting)

    async def _forget(self, meeting: SessionMeeting) -> None:
        async with self._uow() as uow:
            current = await uow.meetings.get(meeting.session_id)
            if current is None or (current.meeting_id, current.claimed_at) != (
                meeting.meeting_id,
                meeting.claimed_at,
            ):
                return  # another run replaced it meanwhile
            await uow.meetings.remove(meeting.session_id)
            event = await uow.events.get_for_update(meeting.event_id)
            session = _session_of(event, meeting.session_id)
            linked = session is not None and session.join_url == meeting.join_url
            if event is not None and session is not None and meeting.join_url and linked:
                event.link_session(session.id, None)
                await uow.events.save(event)
            await uow.commit()

    # -- registrants -----------------------------------------------------------------------

    @handles(AddMeetingRegistrants)
    async def add_registrants(self, task: Task) -> None:
        """The ``add_meeting_registrants`` task: register a confirmed registrant with each
        session's meeting and store their registrant id and personal join link."""
        registration_id = AddMeetingRegistrants.of(task).registration_id
        async with self._uow() as uow:
            registration = await uow.registrations.get(registration_id)
            if registration is None or registration.status is not RegistrationStatus.CONFIRMED:
                return
            event = await uow.events.get(registration.event_id)
            user = await uow.users.get(registration.user_id)
            if event is None or user is None or not event.has_online_meetings:
                return
            sessions = {s.id for s in event.sessions}
            done = {
                r.session_id
                for r in await uow.meetings.registrants_for_registration(registration_id)
            }
            todo = [
                m
                for m in await uow.meetings.for_event(event.id)
                if m.meeting_id and m.session_id in sessions and m.session_id not in done
            ]
        person = RegistrantSpec(
            email=user.email,
            first_name=user.first_name.strip() or user.email.split("@")[0],
            last_name=user.last_name,
        )
        for meeting in todo:
            assert meeting.meeting_id is not None
            try:
                made = await self._meetings.add_registrant(meeting.meeting_id, person)
            except NotFound:
                log.warning("meeting %s is gone; the next sync makes it anew", meeting.meeting_id)
                continue
            async with self._uow() as uow:
                current = await uow.meetings.get(meeting.session_id)
                if current is None or current.meeting_id != meeting.meeting_id:
                    continue  # replaced meanwhile: its sync queues registrants again
                await uow.meetings.add_registrant(
                    SessionRegistrant(
                        registration_id=registration_id,
                        session_id=meeting.session_id,
                        registrant_id=made.id,
                        join_url=made.join_url,
                        created_at=self._clock.now(),
                    )
                )
                await uow.commit()

    async def join_links(self, actor: Actor, registration: Registration) -> list[JoinLink]:
        """The registrant's links, in session order: their personal meeting link, else the
        session's own (one staff set by hand); only for their own confirmed registration
        (staff never see personal links)."""
        if (
            registration.user_id != actor.user_id
            or registration.status is not RegistrationStatus.CONFIRMED
        ):
            return []
        async with self._uow() as uow:
            event = await uow.events.get(registration.event_id)
            if event is None or not event.is_public:
                return []
            mine = {
                r.session_id: r.join_url
                for r in await uow.meetings.registrants_for_registration(registration.id)
            }
        links = ((s.id, mine.get(s.id) or s.join_url) for s in event.sessions)
        return [JoinLink(session_id, url) for session_id, url in links if url]


def _session_of(event: Event | None, session_id: UUID) -> Session | None:
    if event is None:
        return None
    return next((s for s in event.sessions if s.id == session_id), None)


async def _confirmed(uow: UnitOfWork, event_id: UUID) -> list[Registration]:
    confirmed: list[Registration] = []
    offset = 0
    while True:
        page = await uow.registrations.list_for_event(
            event_id,
            frozenset({RegistrationStatus.CONFIRMED.value}),
            PageRequest(limit=MAX_PAGE_SIZE, offset=offset),
        )
        confirmed.extend(page.items)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return confirmed
