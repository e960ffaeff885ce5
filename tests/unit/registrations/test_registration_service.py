"""Registering through the real wiring on memory adapters: seats, waitlist, offers, refunds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.catalog import EventView
from cpd.domain.errors import Conflict, NotFound
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from cpd.domain.payments import PaymentEvent, PaymentEventKind
from cpd.domain.registrations import RegistrationStatus
from cpd.entrypoints.scheduler import EmbeddedScheduler
from cpd.services.registrations.steps import payment_event_task
from tests.support.commands import new_event
from tests.unit.conftest import make_settings

START = datetime(2027, 6, 1, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
async def world() -> AsyncIterator[tuple[Container, Clock]]:
    clock = Clock()
    app = build_container(make_settings(), clock=clock)
    await app.startup(run_relay=False)
    yield app, clock
    await app.shutdown()


async def queued_payloads(app: Container, name: str) -> list[dict[str, Any]]:
    claimed = await app.outbox_store.claim_due(datetime.max.replace(tzinfo=UTC), 1000, 0)
    for item in claimed:  # put them back as they were: due now, not yet handed on
        await app.outbox_store.mark_failed(item.task.id, "peeked by a test", app.clock.now())
    ordered = sorted(claimed, key=lambda c: c.created_at)
    return [c.task.payload for c in ordered if c.task.name == name]


async def queued(app: Container, name: str) -> int:
    return len(await queued_payloads(app, name))


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


async def test_free_event_confirms_until_full_then_waitlists_in_order(
    world: tuple[Container, Clock],
) -> None:
    app, _ = world
    event = await published_event(app, capacity=2)
    people = [await person(app, n) for n in range(1, 5)]
    results = [await app.registrations.register(p, event.id) for p in people]
    assert [r.status for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    view = await app.catalog.event(event.id)
    assert view.seats_available == 0

    cancellation = await app.registrations.cancel(people[0], results[0].id)
    assert cancellation.refund_due == 0
    third = await app.registrations.get(people[2], results[2].id)
    fourth = await app.registrations.get(people[3], results[3].id)
    assert (third.status, fourth.status) == ("offered", "waitlisted")  # first come first
    accepted = await app.registrations.accept_offer(people[2], third.id)
    assert accepted.status is RegistrationStatus.CONFIRMED


async def test_one_active_registration_per_person(world: tuple[Container, Clock]) -> None:
    app, _ = world
    event = await published_event(app, capacity=None)
    someone = await person(app, 1)
    first = await app.registrations.register(someone, event.id)
    with pytest.raises(Conflict):
        await app.registrations.register(someone, event.id)
    await app.registrations.cancel(someone, first.id)
    again = await app.registrations.register(someone, event.id)
    assert again.status is RegistrationStatus.CONFIRMED


async def test_paid_holds_expire_and_pass_the_seat_on(world: tuple[Container, Clock]) -> None:
    app, clock = world
    event = await published_event(app, capacity=1, price=2500)
    buyer, next_in_line = await person(app, 1), await person(app, 2)
    held = await app.registrations.register(buyer, event.id)
    waiting = await app.registrations.register(next_in_line, event.id)
    assert (held.status, waiting.status) == ("pending_payment", "waitlisted")
    assert await app.registrations.expire_due() == 0
    clock.current += timedelta(minutes=16)
    assert await app.registrations.expire_due() == 1
    assert (await app.registrations.get(buyer, held.id)).status == "expired"
    assert (await app.registrations.get(next_in_line, waiting.id)).status == "offered"


async def test_payment_confirms_once_and_a_late_payment_is_refunded(
    world: tuple[Container, Clock],
) -> None:
    app, clock = world
    event = await published_event(app, capacity=5, price=2500)
    buyer, late = await person(app, 1), await person(app, 2)
    registration = await app.registrations.register(buyer, event.id)
    confirmed = await app.registrations.confirm_payment(registration.id, 2500)
    again = await app.registrations.confirm_payment(registration.id, 2500)  # a duplicate
    assert confirmed.status == again.status == "confirmed"
    assert again.paid == 2500

    slow = await app.registrations.register(late, event.id)
    clock.current += timedelta(minutes=20)
    await app.registrations.expire_due()
    late_result = await app.registrations.confirm_payment(slow.id, 2500)
    assert late_result.status == "expired"  # not confirmed after the hold ran out
    assert await queued(app, "refund_payment") == 1  # the refund of the late payment


async def test_cancelling_a_paid_registration_refunds_by_the_policy(
    world: tuple[Container, Clock],
) -> None:
    app, clock = world
    event = await published_event(app, capacity=5, price=2500)
    buyer = await person(app, 1)
    registration = await app.registrations.register(buyer, event.id)
    await app.registrations.confirm_payment(registration.id, 2500)
    clock.current = START - timedelta(days=5)
    cancellation = await app.registrations.cancel(buyer, registration.id)
    assert cancellation.refund_due == 1250
    assert await queued(app, "refund_payment") == 1
    emails = await queued_payloads(app, "registration_email")
    assert [e["kind"] for e in emails] == ["pending_payment", "confirmed", "cancelled"]
    assert emails[-1]["refund"] == 1250

    await app.relay.drain()  # the emails go out, written from the registration's state
    sent = [m for m in app.mailer.sent if "Conference" in m.subject]  # type: ignore[attr-defined]
    subjects = [m.subject for m in sent]
    assert subjects == [
        "Complete your payment for Conference",
        "You're booked: Conference",
        "Your registration for Conference is cancelled",
    ]
    receipt = sent[-1].text
    assert "Refund receipt" in receipt
    assert "Refunded:      12.50 GBP" in receipt
    assert "Paid:          25.00 GBP" in receipt
    assert str(registration.id) in receipt
    attached = [m.attachments for m in sent]
    assert [len(a) for a in attached] == [0, 1, 0]  # the confirmation carries the calendar
    ics = attached[1][0]
    assert (ics.filename, ics.content_type) == ("event.ics", "text/calendar")
    calendar = Calendar.from_ical(ics.data)
    sessions = calendar.walk("VEVENT")
    assert [str(s["summary"]) for s in sessions] == ["Conference: Day"]
    assert sessions[0].decoded("dtstart") == START


async def test_others_cannot_see_or_touch_a_registration(world: tuple[Container, Clock]) -> None:
    app, _ = world
    event = await published_event(app, capacity=None)
    owner, other = await person(app, 1), await person(app, 2)
    registration = await app.registrations.register(owner, event.id)
    for action in (app.registrations.get, app.registrations.cancel, app.registrations.accept_offer):
        with pytest.raises(NotFound):
            await action(other, registration.id)


async def test_closed_or_unpublished_events_take_no_registrations(
    world: tuple[Container, Clock],
) -> None:
    app, clock = world
    event = await published_event(app, capacity=None)
    someone = await person(app, 1)
    clock.current = START + timedelta(days=1)
    with pytest.raises(Conflict):
        await app.registrations.register(someone, event.id)
    with pytest.raises(NotFound):
        await app.registrations.register(someone, event.organization.id)


async def test_the_embedded_housekeeping_releases_expired_holds() -> None:
    clock = Clock()
    app = build_container(make_settings(housekeeping_seconds=0.05), clock=clock)
    await app.startup()
    scheduler = EmbeddedScheduler(app)
    scheduler.start()
    try:
        event = await published_event(app, capacity=1, price=2500)
        buyer = await person(app, 1)
        held = await app.registrations.register(buyer, event.id)
        clock.current += timedelta(minutes=30)
        for _ in range(100):
            if (await app.registrations.get(buyer, held.id)).status == "expired":
                break
            await asyncio.sleep(0.02)
        assert (await app.registrations.get(buyer, held.id)).status == "expired"
    finally:
        await scheduler.stop()
        await app.shutdown()


async def test_the_embedded_scheduler_keeps_each_jobs_cron(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every-minute jobs run at each wake; the others (Zoom's reports, every 5 minutes) only
    when their cron comes due, however often the loop wakes."""
    clock = Clock()
    app = build_container(make_settings(housekeeping_seconds=0.01), clock=clock)
    runs = {"expire": 0, "zoom": 0}

    def counting(name: str) -> Any:
        async def job() -> int:
            runs[name] += 1
            return 0

        return job

    monkeypatch.setattr(app.registrations, "expire_due", counting("expire"))
    monkeypatch.setattr(app.meetings, "sync_due_attendance", counting("zoom"))
    await app.startup()
    scheduler = EmbeddedScheduler(app)
    scheduler.start()
    try:
        await asyncio.sleep(0.2)
        assert runs["expire"] > 3
        assert runs["zoom"] == 1  # at start; next at the coming 5-minute mark
        clock.current += timedelta(minutes=5)
        await asyncio.sleep(0.1)
        assert runs["zoom"] == 2
    finally:
        await scheduler.stop()
        await app.shutdown()


