"""Steps the registration use cases share (and the events service reuses): seats freed to the
waitlist, an event's registrations cancelled, the registrant notified, rows loaded with the
lock they need, and the task payload of a provider's payment event."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from cpd.domain.accounts import Organization, User
from cpd.domain.errors import Conflict, NotFound
from cpd.domain.events import Event, EventStatus
from cpd.domain.pages import PageRequest
from cpd.domain.payments import PaymentEvent
from cpd.domain.refunds import STANDARD_REFUNDS, RefundPolicy
from cpd.domain.registrations import (
    ACTIVE,
    Registration,
    RegistrationStatus,
    next_offers,
    seats_free,
)
from cpd.domain.tasks import Task
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.lookups import REGISTRATION_NOT_FOUND
from cpd.services.registrations.tasks import ApplyPaymentEvent, RefundPayment, RegistrationEmail

CONFIRMATIONS = UUID("0b6f3c1e-7d2a-4f38-9e51-2c8a4d6b9f10")  # uuid5 namespace of their task ids


async def add_registrations(uow: UnitOfWork, *registrations: Registration) -> None:
    """Insert new registrations, and queue what their transitions call for."""
    entered = [(r, r.take_transitions()) for r in registrations]
    await uow.registrations.add(*registrations)
    for registration, transitions in entered:
        _follow(uow, registration, transitions)


async def save_registration(uow: UnitOfWork, registration: Registration) -> None:
    """Store a changed registration, and queue what its transitions call for. Every use case
    stores registrations through here, so none can forget a consequence of a transition."""
    transitions = registration.take_transitions()
    await uow.registrations.save(registration)
    _follow(uow, registration, transitions)


def _follow(
    uow: UnitOfWork, registration: Registration, transitions: tuple[RegistrationStatus, ...]
) -> None:
    """Reaching ``confirmed`` (free booking, payment, accepted offer) sends the confirmation
    with its calendar file. Its task id is the registration's business key: a registration
    confirms at most once, and a repeat of the news that confirmed it queues nothing new."""
    if RegistrationStatus.CONFIRMED in transitions:
        uow.outbox.add(confirmation_task(registration.id))


def confirmation_task(registration_id: UUID) -> Task:
    return RegistrationEmail(registration_id, RegistrationStatus.CONFIRMED.value).task(
        id=uuid5(CONFIRMATIONS, str(registration_id))
    )


async def offer_freed_seats(uow: UnitOfWork, event_id: UUID, now: datetime) -> None:
    """Offer free seats down the waitlist, then record what is held. Call it, under the
    event's lock, whenever seats may have freed up: a cancellation, an expiry, more capacity."""
    event = await uow.events.get(event_id)
    held = await uow.registrations.seats_held(event_id)
    free = seats_free(event.capacity if event else None, held)
    if free == 0:
        await uow.events.record_seats_taken(event_id, held)
        return
    # Each offer takes at least one seat, so only the first ``free`` in line can be offered.
    for registration in next_offers(await uow.registrations.waitlist(event_id, free), free):
        registration.offer(now=now)
        await save_registration(uow, registration)
        notify(uow, registration, "offered")
        held += registration.seats
    await uow.events.record_seats_taken(event_id, held)


async def cancel_everyone(uow: UnitOfWork, event_id: UUID, now: datetime) -> int:
    """The event is cancelled: every active registration is cancelled and refunded in full."""
    page = await uow.registrations.list_for_event(event_id, ACTIVE, PageRequest(limit=200))
    cancelled = 0
    while page.items:
        for registration in page.items:
            refund = registration.cancel(now=now, event_starts_at=None, by_organizer=True)
            await save_registration(uow, registration)
            if refund:
                uow.outbox.add(refund_task(registration, refund))
            notify(uow, registration, "cancelled", refund=refund)
            cancelled += 1
        page = await uow.registrations.list_for_event(event_id, ACTIVE, PageRequest(limit=200))
    await uow.events.record_seats_taken(event_id, 0)
    return cancelled


def notify(uow: UnitOfWork, registration: Registration, kind: str, refund: int = 0) -> None:
    """Queue the registrant's email about ``kind`` in the same transaction as the change
    (not ``confirmed``: storing the registration queues that one)."""
    if kind == RegistrationStatus.CONFIRMED:
        raise ValueError("The confirmation follows from the transition: save the registration.")
    uow.outbox.add(RegistrationEmail(registration.id, kind, refund=refund or None).task())


def refund_task(registration: Registration, amount: int) -> Task:
    return RefundPayment(registration.id, amount, registration.amount_due.currency).task()


async def refund_policy_of(uow: UnitOfWork, event: Event) -> RefundPolicy:
    """The policy that applies to the event: its own, else its organization's."""
    if event.refund_policy is not None:
        return event.refund_policy
    host = await uow.organizations.get(event.organization_id)
    return host.refund_policy if host is not None else STANDARD_REFUNDS


async def open_event(uow: UnitOfWork, event_id: UUID, now: datetime) -> Event:
    event = await uow.events.get(event_id)
    if event is None or event.status is not EventStatus.PUBLISHED:
        raise NotFound("Event not found.")
    if event.registration_opens_at and now < event.registration_opens_at:
        raise Conflict("Registration has not opened yet.")
    if event.registration_closes_at and now >= event.registration_closes_at:
        raise Conflict("Registration has closed.")
    if event.ends_at and now >= event.ends_at:
        raise Conflict("This event is over.")
    return event


async def reload_registration(uow: UnitOfWork, registration_id: UUID) -> Registration:
    registration = await uow.registrations.get(registration_id)
    if registration is None:
        raise NotFound(REGISTRATION_NOT_FOUND)
    return registration


def payment_event_task(event: PaymentEvent) -> Task:
    """The task that applies a verified provider event (its payload round-trips every field)."""
    return ApplyPaymentEvent(event).task()


async def registrant_of(
    uow_factory: UnitOfWorkFactory, registration_id: UUID
) -> tuple[Registration, User, Event, Organization] | None:
    """What a registrant's email needs, or None when the person, event or host is gone."""
    async with uow_factory() as uow:
        registration = await reload_registration(uow, registration_id)
        user = await uow.users.get(registration.user_id)
        event = await uow.events.get(registration.event_id)
        host = await uow.organizations.get(event.organization_id) if event else None
    if user is None or event is None or host is None:
        return None
    return registration, user, event, host
