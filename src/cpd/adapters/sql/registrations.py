"""Registrations over SQL: seats, waitlist, payments and refunds."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Row,
    Select,
    and_,
    func,
    insert,
    null,
    or_,
    select,
    update,
)

from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _Repository
from cpd.domain.events import EventStatus
from cpd.domain.money import Money
from cpd.domain.pages import Page, PageRequest
from cpd.domain.refunds import RefundPolicy
from cpd.domain.registrations import (
    ACTIVE,
    SEAT_HOLDING,
    Attendee,
    Registration,
    RegistrationStatus,
    Upcoming,
)


def _registration_values(registration: Registration) -> dict[str, Any]:
    policy = registration.refund_policy
    return {
        "id": registration.id,
        "event_id": registration.event_id,
        "user_id": registration.user_id,
        "seats": registration.seats,
        "status": registration.status.value,
        "amount_due_amount": registration.amount_due.amount,
        "amount_due_currency": registration.amount_due.currency,
        "check_in_code": registration.check_in_code,
        "attendees": [asdict(attendee) for attendee in registration.attendees],
        "hold_expires_at": registration.hold_expires_at,
        "offer_expires_at": registration.offer_expires_at,
        "waitlisted_at": registration.waitlisted_at,
        "paid": registration.paid,
        "refunded": registration.refunded,
        # SQL NULL, not JSON null, while nothing is snapshotted.
        "refund_policy": null() if policy is None else policy.as_json(),
        "payment_reference": registration.payment_reference,
        "refund_references": list(registration.refund_references),
        "created_at": registration.created_at,
        "updated_at": registration.updated_at,
    }


def _registration(row: Row[Any]) -> Registration:
    return Registration(
        id=row.id,
        event_id=row.event_id,
        user_id=row.user_id,
        seats=row.seats,
        status=RegistrationStatus(row.status),
        amount_due=Money(row.amount_due_amount, row.amount_due_currency),
        created_at=row.created_at,
        updated_at=row.updated_at,
        check_in_code=row.check_in_code,
        attendees=tuple(Attendee(**attendee) for attendee in row.attendees),
        hold_expires_at=row.hold_expires_at,
        offer_expires_at=row.offer_expires_at,
        waitlisted_at=row.waitlisted_at,
        paid=row.paid,
        refunded=row.refunded,
        refund_policy=None
        if row.refund_policy is None
        else RefundPolicy.from_json(row.refund_policy),
        payment_reference=row.payment_reference,
        refund_references=tuple(row.refund_references),
    )


class SqlRegistrationRepository(_Repository):
    _c = t.registrations.c

    async def add(self, *registrations: Registration) -> None:
        if registrations:  # one statement for the lot (executemany)
            values = [_registration_values(r) for r in registrations]
            await self._db.execute(insert(t.registrations), values)

    async def get(self, registration_id: UUID) -> Registration | None:
        return await self._one(select(t.registrations).where(self._c.id == registration_id))

    async def save(self, registration: Registration) -> None:
        values = _registration_values(registration)
        for fixed in ("id", "event_id", "user_id", "created_at"):
            del values[fixed]
        await self._db.execute(
            update(t.registrations).where(self._c.id == registration.id).values(values)
        )

    async def active_for(self, event_id: UUID, user_id: UUID) -> Registration | None:
        c = self._c
        return await self._one(
            select(t.registrations).where(
                c.event_id == event_id, c.user_id == user_id, c.status.in_(sorted(ACTIVE))
            )
        )

    async def seats_held(self, event_id: UUID) -> int:
        c = self._c
        query = select(func.coalesce(func.sum(c.seats), 0)).where(
            c.event_id == event_id, c.status.in_(sorted(SEAT_HOLDING))
        )
        return int((await self._db.execute(query)).scalar_one())

    async def waitlist(self, event_id: UUID, limit: int | None = None) -> list[Registration]:
        c = self._c
        query = (
            select(t.registrations)
            .where(c.event_id == event_id, c.status == RegistrationStatus.WAITLISTED.value)
            .order_by(c.waitlisted_at, c.id)
            .limit(limit)
        )
        return [_registration(row) for row in await self._db.execute(query)]

    async def waitlist_tail(self, event_id: UUID) -> datetime | None:
        c = self._c
        query = select(func.max(c.waitlisted_at)).where(
            c.event_id == event_id, c.status == RegistrationStatus.WAITLISTED.value
        )
        tail: datetime | None = (await self._db.execute(query)).scalar_one()
        return tail

    async def waitlist_positions(self, registrations: Collection[Registration]) -> dict[UUID, int]:
        ids = [r.id for r in registrations if r.waitlisted_at is not None]
        if not ids:
            return {}
        mine, ahead = t.registrations.alias("mine"), t.registrations.alias("ahead")
        query = (
            select(mine.c.id, func.count(ahead.c.id))
            .join(
                ahead,
                and_(
                    ahead.c.event_id == mine.c.event_id,
                    ahead.c.status == RegistrationStatus.WAITLISTED.value,
                    ahead.c.waitlisted_at <= mine.c.waitlisted_at,
                ),
            )
            .where(mine.c.id.in_(ids))
            .group_by(mine.c.id)
        )
        counts = {row[0]: int(row[1]) for row in await self._db.execute(query)}
        return {registration_id: counts.get(registration_id, 0) for registration_id in ids}

    async def by_check_in_code(self, event_id: UUID, code: str) -> Registration | None:
        c = self._c
        return await self._one(
            select(t.registrations).where(c.event_id == event_id, c.check_in_code == code)
        )

    async def by_payment_reference(self, reference: str) -> Registration | None:
        return await self._one(
            select(t.registrations).where(self._c.payment_reference == reference)
        )

    async def confirmed_for(
        self, event_id: UUID, *, user_ids: Collection[UUID], ids: Collection[UUID]
    ) -> list[Registration]:
        c = self._c
        query = select(t.registrations).where(
            c.event_id == event_id,
            c.status == RegistrationStatus.CONFIRMED.value,
            or_(c.user_id.in_(list(user_ids)), c.id.in_(list(ids))),
        )
        return [_registration(row) for row in await self._db.execute(query)]

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Registration]:
        c = self._c
        query = (
            select(t.registrations)
            .where(c.user_id == user_id)
            .order_by(c.created_at.desc(), c.id.desc())
        )
        return await self._page(query, page, _registration)

    async def list_for_event(
        self, event_id: UUID, statuses: frozenset[str] | None, page: PageRequest
    ) -> Page[Registration]:
        c = self._c
        query = select(t.registrations).where(c.event_id == event_id)
        if statuses is not None:
            query = query.where(c.status.in_(sorted(statuses)))
        return await self._page(query.order_by(c.created_at, c.id), page, _registration)

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """Earliest expiry first; one query per index (holds, offers), merged."""
        c = self._c
        found: list[tuple[datetime, UUID, UUID]] = []
        for status, expires_at in (
            (RegistrationStatus.PENDING_PAYMENT, c.hold_expires_at),
            (RegistrationStatus.OFFERED, c.offer_expires_at),
        ):
            query = (
                select(expires_at, c.id, c.event_id)
                .where(c.status == status.value, expires_at <= now)
                .order_by(expires_at, c.id)
                .limit(limit)
            )
            found.extend((row[0], row[1], row[2]) for row in await self._db.execute(query))
        found.sort(key=lambda item: (item[0], str(item[1])))
        return [(event_id, registration_id) for _, registration_id, event_id in found[:limit]]

    async def upcoming(self, start: datetime, end: datetime) -> list[Upcoming]:
        c, e = self._c, t.events.c
        query = (
            select(c.id, c.created_at, e.starts_at)
            .join(t.events, e.id == c.event_id)
            .where(
                e.status == EventStatus.PUBLISHED.value,
                e.starts_at >= start,
                e.starts_at < end,
                c.status == RegistrationStatus.CONFIRMED.value,
            )
            .order_by(e.starts_at, c.id)
        )
        return [Upcoming(*row) for row in await self._db.execute(query)]

    async def _one(self, query: Select[Any]) -> Registration | None:
        row = (await self._db.execute(query)).first()
        return _registration(row) if row else None


class SqlRegistrations:
    """Registrations' repositories, one base of ``SqlUnitOfWork``."""

    registrations = RepositorySlot(SqlRegistrationRepository)