async def test_a_refund_counts_once_whether_its_receipt_or_its_event_comes_first(
    world: tuple[Container, Clock],
) -> None:
    app, clock = world
    event = await published_event(app, capacity=5, price=2500)
    buyer = await person(app, 1)
    booking = await app.registrations.book(buyer, event.id)
    assert booking.payment is not None
    paid = await app.payments.pay(booking.payment.reference, "tok_visa")  # type: ignore[attr-defined]
    await app.registrations.apply_payment_event(paid)
    clock.current = START - timedelta(days=5)  # half back, by the standard policy
    await app.registrations.cancel(buyer, booking.registration.id)
    await app.relay.drain()  # the refund task refunds through the gateway and records it

    registration = await app.registrations.get(buyer, booking.registration.id)
    assert registration.refunded == 1250
    [refund_id] = registration.refund_references

    def refund_event(kind: PaymentEventKind, amount: int, refund_id: str | None) -> PaymentEvent:
        return replace(
            paid,
            id=f"evt_{refund_id}_{kind}",
            kind=kind,
            registration_id=None,  # refund objects carry no metadata: found by the payment
            amount=Money(amount, "GBP"),
            refund_reference=refund_id,
        )

    # The provider reports the same refund, then the charge's running total: nothing changes.
    await app.registrations.apply_payment_event(
        refund_event(PaymentEventKind.REFUND_SUCCEEDED, 1250, refund_id)
    )
    await app.registrations.apply_payment_event(
        refund_event(PaymentEventKind.REFUND_SUCCEEDED, 1250, None)
    )
    registration = await app.registrations.get(buyer, booking.registration.id)
    assert registration.refunded == 1250

    # A refund made elsewhere (the provider's dashboard) arrives only as an event, through the
    # task a webhook queues: counted once.
    dashboard = refund_event(PaymentEventKind.REFUND_SUCCEEDED, 500, "re_dashboard")
    for _ in range(2):
        await app.registrations.apply_payment_event_task(payment_event_task(dashboard))
    registration = await app.registrations.get(buyer, booking.registration.id)
    assert registration.refunded == 1750
    assert set(registration.refund_references) == {refund_id, "re_dashboard"}

    with pytest.raises(NotFound):  # a payment that is not ours
        await app.registrations.apply_payment_event(
            replace(refund_event(PaymentEventKind.REFUND_SUCCEEDED, 1, "re_x"), reference="pi_x")
        )


