"""The events context's tasks: online meetings kept in step with their event, registrants
added to them, and what the video provider told us (attendance once a meeting ends)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self
from uuid import UUID

from cpd.domain.meetings import MeetingWebhook, MeetingWebhookKind
from cpd.domain.tasks import TaskData


@dataclass(frozen=True, slots=True)
class SyncMeetings(TaskData):
    NAME: ClassVar[str] = "sync_meetings"
    event_id: UUID


@dataclass(frozen=True, slots=True)
class AddMeetingRegistrants(TaskData):
    NAME: ClassVar[str] = "add_meeting_registrants"
    registration_id: UUID


@dataclass(frozen=True, slots=True)
class ZoomEvent(TaskData):
    """A verified provider notification; only ``kind`` and ``meeting_id`` drive the handler,
    the rest is kept as received for following it in the task log."""

    NAME: ClassVar[str] = "zoom_event"
    kind: MeetingWebhookKind
    meeting_id: str | None = None
    id: str | None = None
    occurred_at: datetime | None = None
    participant: dict[str, Any] | None = None

    @classmethod
    def of_webhook(cls, event: MeetingWebhook) -> Self:
        person = event.participant
        return cls(
            kind=event.kind,
            meeting_id=event.meeting_id,
            id=event.id,
            occurred_at=event.occurred_at,
            participant=None
            if person is None
            else {
                "joined_at": person.joined_at.isoformat(),
                "left_at": None if person.left_at is None else person.left_at.isoformat(),
                "registrant_id": person.registrant_id,
                "email": person.email,
                "name": person.name,
            },
        )
