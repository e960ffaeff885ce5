"""Attendance from meeting participants: interval union, clipping, matching, and invariants."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.errors import InvalidInput
from cpd.domain.events import Session
from cpd.domain.meetings import (
    Invitee,
    MeetingSpec,
    Participant,
    RegistrantSpec,
    attendance_from_participants,
    attended_minutes,
    attended_time,
    merge_intervals,
)

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=2)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def session() -> Session:
    return Session(id=uuid4(), event_id=uuid4(), title="Morning", starts_at=START, ends_at=END)


def stay(a: float, b: float | None, **who: str) -> Participant:
    return Participant(joined_at=at(a), left_at=None if b is None else at(b), **who)


def test_rejoins_and_overlaps_count_once() -> None:
    intervals = [(at(0), at(30)), (at(20), at(40)), (at(50), at(60)), (at(60), at(65))]
    assert merge_intervals(intervals) == [(at(0), at(40)), (at(50), at(65))]
    assert attended_minutes(intervals, START, END) == 55


def test_time_outside_the_session_does_not_count() -> None:
    intervals = [(at(-30), at(10)), (at(110), at(150))]
    assert attended_minutes(intervals, START, END) == 20


def test_partial_minutes_are_not_credited() -> None:
    assert attended_minutes([(at(0), at(1.99))], START, END) == 1


def test_matching_by_registrant_id_then_email_never_by_name() -> None:
    alice, bob, carol = uuid4(), uuid4(), uuid4()
    invitees = [
        Invitee(alice, email="Alice@Example.org", registrant_id="reg-a"),
        Invitee(bob, email="bob@example.org"),
        Invitee(carol, email="carol@example.org"),
    ]
    participants = [
        stay(0, 30, registrant_id="reg-a", email="other@device.example"),  # id wins
        stay(25, 60, email="ALICE@example.org", name="Alice phone"),  # email, any case
        stay(0, 90, email="BOB@EXAMPLE.ORG "),
        stay(0, 120, name="carol@example.org"),  # a display name is not an identity
        stay(0, 120, registrant_id="reg-unknown", email="stranger@example.org"),
    ]

    result = attendance_from_participants(session(), participants, invitees, open_until=END)

    assert result.minutes == {alice: 60, bob: 90}
    assert [p.name for p in result.unmatched] == ["carol@example.org", ""]


def test_a_stay_without_a_leave_time_counts_until_open_until() -> None:
    alice = uuid4()
    result = attendance_from_participants(
        session(), [stay(100, None, email="a@x.org")], [Invitee(alice, "a@x.org")],
        open_until=at(200),
    )  # fmt: skip
    assert result.minutes == {alice: 20}


def test_meeting_spec_for_a_session_and_its_rules() -> None:
    spec = MeetingSpec("  Ethics  ", START, 90, "Europe/London")
    assert spec.topic == "Ethics"
    with pytest.raises(InvalidInput) as blank:
        MeetingSpec(" ", START, 90, "UTC")
    assert blank.value.field == "topic"
    with pytest.raises(InvalidInput) as naive:
        MeetingSpec("x", START.replace(tzinfo=None), 90, "UTC")
    assert naive.value.field == "starts_at"
    with pytest.raises(InvalidInput) as short:
        MeetingSpec("x", START, 0, "UTC")
    assert short.value.field == "duration_minutes"
    with pytest.raises(InvalidInput) as email:
        RegistrantSpec("not-an-email", "A")
    assert email.value.field == "email"


# -- properties ----------------------------------------------------------------------------------

minute_offsets = st.integers(min_value=-240, max_value=360)
intervals_st = st.lists(
    st.tuples(minute_offsets, st.integers(min_value=0, max_value=300)).map(
        lambda p: (at(p[0]), at(p[0] + p[1]))
    ),
    max_size=12,
)


def covered_minutes(intervals: list[tuple[datetime, datetime]]) -> int:
    """The union length counted the slow, obvious way: minute by minute inside the window."""
    minutes = set()
    for start, end in intervals:
        for m in range(-240, 700):
            t = at(m)
            if start <= t < end and START <= t < END:
                minutes.add(m)
    return len(minutes)


@given(intervals_st)
def test_minutes_never_exceed_the_window(intervals: list[tuple[datetime, datetime]]) -> None:
    assert 0 <= attended_minutes(intervals, START, END) <= session().scheduled_minutes


@given(intervals_st, st.randoms(use_true_random=False))
def test_order_does_not_matter(
    intervals: list[tuple[datetime, datetime]], rnd: random.Random
) -> None:
    shuffled = list(intervals)
    rnd.shuffle(shuffled)
    assert attended_time(shuffled, START, END) == attended_time(intervals, START, END)


@given(intervals_st)
def test_minutes_equal_the_union_length(intervals: list[tuple[datetime, datetime]]) -> None:
    assert attended_minutes(intervals, START, END) == covered_minutes(intervals)


@given(intervals_st)
def test_merged_intervals_are_disjoint_sorted_and_cover_the_same(
    intervals: list[tuple[datetime, datetime]],
) -> None:
    merged = merge_intervals(intervals)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))
    assert merge_intervals(merged) == merged
    wide = (at(-1000), at(1000))
    assert attended_time(merged, *wide) == attended_time(intervals, *wide)


@given(intervals_st, intervals_st)
def test_adding_a_stay_never_lowers_the_minutes(
    first: list[tuple[datetime, datetime]], more: list[tuple[datetime, datetime]]
) -> None:
    assert attended_minutes(first + more, START, END) >= attended_minutes(first, START, END)
