"""The catalog's read side: filters, order, pages and counts, the same on every adapter."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest
from sqlalchemy import update

from cpd.adapters.sql import tables
from cpd.adapters.sql.database import SqlDatabase
from cpd.domain.accounts import Organization
from cpd.domain.catalog import (
    CourseFilters,
    CourseView,
    EventFilters,
    EventView,
    OrganizationRef,
)
from cpd.domain.courses import Course, CourseMode, CourseStatus
from cpd.domain.events import Event, EventFormat, EventStatus, Venue
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from tests.contract.builders import (
    T0,
    Backend,
    given,
    make_course,
    make_event,
    make_organization,
)

DAY = timedelta(days=1)
ALL = PageRequest(limit=200)


@dataclass
class Catalog:
    acme: Organization
    beta: Organization
    cardiology: Event  # acme, online, free, unlimited, day 10
    ethics: Event  # acme, in person, paid, 20 seats, day 20
    paediatrics: Event  # beta, hybrid, free, 50 seats, day 15
    draft: Event  # beta, draft, day 5
    cancelled: Event  # acme, cancelled, day 12
    completed: Event  # acme, completed, day -10
    undated: Event  # beta, draft without sessions


@pytest.fixture
async def catalog(backend: Backend) -> Catalog:
    acme = make_organization("Acme Health", slug="acme")
    beta = make_organization("Beta College", slug="beta")
    venue = Venue("Hall", "1 Street")
    found = Catalog(
        acme=acme,
        beta=beta,
        cardiology=make_event(
            acme,
            title="Cardiology Update",
            summary="COVID-19 and the heart",
            tags=("cardiology", "acute-care"),
            starts_at=T0 + 10 * DAY,
            sessions=2,
        ),
        ethics=make_event(
            acme,
            title="Ethics Workshop",
            summary="Consent, capacity and confidentiality",
            tags=("ethics",),
            event_format=EventFormat.IN_PERSON,
            venue=venue,
            price=Money(5_000, "GBP"),
            capacity=20,
            starts_at=T0 + 20 * DAY,
        ),
        paediatrics=make_event(
            beta,
            title="Paediatric Cardiology",
            summary="Congenital heart disease in children",
            tags=("paediatrics", "cardiology"),
            event_format=EventFormat.HYBRID,
            venue=venue,
            capacity=50,
            starts_at=T0 + 15 * DAY,
        ),
        draft=make_event(
            beta, title="Draft cardiology", status=EventStatus.DRAFT, starts_at=T0 + 5 * DAY
        ),
        cancelled=make_event(
            acme, title="Cancelled", status=EventStatus.CANCELLED, starts_at=T0 + 12 * DAY
        ),
        completed=make_event(
            acme, title="Last year", status=EventStatus.COMPLETED, starts_at=T0 - 10 * DAY
        ),
        undated=make_event(beta, title="Undated", status=EventStatus.DRAFT, starts_at=None),
    )
    await given(
        backend,
        acme,
        beta,
        found.cardiology,
        found.ethics,
        found.paediatrics,
        found.draft,
        found.cancelled,
        found.completed,
        found.undated,
    )
    return found


async def titles(backend: Backend, page: PageRequest = ALL, **filters: object) -> list[str]:
    """Titles of the matching page, after checking the count agrees with the full list."""
    chosen = EventFilters(**filters)  # type: ignore[arg-type]
    items = await backend.catalog.events(chosen, page)
    everything = await backend.catalog.events(chosen, ALL)
    assert await backend.catalog.count_events(chosen) == len(everything)
    return [item.title for item in items]


def view(event: Event, organization: Organization, seats_taken: int = 0) -> EventView:
    return EventView.of(event, OrganizationRef.of(organization), seats_taken=seats_taken)


# Events: what the public sees, in order


async def test_default_lists_published_events_by_start(backend: Backend, catalog: Catalog) -> None:
    items = await backend.catalog.events(EventFilters(), PageRequest(limit=20))

    assert items == [
        view(catalog.cardiology, catalog.acme),
        view(catalog.paediatrics, catalog.beta),
        view(catalog.ethics, catalog.acme),
    ]
    assert await backend.catalog.count_events(EventFilters()) == 3


async def test_views_carry_every_field(backend: Backend, catalog: Catalog) -> None:
    found = await backend.catalog.event(catalog.ethics.id)

    assert found == view(catalog.ethics, catalog.acme)
    assert found is not None
    assert found.organization == OrganizationRef(catalog.acme.id, "Acme Health", "acme")
    assert found.venue == Venue("Hall", "1 Street")
    assert found.price == Money(5_000, "GBP")
    assert str(found.cpd_credits) == "1.5"
    assert found.tags == ["ethics"]
    assert found.seats_available == 20
    assert found.format is EventFormat.IN_PERSON
    assert found.status is EventStatus.PUBLISHED
    assert [s.id for s in found.sessions] == [s.id for s in catalog.ethics.sessions]


async def test_only_the_statuses_asked_for(backend: Backend, catalog: Catalog) -> None:
    assert await titles(backend, statuses=(EventStatus.DRAFT,)) == ["Draft cardiology", "Undated"]
    assert await titles(backend, statuses=(EventStatus.PUBLISHED, EventStatus.COMPLETED)) == [
        "Last year",
        "Cardiology Update",
        "Paediatric Cardiology",
        "Ethics Workshop",
    ]
    assert await titles(backend, statuses=(EventStatus.CANCELLED,)) == ["Cancelled"]
    assert await titles(backend, statuses=()) == []


async def test_every_status_in_start_order_undated_last(backend: Backend, catalog: Catalog) -> None:
    assert await titles(backend, statuses=tuple(EventStatus)) == [
        "Last year",
        "Draft cardiology",
        "Cardiology Update",
        "Cancelled",
        "Paediatric Cardiology",
        "Ethics Workshop",
        "Undated",
    ]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cardiology", ["Cardiology Update", "Paediatric Cardiology"]),
        ("CARDIOLOGY", ["Cardiology Update", "Paediatric Cardiology"]),  # any case
        ("cardiology acute", ["Cardiology Update"]),  # every word must match
        ("covid-19", ["Cardiology Update"]),  # punctuation splits words, in text and query
        ("19", ["Cardiology Update"]),
        ("heart", ["Cardiology Update", "Paediatric Cardiology"]),  # the summary
        ("consent", ["Ethics Workshop"]),
        ("care", ["Cardiology Update"]),  # a tag ("acute-care")
        ("paediatrics", ["Paediatric Cardiology"]),  # a tag
        ("cardio", []),  # whole words, not prefixes
        ("ology", []),
        ("workshop ethics", ["Ethics Workshop"]),  # in any order
        ("cardiology zzz", []),
        ("draft", []),  # drafts are not published
        ("  !! ", ["Cardiology Update", "Paediatric Cardiology", "Ethics Workshop"]),  # no words
    ],
)
async def test_text_search(backend: Backend, catalog: Catalog, q: str, expected: list[str]) -> None:
    assert await titles(backend, q=q) == expected


async def test_filter_by_format(backend: Backend, catalog: Catalog) -> None:
    assert await titles(backend, format=EventFormat.ONLINE) == ["Cardiology Update"]
    assert await titles(backend, format=EventFormat.HYBRID) == ["Paediatric Cardiology"]
    assert await titles(backend, format=EventFormat.IN_PERSON) == ["Ethics Workshop"]


async def test_filter_by_organization_id_or_slug(backend: Backend, catalog: Catalog) -> None:
    acme_events = ["Cardiology Update", "Ethics Workshop"]
    assert await titles(backend, organization_id=catalog.acme.id) == acme_events
    assert await titles(backend, organization_slug="acme") == acme_events
    assert await titles(backend, organization_slug="beta") == ["Paediatric Cardiology"]
    assert await titles(backend, organization_slug="unknown") == []
    assert await titles(backend, organization_id=uuid4()) == []
    both = {"organization_id": catalog.acme.id, "organization_slug": "acme"}
    assert await titles(backend, **both) == acme_events
    clash = {"organization_id": catalog.acme.id, "organization_slug": "beta"}
    assert await titles(backend, **clash) == []


async def test_filter_by_tag(backend: Backend, catalog: Catalog) -> None:
    assert await titles(backend, tag="cardiology") == ["Cardiology Update", "Paediatric Cardiology"]
    assert await titles(backend, tag="Cardiology") == ["Cardiology Update", "Paediatric Cardiology"]
    assert await titles(backend, tag="acute-care") == ["Cardiology Update"]
    assert await titles(backend, tag="cardio") == []  # whole tags only
    assert await titles(backend, tag="nothing") == []


async def test_filter_by_start_window(backend: Backend, catalog: Catalog) -> None:
    day15 = catalog.paediatrics.starts_at
    assert day15 is not None
    assert await titles(backend, starts_after=day15) == ["Paediatric Cardiology", "Ethics Workshop"]
    assert await titles(backend, starts_before=day15) == ["Cardiology Update"]  # before: strictly
    assert await titles(backend, starts_after=day15 + timedelta(microseconds=1)) == [
        "Ethics Workshop"
    ]
    window = {"starts_after": T0 + 11 * DAY, "starts_before": T0 + 19 * DAY}
    assert await titles(backend, **window) == ["Paediatric Cardiology"]
    assert await titles(backend, starts_after=T0 + 100 * DAY) == []


async def test_filter_by_price_and_capacity(backend: Backend, catalog: Catalog) -> None:
    published = ["Cardiology Update", "Paediatric Cardiology", "Ethics Workshop"]
    assert await titles(backend, free=True) == ["Cardiology Update", "Paediatric Cardiology"]
    assert await titles(backend, free=False) == ["Ethics Workshop"]
    assert await titles(backend, has_capacity=True) == published  # no seat is taken yet
    assert await titles(backend, has_capacity=False) == []


async def test_filters_combine(backend: Backend, catalog: Catalog) -> None:
    assert await titles(
        backend,
        q="cardiology",
        tag="cardiology",
        free=True,
        has_capacity=True,
        format=EventFormat.HYBRID,
        organization_slug="beta",
        starts_after=T0 + 11 * DAY,
        starts_before=T0 + 16 * DAY,
    ) == ["Paediatric Cardiology"]
    assert await titles(backend, q="cardiology", organization_slug="acme") == ["Cardiology Update"]
    assert await titles(backend, q="cardiology", free=False) == []
    assert await titles(
        backend, q="cardiology", statuses=(EventStatus.DRAFT, EventStatus.PUBLISHED)
    ) == ["Draft cardiology", "Cardiology Update", "Paediatric Cardiology"]


async def test_pages_follow_start_then_id(backend: Backend) -> None:
    organization = make_organization()
    same_start = [make_event(organization, starts_at=T0 + DAY) for _ in range(4)]
    later = [make_event(organization, starts_at=T0 + n * DAY) for n in (3, 2, 5)]
    await given(backend, organization, *same_start, *later)
    expected = [e.id for e in sorted(same_start, key=lambda e: e.id)] + [
        later[1].id,
        later[0].id,
        later[2].id,
    ]

    pages = [
        await backend.catalog.events(EventFilters(), PageRequest(limit=3, offset=offset))
        for offset in (0, 3, 6, 9)
    ]

    assert [[v.id for v in page] for page in pages] == [
        expected[0:3],
        expected[3:6],
        expected[6:],
        [],
    ]
    assert await backend.catalog.count_events(EventFilters()) == 7


async def test_event_and_event_by_slug_show_any_status(backend: Backend, catalog: Catalog) -> None:
    assert await backend.catalog.event(catalog.draft.id) == view(catalog.draft, catalog.beta)
    assert await backend.catalog.event(catalog.undated.id) == view(catalog.undated, catalog.beta)
    assert await backend.catalog.event(uuid4()) is None

    by_slug = await backend.catalog.event_by_slug("acme", catalog.cardiology.slug)
    assert by_slug == view(catalog.cardiology, catalog.acme)
    assert await backend.catalog.event_by_slug("beta", catalog.draft.slug) == view(
        catalog.draft, catalog.beta
    )
    assert await backend.catalog.event_by_slug("beta", catalog.cardiology.slug) is None
    assert await backend.catalog.event_by_slug("unknown", catalog.cardiology.slug) is None
    assert await backend.catalog.event_by_slug("acme", "no-such-event") is None


async def test_the_catalog_sees_committed_changes(backend: Backend, catalog: Catalog) -> None:
    async with backend.uow() as uow:
        event = await uow.events.get(catalog.ethics.id)
        assert event is not None
        event.update({"title": "Ethics Masterclass", "tags": ["law"]}, now=T0 + DAY)
        await uow.events.save(event)
        await uow.events.delete(catalog.cardiology.id)
        await uow.commit()

    assert await titles(backend) == ["Paediatric Cardiology", "Ethics Masterclass"]
    assert await titles(backend, tag="law") == ["Ethics Masterclass"]
    assert await titles(backend, q="masterclass law") == ["Ethics Masterclass"]
    assert await titles(backend, q="workshop") == []


async def test_the_catalog_shows_sessions_as_saved(backend: Backend, catalog: Catalog) -> None:
    later = T0 + DAY
    async with backend.uow() as uow:
        event = await uow.events.get(catalog.cardiology.id)
        assert event is not None
        first, second = event.sessions
        event.remove_session(first.id, now=later)
        event.update_session(second.id, {"title": "Renamed session"}, now=later)
        added = event.add_session(
            {"title": "Added", "starts_at": T0 + 40 * DAY, "ends_at": T0 + 40 * DAY + DAY / 24},
            now=later,
        )
        await uow.events.save(event)
        await uow.commit()

    found = await backend.catalog.event(catalog.cardiology.id)
    listed = await backend.catalog.events(EventFilters(q="cardiology acute"), ALL)

    assert found is not None
    assert [(x.id, x.title) for x in found.sessions] == [
        (second.id, "Renamed session"),
        (added.id, "Added"),
    ]
    assert found == view(event, catalog.acme)
    assert listed == [found]


async def test_reads_do_not_wait_for_an_open_write_transaction(
    backend: Backend, catalog: Catalog
) -> None:
    """SQLite's writers hold its write lock for the whole unit of work; readers pass by."""
    async with backend.uow() as uow:
        await uow.events.delete(catalog.ethics.id)  # uncommitted
        items = await asyncio.wait_for(
            backend.catalog.events(EventFilters(), PageRequest()), timeout=5
        )
        count = await asyncio.wait_for(backend.catalog.count_events(EventFilters()), timeout=5)
        if backend.is_sql:  # another connection: it does not see the uncommitted delete
            assert len(items) == count == 3


