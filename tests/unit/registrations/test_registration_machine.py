"""Random interleavings of the registration use cases on the memory adapter (the real wiring),
checking the invariants after every step: never overbooked, one active registration per
person, refunds within payments, seats held as the catalog says, and one confirmation email
for every registration that ever reached ``confirmed``."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cpd.bootstrap import build_container
from cpd.domain.accounts import Actor
from cpd.domain.errors import Conflict, NotFound
from cpd.domain.pages import PageRequest
from cpd.domain.payments import PaymentEvent, PaymentEventKind
from cpd.domain.registrations import Registration
from cpd.services.events.commands import EventFields
from tests.support.commands import new_event
from tests.unit.conftest import make_settings

PEOPLE, CAPACITY = 6, 3
START = datetime(2027, 6, 1, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


class RegistrationUseCases(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = Clock()
        self.app = build_container(make_settings(), clock=self.clock)
        self.people: list[Actor] = []
        self.latest: dict[int, Registration] = {}
        self.over_capacity = 0  # seats held beyond a capacity lowered under them
        self.ever_confirmed: set[UUID] = set()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize(paid=st.booleans())
    def event(self, paid: bool) -> None:
        async def setup() -> None:
            owner = await self.app.accounts.register(
                email="host@example.org",
                password="a long passphrase",
                first_name="H",
                last_name="O",
            )
            self.owner = Actor(owner.id)
            org = await self.app.organizations.create(self.owner, name="Host")
            details = {
                "title": "Event",
                "format": "online",
                "capacity": CAPACITY,
                "price": {"amount": 1000 if paid else 0, "currency": "GBP"},
            }
            sessions = [{"title": "S", "starts_at": START, "ends_at": START + timedelta(hours=1)}]
            view = await self.app.events.create(self.owner, new_event(org.id, details, sessions))
            await self.app.events.publish(self.owner, view.id)
            self.event_id = view.id
            for n in range(PEOPLE):
                user = await self.app.accounts.register(
                    email=f"p{n}@example.org",
                    password="a long passphrase",
                    first_name="P",
                    last_name=str(n),
                )
                self.people.append(Actor(user.id))

        self.run(setup())

    def attempt(self, coroutine: Any) -> Any:
        try:
            return self.run(coroutine)
        except (Conflict, NotFound):
            return None

    @rule(who=st.integers(0, PEOPLE - 1), seats=st.integers(1, 2))
    def register(self, who: int, seats: int) -> None:
        made = self.attempt(
            self.app.registrations.register(self.people[who], self.event_id, seats=seats)
        )
        if made is not None:
            self.latest[who] = made

    @rule(who=st.integers(0, PEOPLE - 1))
    def pay(self, who: int) -> None:
        if who in self.latest:
            registration = self.latest[who]
            self.attempt(
                self.app.registrations.confirm_payment(
                    registration.id, registration.amount_due.amount
                )
            )

    @rule(who=st.integers(0, PEOPLE - 1), copies=st.integers(1, 3))
    def provider_reports_payment(self, who: int, copies: int) -> None:
        """The provider's success event, possibly several copies under different ids."""
        if who in self.latest:
            registration = self.latest[who]
            for n in range(copies):
                news = PaymentEvent(
                    id=f"evt_{registration.id}_{n}",
                    kind=PaymentEventKind.PAYMENT_SUCCEEDED,
                    reference=f"pi_{registration.id}",
                    registration_id=registration.id,
                    amount=registration.amount_due,
                    occurred_at=self.clock.now(),
                )
                self.attempt(self.app.registrations.apply_payment_event(news))

    @rule(who=st.integers(0, PEOPLE - 1))
    def cancel(self, who: int) -> None:
        if who in self.latest:
            self.attempt(self.app.registrations.cancel(self.people[who], self.latest[who].id))

    @rule(who=st.integers(0, PEOPLE - 1))
    def accept_offer(self, who: int) -> None:
        if who in self.latest:
            self.attempt(self.app.registrations.accept_offer(self.people[who], self.latest[who].id))

    @rule(minutes=st.integers(1, 60 * 72))
    def time_passes(self, minutes: int) -> None:
        self.clock.current += timedelta(minutes=minutes)
        self.run(self.app.registrations.expire_due())

    @rule(capacity=st.integers(1, 6))
    def change_capacity(self, capacity: int) -> None:
        self.attempt(
            self.app.events.update(self.owner, self.event_id, EventFields(capacity=capacity))
        )
        held = sum(r.seats for r in self.registrations() if r.holds_seats)
        self.over_capacity = held if held > capacity else 0

    def registrations(self) -> list[Registration]:
        async def read() -> list[Registration]:
            async with self.app.uow() as uow:
                page = await uow.registrations.list_for_event(
                    self.event_id, None, PageRequest(limit=200)
                )
                return page.items

        return list(self.run(read()))

    @invariant()
    def invariants(self) -> None:
        if not self.people:
            return
        everyone = self.registrations()
        view = self.run(self.app.catalog.event(self.event_id, self.owner))
        held = sum(r.seats for r in everyone if r.holds_seats)
        # Never overbooked: lowering the capacity evicts nobody, and nobody new gets a seat
        # until the holders are back under it.
        assert held <= max(view.capacity or held, self.over_capacity)
        if held <= (view.capacity or held):
            self.over_capacity = 0
        active = [r.user_id for r in everyone if r.is_active]
        assert len(active) == len(set(active))  # one active registration per person
        assert all(0 <= r.refunded <= r.paid for r in everyone)
        assert view.seats_available == max(0, (view.capacity or 0) - held)
        self.ever_confirmed |= {r.id for r in everyone if r.status == "confirmed"}
        records = self.run(self.app.outbox_store.records(None, 10_000))
        sent = Counter(
            r.task.payload["registration_id"]
            for r in records
            if r.task.name == "registration_email" and r.task.payload["kind"] == "confirmed"
        )
        assert sent == Counter(str(i) for i in self.ever_confirmed)

    def teardown(self) -> None:
        self.loop.close()


TestRegistrationUseCases = RegistrationUseCases.TestCase
TestRegistrationUseCases.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
