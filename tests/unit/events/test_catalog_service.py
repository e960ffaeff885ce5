"""The public catalog through CatalogService on the memory adapters: pages with totals,
cached totals and their invalidation, and who may see what."""

from __future__ import annotations

from typing import Any

import pytest

from cpd.domain.accounts import Actor
from cpd.domain.catalog import CourseFilters, EventFilters, EventView
from cpd.domain.courses import CourseStatus
from cpd.domain.errors import NotFound, PermissionDenied
from cpd.domain.events import Event, EventFormat, EventStatus
from cpd.domain.ids import new_id
from cpd.domain.pages import PageRequest
from tests.support.commands import new_course, new_event
from tests.unit.fakes import CatalogWorld, Tenants, event_details, session_spec

EVERY_STATUS = EventFilters(statuses=tuple(EventStatus))


async def event(
    world: CatalogWorld,
    tenants: Tenants,
    title: str,
    *,
    day: int = 7,
    status: EventStatus = EventStatus.PUBLISHED,
    **details: Any,
) -> EventView:
    view = await world.events.create(
        tenants.staff,
        new_event(tenants.org.id, event_details(title=title, **details), [session_spec(day=day)]),
    )
    if status is EventStatus.DRAFT:
        return view
    if status is EventStatus.CANCELLED:
        return await world.events.cancel(tenants.staff, view.id)
    view = await world.events.publish(tenants.staff, view.id)
    if status is EventStatus.COMPLETED:
        world.clock.advance(days=day + 1)
        view = await world.events.complete(tenants.staff, view.id)
    return view


async def course(
    world: CatalogWorld, tenants: Tenants, title: str, *, status: CourseStatus, **details: Any
) -> Any:
    view = await world.courses.create(
        tenants.staff, new_course(tenants.org.id, {"title": title} | details)
    )
    if status is not CourseStatus.DRAFT:
        view = await world.courses.publish(tenants.staff, view.id)
    if status is CourseStatus.ARCHIVED:
        view = await world.courses.archive(tenants.staff, view.id)
    return view


def titles(items: list[Any]) -> list[str]:
    return [item.title for item in items]


# --- event pages ------------------------------------------------------------------------------


async def test_the_public_list_shows_published_events_by_start_with_a_total(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "Late", day=9)
    await event(world, tenants, "Early", day=2)
    await event(world, tenants, "Middle", day=5)
    await event(world, tenants, "Draft", status=EventStatus.DRAFT)
    await event(world, tenants, "Called off", status=EventStatus.CANCELLED)

    first = await world.catalog.events(EventFilters(), PageRequest(limit=2))
    assert (titles(first.items), first.total, first.limit, first.offset) == (
        ["Early", "Middle"],
        3,
        2,
        0,
    )
    rest = await world.catalog.events(EventFilters(), PageRequest(limit=2, offset=2))
    assert (titles(rest.items), rest.total) == (["Late"], 3)
    beyond = await world.catalog.events(EventFilters(), PageRequest(limit=2, offset=10))
    assert (beyond.items, beyond.total) == ([], 3)


async def test_filters_narrow_the_items_and_the_total(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "Governance day", tags=["law"])
    await event(world, tenants, "Online ethics", format="online", venue=None, day=3)
    await event(
        world, tenants, "Paid masterclass", price={"amount": 9900, "currency": "GBP"}, day=4
    )
    cases = {
        EventFilters(q="ethics"): ["Online ethics"],
        EventFilters(format=EventFormat.ONLINE): ["Online ethics"],
        EventFilters(tag="LAW"): ["Governance day"],
        EventFilters(free=False): ["Paid masterclass"],
        EventFilters(organization_slug="acme-training"): [
            "Online ethics",
            "Paid masterclass",
            "Governance day",
        ],
        EventFilters(organization_slug="beta-academy"): [],
        EventFilters(organization_slug="no-such-org"): [],
    }
    for filters, expected in cases.items():
        page = await world.catalog.events(filters, PageRequest())
        assert (titles(page.items), page.total) == (expected, len(expected)), filters


# --- course pages -----------------------------------------------------------------------------