async def test_each_reminder_is_queued_once(world: tuple[Container, Clock]) -> None:
    app, clock = world
    event = await published_event(app, capacity=10)
    clock.current = START - timedelta(days=3)
    early = await app.registrations.register(await person(app, 1), event.id)
    clock.current = START - timedelta(hours=3)
    await app.registrations.register(await person(app, 2), event.id)

    clock.current = START - timedelta(hours=23)
    assert await app.reminders.queue_due() == 1  # the early one's 24-hour reminder
    assert await app.reminders.queue_due() == 0  # already queued
    clock.current = START - timedelta(minutes=30)
    assert await app.reminders.queue_due() == 2  # both 1-hour reminders
    assert await app.reminders.queue_due() == 0
    clock.current = START + timedelta(hours=1)
    assert await app.reminders.queue_due() == 0

    records = await app.outbox_store.records(None, 100)
    reminders = [r.task.payload for r in records if r.task.name == "event_reminder"]
    assert (
        sorted((p["registration_id"], p["hours_before"]) for p in reminders).count(
            (str(early.id), 24)
        )
        == 1
    )
    assert len(reminders) == 3


async def test_reminders_skip_cancelled_registrations_and_events(
    world: tuple[Container, Clock],
) -> None:
    app, clock = world
    event = await published_event(app, capacity=10)
    clock.current = START - timedelta(days=3)
    buyer = await person(app, 1)
    registration = await app.registrations.register(buyer, event.id)
    await app.registrations.cancel(buyer, registration.id)
    clock.current = START - timedelta(hours=2)
    assert await app.reminders.queue_due() == 0


