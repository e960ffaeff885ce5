"""Registrations' ports: registrations and the payment gateway."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from cpd.domain.money import Money
from cpd.domain.pages import Page, PageRequest
from cpd.domain.payments import PaymentEvent, PaymentIntent, RefundReceipt
from cpd.domain.registrations import Registration, Upcoming


class RegistrationRepository(Protocol):
    """Registrations of events. Seat decisions happen under the event's row lock
    (``EventRepository.get_for_update``), so these reads are consistent within it."""

    async def add(self, *registrations: Registration) -> None: ...
    async def get(self, registration_id: UUID) -> Registration | None: ...
    async def save(self, registration: Registration) -> None: ...
    async def active_for(self, event_id: UUID, user_id: UUID) -> Registration | None:
        """The person's registration of the event that is still active (at most one)."""
        ...

    async def seats_held(self, event_id: UUID) -> int:
        """Seats of registrations that hold them (pending payment, confirmed, offered)."""
        ...

    async def waitlist(self, event_id: UUID, limit: int | None = None) -> list[Registration]:
        """Waitlisted registrations, first come first (the first ``limit`` of them)."""
        ...

    async def waitlist_tail(self, event_id: UUID) -> datetime | None:
        """When the last person joined the waitlist; None when nobody waits."""
        ...

    async def waitlist_positions(self, registrations: Collection[Registration]) -> dict[UUID, int]:
        """Each waitlisted one's place in its event's line (1 for the head: how many wait
        before it, plus one), in one query however many there are; others are left out."""
        ...

    async def by_check_in_code(self, event_id: UUID, code: str) -> Registration | None: ...
    async def by_payment_reference(self, reference: str) -> Registration | None: ...
    async def confirmed_for(
        self, event_id: UUID, *, user_ids: Collection[UUID], ids: Collection[UUID]
    ) -> list[Registration]:
        """The event's confirmed registrations of these people or with these ids."""
        ...

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Registration]: ...
    async def list_for_event(
        self, event_id: UUID, statuses: frozenset[str] | None, page: PageRequest
    ) -> Page[Registration]: ...
    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """(event id, registration id) of holds and offers whose time ran out."""
        ...

    async def upcoming(self, start: datetime, end: datetime) -> list[Upcoming]:
        """Confirmed registrations of published events starting in [start, end)."""
        ...


class PaymentProviderUnavailable(Exception):
    """The provider could not be reached or failed on its side (network, 5xx, rate limit,
    rejected credentials). Not a domain error: the caller (the outbox) retries the call with
    the same idempotency key, which is safe."""


class PaymentGateway(Protocol):
    """Takes payments and refunds; every mutating call carries an idempotency key, so a retry
    never charges or refunds twice. A provider that fails raises PaymentProviderUnavailable."""

    name: str

    async def start_payment(
        self, registration: Registration, *, idempotency_key: str
    ) -> PaymentIntent: ...
    async def refund(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> RefundReceipt: ...
    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify the signature and read the event; raise InvalidInput when it does not verify."""
        ...


@runtime_checkable
class TestCardGateway(Protocol):
    """A gateway that takes test card tokens itself (the offline one, for the embedded mode
    and demos); a real provider's checkout takes cards in the provider's own pages."""

    async def pay(self, reference: str, card_token: str) -> PaymentEvent:
        """Pay with a test token; a declined card is a PAYMENT_FAILED event."""
        ...


class RegistrationsRepos(Protocol):
    """What a unit of work holds of registrations: one line in ``UnitOfWork``'s bases."""

    @property
    def registrations(self) -> RegistrationRepository: ...