async def test_seats_taken_decide_capacity_and_seats_available(
    backend: Backend, catalog: Catalog
) -> None:
    """Registrations keep the seat count through ``record_seats_taken``."""
    async with backend.uow() as uow:
        await uow.events.record_seats_taken(catalog.ethics.id, 20)
        await uow.events.record_seats_taken(catalog.paediatrics.id, 45)
        await uow.commit()

    assert await titles(backend, has_capacity=True) == [
        "Cardiology Update",
        "Paediatric Cardiology",
    ]
    assert await titles(backend, has_capacity=False) == ["Ethics Workshop"]
    ethics = await backend.catalog.event(catalog.ethics.id)
    paediatrics = await backend.catalog.event_by_slug("beta", catalog.paediatrics.slug)
    assert ethics == view(catalog.ethics, catalog.acme, seats_taken=20)
    assert ethics is not None
    assert ethics.seats_available == 0
    assert paediatrics is not None
    assert paediatrics.seats_available == 5

    async with backend.uow() as uow:  # saving the event leaves the counter alone
        event = await uow.events.get(catalog.paediatrics.id)
        assert event is not None
        event.update({"title": "Renamed"}, now=T0 + DAY)
        await uow.events.save(event)
        await uow.commit()
    again = await backend.catalog.event(catalog.paediatrics.id)
    assert again is not None
    assert again.seats_available == 5


