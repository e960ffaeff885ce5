"""Running events through EventService on the memory adapters: who may, slugs, lifecycle,
sessions, deletion, catalog cache invalidation and the tenant line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cpd.domain.accounts import Actor
from cpd.domain.attendance import AttendanceRecord, AttendanceSource
from cpd.domain.catalog import EventFilters, EventView
from cpd.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cpd.domain.events import EventFormat, EventStatus
from cpd.domain.ids import new_id
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from cpd.services.events.commands import EventFields
from tests.support.commands import new_event
from tests.unit.fakes import CatalogWorld, Tenants, event_details, session_spec


async def draft(
    world: CatalogWorld,
    tenants: Tenants,
    *,
    actor: Actor | None = None,
    sessions: list[dict[str, Any]] | None = None,
    **details: Any,
) -> EventView:
    return await world.events.create(
        actor or tenants.staff,
        new_event(
            tenants.org.id,
            event_details(**details),
            [session_spec()] if sessions is None else sessions,
        ),
    )


async def published(world: CatalogWorld, tenants: Tenants, **details: Any) -> EventView:
    event = await draft(world, tenants, **details)
    return await world.events.publish(tenants.staff, event.id)


async def stored(world: CatalogWorld, tenants: Tenants, event_id: Any) -> EventView:
    """The event as its organization's staff now see it."""
    return await world.catalog.event(event_id, tenants.staff)


# --- create -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "staff", "superadmin"])
async def test_staff_create_a_draft_event(world: CatalogWorld, tenants: Tenants, who: str) -> None:
    view = await world.events.create(
        getattr(tenants, who),
        new_event(
            tenants.org.id,
            event_details(capacity=30, price={"amount": 1500, "currency": "GBP"}),
            [session_spec(day=2, hour=14), session_spec(day=1)],
        ),
    )
    assert view.status is EventStatus.DRAFT
    assert (view.organization.id, view.organization.name, view.organization.slug) == (
        tenants.org.id,
        "Acme Training",
        "acme-training",
    )
    assert (view.title, view.slug, view.format) == (
        "Clinical Governance Day",
        "clinical-governance-day",
        EventFormat.IN_PERSON,
    )
    assert (view.capacity, view.seats_available, view.price) == (30, 30, Money(1500, "GBP"))
    assert str(view.cpd_credits) == "6"
    assert [s.title for s in view.sessions] == ["Day 1 at 9", "Day 2 at 14"]
    assert view.starts_at == view.sessions[0].starts_at
    assert view.ends_at == view.sessions[1].ends_at
    assert await stored(world, tenants, view.id) == view