async def test_the_public_course_list_shows_published_courses_with_a_total(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await course(world, tenants, "Beta", status=CourseStatus.PUBLISHED)
    await course(world, tenants, "alpha", status=CourseStatus.PUBLISHED)
    await course(world, tenants, "Gamma", status=CourseStatus.PUBLISHED)
    await course(world, tenants, "Draft", status=CourseStatus.DRAFT)
    await course(world, tenants, "Old", status=CourseStatus.ARCHIVED)
    page = await world.catalog.courses(CourseFilters(), PageRequest(limit=2))
    assert (titles(page.items), page.total) == (["alpha", "Beta"], 3)
    free = await world.catalog.courses(CourseFilters(free=True, q="gamma"), PageRequest())
    assert (titles(free.items), free.total) == (["Gamma"], 1)


# --- cached totals ----------------------------------------------------------------------------


async def test_an_event_total_is_counted_once_and_recounted_after_a_change(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "First")
    counts_before = world.reader.event_counts
    for _ in range(3):
        assert (await world.catalog.events(EventFilters(), PageRequest())).total == 1
    assert world.reader.event_counts == counts_before + 1

    await event(world, tenants, "Second")  # publishing clears the catalog cache
    page = await world.catalog.events(EventFilters(), PageRequest())
    assert (page.total, len(page.items)) == (2, 2)
    assert world.reader.event_counts == counts_before + 2


async def test_a_cached_total_is_kept_until_the_cache_is_cleared(
    world: CatalogWorld, tenants: Tenants
) -> None:
    first = await event(world, tenants, "First")
    assert (await world.catalog.events(EventFilters(), PageRequest())).total == 1
    # A change that bypasses the services (and so the cache): the total is the cached one...
    async with world.db.unit_of_work() as uow:
        copy = Event.create(
            organization_id=tenants.org.id,
            slug="sneaky",
            now=world.clock.now(),
            details=event_details(),
            sessions=[session_spec(day=1)],
        )
        copy.publish(now=world.clock.now())
        await uow.events.add(copy)
        await uow.commit()
    page = await world.catalog.events(EventFilters(), PageRequest())
    assert (page.total, len(page.items)) == (1, 2)
    # ...until anything clears it.
    await world.cache.clear()
    assert (await world.catalog.events(EventFilters(), PageRequest())).total == 2
    assert first.id in {e.id for e in page.items}


async def test_each_filter_set_has_its_own_cached_total(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "Governance", tags=["law"])
    await event(world, tenants, "Ethics", day=3)
    before = world.reader.event_counts
    assert (await world.catalog.events(EventFilters(), PageRequest())).total == 2
    assert (await world.catalog.events(EventFilters(tag="law"), PageRequest())).total == 1
    assert (await world.catalog.events(EventFilters(tag="law"), PageRequest(offset=1))).total == 1
    assert (await world.catalog.events(EventFilters(), PageRequest(limit=1))).total == 2
    assert world.reader.event_counts == before + 2


async def test_a_course_total_is_counted_once_and_recounted_after_a_change(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await course(world, tenants, "Alpha", status=CourseStatus.PUBLISHED)
    before = world.reader.course_counts
    for _ in range(3):
        assert (await world.catalog.courses(CourseFilters(), PageRequest())).total == 1
    assert world.reader.course_counts == before + 1
    await course(world, tenants, "Beta", status=CourseStatus.PUBLISHED)
    assert (await world.catalog.courses(CourseFilters(), PageRequest())).total == 2
    assert world.reader.course_counts == before + 2


async def test_event_and_course_totals_do_not_share_a_key(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "Only event")
    await course(world, tenants, "One", status=CourseStatus.PUBLISHED)
    await course(world, tenants, "Two", status=CourseStatus.PUBLISHED)
    assert (await world.catalog.events(EventFilters(), PageRequest())).total == 1
    assert (await world.catalog.courses(CourseFilters(), PageRequest())).total == 2
    assert (await world.catalog.events(EventFilters(), PageRequest())).total == 1


# --- detail: who sees what --------------------------------------------------------------------

HIDDEN_FROM = ["anonymous", "member", "outsider", "other_admin"]
SHOWN_TO = ["staff", "admin", "superadmin"]


def viewer(tenants: Tenants, who: str) -> Actor | None:
    return None if who == "anonymous" else getattr(tenants, who)


async def test_a_published_event_is_public(world: CatalogWorld, tenants: Tenants) -> None:
    published = await event(world, tenants, "Open day")
    for who in ["anonymous", "member", "outsider", "other_admin", *SHOWN_TO]:
        assert await world.catalog.event(published.id, viewer(tenants, who)) == published


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
async def test_unpublished_events_are_for_their_staff_only(
    world: CatalogWorld, tenants: Tenants, status: EventStatus
) -> None:
    hidden = await event(world, tenants, "Not yet", status=status)
    for who in HIDDEN_FROM:
        with pytest.raises(NotFound):
            await world.catalog.event(hidden.id, viewer(tenants, who))
        with pytest.raises(NotFound):
            await world.catalog.event_by_slug("acme-training", hidden.slug, viewer(tenants, who))
    for who in SHOWN_TO:
        assert (await world.catalog.event(hidden.id, viewer(tenants, who))).status is status


async def test_an_unknown_event_is_not_found(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(NotFound):
        await world.catalog.event(new_id(), tenants.superadmin)


async def test_an_event_is_found_by_its_organization_and_slug(
    world: CatalogWorld, tenants: Tenants
) -> None:
    published = await event(world, tenants, "Open day")
    assert await world.catalog.event_by_slug("acme-training", "open-day") == published
    await world.events.create(
        tenants.other_admin, new_event(tenants.other_org.id, event_details(title="Open day"))
    )
    for org_slug, event_slug in [
        ("beta-academy", "open-day"),  # a draft of the other organization
        ("no-such-org", "open-day"),
        ("acme-training", "closed-day"),
    ]:
        with pytest.raises(NotFound):
            await world.catalog.event_by_slug(org_slug, event_slug)
    other = await world.catalog.event_by_slug("beta-academy", "open-day", tenants.other_admin)
    assert other.organization.id == tenants.other_org.id


async def test_a_completed_event_is_visible_wherever_its_sessions_are(
    world: CatalogWorld, tenants: Tenants
) -> None:
    done = await event(world, tenants, "Last year", day=1, status=EventStatus.COMPLETED)
    sessions = await world.events.sessions(None, done.id)
    assert [s.id for s in sessions] == [s.id for s in done.sessions]
    assert (await world.catalog.event(done.id)).status is EventStatus.COMPLETED


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.ARCHIVED])
async def test_unpublished_courses_are_for_their_staff_only(
    world: CatalogWorld, tenants: Tenants, status: CourseStatus
) -> None:
    hidden = await course(world, tenants, "Hidden", status=status)
    for who in HIDDEN_FROM:
        with pytest.raises(NotFound):
            await world.catalog.course(hidden.id, viewer(tenants, who))
    for who in SHOWN_TO:
        assert (await world.catalog.course(hidden.id, viewer(tenants, who))).status is status


async def test_a_published_course_is_public(world: CatalogWorld, tenants: Tenants) -> None:
    published = await course(world, tenants, "Open", status=CourseStatus.PUBLISHED)
    assert await world.catalog.course(published.id) == published
    with pytest.raises(NotFound):
        await world.catalog.course(new_id())


# --- an organization's own list ---------------------------------------------------------------


async def test_staff_list_every_event_of_their_organization(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "Published", day=3)
    await event(world, tenants, "Draft", day=1, status=EventStatus.DRAFT)
    await event(world, tenants, "Cancelled", day=2, status=EventStatus.CANCELLED)
    await world.events.create(
        tenants.other_admin,
        new_event(tenants.other_org.id, event_details(title="Theirs"), [session_spec()]),
    )
    for who in SHOWN_TO:
        page = await world.catalog.organization_events(
            getattr(tenants, who), tenants.org.id, EVERY_STATUS, PageRequest()
        )
        assert (titles(page.items), page.total) == (["Draft", "Cancelled", "Published"], 3)
    drafts = await world.catalog.organization_events(
        tenants.staff, tenants.org.id, EventFilters(statuses=(EventStatus.DRAFT,)), PageRequest()
    )
    assert (titles(drafts.items), drafts.total) == (["Draft"], 1)


async def test_the_organization_list_cannot_be_pointed_at_another_tenant(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await event(world, tenants, "Ours", status=EventStatus.DRAFT)
    await world.events.create(
        tenants.other_admin, new_event(tenants.other_org.id, event_details(title="Theirs"))
    )
    page = await world.catalog.organization_events(
        tenants.staff,
        tenants.org.id,
        EventFilters(statuses=tuple(EventStatus), organization_slug="beta-academy"),
        PageRequest(),
    )
    assert (titles(page.items), page.total) == (["Ours"], 1)


async def test_the_organization_list_is_for_staff(world: CatalogWorld, tenants: Tenants) -> None:
    await event(world, tenants, "Draft", status=EventStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        await world.catalog.organization_events(
            tenants.member, tenants.org.id, EVERY_STATUS, PageRequest()
        )
    for who in ("outsider", "other_admin"):
        with pytest.raises(NotFound):
            await world.catalog.organization_events(
                getattr(tenants, who), tenants.org.id, EVERY_STATUS, PageRequest()
            )


async def test_the_organization_list_of_an_unknown_organization_is_not_found(
    world: CatalogWorld, tenants: Tenants
) -> None:
    with pytest.raises(NotFound):
        await world.catalog.organization_events(
            tenants.superadmin, new_id(), EVERY_STATUS, PageRequest()
        )
