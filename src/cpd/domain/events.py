"""Events and their sessions: what an organization runs, and the rules for publishing it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cpd.domain.accounts import check_slug
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.ids import new_id
from cpd.domain.money import Money, cpd_credits
from cpd.domain.refunds import RefundPolicy
from cpd.domain.text import checked_text
from cpd.domain.urls import checked_url

DEFAULT_ATTENDANCE_THRESHOLD = 75
T = TypeVar("T")
MAX_TAGS = 20


class EventFormat(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @property
    def needs_venue(self) -> bool:
        return self is not EventFormat.ONLINE


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Venue:
    name: str
    address: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", checked_text(self.name, "venue.name", 200))
        address = checked_text(self.address, "venue.address", 1000, multiline=True)
        object.__setattr__(self, "address", address)


@dataclass(slots=True)
class Session:
    id: UUID
    event_id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str | None = None
    join_url: str | None = None

    def __post_init__(self) -> None:
        self.title = checked_text(self.title, "sessions.title", 200)
        _aware(self.starts_at, "sessions.starts_at")
        _aware(self.ends_at, "sessions.ends_at")
        if self.ends_at <= self.starts_at:
            raise InvalidInput("A session must end after it starts.", field="sessions.ends_at")

    @property
    def scheduled_minutes(self) -> int:
        return int((self.ends_at - self.starts_at) / timedelta(minutes=1))

    def overlaps(self, other: Session) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


@dataclass(frozen=True, slots=True)
class SeatLedger:
    """The locked event row's seat figures: all a seat decision needs, read under the lock."""

    status: EventStatus
    capacity: int | None  # None: unlimited
    taken: int  # seats held by registrations (pending payment, confirmed, offered)