class GatedPayments:
    """The offline gateway, but the first payment start waits for ``release`` and then fails
    if told to: a request caught between its booking and its answer."""

    def __init__(self, app: Container, *, first_fails: bool) -> None:
        self._start = app.payments.start_payment
        self.first_fails = first_fails
        self.keys: list[str] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def start_payment(self, registration: Any, *, idempotency_key: str) -> Any:
        self.keys.append(idempotency_key)
        if len(self.keys) == 1:
            self.entered.set()
            await self.release.wait()
            if self.first_fails:
                raise ConnectionError("the payment provider went away")
        return await self._start(registration, idempotency_key=idempotency_key)


def answer_of(booking: Any) -> bytes:
    r = booking.registration
    return f"{r.id} {r.status} {booking.payment.reference if booking.payment else None}".encode()


@pytest.mark.parametrize("first_fails", [False, True], ids=["answers", "fails"])
async def test_a_duplicate_waits_for_the_running_request_with_its_key(
    world: tuple[Container, Clock], monkeypatch: pytest.MonkeyPatch, first_fails: bool
) -> None:
    """The duplicate arrives while the first request is starting the payment: it waits for
    that answer rather than starting the payment too (Stripe refuses a key in concurrent use);
    if the first fails, the duplicate finishes the booking the first made."""
    app, _ = world
    event = await published_event(app, capacity=5, price=2500)
    buyer = await person(app, 1)
    gate = GatedPayments(app, first_fails=first_fails)
    monkeypatch.setattr(app.payments, "start_payment", gate.start_payment)

    def book() -> Any:
        return app.registrations.book_once(buyer, event.id, key="k", answer=answer_of)

    first = asyncio.create_task(book())
    await gate.entered.wait()  # booked and committed; the answer is not stored yet
    duplicate = asyncio.create_task(book())
    await asyncio.sleep(0)  # one turn: the duplicate runs until it waits
    gate.release.set()
    outcomes = await asyncio.gather(first, duplicate, return_exceptions=True)

    async with app.uow() as uow:
        registration = await uow.registrations.active_for(event.id, buyer.user_id)
        assert (await uow.registrations.list_for_user(buyer.user_id, PageRequest())).total == 1
    assert registration is not None
    if first_fails:
        assert isinstance(outcomes[0], ConnectionError)
        assert len(gate.keys) == 2  # the duplicate started the payment again, once
    else:
        assert outcomes[0] == outcomes[1]
        assert gate.keys == [f"registration:{registration.id}"]
    body = outcomes[1]
    assert isinstance(body, bytes)
    assert body.startswith(f"{registration.id} pending_payment off_".encode())
    assert await book() == body
