"""Events over HTTP: request bodies for events, sessions and attendance, and the pages and
reports staff read. Events themselves answer as the domain's read model (``EventView``),
whose field names are the API's: lists encode rows to JSON with no intermediate copies."""

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
from cpd.domain.catalog import CompletedEventView, EventView
from cpd.domain.events import EventFormat, Session
from cpd.domain.refunds import RefundPolicy
from cpd.entrypoints.http.common import (
    AwareDateTime,
    Credits,
    MoneyIn,
    Page,
    Slug,
    Title,
    component,
    maybe,
    maybe_as,
    or_unset,
)
from cpd.entrypoints.http.jobs import job_url
from cpd.entrypoints.http.registrations.schemas import RefundPolicyIn
from cpd.services.events.attendance import AttendanceEntry, AttendeeSummary, WalkIn
from cpd.services.events.commands import EventFields, NewEvent, SessionDetails, VenueDetails

Tag = Annotated[str, Meta(min_length=1, max_length=50)]


class VenueIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    address: Annotated[str, Meta(min_length=1, max_length=1000)]

    @staticmethod
    def details(venue: VenueIn | None) -> VenueDetails | None:
        return None if venue is None else VenueDetails(venue.name, venue.address)


class SessionIn(Struct):
    title: Title
    starts_at: AwareDateTime
    ends_at: AwareDateTime
    room: Annotated[str, Meta(max_length=200)] | None = None
    join_url: Annotated[str, Meta(max_length=2000)] | None = None

    def details(self) -> SessionDetails:
        return SessionDetails(self.title, self.starts_at, self.ends_at, self.room, self.join_url)


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

    def command(self) -> NewEvent:
        """Every field, defaults included (only a missing price is left out: free)."""
        sessions, policy = self.sessions, self.refund_policy
        fields = EventFields(
            title=self.title,
            slug=or_unset(self.slug),
            format=self.format,
            summary=self.summary,
            description=self.description,
            venue=VenueIn.details(self.venue),
            timezone=self.timezone,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            capacity=self.capacity,
            price=or_unset(None if self.price is None else self.price.price()),
            cpd_credits=self.cpd_credits,
            credit_category=self.credit_category,
            tags=tuple(self.tags),
            registration_opens_at=self.registration_opens_at,
            registration_closes_at=self.registration_closes_at,
            attendance_threshold_percent=self.attendance_threshold_percent,
            refund_policy=None if policy is None else policy.to_domain(),
        )
        details = None if sessions is None else tuple(s.details() for s in sessions)
        return NewEvent(self.organization_id, fields, details)


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

    def command(self) -> EventFields:
        return EventFields(
            title=maybe(self.title),
            slug=maybe(self.slug),
            format=maybe(self.format),
            summary=maybe(self.summary),
            description=maybe(self.description),
            venue=maybe_as(self.venue, VenueIn.details),
            timezone=maybe(self.timezone),
            starts_at=maybe(self.starts_at),
            ends_at=maybe(self.ends_at),
            capacity=maybe(self.capacity),
            price=maybe_as(self.price, MoneyIn.price),
            cpd_credits=maybe(self.cpd_credits),
            credit_category=maybe(self.credit_category),
            tags=maybe_as(self.tags, tuple),
            registration_opens_at=maybe(self.registration_opens_at),
            registration_closes_at=maybe(self.registration_closes_at),
            attendance_threshold_percent=maybe(self.attendance_threshold_percent),
            refund_policy=maybe_as(self.refund_policy, _refund_policy),
        )


def _refund_policy(policy: RefundPolicyIn | None) -> RefundPolicy | None:
    return None if policy is None else policy.to_domain()


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


class CompleteIn(Struct, forbid_unknown_fields=True):
    override_reason: (
        Annotated[str, Meta(min_length=1, max_length=500, examples=["Last session cancelled"])]
        | None
    ) = None


@dataclass(frozen=True, slots=True)
class CompletedEventOut(CompletedEventView):
    certificate_job_url: str

    @classmethod
    def linked(cls, view: CompletedEventView) -> CompletedEventOut:
        fields = {name: getattr(view, name) for name in CompletedEventView.__dataclass_fields__}
        return cls(**fields, certificate_job_url=job_url(view.certificate_job_id))


class ZoomChallenge(Struct):
    """The answer to Zoom's ``endpoint.url_validation``."""

    plainToken: str  # Zoom's field names
    encryptedToken: str


class CheckInIn(Struct):
    code: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            description="The registrant's code (K7Q4-9XMD: any case, dash optional)",
        ),
    ]


EventPage = Annotated[Page[EventView], component("EventPage")]
SessionPage = Annotated[Page[Session], component("SessionPage")]
