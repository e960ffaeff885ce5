"""Catalog rows into views: the columns the reader selects, in the order the views read them.

Row values are read by position (asyncpg's records and SQLAlchemy's rows alike), and the
immutable values that many rows share (prices, credits, venues) are built once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from cpd.adapters.sql import tables as t
from cpd.domain.catalog import CourseView, EventView, OrganizationRef, SessionView
from cpd.domain.courses import CourseMode, CourseStatus
from cpd.domain.events import EventFormat, EventStatus, Venue
from cpd.domain.money import Money, canonical_credits

e, o, c = t.events.c, t.organizations.c, t.courses.c

# Columns of an event view, in the order ``event_view`` reads them.
EVENT_COLUMNS = (
    e.id,
    e.organization_id,
    o.name,
    o.slug,
    e.title,
    e.slug,
    e.summary,
    e.description,
    e.format,
    e.venue_name,
    e.venue_address,
    e.timezone,
    e.starts_at,
    e.ends_at,
    e.capacity,
    e.seats_taken,
    e.price_amount,
    e.price_currency,
    e.cpd_credits,
    e.credit_category,
    e.tags,
    e.status,
    e.registration_opens_at,
    e.registration_closes_at,
    e.attendance_threshold_percent,
    e.sessions_json,
)
COURSE_COLUMNS = (
    c.id,
    c.organization_id,
    o.name,
    o.slug,
    c.title,
    c.slug,
    c.description,
    c.mode,
    c.price_amount,
    c.price_currency,
    c.cpd_credits,
    c.credit_category,
    c.status,
)
_FORMATS = {member.value: member for member in EventFormat}
_EVENT_STATUSES = {member.value: member for member in EventStatus}
_MODES = {member.value: member for member in CourseMode}
_COURSE_STATUSES = {member.value: member for member in CourseStatus}
_decode_tags = msgspec.json.Decoder(list[str]).decode
_decode_sessions = msgspec.json.Decoder(list[tuple[UUID, str, datetime, datetime]]).decode

# Immutable values shared between rows instead of rebuilt for each (bounded: cleared when full).
_prices: dict[tuple[int, str], Money] = {}
_credits: dict[Decimal, Decimal] = {}
_venues: dict[tuple[str | None, str | None], Venue] = {}
_MEMO_LIMIT = 4096


def _price(amount: int, currency: str) -> Money:
    money = _prices.get((amount, currency))
    if money is None:
        if len(_prices) >= _MEMO_LIMIT:
            _prices.clear()
        money = _prices[amount, currency] = Money(amount, currency)
    return money


def _credit(stored: Decimal | float) -> Decimal:
    exact = Decimal(stored) if isinstance(stored, float) else stored
    credits = _credits.get(exact)
    if credits is None:
        if len(_credits) >= _MEMO_LIMIT:
            _credits.clear()
        credits = _credits[exact] = canonical_credits(exact)
    return credits


def _venue(name: str | None, address: str | None) -> Venue | None:
    if name is None and address is None:
        return None
    venue = _venues.get((name, address))
    if venue is None:
        if len(_venues) >= _MEMO_LIMIT:
            _venues.clear()
        venue = _venues[name, address] = Venue(name or "", address or "")
    return venue


def event_view(row: Sequence[Any]) -> EventView:
    capacity, tags = row[14], row[20]
    return EventView(
        id=row[0],
        organization=OrganizationRef(row[1], row[2], row[3]),
        title=row[4],
        slug=row[5],
        summary=row[6],
        description=row[7],
        format=_FORMATS[row[8]],
        venue=_venue(row[9], row[10]),
        timezone=row[11],
        starts_at=row[12],
        ends_at=row[13],
        capacity=capacity,
        seats_available=None if capacity is None else max(0, capacity - row[15]),
        price=_price(row[16], row[17]),
        cpd_credits=_credit(row[18]),
        credit_category=row[19],
        tags=_decode_tags(tags) if isinstance(tags, str) else list(tags),  # asyncpg: JSON text
        status=_EVENT_STATUSES[row[21]],
        registration_opens_at=row[22],
        registration_closes_at=row[23],
        attendance_threshold_percent=row[24],
        sessions=[SessionView(*session) for session in _decode_sessions(row[25])],
    )


def course_view(row: Sequence[Any]) -> CourseView:
    return CourseView(
        id=row[0],
        organization=OrganizationRef(row[1], row[2], row[3]),
        title=row[4],
        slug=row[5],
        description=row[6],
        mode=_MODES[row[7]],
        price=_price(row[8], row[9]),
        cpd_credits=_credit(row[10]),
        credit_category=row[11],
        status=_COURSE_STATUSES[row[12]],
    )