async def test_a_plain_member_may_not_create_events(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(PermissionDenied):
        await draft(world, tenants, actor=tenants.member)
    assert await count_all(world, tenants) == 0


@pytest.mark.parametrize("who", ["outsider", "other_admin"])
async def test_outsiders_do_not_learn_the_organization_exists(
    world: CatalogWorld, tenants: Tenants, who: str
) -> None:
    with pytest.raises(NotFound):
        await draft(world, tenants, actor=getattr(tenants, who))
    assert await count_all(world, tenants) == 0


@pytest.mark.parametrize("who", ["admin", "superadmin"])
async def test_creating_in_an_unknown_organization_is_not_found(
    world: CatalogWorld, tenants: Tenants, who: str
) -> None:
    with pytest.raises(NotFound):
        await world.events.create(getattr(tenants, who), new_event(new_id(), event_details()))
    assert await world.reader.count_events(EventFilters(statuses=tuple(EventStatus))) == 0


async def test_slugs_come_from_titles_and_are_deduplicated_per_organization(
    world: CatalogWorld, tenants: Tenants
) -> None:
    slugs = [
        (await draft(world, tenants, title=t)).slug
        for t in ("Intro to CPD", "Intro to CPD!", "intro  to cpd")
    ]
    assert slugs == ["intro-to-cpd", "intro-to-cpd-2", "intro-to-cpd-3"]
    elsewhere = await world.events.create(
        tenants.other_admin, new_event(tenants.other_org.id, event_details(title="Intro to CPD"))
    )
    assert elsewhere.slug == "intro-to-cpd"


async def test_an_untitled_draft_is_called_event_and_cannot_be_published(
    world: CatalogWorld, tenants: Tenants
) -> None:
    view = await world.events.create(tenants.staff, new_event(tenants.org.id, {}, [session_spec()]))
    assert (view.slug, view.title) == ("event", "")
    with pytest.raises(InvalidInput) as caught:
        await world.events.publish(tenants.staff, view.id)
    assert caught.value.field == "title"


async def test_a_title_without_latin_letters_gets_the_event_slug(
    world: CatalogWorld, tenants: Tenants
) -> None:
    view = await draft(world, tenants, title="研修の日")
    assert view.slug == "event"


async def test_an_explicit_slug_is_kept_and_must_be_free(
    world: CatalogWorld, tenants: Tenants
) -> None:
    first = await draft(world, tenants, slug="gov-2026")
    assert first.slug == "gov-2026"
    with pytest.raises(Conflict) as caught:
        await draft(world, tenants, slug="gov-2026", title="Another")
    assert caught.value.field == "slug"
    with pytest.raises(InvalidInput) as malformed:
        await draft(world, tenants, slug="Gov 2026")
    assert malformed.value.field == "slug"
    assert await count_all(world, tenants) == 1


async def test_invalid_details_store_nothing(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(InvalidInput) as caught:
        await draft(world, tenants, sessions=[session_spec(), session_spec()])
    assert caught.value.field == "sessions"
    # An unknown field no longer reaches the service: the typed command has none (mypy says so
    # where it is written); the domain's own refusal is in test_domain_events.
    with pytest.raises(TypeError, match="colour"):
        await draft(world, tenants, colour="red")
    assert await count_all(world, tenants) == 0


# --- update -----------------------------------------------------------------------------------


async def test_staff_update_an_event(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    world.clock.advance(minutes=5)
    view = await world.events.update(
        tenants.admin, event.id, EventFields(title="Governance 2027", capacity=12, tags=["Law"])
    )
    assert (view.title, view.capacity, view.tags) == ("Governance 2027", 12, ["law"])
    assert view.slug == event.slug  # a title change does not move the address
    assert await stored(world, tenants, event.id) == view


async def test_a_slug_can_move_to_a_free_one_only(world: CatalogWorld, tenants: Tenants) -> None:
    first = await draft(world, tenants, slug="first")
    await draft(world, tenants, slug="second")
    with pytest.raises(Conflict) as caught:
        await world.events.update(tenants.staff, first.id, EventFields(slug="second"))
    assert caught.value.field == "slug"
    same = await world.events.update(
        tenants.staff, first.id, EventFields(slug="first", title="Kept")
    )
    assert (same.slug, same.title) == ("first", "Kept")
    moved = await world.events.update(tenants.staff, first.id, EventFields(slug="renamed"))
    assert moved.slug == "renamed"
    await world.events.create(
        tenants.other_admin, new_event(tenants.other_org.id, event_details(slug="taken-elsewhere"))
    )
    assert (
        await world.events.update(tenants.staff, first.id, EventFields(slug="taken-elsewhere"))
    ).slug == "taken-elsewhere"


async def test_a_refused_update_changes_nothing(world: CatalogWorld, tenants: Tenants) -> None:
    event = await published(world, tenants)
    before = await stored(world, tenants, event.id)
    with pytest.raises(InvalidInput) as caught:
        await world.events.update(tenants.staff, event.id, EventFields(title="Renamed", venue=None))
    assert caught.value.field == "venue"
    assert await stored(world, tenants, event.id) == before


async def test_a_member_may_not_update(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    with pytest.raises(PermissionDenied):
        await world.events.update(tenants.member, event.id, EventFields(title="Mine now"))
    assert (await stored(world, tenants, event.id)).title == event.title


async def test_an_unknown_event_is_not_found(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(NotFound):
        await world.events.update(tenants.admin, new_id(), EventFields(title="X"))
    with pytest.raises(NotFound):
        await world.events.publish(tenants.superadmin, new_id())


# --- lifecycle --------------------------------------------------------------------------------


async def test_publish_cancel_and_complete(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants, sessions=[session_spec(day=1)])
    live = await world.events.publish(tenants.staff, event.id)
    assert live.status is EventStatus.PUBLISHED
    assert (await world.catalog.event(event.id)).status is EventStatus.PUBLISHED

    with pytest.raises(Conflict, match="before it starts"):
        await world.events.complete(tenants.staff, event.id)
    world.clock.advance(days=1, hours=2)
    done = await world.events.complete(tenants.admin, event.id)
    assert done.status is EventStatus.COMPLETED
    with pytest.raises(Conflict):
        await world.events.cancel(tenants.admin, event.id)

    other = await draft(world, tenants)
    assert (await world.events.cancel(tenants.staff, other.id)).status is EventStatus.CANCELLED
    with pytest.raises(Conflict):
        await world.events.publish(tenants.staff, other.id)


async def test_publishing_an_incomplete_draft_names_what_is_missing(
    world: CatalogWorld, tenants: Tenants
) -> None:
    event = await draft(world, tenants, sessions=[])
    with pytest.raises(InvalidInput) as caught:
        await world.events.publish(tenants.staff, event.id)
    assert caught.value.field == "sessions"
    assert (await stored(world, tenants, event.id)).status is EventStatus.DRAFT


async def test_a_member_may_not_publish(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    for step in (world.events.publish, world.events.cancel, world.events.complete):
        with pytest.raises(PermissionDenied):
            await step(tenants.member, event.id)
    assert (await stored(world, tenants, event.id)).status is EventStatus.DRAFT


# --- sessions ---------------------------------------------------------------------------------


async def test_sessions_are_added_changed_and_removed(
    world: CatalogWorld, tenants: Tenants
) -> None:
    event = await draft(world, tenants, sessions=[session_spec(day=2)])
    added = await world.events.add_session(tenants.staff, event.id, session_spec(day=1))
    assert added.event_id == event.id
    view = await stored(world, tenants, event.id)
    assert [s.id for s in view.sessions] == [added.id, event.sessions[0].id]
    assert view.starts_at == added.starts_at

    changed = await world.events.update_session(
        tenants.staff, event.id, added.id, {"title": "Welcome", "room": "Room 2"}
    )
    assert (changed.id, changed.title, changed.room) == (added.id, "Welcome", "Room 2")
    assert (await stored(world, tenants, event.id)).sessions[0].title == "Welcome"

    await world.events.remove_session(tenants.staff, event.id, added.id)
    view = await stored(world, tenants, event.id)
    assert [s.id for s in view.sessions] == [event.sessions[0].id]
    assert view.starts_at == event.sessions[0].starts_at


async def test_session_rules_hold_through_the_service(
    world: CatalogWorld, tenants: Tenants
) -> None:
    event = await published(world, tenants)
    (only,) = event.sessions
    with pytest.raises(InvalidInput) as overlap:
        await world.events.add_session(tenants.staff, event.id, session_spec())
    assert overlap.value.field == "sessions"
    with pytest.raises(InvalidInput) as last:
        await world.events.remove_session(tenants.staff, event.id, only.id)
    assert last.value.field == "sessions"
    with pytest.raises(NotFound):
        await world.events.update_session(tenants.staff, event.id, new_id(), {"title": "X"})
    assert (await stored(world, tenants, event.id)).sessions == event.sessions


async def test_a_session_of_another_event_is_not_found_here(
    world: CatalogWorld, tenants: Tenants
) -> None:
    first = await draft(world, tenants, title="First")
    second = await draft(world, tenants, title="Second")
    with pytest.raises(NotFound):
        await world.events.remove_session(tenants.staff, first.id, second.sessions[0].id)
    assert len((await stored(world, tenants, second.id)).sessions) == 1


async def test_sessions_of_a_public_event_are_public(world: CatalogWorld, tenants: Tenants) -> None:
    event = await published(world, tenants)
    for viewer in (None, tenants.outsider, tenants.member):
        assert [s.id for s in await world.events.sessions(viewer, event.id)] == [
            s.id for s in event.sessions
        ]


async def test_sessions_of_a_draft_are_for_staff_only(
    world: CatalogWorld, tenants: Tenants
) -> None:
    event = await draft(world, tenants)
    for viewer in (None, tenants.outsider, tenants.member, tenants.other_admin):
        with pytest.raises(NotFound):
            await world.events.sessions(viewer, event.id)
    for staff in (tenants.staff, tenants.admin, tenants.superadmin):
        assert len(await world.events.sessions(staff, event.id)) == 1


async def test_a_member_may_not_edit_sessions(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    with pytest.raises(PermissionDenied):
        await world.events.add_session(tenants.member, event.id, session_spec(day=3))
    assert len((await stored(world, tenants, event.id)).sessions) == 1


# --- delete -----------------------------------------------------------------------------------


async def test_a_draft_can_be_deleted(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    await world.events.delete(tenants.staff, event.id)
    with pytest.raises(NotFound):
        await stored(world, tenants, event.id)
    with pytest.raises(NotFound):
        await world.events.delete(tenants.staff, event.id)
    # the slug is free again
    assert (await draft(world, tenants)).slug == event.slug


@pytest.mark.parametrize("step", ["publish", "cancel"])
async def test_only_drafts_are_deleted(world: CatalogWorld, tenants: Tenants, step: str) -> None:
    event = await draft(world, tenants)
    await getattr(world.events, step)(tenants.staff, event.id)
    with pytest.raises(Conflict, match="cancel it instead"):
        await world.events.delete(tenants.admin, event.id)
    assert (await stored(world, tenants, event.id)).id == event.id


async def test_a_draft_with_attendance_is_not_deleted(
    world: CatalogWorld, tenants: Tenants
) -> None:
    event = await draft(world, tenants)
    user = await world.user("attendee@example.com")
    async with world.db.unit_of_work() as uow:
        loaded = await uow.events.get(event.id)
        assert loaded is not None
        record = AttendanceRecord.record(
            loaded.sessions[0], user.id, source=AttendanceSource.STAFF, now=loaded.ends_at
        )
        await uow.attendance.record([record])
        await uow.commit()
    with pytest.raises(Conflict, match="attendance"):
        await world.events.delete(tenants.staff, event.id)
    assert (await stored(world, tenants, event.id)).id == event.id


async def test_a_member_may_not_delete(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    with pytest.raises(PermissionDenied):
        await world.events.delete(tenants.member, event.id)
    assert (await stored(world, tenants, event.id)).id == event.id


# --- the catalog cache ------------------------------------------------------------------------

Change = Callable[[CatalogWorld, Tenants, EventView], Awaitable[Any]]

CHANGES: dict[str, Change] = {
    "update": lambda w, t, e: w.events.update(t.staff, e.id, EventFields(title="New")),
    "publish": lambda w, t, e: w.events.publish(t.staff, e.id),
    "cancel": lambda w, t, e: w.events.cancel(t.staff, e.id),
    "delete": lambda w, t, e: w.events.delete(t.staff, e.id),
    "add_session": lambda w, t, e: w.events.add_session(t.staff, e.id, session_spec(day=3)),
    "update_session": lambda w, t, e: w.events.update_session(
        t.staff, e.id, e.sessions[0].id, {"title": "Renamed"}
    ),
    "remove_session": lambda w, t, e: w.events.remove_session(t.staff, e.id, e.sessions[0].id),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_every_change_clears_the_catalog_cache(
    world: CatalogWorld, tenants: Tenants, change: str
) -> None:
    event = await draft(world, tenants)
    await world.probe_cache()
    await CHANGES[change](world, tenants, event)
    assert await world.cache_was_cleared()


async def test_creating_and_completing_clear_the_catalog_cache(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await world.probe_cache()
    event = await published(world, tenants)
    assert await world.cache_was_cleared()
    world.clock.advance(days=8)
    await world.probe_cache()
    await world.events.complete(tenants.staff, event.id)
    assert await world.cache_was_cleared()


async def test_the_public_list_sees_a_change_at_once(world: CatalogWorld, tenants: Tenants) -> None:
    event = await published(world, tenants)
    page = await world.catalog.events(EventFilters(), PageRequest())
    assert (page.total, [e.title for e in page.items]) == (1, ["Clinical Governance Day"])
    await world.events.update(tenants.staff, event.id, EventFields(title="Renamed"))
    await published(world, tenants, title="Second")
    page = await world.catalog.events(EventFilters(), PageRequest())
    assert page.total == 2
    await world.events.cancel(tenants.staff, event.id)
    page = await world.catalog.events(EventFilters(), PageRequest())
    assert (page.total, [e.title for e in page.items]) == (1, ["Second"])


# --- the tenant line --------------------------------------------------------------------------

STAFF_STEPS: dict[str, Change] = {
    **CHANGES,
    "complete": lambda w, t, e: w.events.complete(t.staff, e.id),
}


@pytest.mark.parametrize("step", list(STAFF_STEPS))
async def test_staff_of_another_organization_cannot_touch_an_event(
    world: CatalogWorld, tenants: Tenants, step: str
) -> None:
    event = await published(world, tenants)
    world.clock.advance(days=8)
    before = await stored(world, tenants, event.id)
    intruder = Tenants(**{**vars(tenants), "staff": tenants.other_admin})
    with pytest.raises(NotFound):
        await STAFF_STEPS[step](world, intruder, event)
    assert await stored(world, tenants, event.id) == before


async def test_an_outsider_cannot_touch_an_event(world: CatalogWorld, tenants: Tenants) -> None:
    event = await draft(world, tenants)
    intruder = Tenants(**{**vars(tenants), "staff": tenants.outsider})
    for step in STAFF_STEPS.values():
        with pytest.raises(NotFound):
            await step(world, intruder, event)
    assert (await stored(world, tenants, event.id)).title == event.title


async def count_all(world: CatalogWorld, tenants: Tenants) -> int:
    page = await world.catalog.organization_events(
        tenants.superadmin,
        tenants.org.id,
        EventFilters(statuses=tuple(EventStatus)),
        PageRequest(),
    )
    return page.total
