"""What creating or changing an event asks for (``EventService.create`` and ``update``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from cpd.domain.events import EventFormat
from cpd.domain.refunds import RefundPolicy
from cpd.services.common.commands import UNSET, Details, Maybe, Price, given_fields


@dataclass(frozen=True, slots=True)
class VenueDetails(Details):
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class SessionDetails(Details):
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str | None = None
    join_url: str | None = None


@dataclass(frozen=True, slots=True)
class EventFields:
    """An event's writable fields. UNSET ones are left out: the domain's default on create,
    unchanged on update; None clears those that may be empty. In the order the domain
    applies (and reports) them."""

    title: Maybe[str] = UNSET
    slug: Maybe[str] = UNSET
    format: Maybe[EventFormat] = UNSET
    summary: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    venue: Maybe[VenueDetails | None] = UNSET
    timezone: Maybe[str] = UNSET
    starts_at: Maybe[datetime | None] = UNSET
    ends_at: Maybe[datetime | None] = UNSET
    capacity: Maybe[int | None] = UNSET
    price: Maybe[Price] = UNSET
    cpd_credits: Maybe[Decimal] = UNSET
    credit_category: Maybe[str | None] = UNSET
    tags: Maybe[tuple[str, ...]] = UNSET
    registration_opens_at: Maybe[datetime | None] = UNSET
    registration_closes_at: Maybe[datetime | None] = UNSET
    attendance_threshold_percent: Maybe[int] = UNSET
    refund_policy: Maybe[RefundPolicy | None] = UNSET  # None: the organization's applies

    def given(self) -> dict[str, Any]:
        """The fields set, as the domain's setters take them."""
        return given_fields(self)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A draft event of an organization; without a slug, one is made from the title."""

    organization_id: UUID
    fields: EventFields = field(default_factory=EventFields)
    sessions: tuple[SessionDetails, ...] | None = None

    def session_details(self) -> list[dict[str, Any]] | None:
        return None if self.sessions is None else [given_fields(s) for s in self.sessions]
