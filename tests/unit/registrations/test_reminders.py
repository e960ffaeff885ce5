"""Event reminders: which one is due when (the queueing is tested with the registrations)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.registrations import REMINDER_LEADS, Upcoming, due_reminder
from tests.unit.registrations.test_registration_service import START

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)


def upcoming(registered_before_start: timedelta) -> Upcoming:
    return Upcoming(uuid4(), START - registered_before_start, START)


def test_the_nearest_lead_the_start_is_within_is_due() -> None:
    early = upcoming(7 * DAY)
    assert due_reminder(early, START - 2 * DAY) is None
    assert due_reminder(early, START - DAY) == DAY
    assert due_reminder(early, START - 2 * HOUR) == DAY
    assert due_reminder(early, START - HOUR) == HOUR
    assert due_reminder(early, START - timedelta(minutes=1)) == HOUR
    assert due_reminder(early, START) is None  # started: too late to remind


def test_who_registered_after_a_reminder_point_does_not_get_that_reminder() -> None:
    late = upcoming(5 * HOUR)  # booked the same day: the confirmation told them
    assert due_reminder(late, START - 4 * HOUR) is None
    assert due_reminder(late, START - HOUR) == HOUR
    assert due_reminder(upcoming(timedelta(minutes=30)), START - timedelta(minutes=10)) is None


@given(
    registered=st.timedeltas(min_value=timedelta(0), max_value=10 * DAY),
    before=st.timedeltas(min_value=-DAY, max_value=10 * DAY),
)
def test_a_due_reminder_is_never_early_and_never_before_registration(
    registered: timedelta, before: timedelta
) -> None:
    lead = due_reminder(upcoming(registered), START - before)
    if lead is not None:
        assert lead in REMINDER_LEADS
        assert timedelta(0) < before <= lead  # within its lead time, before the start
        assert registered >= lead  # they registered before the reminder point
