"""Registrations: the state machine, capacity decisions, the waitlist and refunds."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.money import Money
from cpd.domain.refunds import STANDARD_REFUNDS, RefundPolicy
from cpd.domain.registrations import (
    SEAT_HOLDING,
    Attendee,
    Registration,
    RegistrationStatus,
    next_offers,
    seats_free,
)

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
STARTS = NOW + timedelta(days=30)
FREE, PAID = Money(0, "GBP"), Money(2500, "GBP")


def open_registration(
    *,
    seats: int = 1,
    free: int | None = 10,
    waiting: bool = False,
    price: Money = PAID,
    now: datetime = NOW,
) -> Registration:
    return Registration.open(
        event_id=uuid4(),
        user_id=uuid4(),
        seats=seats,
        seats_free=free,
        waitlist_waiting=waiting,
        unit_price=price,
        now=now,
    )


def paid(registration: Registration, policy: RefundPolicy = STANDARD_REFUNDS) -> Registration:
    registration.confirm_payment(registration.amount_due, policy, now=NOW)
    return registration


# Opening


def test_a_free_event_confirms_at_once() -> None:
    registration = open_registration(price=FREE)
    assert registration.status is RegistrationStatus.CONFIRMED
    assert registration.hold_expires_at is None


def test_a_paid_event_holds_the_seats_for_fifteen_minutes() -> None:
    registration = open_registration(seats=3)
    assert registration.status is RegistrationStatus.PENDING_PAYMENT
    assert registration.amount_due == Money(7500, "GBP")
    assert registration.hold_expires_at == NOW + timedelta(minutes=15)
    assert registration.holds_seats


@pytest.mark.parametrize(("free", "waiting"), [(0, False), (2, False), (5, True)])
def test_no_room_or_a_queue_means_the_waitlist(free: int, waiting: bool) -> None:
    registration = open_registration(seats=3, free=free, waiting=waiting)
    assert registration.status is RegistrationStatus.WAITLISTED
    assert registration.waitlisted_at == NOW
    assert not registration.holds_seats


def test_unlimited_capacity_never_waitlists() -> None:
    assert open_registration(free=None, waiting=True).status is RegistrationStatus.PENDING_PAYMENT


@pytest.mark.parametrize("seats", [0, -1, 51])
def test_seat_count_is_bounded(seats: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_registration(seats=seats)
    assert refused.value.field == "seats"


def test_attendees_are_one_per_seat() -> None:
    with pytest.raises(InvalidInput) as refused:
        Registration.open(
            event_id=uuid4(),
            user_id=uuid4(),
            seats=2,
            seats_free=5,
            waitlist_waiting=False,
            unit_price=PAID,
            now=NOW,
            attendees=(Attendee("Ada", "ada@example.org"),),
        )
    assert refused.value.field == "attendees"


def test_check_in_codes_are_short_readable_and_distinct() -> None:
    codes = {open_registration().check_in_code for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", c) for c in codes)


# Transitions


def test_payment_confirms_and_snapshots_the_policy() -> None:
    registration = paid(open_registration())
    assert registration.status is RegistrationStatus.CONFIRMED
    assert registration.paid == 2500
    assert registration.refund_policy is STANDARD_REFUNDS
    with pytest.raises(Conflict):
        registration.confirm_payment(registration.amount_due, STANDARD_REFUNDS, now=NOW)


def test_a_payment_of_the_wrong_amount_is_refused() -> None:
    registration = open_registration()
    with pytest.raises(Conflict):
        registration.confirm_payment(Money(100, "GBP"), STANDARD_REFUNDS, now=NOW)
    with pytest.raises(Conflict):
        registration.confirm_payment(Money(2500, "EUR"), STANDARD_REFUNDS, now=NOW)
    assert registration.status is RegistrationStatus.PENDING_PAYMENT


def test_holds_expire_only_when_due() -> None:
    registration = open_registration()
    with pytest.raises(Conflict):
        registration.expire_hold(now=NOW + timedelta(minutes=14))
    registration.expire_hold(now=NOW + timedelta(minutes=15))
    assert registration.status is RegistrationStatus.EXPIRED
    assert not registration.is_active
    with pytest.raises(Conflict):
        registration.confirm_payment(registration.amount_due, STANDARD_REFUNDS, now=NOW)


def test_offer_accept_takes_the_seats() -> None:
    registration = open_registration(free=0)
    registration.offer(now=NOW)
    assert registration.status is RegistrationStatus.OFFERED
    assert registration.offer_expires_at == NOW + timedelta(hours=48)
    assert registration.holds_seats
    registration.accept_offer(now=NOW + timedelta(hours=1))
    assert registration.status is RegistrationStatus.PENDING_PAYMENT
    free = open_registration(free=0, price=FREE)
    free.offer(now=NOW)
    free.accept_offer(now=NOW)
    assert free.status is RegistrationStatus.CONFIRMED


def test_an_expired_offer_cannot_be_accepted_and_expires() -> None:
    registration = open_registration(free=0)
    registration.offer(now=NOW, ttl=timedelta(hours=2))
    with pytest.raises(Conflict):
        registration.accept_offer(now=NOW + timedelta(hours=2))
    with pytest.raises(Conflict):
        registration.expire_offer(now=NOW + timedelta(hours=1))
    registration.expire_offer(now=NOW + timedelta(hours=2))
    assert registration.status is RegistrationStatus.EXPIRED


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (lambda r: r.offer(now=NOW), RegistrationStatus.CONFIRMED),
        (lambda r: r.accept_offer(now=NOW), RegistrationStatus.WAITLISTED),
        (lambda r: r.expire_offer(now=NOW), RegistrationStatus.PENDING_PAYMENT),
        (lambda r: r.expire_hold(now=NOW + timedelta(days=1)), RegistrationStatus.CONFIRMED),
    ],
)
def test_illegal_transitions_are_conflicts(action: object, status: RegistrationStatus) -> None:
    registration = open_registration(free=0 if status is RegistrationStatus.WAITLISTED else 5)
    if status is RegistrationStatus.CONFIRMED:
        paid(registration)
    with pytest.raises(Conflict):
        action(registration)  # type: ignore[operator]


# Cancellation and refunds


def test_cancelling_refunds_by_the_snapshotted_policy() -> None:
    registration = paid(open_registration())
    refund = registration.cancel(
        now=STARTS - timedelta(days=5), event_starts_at=STARTS, by_organizer=False
    )
    assert refund == 1250  # 50% between 14 and 2 days before
    assert registration.status is RegistrationStatus.CANCELLED
    with pytest.raises(Conflict):
        registration.cancel(now=NOW, event_starts_at=STARTS, by_organizer=False)


def test_the_organizer_refunds_in_full_whatever_the_policy() -> None:
    registration = paid(open_registration(), RefundPolicy(()))
    assert registration.cancel(now=STARTS, event_starts_at=STARTS, by_organizer=True) == 2500


def test_leaving_the_waitlist_or_an_unpaid_hold_refunds_nothing() -> None:
    assert (
        open_registration(free=0).cancel(now=NOW, event_starts_at=STARTS, by_organizer=False) == 0
    )
    assert open_registration().cancel(now=NOW, event_starts_at=STARTS, by_organizer=False) == 0


def test_refunds_never_exceed_what_was_paid() -> None:
    registration = paid(open_registration())
    registration.record_refund(2000, now=NOW)
    with pytest.raises(Conflict):
        registration.record_refund(501, now=NOW)
    registration.record_refund(500, now=NOW)
    assert registration.refundable_balance == 0
    with pytest.raises(InvalidInput):
        registration.record_refund(0, now=NOW)


@given(st.lists(st.integers(min_value=-100, max_value=5000), max_size=20))
def test_refunds_in_any_order_stay_within_the_payment(amounts: list[int]) -> None:
    registration = paid(open_registration())
    for amount in amounts:
        with contextlib.suppress(Conflict, InvalidInput):
            registration.record_refund(amount, now=NOW)
        assert 0 <= registration.refunded <= registration.paid


# The waitlist


def test_offers_go_first_come_first_served_and_a_group_blocks_the_line() -> None:
    first = open_registration(seats=3, free=0, now=NOW)
    second = open_registration(seats=1, free=0, now=NOW + timedelta(minutes=1))
    third = open_registration(seats=1, free=0, now=NOW + timedelta(minutes=2))
    line = [third, second, first]
    assert next_offers(line, 2) == []  # the group of 3 waits; nobody jumps it
    assert next_offers(line, 3) == [first]
    assert next_offers(line, 5) == [first, second, third]
    assert next_offers(line, None) == [first, second, third]
    first.offer(now=NOW)
    assert next_offers(line, 1) == [second]


def test_seats_free() -> None:
    assert seats_free(None, 99) is None
    assert seats_free(10, 4) == 6
    assert seats_free(10, 12) == 0


class RegistrationsOnOneEvent(RuleBasedStateMachine):
    """Random interleavings of register / pay / expire / cancel / offer / accept against one
    event, deciding capacity the way the service will: from the seats registrations hold."""

    CAPACITY = 6

    def __init__(self) -> None:
        super().__init__()
        self.registrations: list[Registration] = []
        self.now = NOW

    def held(self) -> int:
        return sum(r.seats for r in self.registrations if r.holds_seats)

    def waiting(self) -> list[Registration]:
        return [r for r in self.registrations if r.status is RegistrationStatus.WAITLISTED]

    def promote(self) -> None:
        for registration in next_offers(self.waiting(), seats_free(self.CAPACITY, self.held())):
            registration.offer(now=self.now)

    @rule(seats=st.integers(1, 3), free_event=st.booleans())
    def register(self, seats: int, free_event: bool) -> None:
        self.registrations.append(
            Registration.open(
                event_id=uuid4(),
                user_id=uuid4(),
                seats=seats,
                seats_free=seats_free(self.CAPACITY, self.held()),
                waitlist_waiting=bool(self.waiting()),
                unit_price=FREE if free_event else PAID,
                now=self.now,
            )
        )

    @rule(minutes=st.integers(1, 60 * 72))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        for r in self.registrations:
            if r.status is RegistrationStatus.PENDING_PAYMENT and r.hold_expires_at <= self.now:  # type: ignore[operator]
                r.expire_hold(now=self.now)
            elif r.status is RegistrationStatus.OFFERED and r.offer_expires_at <= self.now:  # type: ignore[operator]
                r.expire_offer(now=self.now)
        self.promote()

    @precondition(lambda self: self.registrations)
    @rule(index=st.integers(0, 1000), data=st.data())
    def act(self, index: int, data: st.DataObject) -> None:
        registration = self.registrations[index % len(self.registrations)]
        action = data.draw(st.sampled_from(["pay", "cancel", "accept"]))
        try:
            if action == "pay":
                registration.confirm_payment(
                    registration.amount_due, STANDARD_REFUNDS, now=self.now
                )
            elif action == "cancel":
                refund = registration.cancel(
                    now=self.now, event_starts_at=STARTS, by_organizer=False
                )
                assert 0 <= refund <= registration.paid
            else:
                registration.accept_offer(now=self.now)
        except Conflict:
            return
        self.promote()

    @invariant()
    def never_overbooked(self) -> None:
        assert self.held() <= self.CAPACITY

    @invariant()
    def only_holding_statuses_count(self) -> None:
        for r in self.registrations:
            assert r.holds_seats == (r.status in SEAT_HOLDING)
            assert 0 <= r.refunded <= r.paid


TestRegistrationsOnOneEvent = RegistrationsOnOneEvent.TestCase
TestRegistrationsOnOneEvent.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
