"""Events, sessions and attendance: one contract for every adapter."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from cpd.domain.accounts import Organization, User
from cpd.domain.attendance import AttendanceSource, WalkInRecord
from cpd.domain.errors import Conflict
from cpd.domain.events import Event, EventFormat, EventStatus, Venue
from cpd.domain.money import Money
from cpd.domain.refunds import RefundPolicy, RefundTier
from tests.contract.builders import (
    T0,
    Backend,
    given,
    make_attendance,
    make_event,
    make_organization,
    make_registration,
    make_session,
    make_user,
)

VENUE = Venue("Royal College — Hall 2", "1 Example Street\nLondon WC1")


def full_event(organization: Organization) -> Event:
    """Every optional field set, and values that a careless mapping would change."""
    event = make_event(
        organization,
        title="Cardiology Update: ünïcödé ✓",
        summary="What changed in 2026",
        description="Línea dos\nsecond line",
        event_format=EventFormat.HYBRID,
        venue=VENUE,
        sessions=3,
        capacity=120,
        price=Money(12_950, "EUR"),
        cpd_credits=Decimal("1.50"),
        credit_category="Clinical",
        tags=("cardiology", "acute-care", "über"),
        timezone="America/New_York",
        registration_opens_at=T0 - timedelta(days=3, microseconds=1),
        registration_closes_at=T0 + timedelta(days=29),
        attendance_threshold_percent=80,
    )
    event.sessions[0].room = "Lecture theatre"
    event.sessions[1].join_url = "https://meet.example.org/j/123?pwd=x&y=1"
    return event


async def load(backend: Backend, event: Event) -> Event | None:
    async with backend.uow() as uow:
        return await uow.events.get(event.id)


# Events


async def test_event_round_trips_every_field_with_its_sessions(backend: Backend) -> None:
    organization = make_organization()
    event = full_event(organization)
    await given(backend, organization, event)

    loaded = await load(backend, event)

    assert loaded == event
    assert loaded is not None
    assert str(loaded.cpd_credits) == "1.5"  # canonical, not the column's "1.50"
    assert loaded.tags == ("cardiology", "acute-care", "über")
    assert loaded.format is EventFormat.HYBRID
    assert loaded.status is EventStatus.PUBLISHED
    assert [s.starts_at for s in loaded.sessions] == sorted(s.starts_at for s in event.sessions)
    for moment in (loaded.starts_at, loaded.registration_opens_at, loaded.sessions[0].ends_at):
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)


async def test_undated_online_draft_round_trips_with_nones(backend: Backend) -> None:
    organization = make_organization()
    event = make_event(
        organization, starts_at=None, status=EventStatus.DRAFT, cpd_credits=Decimal("0")
    )
    await given(backend, organization, event)

    loaded = await load(backend, event)

    assert loaded == event
    assert loaded is not None
    assert loaded.venue is None
    assert loaded.sessions == []
    assert (loaded.starts_at, loaded.ends_at, loaded.capacity) == (None, None, None)
    assert loaded.tags == ()
    assert str(loaded.cpd_credits) == "0"


async def test_sessions_come_back_in_start_order(backend: Backend) -> None:
    organization = make_organization()
    event = make_event(organization, sessions=0)
    later = make_session(event.id, T0 + timedelta(days=9))
    earlier = make_session(event.id, T0 + timedelta(days=2))
    event.sessions = [later, earlier]
    await given(backend, organization, event)

    loaded = await load(backend, event)

    assert loaded is not None
    assert [s.id for s in loaded.sessions] == [earlier.id, later.id]


async def test_unknown_event_is_none(backend: Backend) -> None:
    async with backend.uow() as uow:
        assert await uow.events.get(uuid4()) is None
        assert await uow.events.get_for_update(uuid4()) is None


async def test_get_for_update_loads_the_whole_event(backend: Backend) -> None:
    organization = make_organization()
    event = full_event(organization)
    await given(backend, organization, event)

    async with backend.uow() as uow:
        locked = await uow.events.get_for_update(event.id)
        assert locked == event
        assert locked is not None
        locked.update({"capacity": 200}, now=T0 + timedelta(hours=1))
        await uow.events.save(locked)
        await uow.commit()

    loaded = await load(backend, event)
    assert loaded is not None
    assert loaded.capacity == 200


async def test_get_for_update_makes_a_second_writer_wait(backend: Backend) -> None:
    """Two read-modify-writes of one event: the second loads only after the first commits."""
    organization = make_organization()
    event = make_event(organization, capacity=10)
    await given(backend, organization, event)
    locked, release = asyncio.Event(), asyncio.Event()

    async def add_a_seat(*, hold: bool) -> None:
        async with backend.uow() as uow:
            loaded = await uow.events.get_for_update(event.id)
            assert loaded is not None
            assert loaded.capacity is not None
            if hold:
                locked.set()
                await release.wait()
            loaded.update({"capacity": loaded.capacity + 1}, now=T0)
            await uow.events.save(loaded)
            await uow.commit()

    first = asyncio.create_task(add_a_seat(hold=True))
    await locked.wait()
    second = asyncio.create_task(add_a_seat(hold=False))
    await asyncio.sleep(0.3)
    assert not second.done()  # waiting for the first's lock
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), timeout=10)

    loaded = await load(backend, event)
    assert loaded is not None
    assert loaded.capacity == 12  # neither increment was lost


async def test_save_writes_fields_and_makes_sessions_match(backend: Backend) -> None:
    organization, user = make_organization(), make_user()
    event = make_event(organization, sessions=3, status=EventStatus.DRAFT)
    kept, changed, removed = event.sessions
    await given(backend, organization, user, event)
    async with backend.uow() as uow:
        await uow.attendance.record([make_attendance(s, user) for s in (kept, changed, removed)])
        await uow.commit()
    later = T0 + timedelta(hours=2)

    async with backend.uow() as uow:
        loaded = await uow.events.get(event.id)
        assert loaded is not None
        loaded.update(
            {
                "title": "Renamed",
                "format": "in_person",
                "venue": {"name": "Hall", "address": "Street"},
                "tags": ["New", "tags"],
                "price": {"amount": 500, "currency": "GBP"},
                "cpd_credits": "2.25",
                "capacity": None,
            },
            now=later,
        )
        loaded.remove_session(removed.id, now=later)
        loaded.update_session(
            changed.id,
            {
                "title": "Moved",
                "room": "B12",
                "starts_at": changed.starts_at + timedelta(hours=1),
                "ends_at": changed.ends_at + timedelta(hours=2),
            },
            now=later,
        )
        added = loaded.add_session(
            {
                "title": "Extra",
                "starts_at": T0 + timedelta(days=60),
                "ends_at": T0 + timedelta(days=60, hours=1),
                "join_url": "https://x.example",
            },
            now=later,
        )
        await uow.events.save(loaded)
        await uow.commit()

    again = await load(backend, event)
    assert again == loaded
    assert again is not None
    assert [s.id for s in again.sessions] == [kept.id, changed.id, added.id]
    assert again.sessions[1].title == "Moved"
    assert again.sessions[1].room == "B12"
    assert again.venue == Venue("Hall", "Street")
    assert again.tags == ("new", "tags")
    assert again.updated_at == later
    assert again.created_at == T0
    assert again.ends_at == added.ends_at
    async with backend.uow() as uow:  # attendance of the removed session went with it
        remaining = await uow.attendance.for_event(event.id)
    assert {r.session_id for r in remaining} == {kept.id, changed.id}


async def test_a_callers_changes_to_an_event_are_invisible_until_saved(backend: Backend) -> None:
    organization = make_organization()
    event = make_event(organization, title="Original")
    async with backend.uow() as uow:
        await uow.organizations.add(organization)
        await uow.events.add(event)
        event.title = "Changed after add"
        event.sessions.clear()
        await uow.commit()

    loaded = await load(backend, event)
    assert loaded is not None
    assert loaded.title == "Original"
    assert len(loaded.sessions) == 1


async def test_duplicate_event_slug_in_one_organization_is_a_conflict(backend: Backend) -> None:
    first, second = make_organization(), make_organization()
    await given(backend, first, second, make_event(first, slug="als"))

    with pytest.raises(Conflict) as raised:
        await given(backend, make_event(first, slug="als"))
    assert raised.value.field == "slug"

    await given(backend, make_event(second, slug="als"))  # another organization may use it
    async with backend.uow() as uow:
        assert await uow.events.slug_exists(first.id, "als")
        assert await uow.events.slug_exists(second.id, "als")
        assert not await uow.events.slug_exists(first.id, "other")
        assert not await uow.events.slug_exists(uuid4(), "als")


async def test_saving_an_event_onto_a_taken_slug_is_a_conflict(backend: Backend) -> None:
    organization = make_organization()
    taken, renamed = make_event(organization, slug="taken"), make_event(organization)
    await given(backend, organization, taken, renamed)

    async def rename() -> None:
        async with backend.uow() as uow:
            loaded = await uow.events.get(renamed.id)
            assert loaded is not None
            loaded.update({"slug": "taken"}, now=T0)
            await uow.events.save(loaded)
            await uow.commit()

    with pytest.raises(Conflict) as raised:
        await rename()
    assert raised.value.field == "slug"
    assert await load(backend, renamed) == renamed


async def test_delete_removes_the_event_its_sessions_and_attendance(backend: Backend) -> None:
    organization, user = make_organization(), make_user()
    doomed, other = make_event(organization, sessions=2), make_event(organization)
    await given(backend, organization, user, doomed, other)
    async with backend.uow() as uow:
        await uow.attendance.record(
            [make_attendance(s, user) for s in [*doomed.sessions, *other.sessions]]
        )
        await uow.commit()

    async with backend.uow() as uow:
        await uow.events.delete(doomed.id)
        await uow.events.delete(uuid4())  # unknown: nothing happens
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.events.get(doomed.id) is None
        assert not await uow.events.slug_exists(organization.id, doomed.slug)
        assert await uow.attendance.count_for_event(doomed.id) == 0
        assert await uow.attendance.count_for_event(other.id) == 1
        assert await uow.events.get(other.id) == other


async def test_uncommitted_event_changes_roll_back(backend: Backend) -> None:
    organization = make_organization()
    event = make_event(organization)
    await given(backend, organization, event)

    async with backend.uow() as uow:
        await uow.events.delete(event.id)
        await uow.events.add(make_event(organization))

    assert await load(backend, event) == event


# Attendance


async def attendance_setup(backend: Backend) -> tuple[Event, User, User]:
    organization, alice, bob = make_organization(), make_user(), make_user()
    event = make_event(organization, sessions=2)
    await given(backend, organization, alice, bob, event)
    return event, alice, bob


async def test_attendance_records_round_trip(backend: Backend) -> None:
    event, alice, _ = await attendance_setup(backend)
    first, second = event.sessions
    registration = make_registration(event, alice)
    await given(backend, registration)
    checked_in = make_attendance(
        first,
        alice,
        minutes=45,
        source=AttendanceSource.SELF_CHECK_IN,
        at=T0 + timedelta(microseconds=11),
        checked_in_at=T0 - timedelta(minutes=5),
        registration_id=registration.id,
    )
    absent = make_attendance(second, alice, minutes=0, source=AttendanceSource.ZOOM)
    async with backend.uow() as uow:
        await uow.attendance.record([checked_in, absent])
        await uow.commit()

    async with backend.uow() as uow:
        records = await uow.attendance.for_event(event.id)
        assert await uow.attendance.count_for_event(event.id) == 2
        assert await uow.attendance.for_event(uuid4()) == []
        assert await uow.attendance.count_for_event(uuid4()) == 0

    assert sorted(records, key=lambda r: r.session_id) == sorted(
        [checked_in, absent], key=lambda r: r.session_id
    )
    assert {r.source for r in records} == {AttendanceSource.SELF_CHECK_IN, AttendanceSource.ZOOM}


async def test_recording_again_replaces_the_session_attendee_record(backend: Backend) -> None:
    event, alice, bob = await attendance_setup(backend)
    first, second = event.sessions
    original = [make_attendance(first, alice), make_attendance(first, bob)]
    async with backend.uow() as uow:
        await uow.attendance.record(original)
        await uow.commit()

    correction = make_attendance(
        first, alice, minutes=10, source=AttendanceSource.ZOOM, at=T0 + timedelta(hours=1)
    )
    in_one_call = [make_attendance(second, alice, minutes=5), make_attendance(second, alice)]
    async with backend.uow() as uow:
        await uow.attendance.record([correction, *in_one_call])
        await uow.attendance.record([])
        await uow.commit()

    async with backend.uow() as uow:
        everyone = await uow.attendance.for_event(event.id)
        alices = await uow.attendance.for_event(event.id, alice.id)
        bobs = await uow.attendance.for_event(event.id, bob.id)
        assert await uow.attendance.count_for_event(event.id) == 3
        assert await uow.attendance.for_event(event.id, uuid4()) == []

    assert sorted(alices, key=lambda r: r.session_id) == sorted(
        [correction, in_one_call[-1]], key=lambda r: r.session_id
    )
    assert bobs == [original[1]]
    # A stable order: by attendee, then session.
    assert [(r.user_id, r.session_id) for r in everyone] == sorted(
        (r.user_id, r.session_id) for r in everyone
    )


async def test_attendance_of_a_rolled_back_unit_of_work_is_not_kept(backend: Backend) -> None:
    event, alice, _ = await attendance_setup(backend)
    async with backend.uow() as uow:
        await uow.attendance.record([make_attendance(event.sessions[0], alice)])

    async with backend.uow() as uow:
        assert await uow.attendance.count_for_event(event.id) == 0


async def test_walk_ins_round_trip_replace_per_email_and_go_with_their_session(
    backend: Backend,
) -> None:
    event, alice, _ = await attendance_setup(backend)
    first, second = event.sessions
    after = second.ends_at  # attendance is recorded once a session has begun
    first_visit = WalkInRecord.record(
        first, email="wal@example.org", first_name="Wal", last_name="K", now=after
    )
    correction = WalkInRecord.record(
        first,
        email="wal@example.org",
        first_name="Wally",
        last_name="K",
        now=after + timedelta(microseconds=7),
        minutes_attended=5,
    )
    other = WalkInRecord.record(
        second,
        email="ann@example.org",
        first_name="Ann",
        last_name="",
        now=after,
        minutes_attended=0,
    )
    async with backend.uow() as uow:
        await uow.attendance.record_walk_ins([first_visit, other])
        await uow.attendance.record([make_attendance(first, alice)])
        await uow.commit()
    async with backend.uow() as uow:
        await uow.attendance.record_walk_ins([correction])
        await uow.attendance.record_walk_ins([])
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.attendance.walk_ins_for_event(event.id) == [other, correction]
        assert await uow.attendance.count_for_event(event.id) == 3
        assert await uow.attendance.walk_ins_for_event(uuid4()) == []
        loaded = await uow.events.get(event.id)
        assert loaded is not None
        loaded.remove_session(second.id, now=T0 + timedelta(hours=1))
        await uow.events.save(loaded)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.attendance.walk_ins_for_event(event.id) == [correction]


# Users, in bulk


async def test_get_many_users_in_the_order_asked_each_once(backend: Backend) -> None:
    ada, grace, alan = make_user(), make_user(), make_user()
    await given(backend, ada, grace, alan)

    async with backend.uow() as uow:
        found = await uow.users.get_many([alan.id, uuid4(), ada.id, alan.id])
        none = await uow.users.get_many([])
        unknown = await uow.users.get_many([uuid4()])

    assert found == [alan, ada]
    assert none == []
    assert unknown == []


def test_builders_make_valid_events() -> None:
    """The builders respect the domain's own rules (so the contract is about real events)."""
    event = make_event(make_organization(), sessions=3)
    published = replace(event, status=EventStatus.DRAFT, sessions=list(event.sessions))
    published.publish(now=T0)
    assert published.status is EventStatus.PUBLISHED


async def test_attendance_refers_to_a_stored_registration(backend: Backend) -> None:
    event, alice, _ = await attendance_setup(backend)
    stray = make_attendance(event.sessions[0], alice, registration_id=uuid4())

    async def record() -> None:
        async with backend.uow() as uow:
            await uow.attendance.record([stray])
            await uow.commit()

    with pytest.raises(Conflict):
        await record()

    async with backend.uow() as uow:
        assert await uow.attendance.for_event(event.id) == []


async def test_an_events_refund_policy_override_round_trips_and_clears(backend: Backend) -> None:
    organization = make_organization()
    event = make_event(organization)
    event.refund_policy = RefundPolicy((RefundTier(72, 80), RefundTier(0, 10)), fee=150)
    await given(backend, organization, event)
    loaded = await load(backend, event)
    assert loaded is not None
    assert loaded.refund_policy == event.refund_policy

    loaded.update({"refund_policy": None}, now=T0 + timedelta(hours=1))
    async with backend.uow() as uow:
        await uow.events.save(loaded)
        await uow.commit()
    cleared = await load(backend, event)
    assert cleared is not None
    assert cleared.refund_policy is None
