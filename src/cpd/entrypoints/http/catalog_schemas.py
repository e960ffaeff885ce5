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

from cpd.domain.attendance import AttendanceSummary
from cpd.domain.catalog import CourseView, EventView
from cpd.domain.courses import CourseMode
from cpd.domain.events import EventFormat
from cpd.domain.money import MAX_AMOUNT
from cpd.services.attendance import AttendeeSummary

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


class AttendeeIn(Struct, forbid_unknown_fields=True):
    """One attendee, by ``user_id`` or by ``registration_id`` (give one)."""

    user_id: UUID | None = None
    registration_id: UUID | None = None
    minutes_attended: Annotated[int, Meta(ge=0)] | None = None
    checked_in_at: AwareDateTime | None = None


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


class AttendeeSummaryOut(Struct):
    user_id: UUID
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
    def of(cls, row: AttendeeSummary) -> AttendeeSummaryOut:
        s: AttendanceSummary = row.summary
        return cls(
            user_id=s.user_id,
            email=row.attendee.email,
            first_name=row.attendee.first_name,
            last_name=row.attendee.last_name,
            sessions_attended=s.sessions_attended,
            minutes_attended=s.minutes_attended,
            scheduled_minutes=s.scheduled_minutes,
            percent=s.percent,
            threshold_percent=s.threshold_percent,
            threshold_met=s.threshold_met,
        )


def plain(value: Any) -> Any:
    """A request Struct as the plain dicts and values the domain's setters take."""
    if isinstance(value, Struct):
        return {
            name: plain(field)
            for name in value.__struct_fields__
            if not isinstance(field := getattr(value, name), UnsetType)
        }
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