@dataclass(slots=True)
class Event:
    """An event owned by an organization. Its times follow its sessions once it has any."""

    id: UUID
    organization_id: UUID
    title: str
    slug: str
    format: EventFormat
    timezone: str
    price: Money
    created_at: datetime
    updated_at: datetime
    summary: str = ""
    description: str = ""
    venue: Venue | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = None
    cpd_credits: Decimal = Decimal("0")
    credit_category: str | None = None
    tags: tuple[str, ...] = ()
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    attendance_threshold_percent: int = DEFAULT_ATTENDANCE_THRESHOLD
    status: EventStatus = EventStatus.DRAFT
    sessions: list[Session] = field(default_factory=list)
    refund_policy: RefundPolicy | None = None  # None: the organization's applies
    completed_at: datetime | None = None
    completed_by: UUID | None = None
    # Why staff completed it before its last session ended (kept as the record of that).
    completion_override_reason: str | None = None

    @classmethod
    def create(
        cls,
        *,
        organization_id: UUID,
        slug: str,
        now: datetime,
        details: dict[str, Any],
        sessions: list[dict[str, Any]] | None = None,
    ) -> Event:
        event = cls(
            id=new_id(),
            organization_id=organization_id,
            title="",
            slug=check_slug(slug),
            format=EventFormat.IN_PERSON,
            timezone="UTC",
            price=Money(0, "GBP"),
            created_at=now,
            updated_at=now,
        )
        if sessions:
            _refuse_explicit_times(details)
        event._apply(details)
        for spec in sessions or []:
            event._add_session(spec)
        event._validate()
        return event

    # -- editing ---------------------------------------------------------------------------

    def update(self, changes: dict[str, Any], *, now: datetime) -> None:
        """Apply field changes; a published event must stay publishable."""
        if self.sessions:
            _refuse_explicit_times(changes)
        self._edit(lambda event: event._apply(changes), now)

    def add_session(self, spec: dict[str, Any], *, now: datetime) -> Session:
        return self._edit(lambda event: event._add_session(spec), now)

    def update_session(
        self, session_id: UUID, changes: dict[str, Any], *, now: datetime
    ) -> Session:
        def change(event: Event) -> Session:
            changed = replace(event.session(session_id), **_session_fields(changes))
            event.sessions = [changed if s.id == session_id else s for s in event.sessions]
            return changed

        return self._edit(change, now)

    def remove_session(self, session_id: UUID, *, now: datetime) -> None:
        def change(event: Event) -> None:
            event.session(session_id)
            event.sessions = [s for s in event.sessions if s.id != session_id]
            if not event.sessions:  # the times came from the sessions; none are left
                event.starts_at = event.ends_at = None

        self._edit(change, now)

    def link_session(self, session_id: UUID, join_url: str | None) -> None:
        """Point a session at its online meeting's link (or at none). Not an edit by staff:
        the link follows the provider's meeting, so no edit rules or timestamps apply."""
        self.session(session_id).join_url = join_url

    @property
    def has_online_meetings(self) -> bool:
        """Whether its sessions should have provider meetings now."""
        return self.status is EventStatus.PUBLISHED and self.format is not EventFormat.IN_PERSON

    def session(self, session_id: UUID) -> Session:
        for session in self.sessions:
            if session.id == session_id:
                return session
        raise NotFound("Session not found.")

    # -- lifecycle -------------------------------------------------------------------------

    def publish(self, *, now: datetime) -> None:
        if self.status is not EventStatus.DRAFT:
            raise Conflict(f"Only a draft can be published; this event is {self.status}.")
        self._check_publishable()
        if self.has_ended(now):
            raise Conflict(
                "This event is over: its last session has ended, so nobody could register. "
                "Move its sessions to the future to publish it.",
                field="sessions",
            )
        self.status = EventStatus.PUBLISHED
        self.updated_at = now

    def cancel(self, *, now: datetime) -> None:
        if self.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise Conflict(f"A {self.status} event cannot be cancelled.")
        self.status = EventStatus.CANCELLED
        self.updated_at = now

    def complete(
        self, *, now: datetime, by: UUID | None = None, override_reason: str | None = None
    ) -> None:
        """Completing starts certificates with credits, so it waits until the last session
        has ended; staff may complete a started event early only with ``override_reason``,
        which the event keeps. A reason given when none is needed is not kept."""
        if self.status is not EventStatus.PUBLISHED:
            raise Conflict(f"Only a published event can be completed; this one is {self.status}.")
        if self.starts_at is not None and now < self.starts_at:
            raise Conflict("An event cannot be completed before it starts.")
        reason = None
        if not self.has_ended(now):
            if override_reason is None:
                raise Conflict(
                    "The event's last session has not ended yet; give override_reason to "
                    "complete it now.",
                    field="override_reason",
                )
            reason = checked_text(override_reason, "override_reason", 500)
        self.status = EventStatus.COMPLETED
        self.completed_at = self.updated_at = now
        self.completed_by = by
        self.completion_override_reason = reason

    def ensure_deletable(self) -> None:
        if self.status is not EventStatus.DRAFT:
            raise Conflict(
                f"A {self.status} event cannot be deleted; cancel it instead.", field="status"
            )

    def has_ended(self, now: datetime) -> bool:
        """Whether its last session is over (an event without times never ends)."""
        return self.ends_at is not None and self.ends_at <= now

    @property
    def is_public(self) -> bool:
        return self.status in (EventStatus.PUBLISHED, EventStatus.COMPLETED)

    @property
    def scheduled_minutes(self) -> int:
        return sum(s.scheduled_minutes for s in self.sessions)

    # -- rules -----------------------------------------------------------------------------

    def _edit(self, change: Callable[[Event], T], now: datetime) -> T:
        """Apply ``change`` to a copy and keep it only if the result is valid: a refused
        change leaves this event exactly as it was."""
        self._require_editable()
        draft = copy.deepcopy(self)
        result = change(draft)
        draft._validate()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(draft, name))
        self.updated_at = now
        return result

    def _require_editable(self) -> None:
        if self.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise Conflict(f"A {self.status} event can no longer be changed.")

    def _add_session(self, spec: dict[str, Any]) -> Session:
        missing = {"title", "starts_at", "ends_at"} - set(spec)
        if missing:
            raise InvalidInput("Required.", field=f"sessions.{min(missing)}")
        session = Session(id=new_id(), event_id=self.id, **_session_fields(spec))
        self.sessions.append(session)
        return session

    def _apply(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if name not in _SETTERS:
                raise InvalidInput("Unknown field.", field=name)
            setattr(self, name, _SETTERS[name](value))

    def _validate(self) -> None:
        self.sessions.sort(key=lambda s: (s.starts_at, s.ends_at))
        for earlier, later in zip(self.sessions, self.sessions[1:], strict=False):
            if earlier.overlaps(later):
                raise InvalidInput(
                    f"Session '{later.title}' overlaps '{earlier.title}'.", field="sessions"
                )
        if self.sessions:
            self.starts_at = self.sessions[0].starts_at
            self.ends_at = max(s.ends_at for s in self.sessions)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise InvalidInput("An event must end after it starts.", field="ends_at")
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            raise InvalidInput(
                "Registration must close after it opens.", field="registration_closes_at"
            )
        if self.status is EventStatus.PUBLISHED:
            self._check_publishable()

    def _check_publishable(self) -> None:
        if not self.title:
            raise InvalidInput("A published event needs a title.", field="title")
        if not self.sessions:
            raise InvalidInput("Add at least one session before publishing.", field="sessions")
        if self.format.needs_venue and self.venue is None:
            raise InvalidInput(f"An {self.format} event needs a venue.", field="venue")


def _aware(value: Any, field_name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput("Give a date-time with a UTC offset.", field=field_name)
    return value


def _optional_aware(field_name: str) -> Any:
    return lambda value: None if value is None else _aware(value, field_name)


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput("Unknown IANA time zone.", field="timezone") from None
    return str(value)


def _capacity(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1_000_000:
        raise InvalidInput(
            "Must be a whole number from 1, or null for unlimited.", field="capacity"
        )
    return value


def _threshold(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise InvalidInput(
            "Must be a whole percentage from 0 to 100.", field="attendance_threshold_percent"
        )
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidInput("Give a list of tags.", field="tags")
    tags = tuple(dict.fromkeys(checked_text(t, "tags", 50).lower() for t in value))
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags.", field="tags")
    return tags


def _venue(value: Any) -> Venue | None:
    if value is None or isinstance(value, Venue):
        return value
    if not isinstance(value, dict):
        raise InvalidInput("Give a venue name and address, or null.", field="venue")
    unknown = set(value) - {"name", "address"}
    if unknown:
        raise InvalidInput("Unknown field.", field=f"venue.{min(unknown)}")
    for part in ("name", "address"):
        if not isinstance(value.get(part), str):
            raise InvalidInput("Required.", field=f"venue.{part}")
    return Venue(value["name"], value["address"])


def _choice(kind: type[EventFormat], value: Any, field_name: str) -> EventFormat:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"Must be one of: {allowed}.", field=field_name) from None


def _optional_text(field_name: str, limit: int) -> Any:
    return lambda value: None if value is None else checked_text(value, field_name, limit)


def _refund_policy(value: Any) -> RefundPolicy | None:
    if value is not None and not isinstance(value, RefundPolicy):
        raise InvalidInput(
            "Give a refund policy, or null for the organization's.", field="refund_policy"
        )
    return value


_SETTERS: dict[str, Any] = {
    "title": lambda v: checked_text(v, "title", 200),
    "slug": check_slug,
    "summary": lambda v: checked_text(v or "", "summary", 500, blank_ok=True),
    "description": lambda v: checked_text(
        v or "", "description", 20_000, blank_ok=True, multiline=True
    ),
    "format": lambda v: _choice(EventFormat, v, "format"),
    "venue": _venue,
    "timezone": _timezone,
    "starts_at": _optional_aware("starts_at"),
    "ends_at": _optional_aware("ends_at"),
    "capacity": _capacity,
    "price": Money.parse,
    "cpd_credits": lambda v: cpd_credits(v),
    "credit_category": _optional_text("credit_category", 100),
    "tags": _tags,
    "registration_opens_at": _optional_aware("registration_opens_at"),
    "registration_closes_at": _optional_aware("registration_closes_at"),
    "attendance_threshold_percent": _threshold,
    "refund_policy": _refund_policy,
}
_SESSION_FIELDS = {"title", "starts_at", "ends_at", "room", "join_url"}


def _refuse_explicit_times(changes: dict[str, Any]) -> None:
    for name in ("starts_at", "ends_at"):
        if changes.get(name) is not None:
            raise InvalidInput(
                "An event with sessions takes its times from them; change the sessions.",
                field=name,
            )


def _session_fields(spec: dict[str, Any]) -> dict[str, Any]:
    unknown = set(spec) - _SESSION_FIELDS
    if unknown:
        raise InvalidInput("Unknown field.", field=f"sessions.{min(unknown)}")
    fields = dict(spec)
    if fields.get("room") is not None:
        fields["room"] = checked_text(fields["room"], "sessions.room", 200)
    if fields.get("join_url") is not None:
        fields["join_url"] = checked_url(fields["join_url"], "sessions.join_url")
    return fields
