"""Registrations and the catalog's seat count: one contract for every adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from cpd.domain.accounts import Organization, User
from cpd.domain.errors import Conflict
from cpd.domain.events import Event, EventStatus, SeatLedger
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from cpd.domain.refunds import RefundPolicy, RefundTier
from cpd.domain.registrations import (
    Attendee,
    Registration,
    RegistrationStatus,
    Upcoming,
)
from tests.contract.builders import (
    T0,
    Backend,
    given,
    make_event,
    make_organization,
    make_registration,
    make_user,
)

S = RegistrationStatus


async def an_event(backend: Backend, *, capacity: int | None = None) -> tuple[Organization, Event]:
    organization = make_organization()
    event = make_event(organization, capacity=capacity)
    await given(backend, organization, event)
    return organization, event


async def some_users(backend: Backend, count: int) -> list[User]:
    users = [make_user() for _ in range(count)]
    await given(backend, *users)
    return users


async def load(backend: Backend, registration: Registration) -> Registration | None:
    async with backend.uow() as uow:
        return await uow.registrations.get(registration.id)


async def save(backend: Backend, registration: Registration) -> None:
    async with backend.uow() as uow:
        await uow.registrations.save(registration)
        await uow.commit()


def ids(registrations: list[Registration]) -> list[UUID]:
    return [r.id for r in registrations]


# Round trip


async def test_registration_round_trips_every_field(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    registration = make_registration(
        event,
        user,
        status=S.CONFIRMED,
        seats=2,
        at=T0 + timedelta(microseconds=7),
        amount_due=Money(25_900, "EUR"),
        attendees=(
            Attendee("Zoë Ünïcödé", "zoe@example.org", "GMC-1234567"),
            Attendee("Bob", "bob@example.org"),
        ),
        hold_expires_at=T0 + timedelta(minutes=15, microseconds=3),
        offer_expires_at=T0 + timedelta(hours=48, microseconds=5),
        waitlisted_at=T0 - timedelta(days=1, microseconds=1),
        paid=25_900,
        refunded=1_000,
        refund_policy=RefundPolicy(
            (RefundTier(hours_before=336, percent=100), RefundTier(hours_before=36, percent=50)),
            fee=250,
        ),
    )
    await given(backend, registration)

    loaded = await load(backend, registration)

    assert loaded == registration
    assert loaded is not None
    assert loaded.status is S.CONFIRMED
    assert loaded.amount_due == Money(25_900, "EUR")
    assert loaded.attendees[1].registration_number is None
    assert loaded.refund_policy is not None
    assert loaded.refund_policy.tiers == (RefundTier(336, 100), RefundTier(36, 50))
    assert loaded.refund_policy.fee == 250


async def test_a_bare_registration_round_trips_its_empty_fields(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    registration = make_registration(event, user, status=S.PENDING_PAYMENT)
    await given(backend, registration)

    loaded = await load(backend, registration)

    assert loaded == registration
    assert loaded is not None
    assert loaded.attendees == ()
    assert loaded.refund_policy is None
    assert loaded.hold_expires_at is None


async def test_get_of_an_unknown_registration_is_none(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    assert await load(backend, make_registration(event, user)) is None


async def test_save_writes_every_changed_field(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    registration = make_registration(
        event,
        user,
        status=S.PENDING_PAYMENT,
        amount_due=Money(5_000, "GBP"),
        hold_expires_at=T0 + timedelta(minutes=15),
    )
    await given(backend, registration)

    registration.confirm_payment(
        Money(5_000, "GBP"),
        RefundPolicy((RefundTier(7, 100),)),
        now=T0 + timedelta(minutes=1, microseconds=9),
    )
    registration.record_refund(1_500, now=T0 + timedelta(minutes=2))
    await save(backend, registration)

    loaded = await load(backend, registration)
    assert loaded == registration
    assert loaded is not None
    assert (loaded.status, loaded.paid, loaded.refunded) == (S.CONFIRMED, 5_000, 1_500)
    assert loaded.hold_expires_at is None
    assert loaded.refund_policy == RefundPolicy((RefundTier(7, 100),))


async def test_deleting_the_event_deletes_its_registrations(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    registration = make_registration(event, user)
    await given(backend, registration)

    async with backend.uow() as uow:
        await uow.events.delete(event.id)
        await uow.commit()

    assert await load(backend, registration) is None


# One active registration per person per event


async def test_a_second_active_registration_of_one_event_is_a_conflict(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    first = make_registration(event, user, status=S.WAITLISTED)
    await given(backend, first)

    for status in (S.PENDING_PAYMENT, S.CONFIRMED, S.WAITLISTED, S.OFFERED):
        with pytest.raises(Conflict) as raised:
            await given(backend, make_registration(event, user, status=status))
        assert raised.value.field == "event_id"
        assert raised.value.detail == "You already have a registration for this event."

    async with backend.uow() as uow:
        active = await uow.registrations.active_for(event.id, user.id)
    assert active == first


async def test_after_cancelling_a_new_registration_is_allowed(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    first = make_registration(event, user, status=S.CONFIRMED)
    await given(backend, first)

    first.cancel(now=T0 + timedelta(hours=1), event_starts_at=event.starts_at, by_organizer=False)
    await save(backend, first)
    async with backend.uow() as uow:
        assert await uow.registrations.active_for(event.id, user.id) is None

    second = make_registration(event, user, status=S.PENDING_PAYMENT, at=T0 + timedelta(hours=2))
    await given(backend, second)
    expired = make_registration(event, user, status=S.EXPIRED)  # inactive ones never clash
    await given(backend, expired)

    async with backend.uow() as uow:
        assert await uow.registrations.active_for(event.id, user.id) == second


async def test_one_active_registration_is_per_event_and_per_person(backend: Backend) -> None:
    organization, event = await an_event(backend)
    other_event = make_event(organization)
    await given(backend, other_event)
    ada, bob = await some_users(backend, 2)

    await given(
        backend,
        make_registration(event, ada),
        make_registration(other_event, ada),
        make_registration(event, bob),
    )

    async with backend.uow() as uow:
        page = await uow.registrations.list_for_event(event.id, None, PageRequest())
    assert page.total == 2


async def test_reactivating_over_an_active_registration_is_a_conflict(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    old = make_registration(event, user, status=S.CANCELLED)
    current = make_registration(event, user, status=S.CONFIRMED)
    await given(backend, old, current)

    with pytest.raises(Conflict) as raised:
        await save(backend, replace(old, status=S.CONFIRMED))
    assert raised.value.field == "event_id"
    assert await load(backend, old) == old


async def test_active_for_is_none_without_an_active_registration(backend: Backend) -> None:
    _, event = await an_event(backend)
    ada, bob = await some_users(backend, 2)
    await given(backend, make_registration(event, ada, status=S.EXPIRED))

    async with backend.uow() as uow:
        assert await uow.registrations.active_for(event.id, ada.id) is None
        assert await uow.registrations.active_for(event.id, bob.id) is None


# Seats and the waitlist


async def test_seats_held_sums_only_the_statuses_that_hold_seats(backend: Backend) -> None:
    organization, event = await an_event(backend, capacity=50)
    other_event = make_event(organization)
    await given(backend, other_event)
    users = await some_users(backend, 7)

    async with backend.uow() as uow:
        assert await uow.registrations.seats_held(event.id) == 0

    await given(
        backend,
        make_registration(event, users[0], status=S.PENDING_PAYMENT, seats=2),
        make_registration(event, users[1], status=S.CONFIRMED, seats=3),
        make_registration(event, users[2], status=S.OFFERED, seats=5),
        make_registration(event, users[3], status=S.WAITLISTED, seats=7),
        make_registration(event, users[4], status=S.EXPIRED, seats=11),
        make_registration(event, users[5], status=S.CANCELLED, seats=13),
        make_registration(other_event, users[6], status=S.CONFIRMED, seats=17),
    )

    async with backend.uow() as uow:
        assert await uow.registrations.seats_held(event.id) == 2 + 3 + 5
        assert await uow.registrations.seats_held(other_event.id) == 17


async def test_waitlist_is_first_come_first_served(backend: Backend) -> None:
    organization, event = await an_event(backend, capacity=1)
    other_event = make_event(organization)
    await given(backend, other_event)
    users = await some_users(backend, 7)
    third = make_registration(event, users[0], status=S.WAITLISTED, at=T0 + timedelta(minutes=3))
    first = make_registration(event, users[1], status=S.WAITLISTED, at=T0 + timedelta(minutes=1))
    second = make_registration(
        event, users[2], status=S.WAITLISTED, seats=4, at=T0 + timedelta(minutes=2)
    )
    tied = [
        make_registration(event, user, status=S.WAITLISTED, at=T0 + timedelta(minutes=4))
        for user in users[3:5]
    ]
    offered = make_registration(
        event, users[5], status=S.OFFERED, waitlisted_at=T0, offer_expires_at=T0
    )
    elsewhere = make_registration(other_event, users[6], status=S.WAITLISTED, at=T0)
    await given(backend, third, *tied, offered, first, elsewhere, second)

    async with backend.uow() as uow:
        waitlist = await uow.registrations.waitlist(event.id)

    assert ids(waitlist) == [first.id, second.id, third.id, *sorted(ids(tied), key=str)]
    assert waitlist[1] == second


async def test_waitlist_positions_of_several_registrations_at_once(backend: Backend) -> None:
    """Places in each one's own event's line; ties share the place of the last of them."""
    organization, event = await an_event(backend, capacity=1)
    other_event = make_event(organization)
    await given(backend, other_event)
    users = await some_users(backend, 6)
    first = make_registration(event, users[0], status=S.WAITLISTED, at=T0 + timedelta(minutes=1))
    tied = [
        make_registration(event, user, status=S.WAITLISTED, at=T0 + timedelta(minutes=2))
        for user in users[1:3]
    ]
    offered = make_registration(
        event, users[3], status=S.OFFERED, waitlisted_at=T0, offer_expires_at=T0
    )
    confirmed = make_registration(event, users[4], status=S.CONFIRMED)
    elsewhere = make_registration(other_event, users[5], status=S.WAITLISTED, at=T0)
    await given(backend, *tied, first, offered, confirmed, elsewhere)

    async with backend.uow() as uow:
        asked = [first, *tied, elsewhere, confirmed]
        positions = await uow.registrations.waitlist_positions(asked)
        assert positions == {first.id: 1, tied[0].id: 3, tied[1].id: 3, elsewhere.id: 1}
        assert await uow.registrations.waitlist_positions([]) == {}
        assert await uow.registrations.waitlist_positions([confirmed]) == {}


async def test_waitlist_of_an_event_without_one_is_empty(backend: Backend) -> None:
    _, event = await an_event(backend)
    (user,) = await some_users(backend, 1)
    await given(backend, make_registration(event, user, status=S.CONFIRMED))

    async with backend.uow() as uow:
        assert await uow.registrations.waitlist(event.id) == []


# Check-in


async def test_by_check_in_code_finds_the_registration_of_that_event_only(
    backend: Backend,
) -> None:
    organization, event = await an_event(backend)
    other_event = make_event(organization)
    await given(backend, other_event)
    ada, bob = await some_users(backend, 2)
    mine = make_registration(event, ada)
    theirs = make_registration(other_event, bob)
    await given(backend, mine, theirs)

    async with backend.uow() as uow:
        assert await uow.registrations.by_check_in_code(event.id, mine.check_in_code) == mine
        assert await uow.registrations.by_check_in_code(event.id, theirs.check_in_code) is None
        assert await uow.registrations.by_check_in_code(event.id, "no-such-code") is None
        assert await uow.registrations.by_check_in_code(other_event.id, mine.check_in_code) is None


# Lists


async def test_list_for_user_is_newest_first_and_paginated(backend: Backend) -> None:
    organization = make_organization()
    events = [make_event(organization) for _ in range(5)]
    await given(backend, organization, *events)
    ada, bob = await some_users(backend, 2)
    mine = [
        make_registration(event, ada, at=T0 + timedelta(hours=n), status=status)
        for n, (event, status) in enumerate(
            zip(events, [S.CONFIRMED, S.CANCELLED, S.WAITLISTED, S.EXPIRED, S.OFFERED], strict=True)
        )
    ]
    await given(backend, *mine, make_registration(events[0], bob))

    async with backend.uow() as uow:
        first = await uow.registrations.list_for_user(ada.id, PageRequest(limit=2))
        last = await uow.registrations.list_for_user(ada.id, PageRequest(limit=2, offset=4))
        none = await uow.registrations.list_for_user(uuid_of_nobody(), PageRequest())

    newest_first = mine[::-1]
    assert first.items == newest_first[:2]
    assert (first.total, first.limit, first.offset) == (5, 2, 0)
    assert last.items == newest_first[4:]
    assert last.total == 5
    assert (none.items, none.total) == ([], 0)


def uuid_of_nobody() -> UUID:
    return UUID(int=0)


async def test_list_for_event_is_oldest_first_filtered_and_paginated(backend: Backend) -> None:
    organization, event = await an_event(backend)
    other_event = make_event(organization)
    await given(backend, other_event)
    users = await some_users(backend, 6)
    statuses = [S.CONFIRMED, S.WAITLISTED, S.CANCELLED, S.CONFIRMED, S.PENDING_PAYMENT]
    registrations = [
        make_registration(event, user, status=status, at=T0 + timedelta(minutes=n))
        for n, (user, status) in enumerate(zip(users, statuses, strict=False))
    ]
    await given(backend, *registrations[::-1], make_registration(other_event, users[5], at=T0))

    async with backend.uow() as uow:
        every = await uow.registrations.list_for_event(event.id, None, PageRequest())
        paged = await uow.registrations.list_for_event(
            event.id, None, PageRequest(limit=2, offset=1)
        )
        confirmed = await uow.registrations.list_for_event(
            event.id, frozenset({"confirmed"}), PageRequest()
        )
        holding = await uow.registrations.list_for_event(
            event.id, frozenset({"confirmed", "pending_payment"}), PageRequest(limit=2)
        )
        nothing = await uow.registrations.list_for_event(
            event.id, frozenset({"offered"}), PageRequest()
        )

    assert every.items == registrations
    assert every.total == 5
    assert paged.items == registrations[1:3]
    assert (paged.total, paged.limit, paged.offset) == (5, 2, 1)
    assert confirmed.items == [registrations[0], registrations[3]]
    assert confirmed.total == 2
    assert holding.items == [registrations[0], registrations[3]]
    assert holding.total == 3
    assert (nothing.items, nothing.total) == ([], 0)


# Housekeeping


async def test_expiring_finds_holds_and_offers_whose_time_ran_out(backend: Backend) -> None:
    organization, event = await an_event(backend, capacity=10)
    other_event = make_event(organization)
    await given(backend, other_event)
    users = await some_users(backend, 7)
    now = T0 + timedelta(hours=1)
    hold_ran_out = make_registration(
        event, users[0], status=S.PENDING_PAYMENT, hold_expires_at=now - timedelta(minutes=1)
    )
    hold_ends_now = make_registration(
        other_event, users[1], status=S.PENDING_PAYMENT, hold_expires_at=now
    )
    hold_running = make_registration(
        event, users[2], status=S.PENDING_PAYMENT, hold_expires_at=now + timedelta(microseconds=1)
    )
    offer_ran_out = make_registration(
        event, users[3], status=S.OFFERED, offer_expires_at=now - timedelta(hours=1)
    )
    offer_running = make_registration(
        event, users[4], status=S.OFFERED, offer_expires_at=now + timedelta(hours=1)
    )
    # Old deadlines on registrations that moved on are not due.
    confirmed = make_registration(
        event, users[5], status=S.CONFIRMED, hold_expires_at=now - timedelta(days=1)
    )
    expired = make_registration(
        event, users[6], status=S.EXPIRED, offer_expires_at=now - timedelta(days=1)
    )
    await given(
        backend,
        hold_ran_out,
        hold_ends_now,
        hold_running,
        offer_ran_out,
        offer_running,
        confirmed,
        expired,
    )

    async with backend.uow() as uow:
        due = await uow.registrations.expiring(now, limit=10)
        one = await uow.registrations.expiring(now, limit=1)
        before = await uow.registrations.expiring(now - timedelta(days=1), limit=10)

    expected = {
        (event.id, hold_ran_out.id),
        (other_event.id, hold_ends_now.id),
        (event.id, offer_ran_out.id),
    }
    assert set(due) == expected
    assert len(due) == 3
    assert len(one) == 1
    assert set(one) <= expected
    assert before == []


# The catalog's seat count


async def test_record_seats_taken_shows_in_the_catalog(backend: Backend) -> None:
    _, event = await an_event(backend, capacity=30)
    view = await backend.catalog.event(event.id)
    assert view is not None
    assert view.seats_available == 30

    async with backend.uow() as uow:
        await uow.events.record_seats_taken(event.id, 12)
        await uow.commit()

    view = await backend.catalog.event(event.id)
    assert view is not None
    assert view.seats_available == 18
    async with backend.uow() as uow:
        assert await uow.events.get(event.id) == event  # the event itself is untouched

    async with backend.uow() as uow:
        await uow.events.record_seats_taken(event.id, 30)
        await uow.commit()
    view = await backend.catalog.event(event.id)
    assert view is not None
    assert view.seats_available == 0


async def test_record_seats_taken_without_a_commit_changes_nothing(backend: Backend) -> None:
    _, event = await an_event(backend, capacity=5)

    async with backend.uow() as uow:
        await uow.events.record_seats_taken(event.id, 5)

    view = await backend.catalog.event(event.id)
    assert view is not None
    assert view.seats_available == 5


async def test_lock_seats_reads_the_seat_figures_of_the_row(backend: Backend) -> None:
    _, event = await an_event(backend, capacity=30)

    async with backend.uow() as uow:
        await uow.events.record_seats_taken(event.id, 12)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.events.lock_seats(event.id) == SeatLedger(event.status, 30, 12)
        assert await uow.events.lock_seats(uuid4()) is None


async def test_seats_taken_reads_the_stored_count_without_a_lock(backend: Backend) -> None:
    _, event = await an_event(backend, capacity=30)
    async with backend.uow() as uow:
        assert await uow.events.seats_taken(event.id) == 0
        await uow.events.record_seats_taken(event.id, 12)
        assert await uow.events.seats_taken(event.id) == 12  # its own transaction's change
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.events.seats_taken(event.id) == 12
        assert await uow.events.seats_taken(uuid4()) == 0


async def test_confirmed_for_finds_confirmed_registrations_by_person_or_id(
    backend: Backend,
) -> None:
    organization, event = await an_event(backend)
    other_event = make_event(organization)
    await given(backend, other_event)
    ann, ben, cat, dan = await some_users(backend, 4)
    anns = make_registration(event, ann)
    bens = make_registration(event, ben)
    cats_waiting = make_registration(event, cat, status=S.WAITLISTED)
    dans_elsewhere = make_registration(other_event, dan)
    await given(backend, anns, bens, cats_waiting, dans_elsewhere)

    async with backend.uow() as uow:
        found = await uow.registrations.confirmed_for(
            event.id, user_ids={ann.id, cat.id, dan.id}, ids={bens.id, dans_elsewhere.id}
        )
        nothing = await uow.registrations.confirmed_for(event.id, user_ids=set(), ids=set())

    assert sorted(r.id for r in found) == sorted([anns.id, bens.id])
    assert nothing == []


async def test_a_registration_is_found_by_its_payment_reference(backend: Backend) -> None:
    _, event = await an_event(backend)
    ann, ben = await some_users(backend, 2)
    paying = make_registration(event, ann, status=S.PENDING_PAYMENT)
    paying.attach_payment("pi_123", now=T0)
    await given(backend, paying, make_registration(event, ben))

    async with backend.uow() as uow:
        assert await uow.registrations.by_payment_reference("pi_123") == paying
        assert await uow.registrations.by_payment_reference("pi_other") is None


async def test_upcoming_lists_confirmed_registrations_of_published_events_starting_soon(
    backend: Backend,
) -> None:
    organization = make_organization()
    soon = make_event(organization, starts_at=T0 + timedelta(hours=5))
    later = make_event(organization, starts_at=T0 + timedelta(days=3))
    draft = make_event(organization, starts_at=T0 + timedelta(hours=2), status=EventStatus.DRAFT)
    await given(backend, organization, soon, later, draft)
    ann, ben, cat = await some_users(backend, 3)
    anns = make_registration(soon, ann, at=T0 - timedelta(days=1))
    await given(
        backend,
        anns,
        make_registration(soon, ben, status=S.WAITLISTED),
        make_registration(later, cat),
        make_registration(draft, cat),
    )

    async with backend.uow() as uow:
        found = await uow.registrations.upcoming(T0, T0 + timedelta(hours=24))
        none = await uow.registrations.upcoming(
            T0 + timedelta(hours=5, seconds=1), T0 + timedelta(days=1)
        )

    assert found == [Upcoming(anns.id, T0 - timedelta(days=1), T0 + timedelta(hours=5))]
    assert none == []
