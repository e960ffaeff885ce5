"""Attendance through AttendanceService on the memory adapters: recording (staff only,
all-or-nothing), corrections, summaries with attendee details, and what attendees see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from cpd.domain.accounts import Actor, User
from cpd.domain.attendance import AttendanceRecord, AttendanceSource
from cpd.domain.catalog import EventView, SessionView
from cpd.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cpd.domain.ids import new_id
from cpd.services.events.attendance import AttendanceEntry, WalkIn
from cpd.services.events.commands import EventFields
from tests.support.commands import new_event
from tests.unit.fakes import START, CatalogWorld, Tenants, actor_of, event_details, session_spec


@dataclass
class Day:
    """A published event of two sessions (60 and 120 minutes) and three people who came."""

    event: EventView
    ada: User
    bo: User
    cy: User

    @property
    def first(self) -> SessionView:
        return self.event.sessions[0]

    @property
    def second(self) -> SessionView:
        return self.event.sessions[1]


async def event_with(
    world: CatalogWorld, tenants: Tenants, *, publish: bool = True, threshold: int = 75
) -> EventView:
    """Its sessions are on the next two days from now (the world's clock moves)."""
    shift = world.clock.now() - START
    specs = [session_spec(day=1, minutes=60), session_spec(day=2, minutes=120)]
    view = await world.events.create(
        tenants.staff,
        new_event(
            tenants.org.id,
            event_details(attendance_threshold_percent=threshold),
            [
                {**x, "starts_at": x["starts_at"] + shift, "ends_at": x["ends_at"] + shift}
                for x in specs
            ],
        ),
    )
    return await world.events.publish(tenants.staff, view.id) if publish else view


@pytest.fixture
async def day(world: CatalogWorld, tenants: Tenants) -> Day:
    event = await event_with(world, tenants)
    ada = await world.user("ada@example.com", first_name="Ada", last_name="Lovelace")
    bo = await world.user("bo@example.com", first_name="Bo", last_name="Diddley")
    cy = await world.user("cy@example.com", first_name="Cy", last_name="Twombly")
    for person in (ada, bo, cy):
        await world.registered(person, event.id)
    world.clock.advance(days=3)  # both sessions are over: attendance may be recorded
    return Day(event, ada, bo, cy)


async def report(
    world: CatalogWorld, tenants: Tenants, event: EventView
) -> dict[str, tuple[int, int, int, bool]]:
    """email -> (sessions attended, minutes, percent, threshold met)."""
    found = (await world.attendance.summaries(tenants.staff, event.id)).attendees
    return {
        s.attendee.email: (
            s.summary.sessions_attended,
            s.summary.minutes_attended,
            s.summary.percent,
            s.summary.threshold_met,
        )
        for s in found
    }


# --- recording --------------------------------------------------------------------------------


async def test_staff_record_attendance_for_several_attendees(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    world.clock.advance(days=1, minutes=5)
    records = await world.attendance.record(
        tenants.staff,
        day.event.id,
        day.first.id,
        [AttendanceEntry(day.ada.id), AttendanceEntry(day.bo.id, minutes_attended=30)],
    )
    assert [(r.user_id, r.minutes_attended) for r in records] == [(day.ada.id, 60), (day.bo.id, 30)]
    assert all(r.session_id == day.first.id and r.event_id == day.event.id for r in records)
    assert all(r.source is AttendanceSource.STAFF for r in records)
    assert all(r.recorded_at == world.clock.now() for r in records)
    assert await report(world, tenants, day.event) == {
        "ada@example.com": (1, 60, 33, False),
        "bo@example.com": (1, 30, 16, False),
    }


@pytest.mark.parametrize("who", ["admin", "staff", "superadmin"])
async def test_every_kind_of_staff_may_record(
    world: CatalogWorld, tenants: Tenants, day: Day, who: str
) -> None:
    await world.attendance.record(
        getattr(tenants, who), day.event.id, day.second.id, [AttendanceEntry(day.ada.id)]
    )
    assert await report(world, tenants, day.event) == {"ada@example.com": (1, 120, 66, False)}


async def test_the_source_is_kept(world: CatalogWorld, tenants: Tenants, day: Day) -> None:
    (record,) = await world.attendance.record(
        tenants.staff,
        day.event.id,
        day.first.id,
        [AttendanceEntry(day.ada.id, minutes_attended=55)],
        source=AttendanceSource.ZOOM,
    )
    assert record.source is AttendanceSource.ZOOM


async def test_a_member_may_not_record(world: CatalogWorld, tenants: Tenants, day: Day) -> None:
    with pytest.raises(PermissionDenied):
        await world.attendance.record(
            tenants.member, day.event.id, day.first.id, [AttendanceEntry(tenants.member.user_id)]
        )
    assert await report(world, tenants, day.event) == {}


@pytest.mark.parametrize("who", ["outsider", "other_admin"])
async def test_others_do_not_learn_the_event_exists(
    world: CatalogWorld, tenants: Tenants, day: Day, who: str
) -> None:
    actor: Actor = getattr(tenants, who)
    with pytest.raises(NotFound):
        await world.attendance.record(
            actor, day.event.id, day.first.id, [AttendanceEntry(day.ada.id)]
        )
    with pytest.raises(NotFound):
        await world.attendance.summaries(actor, day.event.id)
    assert await report(world, tenants, day.event) == {}


async def test_attendance_needs_a_published_or_completed_event(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    draft = await event_with(world, tenants, publish=False)
    with pytest.raises(Conflict, match="draft"):
        await world.attendance.record(
            tenants.staff, draft.id, draft.sessions[0].id, [AttendanceEntry(day.ada.id)]
        )

    world.clock.advance(days=3)
    await world.events.complete(tenants.staff, day.event.id)
    await world.attendance.record(
        tenants.staff, day.event.id, day.first.id, [AttendanceEntry(day.ada.id)]
    )
    assert await report(world, tenants, day.event) == {"ada@example.com": (1, 60, 33, False)}


async def test_a_cancelled_event_takes_no_attendance(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    await world.events.cancel(tenants.staff, day.event.id)
    with pytest.raises(Conflict, match="cancelled"):
        await world.attendance.record(
            tenants.staff, day.event.id, day.first.id, [AttendanceEntry(day.ada.id)]
        )


async def test_the_session_must_belong_to_the_event(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    other = await event_with(world, tenants)
    for session_id in (other.sessions[0].id, new_id()):
        with pytest.raises(NotFound):
            await world.attendance.record(
                tenants.staff, day.event.id, session_id, [AttendanceEntry(day.ada.id)]
            )
    assert await report(world, tenants, day.event) == {}
    assert await report(world, tenants, other) == {}


async def test_an_unknown_event_is_not_found(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(NotFound):
        await world.attendance.record(
            tenants.superadmin, new_id(), new_id(), [AttendanceEntry(tenants.member.user_id)]
        )
    with pytest.raises(NotFound):
        await world.attendance.summaries(tenants.superadmin, new_id())
    with pytest.raises(NotFound):
        await world.attendance.my_summary(tenants.member, new_id())


async def test_at_least_one_attendee_is_needed(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await world.attendance.record(tenants.staff, day.event.id, day.first.id, [])
    assert caught.value.field == "attendees"


async def test_anyone_not_registered_refuses_the_whole_batch_alike(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    """An account without a confirmed registration is refused as an id nobody has."""
    elsewhere = await event_with(world, tenants)
    stranger = await world.user("stranger@example.com")
    await world.registered(stranger, elsewhere.id)
    refusals = []
    for person in (new_id(), stranger.id, tenants.other_admin.user_id):
        entries = [AttendanceEntry(day.ada.id), AttendanceEntry(person), AttendanceEntry(day.bo.id)]
        with pytest.raises(InvalidInput) as caught:
            await world.attendance.record(tenants.staff, day.event.id, day.first.id, entries)
        refusals.append((caught.value.field, caught.value.detail))
    assert refusals == [("attendees[1].user_id", "Not a confirmed registration of this event.")] * 3
    assert await report(world, tenants, day.event) == {}


async def test_records_without_a_registration_show_no_account(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    """Attendance recorded before the rule (any user id, no registration) reveals nobody."""
    stranger = await world.user("stranger@example.com", first_name="Real", last_name="Person")
    async with world.db.unit_of_work() as uow:
        event = await uow.events.get(day.event.id)
        assert event is not None
        legacy = AttendanceRecord.record(
            event.session(day.first.id),
            stranger.id,
            source=AttendanceSource.STAFF,
            now=world.clock.now(),
        )
        await uow.attendance.record([legacy])
        await uow.commit()
    entries = [AttendanceEntry(day.ada.id)]
    await world.attendance.record(tenants.staff, day.event.id, day.first.id, entries)
    assert set(await report(world, tenants, day.event)) == {"ada@example.com"}


async def test_walk_ins_are_kept_as_typed_and_never_matched_to_accounts(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    typed = WalkIn("STRANGER@example.com ", "Typed", "Name")
    await world.user("stranger@example.com", first_name="Real", last_name="Person")
    await world.attendance.record(
        tenants.staff,
        day.event.id,
        day.first.id,
        [AttendanceEntry(walk_in=typed, minutes_attended=30), AttendanceEntry(day.ada.id)],
    )
    found = await world.attendance.summaries(tenants.staff, day.event.id)
    assert [s.attendee.email for s in found.attendees] == ["ada@example.com"]
    (walk_in,) = found.walk_ins
    assert (walk_in.email, walk_in.first_name, walk_in.last_name) == (
        "stranger@example.com",
        "Typed",
        "Name",
    )
    assert (walk_in.minutes_attended, walk_in.percent, walk_in.threshold_met) == (30, 16, False)
    with pytest.raises(InvalidInput) as caught:
        await world.attendance.record(
            tenants.staff,
            day.event.id,
            day.first.id,
            [AttendanceEntry(day.ada.id), AttendanceEntry(walk_in=WalkIn("nope"))],
        )
    assert caught.value.field == "attendees[1].walk_in.email"


async def test_bad_minutes_refuse_the_whole_batch(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    entries = [AttendanceEntry(day.ada.id), AttendanceEntry(day.bo.id, minutes_attended=61)]
    with pytest.raises(InvalidInput):
        await world.attendance.record(tenants.staff, day.event.id, day.first.id, entries)
    assert await report(world, tenants, day.event) == {}


async def test_bad_minutes_name_the_entry(world: CatalogWorld, tenants: Tenants, day: Day) -> None:
    entries = [AttendanceEntry(day.ada.id), AttendanceEntry(day.bo.id, minutes_attended=61)]
    with pytest.raises(InvalidInput) as caught:
        await world.attendance.record(tenants.staff, day.event.id, day.first.id, entries)
    assert caught.value.field == "attendees[1].minutes_attended"


async def test_a_correction_replaces_the_earlier_record(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    record = world.attendance.record
    await record(tenants.staff, day.event.id, day.first.id, [AttendanceEntry(day.ada.id)])
    await record(
        tenants.staff,
        day.event.id,
        day.first.id,
        [AttendanceEntry(day.ada.id, minutes_attended=20)],
    )
    assert await report(world, tenants, day.event) == {"ada@example.com": (1, 20, 11, False)}
    async with world.db.unit_of_work() as uow:
        assert len(await uow.attendance.for_event(day.event.id)) == 1


# --- summaries --------------------------------------------------------------------------------


async def test_summaries_add_up_sessions_and_carry_who_attended(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    record = world.attendance.record
    await record(
        tenants.staff,
        day.event.id,
        day.first.id,
        [AttendanceEntry(day.ada.id), AttendanceEntry(day.bo.id)],
    )
    await record(
        tenants.staff,
        day.event.id,
        day.second.id,
        [
            AttendanceEntry(day.ada.id, minutes_attended=75),
            AttendanceEntry(day.bo.id, minutes_attended=74),
        ],
    )
    found = await world.attendance.summaries(tenants.admin, day.event.id)
    by_email = {s.attendee.email: s for s in found.attendees}
    assert set(by_email) == {"ada@example.com", "bo@example.com"}
    ada = by_email["ada@example.com"]
    assert (ada.attendee.first_name, ada.attendee.last_name) == ("Ada", "Lovelace")
    assert ada.summary.user_id == day.ada.id
    assert (ada.summary.sessions_attended, ada.summary.minutes_attended) == (2, 135)
    assert (ada.summary.scheduled_minutes, ada.summary.percent) == (180, 75)
    assert (ada.summary.threshold_percent, ada.summary.threshold_met) == (75, True)
    bo = by_email["bo@example.com"].summary
    assert (bo.minutes_attended, bo.percent, bo.threshold_met) == (134, 74, False)


async def test_a_member_may_not_read_the_report(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    with pytest.raises(PermissionDenied):
        await world.attendance.summaries(tenants.member, day.event.id)


async def test_attendance_of_a_removed_session_stops_counting(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    record = world.attendance.record
    await record(tenants.staff, day.event.id, day.first.id, [AttendanceEntry(day.ada.id)])
    await record(tenants.staff, day.event.id, day.second.id, [AttendanceEntry(day.ada.id)])
    await record(tenants.staff, day.event.id, day.second.id, [AttendanceEntry(day.bo.id)])
    await world.events.remove_session(tenants.staff, day.event.id, day.second.id)
    assert await report(world, tenants, day.event) == {"ada@example.com": (1, 60, 100, True)}


async def test_a_lowered_threshold_applies_to_recorded_attendance(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    await world.attendance.record(
        tenants.staff, day.event.id, day.second.id, [AttendanceEntry(day.ada.id)]
    )
    assert (await report(world, tenants, day.event))["ada@example.com"][3] is False
    await world.events.update(
        tenants.staff, day.event.id, EventFields(attendance_threshold_percent=60)
    )
    assert (await report(world, tenants, day.event))["ada@example.com"][3] is True


# --- what an attendee sees --------------------------------------------------------------------


async def test_my_summary_shows_my_own_attendance(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    await world.attendance.record(
        tenants.staff,
        day.event.id,
        day.first.id,
        [AttendanceEntry(day.ada.id), AttendanceEntry(day.bo.id, minutes_attended=10)],
    )
    mine = await world.attendance.my_summary(actor_of(day.ada), day.event.id)
    assert (mine.user_id, mine.sessions_attended, mine.minutes_attended) == (day.ada.id, 1, 60)
    assert (mine.scheduled_minutes, mine.percent, mine.threshold_met) == (180, 33, False)


async def test_my_summary_without_records_is_all_zeros(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    mine = await world.attendance.my_summary(actor_of(day.cy), day.event.id)
    assert mine.user_id == day.cy.id
    assert (mine.sessions_attended, mine.minutes_attended, mine.percent) == (0, 0, 0)
    assert (mine.scheduled_minutes, mine.threshold_percent, mine.threshold_met) == (180, 75, False)


async def test_my_summary_of_a_draft_is_hidden_from_outsiders(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    draft = await event_with(world, tenants, publish=False)
    for who in (actor_of(day.ada), tenants.member, tenants.other_admin):
        with pytest.raises(NotFound):
            await world.attendance.my_summary(who, draft.id)
    staff_view = await world.attendance.my_summary(tenants.staff, draft.id)
    assert (staff_view.minutes_attended, staff_view.scheduled_minutes) == (0, 180)


async def test_my_summary_of_a_completed_event_is_still_readable(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    await world.attendance.record(
        tenants.staff, day.event.id, day.second.id, [AttendanceEntry(day.ada.id)]
    )
    world.clock.advance(days=3)
    await world.events.complete(tenants.staff, day.event.id)
    world.clock.advance(days=30)
    mine = await world.attendance.my_summary(actor_of(day.ada), day.event.id)
    assert (mine.minutes_attended, mine.percent) == (120, 66)


async def test_check_in_time_defaults_to_now_while_the_session_runs(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    event = await event_with(world, tenants)
    for person in (day.ada, day.bo, day.cy):
        await world.registered(person, event.id)
    first = event.sessions[0]
    world.clock.advance(seconds=(first.starts_at - world.clock.now()).total_seconds() + 120)
    arrived = world.clock.now() - timedelta(minutes=1)
    entries = [
        AttendanceEntry(day.ada.id),
        AttendanceEntry(day.bo.id, checked_in_at=arrived),
        AttendanceEntry(day.cy.id, minutes_attended=0),
    ]
    records = await world.attendance.record(tenants.staff, event.id, first.id, entries)
    assert [r.checked_in_at for r in records] == [world.clock.now(), arrived, None]


async def test_attendance_recorded_after_the_session_has_no_made_up_check_in_time(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    arrived = day.first.starts_at + timedelta(minutes=3)
    entries = [AttendanceEntry(day.ada.id), AttendanceEntry(day.bo.id, checked_in_at=arrived)]
    records = await world.attendance.record(tenants.staff, day.event.id, day.first.id, entries)
    assert [r.checked_in_at for r in records] == [None, arrived]


async def test_attendance_for_a_session_that_has_not_started_is_refused(
    world: CatalogWorld, tenants: Tenants, day: Day
) -> None:
    event = await event_with(world, tenants)
    await world.registered(day.ada, event.id)
    first = event.sessions[0]
    world.clock.advance(seconds=(first.starts_at - world.clock.now()).total_seconds() - 3601)
    with pytest.raises(Conflict, match="not started") as caught:
        await world.attendance.record(
            tenants.staff, event.id, first.id, [AttendanceEntry(day.ada.id)]
        )
    assert caught.value.field == "session_id"
    walk_in = AttendanceEntry(walk_in=WalkIn("early@example.com"))
    with pytest.raises(Conflict, match="not started"):
        await world.attendance.record(tenants.staff, event.id, first.id, [walk_in])
    assert await report(world, tenants, event) == {}
    world.clock.advance(seconds=2)  # check-in opens an hour before the session
    too_early = first.starts_at - timedelta(hours=1, seconds=1)
    future = world.clock.now() + timedelta(seconds=1)
    for when in (too_early, future):
        with pytest.raises(InvalidInput) as refused:
            await world.attendance.record(
                tenants.staff, event.id, first.id, [AttendanceEntry(day.ada.id, checked_in_at=when)]
            )
        assert refused.value.field == "attendees[0].checked_in_at"
    records = await world.attendance.record(
        tenants.staff, event.id, first.id, [AttendanceEntry(day.ada.id)]
    )
    assert records[0].checked_in_at == world.clock.now()