async def _same_as_views(backend: Backend, filters: EventFilters, page: PageRequest) -> list[dict]:
    """``events_json`` must say exactly what encoding ``events`` says, on every adapter."""
    as_json = json.loads(await backend.catalog.events_json(filters, page))
    assert as_json == json.loads(msgspec.json.encode(await backend.catalog.events(filters, page)))
    return list(as_json)


@pytest.mark.parametrize(
    "filters",
    [
        EventFilters(),
        EventFilters(q="cardiology"),
        EventFilters(organization_slug="acme", free=True),
        EventFilters(statuses=tuple(EventStatus)),
        EventFilters(tag="nothing-has-this"),
        EventFilters(statuses=()),
    ],
)
async def test_events_json_matches_the_views(
    backend: Backend, catalog: Catalog, filters: EventFilters
) -> None:
    await _same_as_views(backend, filters, ALL)
    await _same_as_views(backend, filters, PageRequest(limit=1, offset=1))


async def test_events_json_follows_saves_renames_and_seats(
    backend: Backend, catalog: Catalog
) -> None:
    async with backend.uow() as uow:
        event = await uow.events.get(catalog.ethics.id)
        assert event is not None
        event.update({"title": "Ethics Masterclass", "capacity": 30}, now=T0 + DAY)
        await uow.events.save(event)
        organization = await uow.organizations.get(catalog.acme.id)
        assert organization is not None
        organization.update(now=T0 + DAY, name="Acme Renamed")
        await uow.organizations.save(organization)
        await uow.commit()
    if isinstance(backend.database, SqlDatabase):
        async with backend.database.engine.begin() as connection:
            await connection.execute(
                update(tables.events)
                .where(tables.events.c.id == catalog.ethics.id)
                .values(seats_taken=7)
            )
    listed = await _same_as_views(backend, EventFilters(organization_slug="acme"), ALL)
    ethics = next(item for item in listed if item["id"] == str(catalog.ethics.id))
    assert ethics["title"] == "Ethics Masterclass"
    assert ethics["organization"]["name"] == "Acme Renamed"
    assert ethics["seats_available"] == (23 if isinstance(backend.database, SqlDatabase) else 30)


