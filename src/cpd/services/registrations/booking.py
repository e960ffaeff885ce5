"""Registering for events: seats, the waitlist, offers, holds and cancellations.

Every seat decision runs inside one transaction that locks the event row
(``events.get_for_update`` or ``events.lock_seats``: ``FOR UPDATE`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite), so concurrent registrations for one event serialise there and nowhere
else. ``events.seats_taken`` on that row is the count of seats held, kept in step by every
change under the same lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from cpd.domain.accounts import Actor, User
from cpd.domain.errors import Conflict, DomainError, NotFound
from cpd.domain.events import Event, EventStatus
from cpd.domain.money import Money
from cpd.domain.pages import Page, PageRequest
from cpd.domain.payments import PaymentEvent, PaymentEventKind, PaymentIntent
from cpd.domain.refunds import RefundPolicy
from cpd.domain.registrations import (
    Attendee,
    Registration,
    RegistrationStatus,
    seats_free,
)
from cpd.domain.tasks import Task
from cpd.ports.platform import Cache, Clock
from cpd.ports.registrations import PaymentGateway, TestCardGateway
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common import idempotency
from cpd.services.common.access import is_staff, require_staff
from cpd.services.common.batching import Batcher
from cpd.services.common.idempotency import IdempotentRequest, InFlight, KeyTaken
from cpd.services.common.lookups import (
    REGISTRATION_NOT_FOUND,
    event_for_update,
    existing_event,
    own_registration,
)
from cpd.services.common.tasks import handles
from cpd.services.registrations.reactions import RegistrationReactions
from cpd.services.registrations.steps import (
    add_registrations,
    notify,
    offer_freed_seats,
    open_event,
    payment_event_task,
    refund_policy_of,
    refund_task,
    reload_registration,
    save_registration,
)
from cpd.services.registrations.tasks import (
    ApplyPaymentEvent,
    RefundPayment,
)

ALREADY_REGISTERED = "You already have a registration for this event."


@dataclass(frozen=True, slots=True)
class _SeatRequest:
    user_id: UUID
    seats: int
    attendees: tuple[Attendee, ...]
    unit_price: Money
    now: datetime
    online_meetings: bool  # the event's sessions have provider meetings
    idempotency: IdempotentRequest | None  # its key is claimed with the registration


@dataclass(frozen=True, slots=True)
class Booking:
    registration: Registration
    payment: PaymentIntent | None  # what the frontend needs to pay, while payment is due
    waitlist_position: int | None = None


@dataclass(frozen=True, slots=True)
class StaffRow:
    registration: Registration
    registrant: User


@dataclass(frozen=True, slots=True)
class RefundTerms:
    policy: RefundPolicy  # the snapshot once paid, else what applies if paid now
    refund_if_cancelled: int | None  # minor units; None when there is nothing to cancel


@dataclass(frozen=True, slots=True)
class Cancellation:
    registration: Registration
    refund_due: int  # minor units


class RegistrationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        catalog_cache: Cache,
        payments: PaymentGateway,
        reactions: RegistrationReactions,
    ) -> None:
        self._reactions = reactions
        self._uow = uow
        self._clock = clock
        self._cache = catalog_cache
        self._payments = payments
        self._seat_desk = Batcher(self._decide_seats)
        self._in_flight = InFlight()

    async def register(
        self,
        actor: Actor,
        event_id: UUID,
        *,
        seats: int = 1,
        attendees: tuple[Attendee, ...] = (),
        idempotency: IdempotentRequest | None = None,
    ) -> Registration:
        now = self._clock.now()
        async with self._uow() as uow:
            # Checked before the seat decision, without the lock. Whatever changes meanwhile
            # is caught under it (the locked row's status and capacity) or by the
            # one-active-registration unique index.
            event = await open_event(uow, event_id, now)
            if await uow.registrations.active_for(event_id, actor.user_id) is not None:
                # Committed with its key: a duplicate of that booking replays it.
                if idempotency and await uow.idempotency.find(actor.user_id, idempotency.key):
                    raise KeyTaken
                raise Conflict(ALREADY_REGISTERED, field="event_id")
        request = _SeatRequest(
            actor.user_id,
            seats,
            attendees,
            event.price,
            now,
            event.has_online_meetings,
            idempotency,
        )
        registration = await self._seat_desk.submit(event_id, request)
        await self._cache.clear()
        return registration

    async def _decide_seats(
        self, event_id: UUID, requests: list[_SeatRequest]
    ) -> list[Registration | Exception]:
        """Seat a batch of registrations in arrival order, under one lock and one commit."""
        async with self._uow() as uow:
            seats_now = await uow.events.lock_seats(event_id)
            if seats_now is None or seats_now.status is not EventStatus.PUBLISHED:
                raise NotFound("Event not found.")
            tail = await uow.registrations.waitlist_tail(event_id)
            taken = seats_now.taken
            outcomes: list[Registration | Exception] = []
            seated: set[UUID] = set()
            keys: set[tuple[UUID, str]] = set()
            for request in requests:
                key = request.idempotency
                try:
                    if key and (key.user_id, key.key) in keys:  # a duplicate in this batch
                        raise KeyTaken
                    if request.user_id in seated:  # the same person twice in one batch
                        raise Conflict(ALREADY_REGISTERED, field="event_id")
                    registration = Registration.open(
                        event_id=event_id,
                        user_id=request.user_id,
                        seats=request.seats,
                        seats_free=seats_free(seats_now.capacity, taken),
                        waitlist_waiting=tail is not None,
                        unit_price=request.unit_price,
                        now=request.now,
                        attendees=request.attendees,
                    )
                    if key:
                        # Claimed before the seat is counted: a key another transaction
                        # committed (waited for on PostgreSQL) means this is its duplicate.
                        if not await uow.idempotency.claim(
                            key.user_id, key.key, key.fingerprint, registration.id, request.now
                        ):
                            raise KeyTaken
                        keys.add((key.user_id, key.key))
                except (DomainError, KeyTaken) as error:
                    outcomes.append(error)
                    continue
                registration.queue_behind(tail)
                if registration.holds_seats:
                    taken += registration.seats
                else:
                    tail = registration.waitlisted_at
                seated.add(request.user_id)
                outcomes.append(registration)
            added = [r for r in outcomes if isinstance(r, Registration)]
            await add_registrations(uow, *added)
            if taken != seats_now.taken:
                await uow.events.record_seats_taken(event_id, taken)
            online = any(r.online_meetings for r in requests)  # one event: all alike
            for registration in added:
                if registration.status is not RegistrationStatus.CONFIRMED:
                    notify(uow, registration, registration.status.value)
                if online and registration.status is RegistrationStatus.CONFIRMED:
                    self._reactions.seat_confirmed(uow, registration.id)
            await uow.commit()
        return outcomes

    async def book(
        self,
        actor: Actor,
        event_id: UUID,
        *,
        seats: int = 1,
        attendees: tuple[Attendee, ...] = (),
    ) -> Booking:
        """Register, and start the payment when one is due (after the seats are committed:
        a payment provider is never called inside the transaction)."""
        registration = await self.register(actor, event_id, seats=seats, attendees=attendees)
        return await self._booking(registration)

    async def book_once(
        self,
        actor: Actor,
        event_id: UUID,
        *,
        key: str,
        answer: Callable[[Booking], bytes],
        seats: int = 1,
        attendees: tuple[Attendee, ...] = (),
    ) -> bytes:
        """``book`` under the caller's ``Idempotency-Key``; ``answer`` renders the booking.

        The key commits with the registration, so no crash leaves one without the other. Any
        retry or concurrent duplicate gets the stored answer; if the first request died
        before storing it, the duplicate rebuilds it from that registration (starting its
        payment again under the same provider key) and the first answer stored wins."""
        what = {
            "event_id": str(event_id),
            "seats": seats,
            "attendees": [
                {"name": a.name, "email": a.email, "registration_number": a.registration_number}
                for a in attendees
            ],
        }
        request = IdempotentRequest.of(actor.user_id, key, what)

        async def work() -> bytes:
            return await self._book_once(actor, event_id, request, answer, seats, attendees)

        return await self._in_flight.run(request, work)

    async def _book_once(
        self,
        actor: Actor,
        event_id: UUID,
        request: IdempotentRequest,
        answer: Callable[[Booking], bytes],
        seats: int,
        attendees: tuple[Attendee, ...],
    ) -> bytes:
        found = await idempotency.find(self._uow, request)
        if found is None:
            try:
                registration = await self.register(
                    actor, event_id, seats=seats, attendees=attendees, idempotency=request
                )
            except KeyTaken:
                found = await idempotency.find(self._uow, request)
            else:
                body = answer(await self._booking(registration))
                return await idempotency.store_answer(self._uow, request, body)
        if found is not None and found.response is not None:
            return found.response
        if found is None or found.resource_id is None:  # gone with its user, or never claimed
            raise NotFound(REGISTRATION_NOT_FOUND)
        async with self._uow() as uow:
            registration = await reload_registration(uow, found.resource_id)
        body = answer(await self._booking(registration))
        return await idempotency.store_answer(self._uow, request, body)

    async def _booking(self, registration: Registration) -> Booking:
        payment = await self._start_payment(registration)
        return Booking(registration, payment, await self.waitlist_position(registration))

    async def payment(self, actor: Actor, registration_id: UUID) -> Booking:
        """The payment to make for a held registration (started again idempotently)."""
        async with self._uow() as uow:
            registration = await own_registration(uow, actor, registration_id)
        if registration.status is not RegistrationStatus.PENDING_PAYMENT:
            raise Conflict(f"No payment is due on a {registration.status} registration.")
        return Booking(registration, await self._start_payment(registration))

    async def pay_with_test_card(
        self, actor: Actor, registration_id: UUID, card_token: str
    ) -> Registration:
        """Pay a held registration with a test card token, where the gateway takes them (the
        offline one); elsewhere this does not exist (NotFound)."""
        gateway = self._payments
        if not isinstance(gateway, TestCardGateway):
            raise NotFound("Pay through the payment provider; offline payment is switched off.")
        booking = await self.payment(actor, registration_id)
        if booking.payment is None:
            raise Conflict("No payment is due on this registration.")
        event = await gateway.pay(booking.payment.reference, card_token)
        await self.apply_payment_event(event)
        if event.kind is PaymentEventKind.PAYMENT_FAILED:
            raise Conflict("The card was declined.", field="card_token")
        return await self.get(actor, registration_id)

    async def _start_payment(self, registration: Registration) -> PaymentIntent | None:
        if registration.status is not RegistrationStatus.PENDING_PAYMENT:
            return None
        intent = await self._payments.start_payment(
            registration, idempotency_key=f"registration:{registration.id}"
        )
        async with self._uow() as uow:
            current = await reload_registration(uow, registration.id)
            if current.status is RegistrationStatus.PENDING_PAYMENT:
                current.attach_payment(intent.reference, now=self._clock.now())
                await save_registration(uow, current)
                await uow.commit()
        return intent

    async def apply_payment_event(self, event: PaymentEvent) -> None:
        """What a provider reported (webhook, or the offline gateway), applied once and never
        backwards: a failure after a success changes nothing; a success after the hold ran
        out or after cancelling is refunded; a refund counts once under its refund id, however
        its receipt and its events interleave."""
        async with self._uow() as uow:
            registration = await (
                uow.registrations.get(event.registration_id)
                if event.registration_id
                else uow.registrations.by_payment_reference(event.reference)
            )
        if registration is None:
            raise NotFound(REGISTRATION_NOT_FOUND)
        if event.kind is PaymentEventKind.PAYMENT_SUCCEEDED:
            await self.confirm_payment(registration.id, event.amount.amount)
        elif event.kind is PaymentEventKind.REFUND_SUCCEEDED and event.refund_reference:
            async with self._uow() as uow:
                registration = await reload_registration(uow, registration.id)
                if event.refund_reference in registration.refund_references:
                    return  # its receipt, or an earlier event, counted it already
                registration.record_refund(
                    event.amount.amount, now=self._clock.now(), reference=event.refund_reference
                )
                await save_registration(uow, registration)
                await uow.commit()
        # A failed payment leaves the hold to expire (the registrant may pay again); a charge's
        # running refund total and a failed refund change nothing recorded.

    async def receive_webhook(self, payload: bytes, headers: Mapping[str, str]) -> bool:
        """Verify a provider's webhook, store its id, and queue its effect in the same
        transaction: acknowledging never loses it, and a duplicate (False) does nothing."""
        event = self._payments.parse_webhook(payload, headers)  # InvalidInput if forged
        async with self._uow() as uow:
            fresh = await uow.webhooks.accept(self._payments.name, event.id, self._clock.now())
            if fresh:
                uow.outbox.add(payment_event_task(event))
                await uow.commit()
        return fresh

    @handles(ApplyPaymentEvent)
    async def apply_payment_event_task(self, task: Task) -> None:
        await self.apply_payment_event(ApplyPaymentEvent.of(task).event)

    @handles(RefundPayment)
    async def refund(self, task: Task) -> None:
        """The ``refund_payment`` task: refund through the provider, keyed by the task id so a
        retry never refunds twice, then record it under the provider's refund reference."""
        order = RefundPayment.of(task)
        registration_id = order.registration_id
        amount = Money(order.amount, order.currency)
        async with self._uow() as uow:
            registration = await reload_registration(uow, registration_id)
        if registration.payment_reference is None:
            return  # nothing was ever charged
        receipt = await self._payments.refund(
            registration.payment_reference, amount, idempotency_key=f"refund:{task.id}"
        )
        async with self._uow() as uow:
            registration = await reload_registration(uow, registration_id)
            registration.record_refund(
                receipt.amount.amount, now=self._clock.now(), reference=receipt.reference
            )
            await save_registration(uow, registration)
            await uow.commit()

    async def for_event(
        self,
        actor: Actor,
        event_id: UUID,
        statuses: frozenset[str] | None,
        page: PageRequest,
    ) -> Page[StaffRow]:
        """An event's registrations with who registered, for its staff."""
        async with self._uow() as uow:
            event = await existing_event(uow, event_id)
            await require_staff(uow, actor, event.organization_id, not_found="Event not found.")
            found = await uow.registrations.list_for_event(event_id, statuses, page)
            users = {u.id: u for u in await uow.users.get_many([r.user_id for r in found.items])}
        rows = [StaffRow(r, users[r.user_id]) for r in found.items if r.user_id in users]
        return Page(rows, found.total, found.limit, found.offset)

    async def cancel_for_organizer(
        self, actor: Actor, event_id: UUID, registration_id: UUID
    ) -> Cancellation:
        """Staff cancel a registration: always a full refund."""
        async with self._uow() as uow:
            event = await existing_event(uow, event_id)
            await require_staff(uow, actor, event.organization_id, not_found="Event not found.")
            registration = await reload_registration(uow, registration_id)
            if registration.event_id != event_id:
                raise NotFound(REGISTRATION_NOT_FOUND)
            return await self._cancel(uow, registration, by_organizer=True)

    async def get(self, actor: Actor, registration_id: UUID) -> Registration:
        async with self._uow() as uow:
            return await own_registration(uow, actor, registration_id)

    async def refund_terms(self, registration: Registration) -> RefundTerms:
        """The policy that applies to ``registration`` and what cancelling it now gives."""
        async with self._uow() as uow:
            event = await existing_event(uow, registration.event_id)
            policy = registration.refund_policy or await refund_policy_of(uow, event)
        refund = (
            registration.refund_if_cancelled(now=self._clock.now(), event_starts_at=event.starts_at)
            if registration.is_active
            else None
        )
        return RefundTerms(policy, refund)

    async def event_refund_policy(self, actor: Actor | None, event_id: UUID) -> RefundPolicy:
        """The policy a registrant of the event buys: its own, else its organization's.
        Public while the event's page is; otherwise only for its staff."""
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            if event is None or (
                event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED)
                and not await is_staff(uow, actor, event.organization_id)
            ):
                raise NotFound("Event not found.")
            return await refund_policy_of(uow, event)

    async def mine(self, actor: Actor, page: PageRequest) -> Page[Registration]:
        async with self._uow() as uow:
            return await uow.registrations.list_for_user(actor.user_id, page)

    async def waitlist_position(self, registration: Registration) -> int | None:
        """1 for the head of the waitlist; None when not waitlisted."""
        return (await self.waitlist_positions([registration])).get(registration.id)

    async def waitlist_positions(self, registrations: Sequence[Registration]) -> dict[UUID, int]:
        """Places in line of those waitlisted (one query for a page of them); others absent."""
        waiting = [r for r in registrations if r.status is RegistrationStatus.WAITLISTED]
        if not waiting:
            return {}
        async with self._uow() as uow:
            return await uow.registrations.waitlist_positions(waiting)

    async def cancel(self, actor: Actor, registration_id: UUID) -> Cancellation:
        """The registrant cancels: the refund follows the policy snapshotted at payment."""
        async with self._uow() as uow:
            registration = await own_registration(uow, actor, registration_id)
            return await self._cancel(uow, registration, by_organizer=False)

    async def accept_offer(self, actor: Actor, registration_id: UUID) -> Registration:
        now = self._clock.now()
        async with self._uow() as uow:
            registration = await own_registration(uow, actor, registration_id)
            event = await event_for_update(uow, registration.event_id)
            registration = await reload_registration(uow, registration_id)
            registration.accept_offer(now=now)
            await save_registration(uow, registration)
            self._seat_confirmed(uow, registration, event)
            await uow.commit()
        return registration

    def _seat_confirmed(self, uow: UnitOfWork, registration: Registration, event: Event) -> None:
        if registration.status is RegistrationStatus.CONFIRMED and event.has_online_meetings:
            self._reactions.seat_confirmed(uow, registration.id)

    async def confirm_payment(self, registration_id: UUID, amount_paid: int) -> Registration:
        """A payment succeeded (webhook or offline). Repeats of the same news change nothing.
        A payment that arrives after the hold ran out (or after cancelling) is refunded: the
        registration comes back unchanged, not confirmed."""
        now = self._clock.now()
        async with self._uow() as uow:
            registration = await reload_registration(uow, registration_id)
            event = await event_for_update(uow, registration.event_id)
            registration = await reload_registration(uow, registration_id)
            if registration.status is RegistrationStatus.CONFIRMED and registration.paid:
                # A duplicate (the same news twice, or two events for one payment), decided
                # under the lock: a concurrent copy must neither confirm again nor refund.
                return registration
            amount = registration.amount_due
            if registration.status is not RegistrationStatus.PENDING_PAYMENT:
                # Paid after the hold ran out or after cancelling: the money goes back.
                uow.outbox.add(refund_task(registration, amount_paid))
                await uow.commit()
                return registration
            if amount_paid != amount.amount:
                raise Conflict("The payment does not match the amount due.", field="amount")
            policy = await refund_policy_of(uow, event)  # the terms bought, kept from now on
            registration.confirm_payment(amount, policy, now=now)
            await save_registration(uow, registration)
            self._seat_confirmed(uow, registration, event)
            await uow.commit()
        return registration

    async def expire_due(self, *, limit: int = 200) -> int:
        """Release holds and offers whose time ran out, and offer the freed seats onward."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.registrations.expiring(now, limit)
        for event_id, registration_id in due:
            async with self._uow() as uow:
                await event_for_update(uow, event_id)
                registration = await reload_registration(uow, registration_id)
                if registration.status is RegistrationStatus.PENDING_PAYMENT:
                    registration.expire_hold(now=now)
                elif registration.status is RegistrationStatus.OFFERED:
                    registration.expire_offer(now=now)
                    notify(uow, registration, "offer_expired")
                else:
                    continue  # settled meanwhile
                await save_registration(uow, registration)
                await offer_freed_seats(uow, event_id, now)
                await uow.commit()
        if due:
            await self._cache.clear()
        return len(due)

    async def _cancel(
        self, uow: UnitOfWork, registration: Registration, *, by_organizer: bool
    ) -> Cancellation:
        now = self._clock.now()
        event = await event_for_update(uow, registration.event_id)
        registration = await reload_registration(uow, registration.id)
        refund = registration.cancel(
            now=now, event_starts_at=event.starts_at, by_organizer=by_organizer
        )
        await save_registration(uow, registration)
        if refund:
            uow.outbox.add(refund_task(registration, refund))
        notify(uow, registration, "cancelled", refund=refund)
        await offer_freed_seats(uow, event.id, now)
        await uow.commit()
        await self._cache.clear()
        return Cancellation(registration, refund)
