"""Attendance records, the percent rule and the per-attendee summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.attendance import (
    EARLY_CHECK_IN,
    AttendanceRecord,
    AttendanceSource,
    WalkInRecord,
    attendance_percent,
    summarise,
)
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.events import Event, Session
from cpd.domain.ids import new_id
from tests.unit.fakes import START, event_details

NOW = START + timedelta(days=30)


def event_of(*lengths: int, threshold: int = 75) -> Event:
    """An event whose sessions last ``lengths`` minutes, one per day."""
    specs = []
    for day, minutes in enumerate(lengths, start=1):
        starts = START + timedelta(days=day)
        specs.append(
            {
                "title": f"S{day}",
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=minutes),
            }
        )
    return Event.create(
        organization_id=new_id(),
        slug="event",
        now=START,
        details=event_details(attendance_threshold_percent=threshold),
        sessions=specs,
    )


def raw(session: Session, user_id: UUID, minutes: int) -> AttendanceRecord:
    """A stored record as it may come back from the database, without the entry checks."""
    return AttendanceRecord(
        id=new_id(),
        event_id=session.event_id,
        session_id=session.id,
        user_id=user_id,
        minutes_attended=minutes,
        source=AttendanceSource.ZOOM,
        recorded_at=NOW,
    )


# --- recording --------------------------------------------------------------------------------


def test_a_record_defaults_to_the_whole_session_checked_in_now() -> None:
    session = event_of(90).sessions[0]
    user = new_id()
    during = session.starts_at + timedelta(minutes=10)
    record = AttendanceRecord.record(session, user, source=AttendanceSource.STAFF, now=during)
    assert (record.event_id, record.session_id, record.user_id) == (
        session.event_id,
        session.id,
        user,
    )
    assert record.minutes_attended == 90
    assert record.source is AttendanceSource.STAFF
    assert (record.recorded_at, record.checked_in_at) == (during, during)
    assert record.registration_id is None


def test_a_record_made_after_the_session_has_no_check_in_time_unless_given() -> None:
    session = event_of(90).sessions[0]
    record = AttendanceRecord.record(session, new_id(), source=AttendanceSource.STAFF, now=NOW)
    assert (record.recorded_at, record.checked_in_at) == (NOW, None)


def test_nothing_is_recorded_before_check_in_opens() -> None:
    session = event_of(90).sessions[0]
    for now in (session.starts_at - EARLY_CHECK_IN - timedelta(seconds=1), START):
        with pytest.raises(Conflict, match="not started") as caught:
            AttendanceRecord.record(session, new_id(), source=AttendanceSource.STAFF, now=now)
        assert caught.value.field == "session_id"
        with pytest.raises(Conflict, match="not started"):
            WalkInRecord.record(
                session, email="a@example.org", first_name="", last_name="", now=now
            )
    opens = session.starts_at - EARLY_CHECK_IN
    early = AttendanceRecord.record(session, new_id(), source=AttendanceSource.STAFF, now=opens)
    assert early.checked_in_at == opens


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(hours=-1, seconds=-1), "opens"),  # before check-in opens
        (timedelta(minutes=90), "before the session ends"),  # at its end
        (timedelta(minutes=31), "future"),  # after now
    ],
)
def test_a_check_in_time_lies_between_check_in_opening_and_now(
    offset: timedelta, reason: str
) -> None:
    session = event_of(90).sessions[0]
    now = session.starts_at + timedelta(minutes=30)
    with pytest.raises(InvalidInput, match=reason) as caught:
        AttendanceRecord.record(
            session,
            new_id(),
            source=AttendanceSource.STAFF,
            now=now if reason == "future" else NOW,
            checked_in_at=session.starts_at + offset,
        )
    assert caught.value.field == "checked_in_at"


@given(
    now_offset=st.integers(min_value=-3 * 3600, max_value=3 * 86400),
    checked_offset=st.none() | st.integers(min_value=-3 * 3600, max_value=3 * 86400),
    minutes=st.none() | st.integers(min_value=0, max_value=90),
)
def test_a_recorded_check_in_is_never_in_the_future_nor_before_check_in_opens(
    now_offset: int, checked_offset: int | None, minutes: int | None
) -> None:
    session = event_of(90).sessions[0]
    now = session.starts_at + timedelta(seconds=now_offset)
    checked = (
        None if checked_offset is None else session.starts_at + timedelta(seconds=checked_offset)
    )
    try:
        record = AttendanceRecord.record(
            session,
            new_id(),
            source=AttendanceSource.STAFF,
            now=now,
            minutes_attended=minutes,
            checked_in_at=checked,
        )
    except (Conflict, InvalidInput):
        return
    assert now >= session.starts_at - EARLY_CHECK_IN
    if record.checked_in_at is not None:
        assert session.starts_at - EARLY_CHECK_IN <= record.checked_in_at <= now
        assert record.checked_in_at < session.ends_at


def test_a_record_keeps_the_given_minutes_and_check_in_time() -> None:
    session = event_of(90).sessions[0]
    checked_in = session.starts_at + timedelta(minutes=5)
    record = AttendanceRecord.record(
        session,
        new_id(),
        source=AttendanceSource.SELF_CHECK_IN,
        now=NOW,
        minutes_attended=85,
        checked_in_at=checked_in,
    )
    assert (record.minutes_attended, record.checked_in_at) == (85, checked_in)


def test_zero_minutes_means_no_check_in() -> None:
    session = event_of(90).sessions[0]
    record = AttendanceRecord.record(
        session, new_id(), source=AttendanceSource.STAFF, now=NOW, minutes_attended=0
    )
    assert (record.minutes_attended, record.checked_in_at) == (0, None)


@pytest.mark.parametrize("minutes", [0, 1, 89, 90])
def test_minutes_within_the_session_are_accepted(minutes: int) -> None:
    session = event_of(90).sessions[0]
    record = AttendanceRecord.record(
        session, new_id(), source=AttendanceSource.ZOOM, now=NOW, minutes_attended=minutes
    )
    assert record.minutes_attended == minutes


@pytest.mark.parametrize("minutes", [-1, 91, 10_000])
def test_minutes_outside_the_session_are_refused(minutes: int) -> None:
    session = event_of(90).sessions[0]
    with pytest.raises(InvalidInput, match="90 minutes") as caught:
        AttendanceRecord.record(
            session, new_id(), source=AttendanceSource.STAFF, now=NOW, minutes_attended=minutes
        )
    assert caught.value.field == "minutes_attended"


def test_a_check_in_time_needs_an_offset() -> None:
    session = event_of(90).sessions[0]
    with pytest.raises(InvalidInput) as caught:
        AttendanceRecord.record(
            session,
            new_id(),
            source=AttendanceSource.STAFF,
            now=NOW,
            checked_in_at=datetime(2026, 12, 1, 9, 0),  # deliberately naive
        )
    assert caught.value.field == "checked_in_at"


# --- the percent rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attended", "scheduled", "percent"),
    [
        (0, 60, 0),
        (30, 60, 50),
        (59, 60, 98),  # whole percent, rounded down: never credits time not attended
        (60, 60, 100),
        (90, 60, 100),
        (1, 1000, 0),
        (45, 0, 0),
        (-5, 60, 0),
        (10, -60, 0),
    ],
)
def test_attendance_percent(attended: int, scheduled: int, percent: int) -> None:
    assert attendance_percent(attended, scheduled) == percent


@given(
    attended=st.integers(-10_000, 100_000),
    more=st.integers(0, 100_000),
    scheduled=st.integers(-100, 50_000),
)
def test_the_percent_stays_in_range_and_never_falls_as_minutes_grow(
    attended: int, more: int, scheduled: int
) -> None:
    percent = attendance_percent(attended, scheduled)
    assert 0 <= percent <= 100
    assert attendance_percent(attended + more, scheduled) >= percent
    if scheduled > 0 and attended >= scheduled:
        assert percent == 100


# --- summaries --------------------------------------------------------------------------------


def test_one_summary_per_attendee_adds_up_their_sessions() -> None:
    event = event_of(60, 120)
    first, second = event.sessions
    ada, bo = new_id(), new_id()
    summaries = summarise(event, [raw(first, ada, 60), raw(second, ada, 60), raw(second, bo, 120)])
    by_user = {s.user_id: s for s in summaries}
    assert len(summaries) == 2
    assert (by_user[ada].sessions_attended, by_user[ada].minutes_attended) == (2, 120)
    assert (by_user[ada].scheduled_minutes, by_user[ada].percent) == (180, 66)
    assert by_user[ada].threshold_met is False
    assert (by_user[bo].sessions_attended, by_user[bo].minutes_attended) == (1, 120)
    assert by_user[bo].threshold_percent == 75


def test_summaries_come_in_a_stable_order() -> None:
    event = event_of(60)
    users = [new_id() for _ in range(5)]
    summaries = summarise(event, [raw(event.sessions[0], u, 30) for u in users])
    assert [s.user_id for s in summaries] == sorted(users, key=str)


def test_a_session_with_zero_minutes_is_not_counted_as_attended() -> None:
    event = event_of(60, 60)
    user = new_id()
    (summary,) = summarise(
        event, [raw(event.sessions[0], user, 0), raw(event.sessions[1], user, 45)]
    )
    assert (summary.sessions_attended, summary.minutes_attended, summary.percent) == (1, 45, 37)


def test_records_of_removed_sessions_no_longer_count() -> None:
    event = event_of(60, 60)
    kept, removed = event.sessions
    user, only_removed = new_id(), new_id()
    records = [raw(kept, user, 30), raw(removed, user, 60), raw(removed, only_removed, 60)]
    event.remove_session(removed.id, now=NOW)
    (summary,) = summarise(event, records)
    assert summary.user_id == user
    assert (summary.sessions_attended, summary.minutes_attended) == (1, 30)
    assert (summary.scheduled_minutes, summary.percent) == (60, 50)


def test_minutes_beyond_a_session_are_capped_at_its_length() -> None:
    event = event_of(60, 60)
    user = new_id()
    (summary,) = summarise(event, [raw(event.sessions[0], user, 500)])
    assert (summary.minutes_attended, summary.percent) == (60, 50)


@pytest.mark.parametrize(
    ("attended", "threshold", "met"),
    [(90, 75, True), (89, 75, False), (120, 100, True), (119, 100, False), (0, 0, True)],
)
def test_the_threshold_is_met_at_or_above_it(attended: int, threshold: int, met: bool) -> None:
    event = event_of(60, 60, threshold=threshold)
    user = new_id()
    first, second = event.sessions
    records = [raw(first, user, min(attended, 60)), raw(second, user, max(0, attended - 60))]
    (summary,) = summarise(event, records)
    assert summary.threshold_met is met
    assert summary.threshold_percent == threshold


def test_an_event_without_sessions_has_no_summaries() -> None:
    event = event_of(60)
    stale = raw(event.sessions[0], new_id(), 60)
    event.remove_session(event.sessions[0].id, now=NOW)
    assert summarise(event, [stale]) == []


# --- properties: summaries --------------------------------------------------------------------

users = [new_id() for _ in range(4)]


@given(
    lengths=st.lists(st.integers(1, 480), min_size=1, max_size=6),
    threshold=st.integers(0, 100),
    entries=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(users), st.integers(0, 1000)), max_size=30
    ),
    strays=st.lists(st.tuples(st.sampled_from(users), st.integers(0, 1000)), max_size=3),
)
def test_summaries_never_exceed_the_schedule_and_match_the_threshold(
    lengths: list[int],
    threshold: int,
    entries: list[tuple[int, UUID, int]],
    strays: list[tuple[UUID, int]],
) -> None:
    event = event_of(*lengths, threshold=threshold)
    sessions = event.sessions
    records = [raw(sessions[i % len(sessions)], user, minutes) for i, user, minutes in entries]
    other = event_of(30).sessions[0]  # a session of some other event
    records += [raw(other, user, minutes) for user, minutes in strays]

    summaries = summarise(event, records)

    expected_users = {r.user_id for r in records if r.session_id != other.id}
    assert [s.user_id for s in summaries] == sorted(expected_users, key=str)
    for summary in summaries:
        assert summary.scheduled_minutes == sum(lengths) == event.scheduled_minutes
        assert 0 <= summary.minutes_attended <= summary.scheduled_minutes
        assert 0 <= summary.percent <= 100
        assert 0 <= summary.sessions_attended <= len(sessions)
        assert summary.percent == attendance_percent(
            summary.minutes_attended, summary.scheduled_minutes
        )
        assert summary.threshold_met is (
            summary.scheduled_minutes > 0 and summary.percent >= threshold
        )


def test_the_latest_record_of_a_session_wins_in_a_summary() -> None:
    event = event_of(60)
    user = new_id()
    session = event.sessions[0]
    (summary,) = summarise(event, [raw(session, user, 60), raw(session, user, 15)])
    assert (summary.minutes_attended, summary.sessions_attended) == (15, 1)
