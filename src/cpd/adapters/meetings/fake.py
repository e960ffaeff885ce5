"""A VideoMeetings adapter with no provider, for the embedded mode and demos.

It keeps meetings, registrants and participants in memory and honours the port's contract as
Zoom does: 11-digit meeting ids, Zoom-shaped join links (``https://zoom.example/j/<id>?pwd=``
and a personal ``tk=`` link per registrant), one registrant per email, deleting a missing
meeting is fine, a deleted meeting is ``NotFound``. Its webhooks use Zoom's signature scheme
with its own secret, and ``webhook`` builds signed ones, so a demo can drive the real webhook
route. State lives in this process only.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cpd.adapters.meetings.zoom import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    parse_zoom_webhook,
    zoom_signature,
)
from cpd.domain.errors import NotFound
from cpd.domain.meetings import (
    Meeting,
    MeetingRegistrant,
    MeetingSpec,
    MeetingWebhook,
    Participant,
    RegistrantSpec,
    email_key,
)

DEV_WEBHOOK_SECRET = "fake-zoom-webhook-secret"  # noqa: S105  a demo has nothing to protect
JOIN_BASE = "https://zoom.example/j"


@dataclass(slots=True)
class FakeMeeting:
    id: str
    spec: MeetingSpec
    password: str
    registrants: dict[str, MeetingRegistrant] = field(default_factory=dict)  # by email key
    participants: list[Participant] = field(default_factory=list)

    @property
    def join_url(self) -> str:
        return f"{JOIN_BASE}/{self.id}?pwd={self.password}"


class FakeVideoMeetings:
    name = "fake"

    def __init__(
        self,
        webhook_secret: str = DEV_WEBHOOK_SECRET,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = webhook_secret
        self._wall_clock = wall_clock
        self._meetings: dict[str, FakeMeeting] = {}

    async def create_meeting(self, spec: MeetingSpec) -> Meeting:
        meeting_id = self._new_id()
        meeting = FakeMeeting(meeting_id, spec, secrets.token_urlsafe(24))
        self._meetings[meeting_id] = meeting
        return Meeting(id=meeting_id, join_url=meeting.join_url)

    async def update_meeting(self, meeting_id: str, spec: MeetingSpec) -> None:
        self.meeting(meeting_id).spec = spec

    async def delete_meeting(self, meeting_id: str) -> None:
        self._meetings.pop(meeting_id, None)

    async def add_registrant(
        self, meeting_id: str, registrant: RegistrantSpec
    ) -> MeetingRegistrant:
        meeting = self.meeting(meeting_id)
        key = email_key(registrant.email) or ""
        known = meeting.registrants.get(key)
        if known is not None:
            return known
        registrant_id = secrets.token_urlsafe(16)
        token = secrets.token_urlsafe(24)
        made = MeetingRegistrant(id=registrant_id, join_url=f"{JOIN_BASE}/{meeting_id}?tk={token}")
        meeting.registrants[key] = made
        return made

    async def participants(self, meeting_id: str) -> list[Participant]:
        return list(self.meeting(meeting_id).participants)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> MeetingWebhook:
        return parse_zoom_webhook(payload, headers, self._secret, now=self._wall_clock())

    # -- for demos and tests: what a provider would have observed ---------------------------

    def meeting(self, meeting_id: str) -> FakeMeeting:
        found = self._meetings.get(meeting_id)
        if found is None:
            raise NotFound("No such meeting.", field="meeting_id")
        return found

    def record_participant(self, meeting_id: str, participant: Participant) -> None:
        """Someone stayed in the meeting from ``joined_at`` to ``left_at``."""
        self.meeting(meeting_id).participants.append(participant)

    def webhook(
        self, event: str, obj: dict[str, Any], *, event_ts: datetime | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A signed notification (body, headers) as Zoom would send it."""
        ts = int((event_ts.timestamp() if event_ts else self._wall_clock()) * 1000)
        payload = {"event": event, "event_ts": ts, "payload": {"account_id": "fake", **obj}}
        body = json.dumps(payload).encode()
        timestamp = str(int(self._wall_clock()))
        return body, {
            SIGNATURE_HEADER: zoom_signature(self._secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            "content-type": "application/json",
        }

    def _new_id(self) -> str:
        while True:
            meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)  # 11 digits, like Zoom's
            if meeting_id not in self._meetings:
                return meeting_id
