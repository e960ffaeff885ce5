"""The public catalog's read model: what clients see of events and courses, and its filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from cpd.domain.accounts import Organization
from cpd.domain.courses import Course, CourseMode, CourseStatus
from cpd.domain.events import Event, EventFormat, EventStatus, Venue
from cpd.domain.money import Money


@dataclass(frozen=True, slots=True)
class OrganizationRef:
    id: UUID
    name: str
    slug: str

    @classmethod
    def of(cls, organization: Organization) -> OrganizationRef:
        return cls(organization.id, organization.name, organization.slug)


@dataclass(frozen=True, slots=True)
class SessionView:
    id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class EventView:
    """An event as the API shows it (field names are the API's)."""

    id: UUID
    organization: OrganizationRef
    title: str
    slug: str
    summary: str
    description: str
    format: EventFormat
    venue: Venue | None
    timezone: str
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None
    seats_available: int | None
    price: Money
    cpd_credits: Decimal
    credit_category: str | None
    tags: list[str]
    status: EventStatus
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    attendance_threshold_percent: int
    sessions: list[SessionView]

    @classmethod
    def of(cls, event: Event, organization: OrganizationRef, *, seats_taken: int) -> EventView:
        """``seats_taken`` is the stored count (``services.event_views.event_view`` reads it):
        no default, so no answer can show a full event as empty."""
        return cls(
            id=event.id,
            organization=organization,
            title=event.title,
            slug=event.slug,
            summary=event.summary,
            description=event.description,
            format=event.format,
            venue=event.venue,
            timezone=event.timezone,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            capacity=event.capacity,
            seats_available=seats_available(event.capacity, seats_taken),
            price=event.price,
            cpd_credits=event.cpd_credits,
            credit_category=event.credit_category,
            tags=list(event.tags),
            status=event.status,
            registration_opens_at=event.registration_opens_at,
            registration_closes_at=event.registration_closes_at,
            attendance_threshold_percent=event.attendance_threshold_percent,
            sessions=[SessionView(s.id, s.title, s.starts_at, s.ends_at) for s in event.sessions],
        )


@dataclass(frozen=True, slots=True)
class CompletedEventView(EventView):
    """The answer to completing an event: the event, when it was completed (and why early,
    if staff overrode the rule), and the certificate job completing started."""

    completed_at: datetime
    completion_override_reason: str | None
    certificate_job_id: UUID

    @classmethod
    def completed(cls, view: EventView, event: Event, job_id: UUID) -> CompletedEventView:
        if event.completed_at is None:
            raise ValueError("The event is not completed.")
        fields = {name: getattr(view, name) for name in EventView.__dataclass_fields__}
        return cls(
            **fields,
            completed_at=event.completed_at,
            completion_override_reason=event.completion_override_reason,
            certificate_job_id=job_id,
        )


def seats_available(capacity: int | None, seats_taken: int) -> int | None:
    return None if capacity is None else max(0, capacity - seats_taken)


@dataclass(frozen=True, slots=True)
class CourseView:
    id: UUID
    organization: OrganizationRef
    title: str
    slug: str
    description: str
    mode: CourseMode
    price: Money
    cpd_credits: Decimal
    credit_category: str | None
    status: CourseStatus

    @classmethod
    def of(cls, course: Course, organization: OrganizationRef) -> CourseView:
        return cls(
            id=course.id,
            organization=organization,
            title=course.title,
            slug=course.slug,
            description=course.description,
            mode=course.mode,
            price=course.price,
            cpd_credits=course.cpd_credits,
            credit_category=course.credit_category,
            status=course.status,
        )


@dataclass(frozen=True, slots=True)
class EventFilters:
    """Catalog filters; ``statuses`` defaults to what the public may see."""

    q: str | None = None
    format: EventFormat | None = None
    organization_id: UUID | None = None
    organization_slug: str | None = None
    tag: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    has_capacity: bool | None = None
    free: bool | None = None
    statuses: tuple[EventStatus, ...] = (EventStatus.PUBLISHED,)

    def cache_key(self) -> str:
        return repr(self)


@dataclass(frozen=True, slots=True)
class CourseFilters:
    q: str | None = None
    organization_id: UUID | None = None
    organization_slug: str | None = None
    mode: CourseMode | None = None
    free: bool | None = None
    statuses: tuple[CourseStatus, ...] = (CourseStatus.PUBLISHED,)

    def cache_key(self) -> str:
        return repr(self)