# Courses


@dataclass
class Courses:
    acme: Organization
    beta: Organization
    prescribing: Course  # acme, self-paced, free
    leadership: Course  # acme, cohort, paid
    audit: Course  # beta, self-paced, free
    draft: Course  # beta, draft
    archived: Course  # acme, archived


@pytest.fixture
async def courses(backend: Backend) -> Courses:
    acme = make_organization("Acme Health", slug="acme")
    beta = make_organization("Beta College", slug="beta")
    found = Courses(
        acme=acme,
        beta=beta,
        prescribing=make_course(
            acme, title="prescribing Safely", description="Antibiotic stewardship"
        ),
        leadership=make_course(
            acme,
            title="Clinical Leadership",
            description="Leading teams: a cohort programme",
            mode=CourseMode.COHORT,
            price=Money(25_000, "GBP"),
        ),
        audit=make_course(beta, title="Audit Basics", description="Quality improvement"),
        draft=make_course(beta, title="Draft course", status=CourseStatus.DRAFT),
        archived=make_course(acme, title="Old course", status=CourseStatus.ARCHIVED),
    )
    await given(
        backend,
        acme,
        beta,
        found.prescribing,
        found.leadership,
        found.audit,
        found.draft,
        found.archived,
    )
    return found


async def course_titles(backend: Backend, page: PageRequest = ALL, **filters: object) -> list[str]:
    chosen = CourseFilters(**filters)  # type: ignore[arg-type]
    items = await backend.catalog.courses(chosen, page)
    everything = await backend.catalog.courses(chosen, ALL)
    assert await backend.catalog.count_courses(chosen) == len(everything)
    return [item.title for item in items]


