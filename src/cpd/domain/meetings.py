"""Online meetings for sessions (Zoom or its fake), and attendance computed from who was in them.

Attendance rule: a person's minutes are the length of the *union* of their join/leave
intervals, clipped to the session's scheduled window, so re-joins, a second device and
overlapping reports count once and time outside the session does not count. Participants are
matched to registrants by the provider's registrant id, else by email (case-insensitive);
never by display name, which anyone can type.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Generic, TypeVar
from uuid import UUID

from cpd.domain.errors import InvalidInput
from cpd.domain.events import Event, Session

K = TypeVar("K", bound=Hashable)
MAX_TOPIC = 200  # Zoom's limit on a meeting topic


@dataclass(frozen=True, slots=True)
class MeetingSpec:
    """What a provider needs to schedule a meeting for one session."""

    topic: str
    starts_at: datetime
    duration_minutes: int
    timezone: str  # IANA, for the provider's invitations; starts_at itself is aware UTC

    def __post_init__(self) -> None:
        topic = self.topic.strip()
        if not topic:
            raise InvalidInput("Must not be blank.", field="topic")
        object.__setattr__(self, "topic", topic[:MAX_TOPIC])
        if self.starts_at.tzinfo is None:
            raise InvalidInput("Give a date-time with a UTC offset.", field="starts_at")
        if self.duration_minutes <= 0:
            raise InvalidInput("Must be at least one minute.", field="duration_minutes")

    @classmethod
    def for_session(cls, event: Event, session: Session) -> MeetingSpec:
        return cls(
            topic=f"{event.title}: {session.title}" if event.title else session.title,
            starts_at=session.starts_at,
            duration_minutes=max(1, session.scheduled_minutes),
            timezone=event.timezone,
        )

    @property
    def digest(self) -> str:
        """A fingerprint of what the provider was told: a changed session changes it."""
        parts = (self.topic, self.starts_at.isoformat(), str(self.duration_minutes), self.timezone)
        return sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Meeting:
    """A scheduled meeting: the provider's id and the general join link."""

    id: str
    join_url: str


@dataclass(frozen=True, slots=True)
class RegistrantSpec:
    email: str
    first_name: str
    last_name: str = ""

    def __post_init__(self) -> None:
        if "@" not in self.email.strip():
            raise InvalidInput("Give an email address.", field="email")
        if not self.first_name.strip():
            raise InvalidInput("Must not be blank.", field="first_name")


@dataclass(frozen=True, slots=True)
class MeetingRegistrant:
    """A person registered with the provider: their id there and a personal join link."""

    id: str
    join_url: str


@dataclass(frozen=True, slots=True)
class SessionMeeting:
    """The provider's meeting for one session of an online or hybrid event.

    A row is written (``meeting_id`` None) *before* the provider is asked to create the
    meeting, so two runs of the sync cannot both create one; the id is stored as soon as the
    provider answers. A row whose session was removed outlives it until the meeting is deleted
    at the provider (the sync needs the id to do that).
    """

    session_id: UUID
    event_id: UUID
    provider: str
    claimed_at: datetime
    meeting_id: str | None = None  # None while being created
    join_url: str | None = None
    spec_digest: str = ""  # MeetingSpec.digest of what the provider has
    attendance_synced_at: datetime | None = None

    def created(self, meeting: Meeting, spec: MeetingSpec) -> SessionMeeting:
        return replace(
            self, meeting_id=meeting.id, join_url=meeting.join_url, spec_digest=spec.digest
        )


@dataclass(frozen=True, slots=True)
class SessionRegistrant:
    """A registration's registrant in one session's meeting, with their personal link."""

    registration_id: UUID
    session_id: UUID
    registrant_id: str
    join_url: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Participant:
    """One stay in a meeting (a re-join is another stay). ``left_at`` is None while present."""

    joined_at: datetime
    left_at: datetime | None = None
    registrant_id: str | None = None
    email: str | None = None
    name: str = ""  # display only: never used to match anyone

    @property
    def email_key(self) -> str | None:
        return email_key(self.email)


class MeetingWebhookKind(StrEnum):
    URL_VALIDATION = "url_validation"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"
    MEETING_ENDED = "meeting_ended"


@dataclass(frozen=True, slots=True)
class MeetingWebhook:
    """A verified provider notification.

    ``id`` is stable across the provider's redeliveries of the same notification (Zoom sends
    no event id, so the adapter derives one from the content). A URL-validation challenge
    carries the provider's expected answer in ``challenge_response``.
    """

    id: str
    kind: MeetingWebhookKind
    occurred_at: datetime
    meeting_id: str | None = None
    participant: Participant | None = None
    challenge_response: Mapping[str, str] | None = None


def email_key(email: str | None) -> str | None:
    """Emails compare case-insensitively (in practice providers and people vary the case)."""
    if email is None:
        return None
    key = email.strip().casefold()
    return key or None


# -- attendance from intervals ------------------------------------------------------------------


def merge_intervals(
    intervals: Iterable[tuple[datetime, datetime]],
) -> list[tuple[datetime, datetime]]:
    """The union as disjoint, sorted intervals; empty or reversed intervals are dropped."""
    ordered = sorted((start, end) for start, end in intervals if end > start)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def attended_time(
    intervals: Iterable[tuple[datetime, datetime]], window_start: datetime, window_end: datetime
) -> timedelta:
    """Length of the union of the intervals inside the window."""
    clipped = ((max(s, window_start), min(e, window_end)) for s, e in intervals)
    return sum((e - s for s, e in merge_intervals(clipped)), timedelta())


def attended_minutes(
    intervals: Iterable[tuple[datetime, datetime]], window_start: datetime, window_end: datetime
) -> int:
    """Whole minutes attended (rounded down: partial minutes are not credited)."""
    return attended_time(intervals, window_start, window_end) // timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Invitee(Generic[K]):
    """Someone who may turn up: our key for them, and how the provider may know them."""

    key: K
    email: str | None = None
    registrant_id: str | None = None


@dataclass(frozen=True, slots=True)
class MeetingAttendance(Generic[K]):
    minutes: dict[K, int]  # every invitee who was present at all, with minutes in the window
    unmatched: list[Participant] = field(default_factory=list)  # nobody we invited


def attendance_from_participants(
    session: Session,
    participants: Sequence[Participant],
    invitees: Iterable[Invitee[K]],
    *,
    open_until: datetime,
) -> MeetingAttendance[K]:
    """Minutes per invitee for one session.

    A participant matches by registrant id first, else by email; a stay without a leave time
    (still in the meeting, or a lost ``left`` notification) counts until ``open_until``.
    """
    by_registrant: dict[str, K] = {}
    by_email: dict[str, K] = {}
    for invitee in invitees:
        if invitee.registrant_id:
            by_registrant.setdefault(invitee.registrant_id, invitee.key)
        key = email_key(invitee.email)
        if key:
            by_email.setdefault(key, invitee.key)
    stays: dict[K, list[tuple[datetime, datetime]]] = {}
    unmatched: list[Participant] = []
    for participant in participants:
        who = by_registrant.get(participant.registrant_id or "")
        if who is None and participant.email_key:
            who = by_email.get(participant.email_key)
        if who is None:
            unmatched.append(participant)
            continue
        left = participant.left_at if participant.left_at is not None else open_until
        stays.setdefault(who, []).append((participant.joined_at, left))
    return MeetingAttendance(
        minutes={
            who: attended_minutes(intervals, session.starts_at, session.ends_at)
            for who, intervals in stays.items()
        },
        unmatched=unmatched,
    )
