"""Courses through CourseService on the memory adapters: who may, slugs, lifecycle, free
enrolment, catalog cache invalidation and the tenant line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cpd.domain.accounts import Actor
from cpd.domain.catalog import CourseFilters, CourseView
from cpd.domain.courses import CourseMode, CourseStatus, Enrollment, EnrollmentStatus
from cpd.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cpd.domain.ids import new_id
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from cpd.services.learning.commands import CourseFields
from tests.support.commands import new_course
from tests.unit.fakes import CatalogWorld, Tenants

ALL_STATUSES = CourseFilters(statuses=tuple(CourseStatus))


async def course(
    world: CatalogWorld, tenants: Tenants, *, actor: Actor | None = None, **details: Any
) -> CourseView:
    return await world.courses.create(
        actor or tenants.staff,
        new_course(tenants.org.id, {"title": "Safeguarding Essentials"} | details),
    )


async def live(world: CatalogWorld, tenants: Tenants, **details: Any) -> CourseView:
    created = await course(world, tenants, **details)
    return await world.courses.publish(tenants.staff, created.id)


async def stored(world: CatalogWorld, tenants: Tenants, course_id: Any) -> CourseView:
    return await world.catalog.course(course_id, tenants.staff)


async def enrollment_of(world: CatalogWorld, course_id: Any, user_id: Any) -> Enrollment | None:
    async with world.db.unit_of_work() as uow:
        return await uow.enrollments.get(course_id, user_id)


async def count_all(world: CatalogWorld) -> int:
    return await world.reader.count_courses(ALL_STATUSES)


# --- create -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "staff", "superadmin"])
async def test_staff_create_a_draft_course(world: CatalogWorld, tenants: Tenants, who: str) -> None:
    view = await course(
        world,
        tenants,
        actor=getattr(tenants, who),
        mode="cohort",
        price={"amount": 4900, "currency": "GBP"},
        cpd_credits="3.50",
    )
    assert view.status is CourseStatus.DRAFT
    assert (view.organization.id, view.organization.slug) == (tenants.org.id, "acme-training")
    assert (view.title, view.slug, view.mode) == (
        "Safeguarding Essentials",
        "safeguarding-essentials",
        CourseMode.COHORT,
    )
    assert (view.price, str(view.cpd_credits)) == (Money(4900, "GBP"), "3.5")
    assert await stored(world, tenants, view.id) == view


async def test_a_member_may_not_create_courses(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(PermissionDenied):
        await course(world, tenants, actor=tenants.member)
    assert await count_all(world) == 0


@pytest.mark.parametrize("who", ["outsider", "other_admin"])
async def test_outsiders_cannot_create_courses_here(
    world: CatalogWorld, tenants: Tenants, who: str
) -> None:
    with pytest.raises(NotFound):
        await course(world, tenants, actor=getattr(tenants, who))
    assert await count_all(world) == 0


async def test_course_slugs_are_derived_deduplicated_and_checked(
    world: CatalogWorld, tenants: Tenants
) -> None:
    assert [(await course(world, tenants)).slug for _ in range(3)] == [
        "safeguarding-essentials",
        "safeguarding-essentials-2",
        "safeguarding-essentials-3",
    ]
    elsewhere = await world.courses.create(
        tenants.other_admin, new_course(tenants.other_org.id, {"title": "Safeguarding Essentials"})
    )
    assert elsewhere.slug == "safeguarding-essentials"
    assert (await course(world, tenants, slug="sg-101")).slug == "sg-101"
    with pytest.raises(Conflict) as taken:
        await course(world, tenants, slug="sg-101")
    assert taken.value.field == "slug"
    with pytest.raises(InvalidInput) as malformed:
        await course(world, tenants, slug="SG 101")
    assert malformed.value.field == "slug"
    assert await count_all(world) == 5


@pytest.mark.parametrize("who", ["admin", "superadmin"])
async def test_creating_in_an_unknown_organization_is_not_found(
    world: CatalogWorld, tenants: Tenants, who: str
) -> None:
    with pytest.raises(NotFound):
        await world.courses.create(getattr(tenants, who), new_course(new_id(), {"title": "Orphan"}))
    assert await count_all(world) == 0


async def test_a_course_without_a_title_is_refused(world: CatalogWorld, tenants: Tenants) -> None:
    with pytest.raises(InvalidInput) as caught:
        await world.courses.create(tenants.staff, new_course(tenants.org.id, {}))
    assert caught.value.field == "title"
    assert await count_all(world) == 0


# --- update, publish, archive, delete ---------------------------------------------------------


async def test_staff_update_publish_and_archive(world: CatalogWorld, tenants: Tenants) -> None:
    created = await course(world, tenants)
    updated = await world.courses.update(
        tenants.admin, created.id, CourseFields(title="Safeguarding Level 2", mode="cohort")
    )
    assert (updated.title, updated.mode, updated.slug) == (
        "Safeguarding Level 2",
        CourseMode.COHORT,
        "safeguarding-essentials",
    )
    published = await world.courses.publish(tenants.staff, created.id)
    assert published.status is CourseStatus.PUBLISHED
    with pytest.raises(Conflict):
        await world.courses.publish(tenants.staff, created.id)
    archived = await world.courses.archive(tenants.staff, created.id)
    assert archived.status is CourseStatus.ARCHIVED
    with pytest.raises(Conflict):
        await world.courses.update(tenants.staff, created.id, CourseFields(title="Back"))
    assert await stored(world, tenants, created.id) == archived


async def test_a_course_slug_moves_only_to_a_free_one(
    world: CatalogWorld, tenants: Tenants
) -> None:
    first = await course(world, tenants, slug="first")
    await course(world, tenants, slug="second")
    with pytest.raises(Conflict) as caught:
        await world.courses.update(tenants.staff, first.id, CourseFields(slug="second"))
    assert caught.value.field == "slug"
    assert (
        await world.courses.update(tenants.staff, first.id, CourseFields(slug="first"))
    ).slug == "first"
    assert (
        await world.courses.update(tenants.staff, first.id, CourseFields(slug="third"))
    ).slug == "third"


async def test_a_refused_course_update_changes_nothing(
    world: CatalogWorld, tenants: Tenants
) -> None:
    created = await course(world, tenants)
    with pytest.raises(InvalidInput) as caught:
        await world.courses.update(
            tenants.staff, created.id, CourseFields(title="New", mode="bootcamp")
        )
    assert caught.value.field == "mode"
    assert await stored(world, tenants, created.id) == created


async def test_a_member_may_not_change_a_course(world: CatalogWorld, tenants: Tenants) -> None:
    created = await course(world, tenants)
    with pytest.raises(PermissionDenied):
        await world.courses.update(tenants.member, created.id, CourseFields(title="Mine"))
    for step in (world.courses.publish, world.courses.archive, world.courses.delete):
        with pytest.raises(PermissionDenied):
            await step(tenants.member, created.id)
    assert await stored(world, tenants, created.id) == created


async def test_a_draft_course_can_be_deleted(world: CatalogWorld, tenants: Tenants) -> None:
    created = await course(world, tenants)
    await world.courses.delete(tenants.staff, created.id)
    with pytest.raises(NotFound):
        await stored(world, tenants, created.id)
    with pytest.raises(NotFound):
        await world.courses.delete(tenants.staff, created.id)


@pytest.mark.parametrize("step", ["publish", "archive"])
async def test_only_draft_courses_are_deleted(
    world: CatalogWorld, tenants: Tenants, step: str
) -> None:
    created = await course(world, tenants)
    await getattr(world.courses, step)(tenants.staff, created.id)
    with pytest.raises(Conflict, match="archive it instead"):
        await world.courses.delete(tenants.staff, created.id)
    assert (await stored(world, tenants, created.id)).id == created.id


async def test_a_draft_with_enrolments_is_not_deleted(
    world: CatalogWorld, tenants: Tenants
) -> None:
    created = await course(world, tenants)
    learner = await world.user("learner@example.com")
    async with world.db.unit_of_work() as uow:
        await uow.enrollments.add(
            Enrollment(new_id(), created.id, learner.id, enrolled_at=world.clock.now())
        )
        await uow.commit()
    with pytest.raises(Conflict, match="enrolments"):
        await world.courses.delete(tenants.staff, created.id)
    assert (await stored(world, tenants, created.id)).id == created.id


async def test_an_unknown_course_is_not_found(world: CatalogWorld, tenants: Tenants) -> None:
    for step in (world.courses.publish, world.courses.archive, world.courses.delete):
        with pytest.raises(NotFound):
            await step(tenants.superadmin, new_id())
    with pytest.raises(NotFound):
        await world.courses.enroll(tenants.member, new_id())


# --- enrolment --------------------------------------------------------------------------------


async def test_anyone_signed_in_enrolls_in_a_free_published_course(
    world: CatalogWorld, tenants: Tenants
) -> None:
    published = await live(world, tenants)
    world.clock.advance(minutes=3)
    enrollment = await world.courses.enroll(tenants.outsider, published.id)
    assert (enrollment.course_id, enrollment.user_id) == (published.id, tenants.outsider.user_id)
    assert (enrollment.status, enrollment.enrolled_at) == (
        EnrollmentStatus.ACTIVE,
        world.clock.now(),
    )
    assert await enrollment_of(world, published.id, tenants.outsider.user_id) == enrollment


async def test_enrolling_twice_is_a_conflict(world: CatalogWorld, tenants: Tenants) -> None:
    published = await live(world, tenants)
    first = await world.courses.enroll(tenants.member, published.id)
    with pytest.raises(Conflict, match="already enrolled"):
        await world.courses.enroll(tenants.member, published.id)
    assert await enrollment_of(world, published.id, tenants.member.user_id) == first


async def test_a_paid_course_answers_a_clear_conflict(
    world: CatalogWorld, tenants: Tenants
) -> None:
    published = await live(world, tenants, price={"amount": 2500, "currency": "GBP"})
    with pytest.raises(Conflict, match="paid") as caught:
        await world.courses.enroll(tenants.member, published.id)
    assert caught.value.field == "price"
    assert await enrollment_of(world, published.id, tenants.member.user_id) is None


@pytest.mark.parametrize("step", [None, "archive"])
async def test_a_course_that_is_not_published_is_not_found_for_enrolment(
    world: CatalogWorld, tenants: Tenants, step: str | None
) -> None:
    created = await course(world, tenants)
    if step:
        await world.courses.publish(tenants.staff, created.id)
        await getattr(world.courses, step)(tenants.staff, created.id)
    for who in (tenants.outsider, tenants.staff):
        with pytest.raises(NotFound):
            await world.courses.enroll(who, created.id)
        assert await enrollment_of(world, created.id, who.user_id) is None


async def test_an_enrolled_published_course_cannot_be_deleted(
    world: CatalogWorld, tenants: Tenants
) -> None:
    published = await live(world, tenants)
    await world.courses.enroll(tenants.member, published.id)
    with pytest.raises(Conflict):
        await world.courses.delete(tenants.staff, published.id)


# --- the catalog cache ------------------------------------------------------------------------

Change = Callable[[CatalogWorld, Tenants, CourseView], Awaitable[Any]]

CHANGES: dict[str, Change] = {
    "update": lambda w, t, c: w.courses.update(t.staff, c.id, CourseFields(title="New")),
    "publish": lambda w, t, c: w.courses.publish(t.staff, c.id),
    "archive": lambda w, t, c: w.courses.archive(t.staff, c.id),
    "delete": lambda w, t, c: w.courses.delete(t.staff, c.id),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_every_course_change_clears_the_catalog_cache(
    world: CatalogWorld, tenants: Tenants, change: str
) -> None:
    created = await course(world, tenants)
    await world.probe_cache()
    await CHANGES[change](world, tenants, created)
    assert await world.cache_was_cleared()


async def test_creating_a_course_clears_the_catalog_cache(
    world: CatalogWorld, tenants: Tenants
) -> None:
    await world.probe_cache()
    await course(world, tenants)
    assert await world.cache_was_cleared()


async def test_the_public_course_list_sees_changes_at_once(
    world: CatalogWorld, tenants: Tenants
) -> None:
    first = await live(world, tenants, title="Alpha")
    assert (await world.catalog.courses(CourseFilters(), PageRequest())).total == 1
    await live(world, tenants, title="Beta")
    await world.courses.archive(tenants.staff, first.id)
    page = await world.catalog.courses(CourseFilters(), PageRequest())
    assert (page.total, [c.title for c in page.items]) == (1, ["Beta"])


# --- the tenant line --------------------------------------------------------------------------


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("who", ["other_admin", "outsider"])
async def test_others_cannot_touch_a_course(
    world: CatalogWorld, tenants: Tenants, change: str, who: str
) -> None:
    created = await course(world, tenants)
    intruder = Tenants(**{**vars(tenants), "staff": getattr(tenants, who)})
    with pytest.raises(NotFound):
        await CHANGES[change](world, intruder, created)
    assert await stored(world, tenants, created.id) == created