async def test_courses_list_published_by_title(backend: Backend, courses: Courses) -> None:
    items = await backend.catalog.courses(CourseFilters(), ALL)

    assert items == [
        CourseView.of(courses.audit, OrganizationRef.of(courses.beta)),
        CourseView.of(courses.leadership, OrganizationRef.of(courses.acme)),
        CourseView.of(courses.prescribing, OrganizationRef.of(courses.acme)),  # case-insensitive
    ]
    assert await backend.catalog.count_courses(CourseFilters()) == 3
    assert await course_titles(backend, PageRequest(limit=2, offset=1)) == [
        "Clinical Leadership",
        "prescribing Safely",
    ]
    assert await course_titles(backend, PageRequest(limit=2, offset=3)) == []


async def test_course_filters(backend: Backend, courses: Courses) -> None:
    assert await course_titles(backend, statuses=(CourseStatus.DRAFT, CourseStatus.ARCHIVED)) == [
        "Draft course",
        "Old course",
    ]
    assert await course_titles(backend, statuses=()) == []
    assert await course_titles(backend, q="PRESCRIBING") == ["prescribing Safely"]
    assert await course_titles(backend, q="prescrib") == []  # whole words
    assert await course_titles(backend, q="stewardship") == ["prescribing Safely"]  # description
    assert await course_titles(backend, q="leading cohort") == ["Clinical Leadership"]
    assert await course_titles(backend, q="ship") == []  # not the middle of a word
    assert await course_titles(backend, q="course") == []  # not published
    assert await course_titles(backend, organization_id=courses.acme.id) == [
        "Clinical Leadership",
        "prescribing Safely",
    ]
    assert await course_titles(backend, organization_slug="beta") == ["Audit Basics"]
    assert await course_titles(backend, organization_slug="unknown") == []
    assert await course_titles(backend, mode=CourseMode.COHORT) == ["Clinical Leadership"]
    assert await course_titles(backend, free=True) == ["Audit Basics", "prescribing Safely"]
    assert await course_titles(backend, free=False) == ["Clinical Leadership"]
    assert await course_titles(
        backend, free=True, organization_slug="acme", mode=CourseMode.SELF_PACED, q="safely"
    ) == ["prescribing Safely"]


async def test_course_by_id_shows_any_status(backend: Backend, courses: Courses) -> None:
    assert await backend.catalog.course(courses.draft.id) == CourseView.of(
        courses.draft, OrganizationRef.of(courses.beta)
    )
    found = await backend.catalog.course(courses.leadership.id)
    assert found == CourseView.of(courses.leadership, OrganizationRef.of(courses.acme))
    assert found is not None
    assert found.mode is CourseMode.COHORT
    assert str(found.cpd_credits) == "3"
    assert await backend.catalog.course(uuid4()) is None
