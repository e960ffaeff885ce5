"""Online meetings: Zoom's notifications in, attendance out.

``receive_webhook`` verifies a notification, stores its id and queues its effect in one
transaction (a duplicate does nothing); the URL-validation challenge is answered and not
stored. The ``zoom_event`` task then acts on it: when a meeting ends, the participants report
(authoritative, unlike live join/leave notifications, which can be lost or arrive out of order)
becomes attendance for the session the meeting belongs to.

Which session a meeting belongs to is not stored yet (no table links them); until it is,
``locate_session`` is None and an ended meeting is logged and left for ``sync_attendance`` to be
run with the session given explicitly. The report stays available at the provider, so nothing
is lost by waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from cpd.domain.attendance import AttendanceRecord, AttendanceSource
from cpd.domain.errors import NotFound
from cpd.domain.events import EventStatus
from cpd.domain.meetings import (
    Invitee,
    MeetingWebhook,
    MeetingWebhookKind,
    attendance_from_participants,
)
from cpd.domain.pages import MAX_PAGE_SIZE, PageRequest
from cpd.domain.registrations import RegistrationStatus
from cpd.domain.tasks import Task
from cpd.ports.persistence import UnitOfWorkFactory
from cpd.ports.services import Clock, VideoMeetings

ZOOM_EVENT = "zoom_event"
WEBHOOK_PROVIDER = "zoom"  # the inbox key: both adapters speak Zoom's webhook format
log = logging.getLogger(__name__)

# meeting id -> (event id, session id), or None when no session has that meeting
SessionLocator = Callable[[str], Awaitable[tuple[UUID, UUID] | None]]


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
        locate_session: SessionLocator | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._meetings = meetings
        self._locate_session = locate_session

    async def receive_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookReceipt:
        """Verify (InvalidInput if forged or stale), store the id, queue the effect."""
        event = self._meetings.parse_webhook(payload, headers)
        if event.kind is MeetingWebhookKind.URL_VALIDATION:
            return WebhookReceipt(fresh=False, challenge=event.challenge_response)
        async with self._uow() as uow:
            fresh = await uow.webhooks.accept(WEBHOOK_PROVIDER, event.id, self._clock.now())
            if fresh:
                uow.outbox.add(Task(ZOOM_EVENT, _payload(event)))
                await uow.commit()
        return WebhookReceipt(fresh=fresh)

    async def apply_event(self, task: Task) -> None:
        """The ``zoom_event`` task. Joins and leaves need no action of their own: the report
        read when the meeting ends holds every stay."""
        if task.payload["kind"] != MeetingWebhookKind.MEETING_ENDED:
            return
        meeting_id = str(task.payload["meeting_id"])
        located = await self._locate_session(meeting_id) if self._locate_session else None
        if located is None:
            log.warning("meeting %s ended, but no session is linked to it", meeting_id)
            return
        event_id, session_id = located
        await self.sync_attendance(event_id, session_id, meeting_id)

    async def sync_attendance(
        self, event_id: UUID, session_id: UUID, meeting_id: str
    ) -> list[AttendanceRecord]:
        """Attendance of the session from the meeting's participants report, for confirmed
        registrants matched by email. Repeatable: records are keyed by (session, person).
        Attendance staff recorded by hand is left alone; nobody present gets no record."""
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
            confirmed = []
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
                    break
            users = {u.id: u for u in await uow.users.get_many([r.user_id for r in confirmed])}
            invitees = [
                Invitee((r.user_id, r.id), email=users[r.user_id].email)
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
                await uow.commit()
        if found.unmatched:
            log.info(
                "meeting %s: %d participant stays matched no confirmed registrant",
                meeting_id,
                len(found.unmatched),
            )
        return records


def _payload(event: MeetingWebhook) -> dict[str, object]:
    participant = event.participant
    return {
        "id": event.id,
        "kind": event.kind.value,
        "meeting_id": event.meeting_id,
        "occurred_at": event.occurred_at.isoformat(),
        "participant": None
        if participant is None
        else {
            "joined_at": participant.joined_at.isoformat(),
            "left_at": _iso(participant.left_at),
            "registrant_id": participant.registrant_id,
            "email": participant.email,
            "name": participant.name,
        },
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
