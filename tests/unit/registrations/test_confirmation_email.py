"""Every way into ``confirmed`` sends one confirmation email with the event's calendar file:
a free booking, a payment (offline, or a provider's event however duplicated or reordered),
an accepted offer, an accepted offer then paid."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

import cpd.services
from cpd.adapters.mail.mailers import MemoryMailer
from cpd.adapters.payments.offline import OfflineGateway
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.catalog import EventView
from cpd.domain.messaging import EmailMessage
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentEventKind
from cpd.domain.refunds import STANDARD_REFUNDS
from cpd.domain.registrations import Registration, RegistrationStatus
from cpd.services.registrations.steps import payment_event_task
from tests.support.commands import new_event
from tests.unit.conftest import make_settings

START = datetime(2027, 6, 1, 9, tzinfo=UTC)
BOOKED = "You're booked"


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
async def app() -> AsyncIterator[Container]:
    container = build_container(make_settings(), clock=Clock())
    await container.startup(run_relay=False)
    yield container
    await container.shutdown()


async def person(app: Container, n: int) -> Actor:
    user = await app.accounts.register(
        email=f"p{n}@example.org", password="a long passphrase", first_name="P", last_name=str(n)
    )
    return Actor(user.id)


async def published_event(app: Container, *, capacity: int | None, price: int = 0) -> EventView:
    owner = await person(app, 0)
    org = await app.organizations.create(owner, name="Host")
    details: dict[str, Any] = {
        "title": "Conference",
        "format": "online",
        "capacity": capacity,
        "price": {"amount": price, "currency": "GBP"},
    }
    sessions = [{"title": "Day", "starts_at": START, "ends_at": START + timedelta(hours=6)}]
    event = await app.events.create(owner, new_event(org.id, details, sessions))
    return await app.events.publish(owner, event.id)


async def confirmations(app: Container, n: int) -> list[EmailMessage]:
    """The confirmation emails p``n`` received, once every queued task has run."""
    await app.relay.drain()
    mailer = app.mailer
    assert isinstance(mailer, MemoryMailer)
    return [m for m in mailer.sent if m.to == f"p{n}@example.org" and BOOKED in m.subject]


def assert_one_with_calendar(sent: list[EmailMessage]) -> None:
    assert len(sent) == 1
    [ics] = sent[0].attachments
    assert (ics.filename, ics.content_type) == ("event.ics", "text/calendar")
    assert b"BEGIN:VEVENT" in ics.data


def succeeded(registration: Registration, event_id: str) -> PaymentEvent:
    return PaymentEvent(
        id=event_id,
        kind=PaymentEventKind.PAYMENT_SUCCEEDED,
        reference=registration.payment_reference or "pi_x",
        registration_id=registration.id,
        amount=registration.amount_due,
        occurred_at=START - timedelta(days=60),
    )


async def waiting_offer(app: Container, *, price: int) -> tuple[Actor, UUID]:
    """p2 holds an offer for the seat p1 gave up."""
    event = await published_event(app, capacity=1, price=price)
    first, second = await person(app, 1), await person(app, 2)
    held = await app.registrations.register(first, event.id)
    if price:
        await app.registrations.confirm_payment(held.id, price)
    waiting = await app.registrations.register(second, event.id)
    await app.registrations.cancel(first, held.id)
    offered = await app.registrations.get(second, waiting.id)
    assert offered.status is RegistrationStatus.OFFERED
    return second, waiting.id


async def test_a_free_booking_is_confirmed_by_email(app: Container) -> None:
    event = await published_event(app, capacity=None)
    await app.registrations.register(await person(app, 1), event.id)
    assert_one_with_calendar(await confirmations(app, 1))


async def test_an_offline_payment_is_confirmed_by_email(app: Container) -> None:
    event = await published_event(app, capacity=None, price=2500)
    booking = await app.registrations.book(await person(app, 1), event.id)
    assert booking.payment is not None
    gateway = app.payments
    assert isinstance(gateway, OfflineGateway)
    paid = await gateway.pay(booking.payment.reference, "tok_visa")
    await app.registrations.apply_payment_event(paid)
    await app.registrations.apply_payment_event(paid)  # the same news again
    assert_one_with_calendar(await confirmations(app, 1))


async def test_provider_events_confirm_once_however_duplicated_or_reordered(
    app: Container,
) -> None:
    event = await published_event(app, capacity=None, price=2500)
    registration = await app.registrations.register(await person(app, 1), event.id)
    failed = PaymentEvent(
        id="evt_failed",
        kind=PaymentEventKind.PAYMENT_FAILED,
        reference="pi_x",
        registration_id=registration.id,
        amount=registration.amount_due,
        occurred_at=START - timedelta(days=61),
    )
    async with app.uow() as uow:  # as receive_webhook queues them, the failure arriving last
        for news in (succeeded(registration, "evt_a"), succeeded(registration, "evt_b"), failed):
            uow.outbox.add(payment_event_task(news))
        await uow.commit()
    assert_one_with_calendar(await confirmations(app, 1))
    assert (await app.registrations.get(Actor(registration.user_id), registration.id)).paid == 2500


async def test_concurrent_copies_of_a_payment_confirm_once_and_refund_nothing(
    app: Container,
) -> None:
    event = await published_event(app, capacity=None, price=2500)
    registration = await app.registrations.register(await person(app, 1), event.id)
    await asyncio.gather(
        *(app.registrations.confirm_payment(registration.id, 2500) for _ in range(3))
    )
    assert_one_with_calendar(await confirmations(app, 1))
    records = await app.outbox_store.records(None, 1000)
    assert [r for r in records if r.task.name == "refund_payment"] == []


async def test_accepting_an_offer_for_a_free_event_is_confirmed_by_email(app: Container) -> None:
    second, registration_id = await waiting_offer(app, price=0)
    accepted = await app.registrations.accept_offer(second, registration_id)
    assert accepted.status is RegistrationStatus.CONFIRMED
    assert_one_with_calendar(await confirmations(app, 2))


async def test_accepting_an_offer_then_paying_is_confirmed_once(app: Container) -> None:
    second, registration_id = await waiting_offer(app, price=2500)
    accepted = await app.registrations.accept_offer(second, registration_id)
    assert accepted.status is RegistrationStatus.PENDING_PAYMENT
    assert await confirmations(app, 2) == []
    await app.registrations.confirm_payment(registration_id, 2500)
    await app.registrations.confirm_payment(registration_id, 2500)
    assert_one_with_calendar(await confirmations(app, 2))
    assert Money(2500, "GBP") == accepted.amount_due


def test_use_cases_store_registrations_only_through_the_steps_that_follow_transitions() -> None:
    """``save_registration``/``add_registrations`` queue the confirmation: a use case that
    stored a registration itself could confirm one silently."""
    services = Path(cpd.services.__file__).parent
    steps = services / "registrations" / "steps.py"
    direct = [
        path.name
        for path in services.rglob("*.py")
        if path != steps and re.search(r"\.registrations\.(save|add)\(", path.read_text())
    ]
    assert direct == []


def test_a_registration_reports_each_state_it_entered_once() -> None:
    registration = Registration.open(
        event_id=uuid4(),
        user_id=uuid4(),
        seats=1,
        seats_free=None,
        waitlist_waiting=False,
        unit_price=Money(1000, "GBP"),
        now=START,
    )
    registration.confirm_payment(Money(1000, "GBP"), STANDARD_REFUNDS, now=START)
    assert registration.take_transitions() == ("pending_payment", "confirmed")
    assert registration.take_transitions() == ()
