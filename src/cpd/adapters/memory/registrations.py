"""Registrations in memory."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from cpd.adapters.memory.base import ForeignKey, Keys, OnDelete, Tables, _page, _Repo
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.errors import Conflict
from cpd.domain.events import EventStatus
from cpd.domain.pages import Page, PageRequest
from cpd.domain.registrations import Registration, RegistrationStatus, Upcoming


class MemoryRegistrationRepository(_Repo):
    async def add(self, *registrations: Registration) -> None:
        for registration in registrations:
            self._one_active(registration)
            self._state.registrations[registration.id] = copy.deepcopy(registration)

    def _one_active(self, registration: Registration) -> None:
        """As SQL's partial unique index: one active registration per person per event."""
        if registration.is_active and any(
            r.id != registration.id
            and r.event_id == registration.event_id
            and r.user_id == registration.user_id
            and r.is_active
            for r in self._state.registrations.values()
        ):
            raise Conflict("You already have a registration for this event.", field="event_id")

    async def get(self, registration_id: UUID) -> Registration | None:
        return copy.deepcopy(self._state.registrations.get(registration_id))

    async def save(self, registration: Registration) -> None:
        self._one_active(registration)
        self._state.registrations[registration.id] = copy.deepcopy(registration)

    def _of_event(self, event_id: UUID) -> list[Registration]:
        return [r for r in self._state.registrations.values() if r.event_id == event_id]

    async def active_for(self, event_id: UUID, user_id: UUID) -> Registration | None:
        found = next(
            (r for r in self._of_event(event_id) if r.user_id == user_id and r.is_active), None
        )
        return copy.deepcopy(found)

    async def seats_held(self, event_id: UUID) -> int:
        return sum(r.seats for r in self._of_event(event_id) if r.holds_seats)

    async def waitlist(self, event_id: UUID, limit: int | None = None) -> list[Registration]:
        waiting = [r for r in self._of_event(event_id) if r.status == "waitlisted"]
        waiting.sort(key=lambda r: (r.waitlisted_at or r.created_at, str(r.id)))
        return copy.deepcopy(waiting[:limit])

    async def waitlist_tail(self, event_id: UUID) -> datetime | None:
        times = [
            r.waitlisted_at
            for r in self._of_event(event_id)
            if r.status == "waitlisted" and r.waitlisted_at
        ]
        return max(times, default=None)

    async def waitlist_positions(self, registrations: Collection[Registration]) -> dict[UUID, int]:
        return {
            registration.id: sum(
                1
                for r in self._of_event(registration.event_id)
                if r.status == "waitlisted" and r.waitlisted_at and r.waitlisted_at <= mine
            )
            for registration in registrations
            if (mine := registration.waitlisted_at) is not None
        }

    async def by_check_in_code(self, event_id: UUID, code: str) -> Registration | None:
        found = next((r for r in self._of_event(event_id) if r.check_in_code == code), None)
        return copy.deepcopy(found)

    async def by_payment_reference(self, reference: str) -> Registration | None:
        found = (r for r in self._state.registrations.values() if r.payment_reference == reference)
        return copy.deepcopy(next(found, None))

    async def confirmed_for(
        self, event_id: UUID, *, user_ids: Collection[UUID], ids: Collection[UUID]
    ) -> list[Registration]:
        return copy.deepcopy(
            [
                r
                for r in self._of_event(event_id)
                if r.status is RegistrationStatus.CONFIRMED
                and (r.user_id in user_ids or r.id in ids)
            ]
        )

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Registration]:
        mine = [r for r in self._state.registrations.values() if r.user_id == user_id]
        mine.sort(key=lambda r: (r.created_at, str(r.id)), reverse=True)
        return _page(copy.deepcopy(mine), page)

    async def list_for_event(
        self, event_id: UUID, statuses: frozenset[str] | None, page: PageRequest
    ) -> Page[Registration]:
        found = [r for r in self._of_event(event_id) if statuses is None or r.status in statuses]
        found.sort(key=lambda r: (r.created_at, str(r.id)))
        return _page(copy.deepcopy(found), page)

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        due = [
            (r.event_id, r.id)
            for r in self._state.registrations.values()
            if (r.status == "pending_payment" and r.hold_expires_at and r.hold_expires_at <= now)
            or (r.status == "offered" and r.offer_expires_at and r.offer_expires_at <= now)
        ]
        return due[:limit]

    async def upcoming(self, start: datetime, end: datetime) -> list[Upcoming]:
        found = []
        for r in self._state.registrations.values():
            event = self._state.events.get(r.event_id)
            if (
                r.status is RegistrationStatus.CONFIRMED
                and event is not None
                and event.status is EventStatus.PUBLISHED
                and event.starts_at is not None
                and start <= event.starts_at < end
            ):
                found.append(Upcoming(r.id, r.created_at, event.starts_at))
        return sorted(found, key=lambda u: (u.event_starts_at, str(u.registration_id)))


@dataclass
class RegistrationsTables(Tables):
    FOREIGN_KEYS: ClassVar[Keys] = (
        ForeignKey("registrations", "event_id", "events", OnDelete.CASCADE),
    )

    registrations: dict[UUID, Registration] = field(default_factory=dict)


class MemoryRegistrations:
    """Registrations' repository, one base of ``MemoryUnitOfWork``."""

    registrations = RepositorySlot(MemoryRegistrationRepository)
