"""Request bodies and pages for events, sessions, courses and attendance.

Responses reuse the domain's read models (``EventView``, ``CourseView``...), whose field names
are the API's: the list endpoints encode rows to JSON with no intermediate copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cpd.domain.attendance import (
    AttendanceRecord,
    AttendanceSource,
    AttendanceSummary,
    WalkInRecord,
    WalkInSummary,
)
from cpd.domain.catalog import CourseView, EventView
from cpd.domain.courses import CourseMode
from cpd.domain.events import EventFormat, Session
from cpd.domain.money import MAX_AMOUNT
from cpd.entrypoints.http.registrations.refund_schemas import RefundPolicyIn
from cpd.services.events.attendance import AttendanceEntry, AttendeeSummary, WalkIn

AwareDateTime = Annotated[datetime, Meta(tz=True)]
Title = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
Slug = Annotated[str, Meta(max_length=60, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Credits = Annotated[Decimal, Meta(description='Hours from 0 to 1000, at most 2 places: "1.5"')]
Tag = Annotated[str, Meta(min_length=1, max_length=50)]


class MoneyIn(Struct):
    amount: Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="Minor units (pence, cents)")]
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$", examples=["GBP"])]


class VenueIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    address: Annotated[str, Meta(min_length=1, max_length=1000)]


class SessionIn(Struct):
    title: Title
    starts_at: AwareDateTime
    ends_at: AwareDateTime
    room: Annotated[str, Meta(max_length=200)] | None = None
    join_url: Annotated[str, Meta(max_length=2000)] | None = None


class SessionPatch(Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    starts_at: AwareDateTime | UnsetType = UNSET
    ends_at: AwareDateTime | UnsetType = UNSET
    room: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    join_url: Annotated[str, Meta(max_length=2000)] | UnsetType | None = UNSET


class EventIn(Struct, forbid_unknown_fields=True):
    organization_id: UUID
    title: Title
    format: EventFormat
    slug: Slug | None = None
    summary: Annotated[str, Meta(max_length=500)] = ""
    description: Annotated[str, Meta(max_length=20_000)] = ""
    venue: VenueIn | None = None
    timezone: Annotated[str, Meta(max_length=64, examples=["Europe/London"])] = "UTC"
    starts_at: AwareDateTime | None = None
    ends_at: AwareDateTime | None = None
    capacity: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    price: MoneyIn | None = None
    cpd_credits: Credits = Decimal("0")
    credit_category: Annotated[str, Meta(max_length=100)] | None = None
    tags: Annotated[list[Tag], Meta(max_length=20)] = []
    registration_opens_at: AwareDateTime | None = None
    registration_closes_at: AwareDateTime | None = None
    attendance_threshold_percent: Annotated[int, Meta(ge=0, le=100)] = 75
    sessions: list[SessionIn] | None = None
    refund_policy: RefundPolicyIn | None = None  # None: the organization's applies


class EventPatch(Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    format: EventFormat | UnsetType = UNSET
    summary: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=20_000)] | UnsetType = UNSET
    venue: VenueIn | UnsetType | None = UNSET
    timezone: Annotated[str, Meta(max_length=64)] | UnsetType = UNSET
    starts_at: AwareDateTime | UnsetType | None = UNSET
    ends_at: AwareDateTime | UnsetType | None = UNSET
    capacity: Annotated[int, Meta(ge=1, le=1000000)] | UnsetType | None = UNSET
    price: MoneyIn | UnsetType = UNSET
    cpd_credits: Credits | UnsetType = UNSET
    credit_category: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET
    tags: Annotated[list[Tag], Meta(max_length=20)] | UnsetType = UNSET
    registration_opens_at: AwareDateTime | UnsetType | None = UNSET
    registration_closes_at: AwareDateTime | UnsetType | None = UNSET
    attendance_threshold_percent: Annotated[int, Meta(ge=0, le=100)] | UnsetType = UNSET
    refund_policy: RefundPolicyIn | UnsetType | None = UNSET  # null: back to the organization's


class CourseIn(Struct, forbid_unknown_fields=True):
    organization_id: UUID
    title: Title
    mode: CourseMode = CourseMode.SELF_PACED
    slug: Slug | None = None
    description: Annotated[str, Meta(max_length=20_000)] = ""
    price: MoneyIn | None = None
    cpd_credits: Credits = Decimal("0")
    credit_category: Annotated[str, Meta(max_length=100)] | None = None


class CoursePatch(Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    mode: CourseMode | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=20_000)] | UnsetType = UNSET
    price: MoneyIn | UnsetType = UNSET
    cpd_credits: Credits | UnsetType = UNSET
    credit_category: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET


class WalkInIn(Struct, forbid_unknown_fields=True):
    """Someone without a registration; shown in the report exactly as given here."""

    email: Annotated[str, Meta(max_length=254, examples=["ada@example.org"])]
    first_name: Annotated[str, Meta(max_length=100)] = ""
    last_name: Annotated[str, Meta(max_length=100)] = ""


class AttendeeIn(Struct, forbid_unknown_fields=True):
    """One attendee: a confirmed registrant by ``user_id`` or ``registration_id``, or a
    ``walk_in`` by email (give one)."""

    user_id: UUID | None = None
    registration_id: UUID | None = None
    walk_in: WalkInIn | None = None
    minutes_attended: Annotated[int, Meta(ge=0)] | None = None
    checked_in_at: AwareDateTime | None = None

    def entry(self) -> AttendanceEntry:
        walk_in = self.walk_in
        return AttendanceEntry(
            self.user_id,
            self.minutes_attended,
            self.checked_in_at,
            self.registration_id,
            WalkIn(walk_in.email, walk_in.first_name, walk_in.last_name) if walk_in else None,
        )


class AttendanceIn(Struct):
    attendees: Annotated[list[AttendeeIn], Meta(min_length=1, max_length=1000)]


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[EventView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class CoursePage:
    items: list[CourseView]
    total: int
    limit: int
    offset: int


class WalkInOut(Struct):
    email: str
    first_name: str
    last_name: str


class AttendanceOut(Struct):
    """One recorded attendance: of a registrant (``user_id``) or of a ``walk_in``."""

    id: UUID
    event_id: UUID
    session_id: UUID
    user_id: UUID | None
    registration_id: UUID | None
    walk_in: WalkInOut | None
    minutes_attended: int
    source: AttendanceSource
    recorded_at: datetime
    checked_in_at: datetime | None

    @classmethod
    def of(cls, record: AttendanceRecord | WalkInRecord) -> AttendanceOut:
        return cls(
            id=record.id,
            event_id=record.event_id,
            session_id=record.session_id,
            user_id=None if isinstance(record, WalkInRecord) else record.user_id,
            registration_id=None if isinstance(record, WalkInRecord) else record.registration_id,
            walk_in=(
                WalkInOut(record.email, record.first_name, record.last_name)
                if isinstance(record, WalkInRecord)
                else None
            ),
            minutes_attended=record.minutes_attended,
            source=AttendanceSource.STAFF if isinstance(record, WalkInRecord) else record.source,
            recorded_at=record.recorded_at,
            checked_in_at=record.checked_in_at,
        )


class SessionPage(Struct):
    items: list[Session]
    total: int
    limit: int
    offset: int


class AttendeeSummaryPage(Struct):
    items: list[AttendeeSummaryOut]
    total: int
    limit: int
    offset: int


class AttendeeSummaryOut(Struct):
    """A registrant (``user_id`` set) or a walk-in (``walk_in``: as staff typed them)."""

    user_id: UUID | None
    walk_in: bool
    email: str
    first_name: str
    last_name: str
    sessions_attended: int
    minutes_attended: int
    scheduled_minutes: int
    percent: int
    threshold_percent: int
    threshold_met: bool

    @classmethod
    def of(cls, row: AttendeeSummary | WalkInSummary) -> AttendeeSummaryOut:
        if isinstance(row, WalkInSummary):
            who: dict[str, Any] = {"user_id": None, "walk_in": True}
            s: AttendanceSummary | WalkInSummary = row
            person: Any = row
        else:
            s, person = row.summary, row.attendee
            who = {"user_id": row.summary.user_id, "walk_in": False}
        return cls(
            **who,
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            sessions_attended=s.sessions_attended,
            minutes_attended=s.minutes_attended,
            scheduled_minutes=s.scheduled_minutes,
            percent=s.percent,
            threshold_percent=s.threshold_percent,
            threshold_met=s.threshold_met,
        )


def plain(value: Any) -> Any:
    """A request Struct as the plain dicts and values the domain's setters take."""
    if isinstance(value, RefundPolicyIn):
        return value.to_domain()
    if isinstance(value, Struct):
        return {
            name: plain(field)
            for name in value.__struct_fields__
            if not isinstance(field := getattr(value, name), UnsetType)
        }
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
