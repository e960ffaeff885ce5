"""Events and sessions: field rules, session scheduling, publishing and the lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.events import (
    DEFAULT_ATTENDANCE_THRESHOLD,
    MAX_TAGS,
    Event,
    EventFormat,
    EventStatus,
    Venue,
)
from cpd.domain.ids import new_id
from cpd.domain.money import Money
from tests.unit.fakes import START, event_details, session_spec

ORG = new_id()
LATER = START + timedelta(hours=1)


def make_event(
    details: dict[str, Any] | None = None,
    sessions: list[dict[str, Any]] | None = None,
    *,
    slug: str = "governance-day",
) -> Event:
    return Event.create(
        organization_id=ORG,
        slug=slug,
        now=START,
        details=event_details() if details is None else details,
        sessions=sessions,
    )


def published(sessions: list[dict[str, Any]] | None = None, **details: Any) -> Event:
    event = make_event(event_details(**details), sessions or [session_spec()])
    event.publish(now=START)
    return event


def in_status(status: EventStatus) -> Event:
    event = make_event(sessions=[session_spec(day=1)])
    if status is EventStatus.DRAFT:
        return event
    if status is EventStatus.CANCELLED:
        event.cancel(now=START)
        return event
    event.publish(now=START)
    if status is EventStatus.COMPLETED:
        event.complete(now=START + timedelta(days=2))
    return event


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


# --- create -----------------------------------------------------------------------------------


def test_a_new_event_is_a_draft_with_defaults_and_no_times() -> None:
    event = make_event({"title": "  Governance  "})
    assert event.organization_id == ORG
    assert event.slug == "governance-day"
    assert event.title == "Governance"
    assert event.status is EventStatus.DRAFT
    assert event.format is EventFormat.IN_PERSON
    assert event.timezone == "UTC"
    assert event.price == Money(0, "GBP")
    assert event.attendance_threshold_percent == DEFAULT_ATTENDANCE_THRESHOLD == 75
    assert event.cpd_credits == Decimal("0")
    assert (event.venue, event.capacity, event.tags, event.sessions) == (None, None, (), [])
    assert (event.starts_at, event.ends_at) == (None, None)
    assert event.created_at == event.updated_at == START


def test_create_applies_every_writable_field() -> None:
    opens, closes = START, START + timedelta(days=5)
    event = make_event(
        event_details(
            format="hybrid",
            capacity=40,
            cpd_credits="1.50",
            credit_category="Clinical",
            description="Long text",
            registration_opens_at=opens,
            registration_closes_at=closes,
            attendance_threshold_percent=80,
        )
    )
    assert event.format is EventFormat.HYBRID
    assert event.venue == Venue("Guild Hall", "1 High Street, York")
    assert event.timezone == "Europe/London"
    assert event.capacity == 40
    assert str(event.cpd_credits) == "1.5"
    assert event.credit_category == "Clinical"
    assert (event.summary, event.description) == ("A day on governance", "Long text")
    assert event.tags == ("governance",)
    assert (event.registration_opens_at, event.registration_closes_at) == (opens, closes)
    assert event.attendance_threshold_percent == 80


def test_create_with_sessions_derives_the_event_times_from_them() -> None:
    event = make_event(
        sessions=[session_spec(day=2, hour=14, minutes=90), session_spec(day=1, hour=9)]
    )
    assert [s.starts_at for s in event.sessions] == [
        START.replace(hour=9) + timedelta(days=1),
        START.replace(hour=14) + timedelta(days=2),
    ]
    assert event.starts_at == START.replace(hour=9) + timedelta(days=1)
    assert event.ends_at == START.replace(hour=14) + timedelta(days=2, minutes=90)
    assert all(s.event_id == event.id for s in event.sessions)
    assert event.scheduled_minutes == 150


def test_an_event_without_sessions_may_have_explicit_times() -> None:
    event = make_event({"title": "Webinar", "starts_at": START, "ends_at": LATER})
    assert (event.starts_at, event.ends_at) == (START, LATER)


@pytest.mark.parametrize("ends_at", [START, START - timedelta(minutes=1)])
def test_explicit_times_must_end_after_they_start(ends_at: datetime) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event({"title": "Webinar", "starts_at": START, "ends_at": ends_at})
    assert caught.value.field == "ends_at"


def test_an_unknown_field_is_named_in_the_error() -> None:
    with pytest.raises(InvalidInput, match="Unknown field") as caught:
        make_event(event_details(colour="red"))
    assert caught.value.field == "colour"


@pytest.mark.parametrize("field", ["status", "id", "organization_id", "sessions", "created_at"])
def test_fields_that_are_not_writable_count_as_unknown(field: str) -> None:
    event = make_event()
    with pytest.raises(InvalidInput) as caught:
        event.update({field: "published"}, now=LATER)
    assert caught.value.field == field
    assert event.status is EventStatus.DRAFT


@pytest.mark.parametrize("slug", ["Governance Day", "governance--day", "-day", "a" * 61, ""])
def test_a_malformed_slug_is_refused(slug: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(slug=slug)
    assert caught.value.field == "slug"


def test_a_slug_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(slug="governance\n")
    assert caught.value.field == "slug"


# --- field rules (every setter names its field) -----------------------------------------------

NAIVE = datetime(2026, 12, 1, 9, 0)  # deliberately without an offset


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": 42}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"summary": "x" * 501}, "summary"),
        ({"description": "x" * 20_001}, "description"),
        ({"format": "webinar"}, "format"),
        ({"format": None}, "format"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": 1_000_001}, "capacity"),
        ({"attendance_threshold_percent": -1}, "attendance_threshold_percent"),
        ({"attendance_threshold_percent": 101}, "attendance_threshold_percent"),
        ({"attendance_threshold_percent": True}, "attendance_threshold_percent"),
        ({"attendance_threshold_percent": 75.0}, "attendance_threshold_percent"),
        ({"attendance_threshold_percent": None}, "attendance_threshold_percent"),
        ({"tags": ["ok", ""]}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": [f"tag{i}" for i in range(MAX_TAGS + 1)]}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"venue": {"name": "  ", "address": "1 High Street"}}, "venue.name"),
        ({"venue": {"name": "Guild Hall", "address": ""}}, "venue.address"),
        ({"price": {"amount": -100, "currency": "GBP"}}, "price.amount"),
        ({"price": {"amount": 100, "currency": "pounds"}}, "price.currency"),
        ({"cpd_credits": "1.234"}, "cpd_credits"),
        ({"cpd_credits": "-1"}, "cpd_credits"),
        ({"credit_category": ""}, "credit_category"),
        ({"credit_category": "x" * 101}, "credit_category"),
        ({"starts_at": NAIVE}, "starts_at"),
        ({"ends_at": "2026-12-01T09:00:00Z"}, "ends_at"),
        ({"registration_opens_at": NAIVE}, "registration_opens_at"),
        ({"registration_closes_at": "tomorrow"}, "registration_closes_at"),
    ],
)
def test_each_field_checks_its_value_and_names_itself(changes: dict[str, Any], field: str) -> None:
    event = make_event()
    with pytest.raises(InvalidInput) as caught:
        event.update(changes, now=LATER)
    assert caught.value.field == field
    with pytest.raises(InvalidInput) as at_creation:
        make_event(event_details(**changes))
    assert at_creation.value.field == field


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"title": "  Ethics update "}, "title", "Ethics update"),
        ({"summary": None}, "summary", ""),
        ({"summary": "  short  "}, "summary", "short"),
        ({"format": "online"}, "format", EventFormat.ONLINE),
        ({"timezone": "America/New_York"}, "timezone", "America/New_York"),
        ({"capacity": 1}, "capacity", 1),
        ({"capacity": 1_000_000}, "capacity", 1_000_000),
        ({"capacity": None}, "capacity", None),
        ({"attendance_threshold_percent": 0}, "attendance_threshold_percent", 0),
        ({"attendance_threshold_percent": 100}, "attendance_threshold_percent", 100),
        ({"tags": ["Python", "python", " AI ", "ai"]}, "tags", ("python", "ai")),
        ({"tags": []}, "tags", ()),
        (
            {"venue": {"name": " Hall ", "address": " 2 Low Rd "}},
            "venue",
            Venue("Hall", "2 Low Rd"),
        ),
        ({"venue": None}, "venue", None),
        ({"price": {"amount": 4500, "currency": "EUR"}}, "price", Money(4500, "EUR")),
        ({"price": Money(100, "USD")}, "price", Money(100, "USD")),
        ({"credit_category": None}, "credit_category", None),
        ({"credit_category": " Ethics "}, "credit_category", "Ethics"),
    ],
)
def test_valid_values_are_normalised(
    changes: dict[str, Any], attribute: str, expected: Any
) -> None:
    event = make_event()
    event.update(changes, now=LATER)
    assert getattr(event, attribute) == expected
    assert event.updated_at == LATER


def test_exactly_the_maximum_number_of_tags_is_fine() -> None:
    tags = [f"Tag{i}" for i in range(MAX_TAGS)] + ["TAG0"]  # a duplicate does not count
    event = make_event(event_details(tags=tags))
    assert event.tags == tuple(f"tag{i}" for i in range(MAX_TAGS))


@pytest.mark.parametrize("tags", ["python", None])
def test_tags_must_be_a_list(tags: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(event_details(tags=tags))
    assert caught.value.field == "tags"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"venue": {"name": "Guild Hall"}}, "venue.address"),
        ({"venue": {"name": "Hall", "address": "1 Rd", "city": "York"}}, "venue.city"),
        ({"price": {"amount": 100}}, "price.currency"),
    ],
)
def test_an_incomplete_venue_or_price_names_the_missing_part(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(event_details(**changes))
    assert caught.value.field == field


@pytest.mark.parametrize("closes_after", [timedelta(0), timedelta(hours=-1)])
def test_registration_must_close_after_it_opens(closes_after: timedelta) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(
            event_details(registration_opens_at=START, registration_closes_at=START + closes_after)
        )
    assert caught.value.field == "registration_closes_at"


def test_the_window_is_checked_against_the_stored_other_end() -> None:
    event = make_event(event_details(registration_closes_at=START + timedelta(days=1)))
    with pytest.raises(InvalidInput) as caught:
        event.update({"registration_opens_at": START + timedelta(days=2)}, now=LATER)
    assert caught.value.field == "registration_closes_at"
    event.update({"registration_opens_at": START}, now=LATER)
    assert event.registration_opens_at == START


def test_a_window_open_at_one_end_is_fine() -> None:
    event = make_event(event_details(registration_closes_at=START))
    assert (event.registration_opens_at, event.registration_closes_at) == (None, START)


# --- sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [timedelta(0), timedelta(minutes=-30)])
def test_a_session_must_end_after_it_starts(length: timedelta) -> None:
    spec = {"title": "Opening", "starts_at": START, "ends_at": START + length}
    with pytest.raises(InvalidInput) as caught:
        make_event(sessions=[spec])
    assert caught.value.field == "sessions.ends_at"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"title": "Opening", "starts_at": NAIVE, "ends_at": LATER}, "sessions.starts_at"),
        ({"title": "Opening", "starts_at": START, "ends_at": "later"}, "sessions.ends_at"),
        ({"title": " ", "starts_at": START, "ends_at": LATER}, "sessions.title"),
        ({"starts_at": START, "ends_at": LATER}, "sessions.title"),
        ({"title": "Opening"}, "sessions.ends_at"),
        (
            {"title": "Opening", "starts_at": START, "ends_at": LATER, "speaker": "X"},
            "sessions.speaker",
        ),
        ({"title": "Opening", "starts_at": START, "ends_at": LATER, "room": ""}, "sessions.room"),
        (
            {"title": "Opening", "starts_at": START, "ends_at": LATER, "join_url": "x" * 2001},
            "sessions.join_url",
        ),
    ],
)
def test_session_fields_are_checked_and_named(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(sessions=[spec])
    assert caught.value.field == field


def test_a_session_keeps_its_room_and_join_link() -> None:
    event = make_event(
        sessions=[session_spec() | {"room": " Room 4 ", "join_url": "https://meet.example/x"}]
    )
    (session,) = event.sessions
    assert (session.room, session.join_url) == ("Room 4", "https://meet.example/x")
    assert session.scheduled_minutes == 60


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((0, 60), (30, 90)),  # starts inside
        ((0, 60), (-30, 30)),  # ends inside
        ((0, 60), (10, 20)),  # contained
        ((0, 60), (0, 60)),  # identical
        ((0, 60), (-10, 70)),  # contains
    ],
)
def test_sessions_of_an_event_may_not_overlap(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    specs = [
        {"title": "A", "starts_at": at(first[0]), "ends_at": at(first[1])},
        {"title": "B", "starts_at": at(second[0]), "ends_at": at(second[1])},
    ]
    with pytest.raises(InvalidInput, match="overlaps") as caught:
        make_event(sessions=specs)
    assert caught.value.field == "sessions"


def test_back_to_back_sessions_do_not_overlap() -> None:
    event = make_event(
        sessions=[
            {"title": "After", "starts_at": at(60), "ends_at": at(120)},
            {"title": "Before", "starts_at": at(0), "ends_at": at(60)},
        ]
    )
    assert [s.title for s in event.sessions] == ["Before", "After"]
    assert (event.starts_at, event.ends_at) == (at(0), at(120))


def test_explicit_times_with_sessions_are_refused_not_silently_replaced() -> None:
    with pytest.raises(InvalidInput) as caught:
        make_event(
            event_details(starts_at=at(-600), ends_at=at(600)),
            [{"title": "Only", "starts_at": at(0), "ends_at": at(45)}],
        )
    assert caught.value.field == "starts_at"
    event = make_event(sessions=[{"title": "Only", "starts_at": at(0), "ends_at": at(45)}])
    with pytest.raises(InvalidInput):
        event.update({"ends_at": at(600)}, now=LATER)
    assert (event.starts_at, event.ends_at) == (at(0), at(45))


def test_adding_a_session_keeps_them_sorted_and_moves_the_event_times() -> None:
    event = make_event(sessions=[session_spec(day=3)])
    added = event.add_session(session_spec(day=1, title="Warm-up"), now=LATER)
    assert added.event_id == event.id
    assert event.sessions[0].id == added.id
    assert event.starts_at == added.starts_at
    assert event.ends_at == START.replace(hour=9) + timedelta(days=3, minutes=60)
    assert event.updated_at == LATER


def test_adding_an_overlapping_session_is_refused() -> None:
    event = make_event(sessions=[session_spec(day=1, minutes=120)])
    with pytest.raises(InvalidInput) as caught:
        event.add_session(session_spec(day=1, hour=10), now=LATER)
    assert caught.value.field == "sessions"


def test_updating_a_session_moves_it_and_resorts() -> None:
    event = make_event(sessions=[session_spec(day=1), session_spec(day=2)])
    first = event.sessions[0]
    moved = event.update_session(
        first.id,
        {"starts_at": at(60 * 24 * 5), "ends_at": at(60 * 24 * 5 + 30), "title": "Moved"},
        now=LATER,
    )
    assert moved.id == first.id
    assert (moved.title, moved.scheduled_minutes) == ("Moved", 30)
    assert [s.id for s in event.sessions][-1] == first.id
    assert event.ends_at == at(60 * 24 * 5 + 30)
    assert event.starts_at == START.replace(hour=9) + timedelta(days=2)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": START.replace(hour=9) + timedelta(days=1)}, "sessions.ends_at"),
        (  # moved onto the second session
            {
                "starts_at": START.replace(hour=9) + timedelta(days=2, minutes=30),
                "ends_at": START.replace(hour=9) + timedelta(days=2, minutes=90),
            },
            "sessions",
        ),
        ({"event_id": new_id()}, "sessions.event_id"),
        ({"id": new_id()}, "sessions.id"),
    ],
)
def test_a_session_update_that_breaks_a_rule_is_refused(
    changes: dict[str, Any], field: str
) -> None:
    event = make_event(sessions=[session_spec(day=1), session_spec(day=2)])
    with pytest.raises(InvalidInput) as caught:
        event.update_session(event.sessions[0].id, changes, now=LATER)
    assert caught.value.field == field


def test_removing_a_session_moves_the_event_times() -> None:
    event = make_event(sessions=[session_spec(day=1), session_spec(day=2)])
    event.remove_session(event.sessions[0].id, now=LATER)
    assert len(event.sessions) == 1
    assert event.starts_at == START.replace(hour=9) + timedelta(days=2)
    assert event.updated_at == LATER


def test_an_unknown_session_is_not_found() -> None:
    event = make_event(sessions=[session_spec()])
    with pytest.raises(NotFound):
        event.session(new_id())
    with pytest.raises(NotFound):
        event.update_session(new_id(), {"title": "X"}, now=LATER)
    with pytest.raises(NotFound):
        event.remove_session(new_id(), now=LATER)
    assert len(event.sessions) == 1


# --- publishing -------------------------------------------------------------------------------


def test_a_complete_draft_publishes() -> None:
    event = make_event(sessions=[session_spec()])
    event.publish(now=LATER)
    assert event.status is EventStatus.PUBLISHED
    assert event.is_public
    assert event.updated_at == LATER


@pytest.mark.parametrize(
    ("details", "sessions", "field"),
    [
        ({}, [session_spec()], "title"),
        (event_details(), [], "sessions"),
        (event_details(venue=None), [session_spec()], "venue"),
        (event_details(venue=None, format="hybrid"), [session_spec()], "venue"),
    ],
)
def test_publishing_needs_a_title_a_session_and_a_venue_where_people_meet(
    details: dict[str, Any], sessions: list[dict[str, Any]], field: str
) -> None:
    event = make_event(details, sessions)
    with pytest.raises(InvalidInput) as caught:
        event.publish(now=LATER)
    assert caught.value.field == field
    assert event.status is EventStatus.DRAFT


def test_an_online_event_publishes_without_a_venue() -> None:
    event = make_event(event_details(format="online", venue=None), [session_spec()])
    event.publish(now=LATER)
    assert event.status is EventStatus.PUBLISHED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"venue": None}, "venue"),
        ({"format": "hybrid", "venue": None}, "venue"),
    ],
)
def test_a_published_event_must_stay_publishable(changes: dict[str, Any], field: str) -> None:
    event = published()
    with pytest.raises(InvalidInput) as caught:
        event.update(changes, now=LATER)
    assert caught.value.field == field


def test_a_published_event_may_go_online_and_drop_its_venue() -> None:
    event = published()
    event.update({"format": "online", "venue": None}, now=LATER)
    assert (event.format, event.venue) == (EventFormat.ONLINE, None)


def test_the_last_session_of_a_published_event_cannot_be_removed() -> None:
    event = published()
    with pytest.raises(InvalidInput) as caught:
        event.remove_session(event.sessions[0].id, now=LATER)
    assert caught.value.field == "sessions"


def test_a_published_event_may_lose_one_of_several_sessions() -> None:
    event = published([session_spec(day=1), session_spec(day=2)])
    event.remove_session(event.sessions[1].id, now=LATER)
    assert len(event.sessions) == 1
    assert event.status is EventStatus.PUBLISHED


def test_a_draft_may_lose_its_last_session() -> None:
    event = make_event(sessions=[session_spec()])
    event.remove_session(event.sessions[0].id, now=LATER)
    assert event.sessions == []


# --- lifecycle --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [EventStatus.PUBLISHED, EventStatus.COMPLETED, EventStatus.CANCELLED]
)
def test_only_a_draft_can_be_published(status: EventStatus) -> None:
    event = in_status(status)
    with pytest.raises(Conflict):
        event.publish(now=LATER)
    assert event.status is status


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.PUBLISHED])
def test_drafts_and_published_events_can_be_cancelled(status: EventStatus) -> None:
    event = in_status(status)
    event.cancel(now=LATER)
    assert event.status is EventStatus.CANCELLED
    assert not event.is_public
    assert event.updated_at == LATER


@pytest.mark.parametrize("status", [EventStatus.COMPLETED, EventStatus.CANCELLED])
def test_finished_events_cannot_be_cancelled(status: EventStatus) -> None:
    event = in_status(status)
    with pytest.raises(Conflict):
        event.cancel(now=LATER)
    assert event.status is status


@pytest.mark.parametrize(
    "status", [EventStatus.DRAFT, EventStatus.COMPLETED, EventStatus.CANCELLED]
)
def test_only_a_published_event_can_be_completed(status: EventStatus) -> None:
    event = in_status(status)
    with pytest.raises(Conflict):
        event.complete(now=START + timedelta(days=30))
    assert event.status is status


def test_an_event_cannot_be_completed_before_it_starts() -> None:
    event = published([session_spec(day=1)])
    assert event.starts_at is not None
    with pytest.raises(Conflict, match="before it starts"):
        event.complete(now=event.starts_at - timedelta(seconds=1), override_reason="Early")
    assert event.status is EventStatus.PUBLISHED


def test_an_event_is_completed_once_its_last_session_has_ended() -> None:
    event = published([session_spec(day=1), session_spec(day=3)])
    assert event.ends_at is not None
    by = new_id()
    for now in (event.starts_at, event.ends_at - timedelta(seconds=1)):
        with pytest.raises(Conflict, match="not ended") as caught:
            event.complete(now=now, by=by)
        assert caught.value.field == "override_reason"
        assert event.status is EventStatus.PUBLISHED
    event.complete(now=event.ends_at, by=by, override_reason="Not needed")
    assert status_of(event) is EventStatus.COMPLETED
    assert (event.completed_at, event.completed_by) == (event.ends_at, by)
    assert event.completion_override_reason is None  # nothing was overridden
    assert event.is_public


def test_staff_may_complete_a_running_event_early_with_a_reason() -> None:
    event = published([session_spec(day=1), session_spec(day=3)])
    assert event.starts_at is not None
    now = event.starts_at + timedelta(days=1)
    for bad in ("", "   ", "line\nbreak", "x" * 501):
        with pytest.raises(InvalidInput) as caught:
            event.complete(now=now, override_reason=bad)
        assert caught.value.field == "override_reason"
    assert event.status is EventStatus.PUBLISHED
    event.complete(now=now, by=new_id(), override_reason=" Day 3 was cancelled by the venue ")
    assert status_of(event) is EventStatus.COMPLETED
    assert event.completion_override_reason == "Day 3 was cancelled by the venue"
    assert event.completed_at == now


def test_an_event_that_is_over_cannot_be_published() -> None:
    event = make_event(sessions=[session_spec(day=1, minutes=60)])
    assert event.ends_at is not None
    with pytest.raises(Conflict, match="over") as caught:
        event.publish(now=event.ends_at)
    assert caught.value.field == "sessions"
    assert event.status is EventStatus.DRAFT
    event.publish(now=event.ends_at - timedelta(seconds=1))  # its last minute still counts
    assert status_of(event) is EventStatus.PUBLISHED


@given(
    now_offset=st.integers(min_value=-2 * 86400, max_value=6 * 86400),
    reason=st.none() | st.just("Stopped early"),
)
def test_completion_never_precedes_the_end_without_a_recorded_reason(
    now_offset: int, reason: str | None
) -> None:
    event = published([session_spec(day=1), session_spec(day=3)])
    assert event.starts_at is not None
    assert event.ends_at is not None
    now = event.starts_at + timedelta(seconds=now_offset)
    try:
        event.complete(now=now, override_reason=reason)
    except Conflict:
        assert event.status is EventStatus.PUBLISHED
        return
    assert event.status is EventStatus.COMPLETED
    assert now >= event.starts_at
    assert (now >= event.ends_at) == (event.completion_override_reason is None)


def status_of(event: Event) -> EventStatus:
    return event.status


@pytest.mark.parametrize("status", [EventStatus.COMPLETED, EventStatus.CANCELLED])
def test_finished_events_can_no_longer_be_edited(status: EventStatus) -> None:
    event = in_status(status)
    session_id = event.sessions[0].id
    edits: list[Callable[[], object]] = [
        lambda: event.update({"title": "Renamed"}, now=LATER),
        lambda: event.add_session(session_spec(day=9), now=LATER),
        lambda: event.update_session(session_id, {"title": "Renamed"}, now=LATER),
        lambda: event.remove_session(session_id, now=LATER),
    ]
    for edit in edits:
        with pytest.raises(Conflict, match="no longer be changed"):
            edit()
    assert event.title == "Clinical Governance Day"
    assert [s.title for s in event.sessions] == ["Day 1 at 9"]


def test_only_a_draft_can_be_deleted() -> None:
    in_status(EventStatus.DRAFT).ensure_deletable()
    for status in (EventStatus.PUBLISHED, EventStatus.COMPLETED, EventStatus.CANCELLED):
        with pytest.raises(Conflict, match="cancel it instead") as caught:
            in_status(status).ensure_deletable()
        assert caught.value.field == "status"


@pytest.mark.parametrize(
    ("status", "public"),
    [
        (EventStatus.DRAFT, False),
        (EventStatus.PUBLISHED, True),
        (EventStatus.COMPLETED, True),
        (EventStatus.CANCELLED, False),
    ],
)
def test_which_events_the_public_may_see(status: EventStatus, public: bool) -> None:
    assert in_status(status).is_public is public


# --- properties: scheduling -------------------------------------------------------------------

# A schedule as (gap before, length) pairs in minutes; gaps of 0 make back-to-back sessions.
schedules = st.lists(
    st.tuples(st.integers(0, 24 * 60), st.integers(1, 8 * 60)), min_size=1, max_size=8
)


@given(schedule=schedules, order=st.randoms(use_true_random=False))
def test_any_non_overlapping_schedule_is_accepted_and_bounds_the_event(
    schedule: list[tuple[int, int]], order: Any
) -> None:
    specs: list[dict[str, Any]] = []
    cursor = 0
    for index, (gap, length) in enumerate(schedule):
        start = cursor + gap
        specs.append({"title": f"S{index}", "starts_at": at(start), "ends_at": at(start + length)})
        cursor = start + length
    shuffled = list(specs)
    order.shuffle(shuffled)
    event = make_event(sessions=shuffled)
    assert event.starts_at == min(s["starts_at"] for s in specs)
    assert event.ends_at == max(s["ends_at"] for s in specs)
    assert [s.title for s in event.sessions] == [s["title"] for s in specs]
    assert event.scheduled_minutes == sum(length for _, length in schedule)


@given(
    start=st.integers(-1000, 1000),
    length=st.integers(2, 600),
    data=st.data(),
)
def test_any_overlapping_pair_is_refused(start: int, length: int, data: Any) -> None:
    # The second session starts strictly inside the first and runs for any positive length.
    second_start = data.draw(st.integers(start, start + length - 1))
    second_length = data.draw(st.integers(1, 600))
    specs = [
        {"title": "First", "starts_at": at(start), "ends_at": at(start + length)},
        {
            "title": "Second",
            "starts_at": at(second_start),
            "ends_at": at(second_start + second_length),
        },
    ]
    if data.draw(st.booleans()):
        specs.reverse()
    with pytest.raises(InvalidInput) as caught:
        make_event(sessions=specs)
    assert caught.value.field == "sessions"


def test_times_in_other_offsets_are_compared_as_instants() -> None:
    from datetime import timezone

    plus_two = timezone(timedelta(hours=2))
    event = make_event(
        sessions=[
            {"title": "Utc", "starts_at": at(0), "ends_at": at(60)},
            # 11:00+02:00 is 09:00 UTC: the same instant as the first session's start
            {
                "title": "Local",
                "starts_at": START.astimezone(plus_two) + timedelta(minutes=60),
                "ends_at": START.astimezone(plus_two) + timedelta(minutes=90),
            },
        ]
    )
    assert [s.title for s in event.sessions] == ["Utc", "Local"]
    assert event.ends_at == at(90)
    assert event.ends_at.astimezone(UTC) == at(90)


# --- a refused change ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "change"),
    [
        ([1, 2], lambda e: e.update({"title": "Renamed", "capacity": 0}, now=LATER)),
        ([1, 2], lambda e: e.add_session(session_spec(day=1, hour=10), now=LATER)),
        (
            [1, 2],
            lambda e: e.update_session(
                e.sessions[0].id,
                {"ends_at": START.replace(hour=9) + timedelta(days=2, minutes=30)},
                now=LATER,
            ),
        ),
        ([1], lambda e: e.remove_session(e.sessions[0].id, now=LATER)),
    ],
    ids=["update", "add_session", "update_session", "remove_last_session"],
)
def test_a_refused_change_leaves_the_event_as_it_was(days: list[int], change: Any) -> None:
    event = published([session_spec(day=day, minutes=120) for day in days])

    def state() -> tuple[Any, ...]:
        sessions = [(s.id, s.title, s.starts_at, s.ends_at) for s in event.sessions]
        return (event.title, event.capacity, sessions, event.ends_at, event.updated_at)

    before = state()
    with pytest.raises(InvalidInput):
        change(event)
    assert state() == before
