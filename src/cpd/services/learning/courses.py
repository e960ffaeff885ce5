"""Courses in the catalog and free enrolment (paid enrolment waits for payments)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from cpd.domain.accounts import Actor, check_slug
from cpd.domain.catalog import CourseView, OrganizationRef
from cpd.domain.courses import Course, Enrollment
from cpd.domain.errors import Conflict, NotFound
from cpd.ports.platform import Cache, Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.access import require_approved, require_staff
from cpd.services.common.lookups import COURSE_NOT_FOUND
from cpd.services.common.slugs import free_slug
from cpd.services.learning.commands import CourseFields, NewCourse

SLUG_TAKEN = "This organization already has a course with this slug."


class CourseService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock, catalog_cache: Cache) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = catalog_cache

    async def create(self, actor: Actor, new: NewCourse) -> CourseView:
        organization_id, details = new.organization_id, new.fields.given()
        async with self._uow() as uow:
            await require_staff(uow, actor, organization_id, not_found="Organization not found.")
            slug = await free_slug(
                details.pop("slug", None),
                derive_from=str(details.get("title") or "course"),
                taken=lambda slug: uow.courses.slug_exists(organization_id, slug),
                taken_message=SLUG_TAKEN,
                fallback="course",
            )
            course = Course.create(
                organization_id=organization_id, slug=slug, now=self._clock.now(), details=details
            )
            await uow.courses.add(course)
            view = await _view(uow, course)
            await uow.commit()
        await self._cache.clear()
        return view

    async def update(self, actor: Actor, course_id: UUID, patch: CourseFields) -> CourseView:
        changes = patch.given()

        async def change(uow: UnitOfWork, course: Course) -> None:
            new_slug = changes.get("slug")
            if (
                new_slug
                and new_slug != course.slug
                and await uow.courses.slug_exists(course.organization_id, check_slug(new_slug))
            ):
                raise Conflict(SLUG_TAKEN, field="slug")
            course.update(changes, now=self._clock.now())

        return await self._change(actor, course_id, change)

    async def publish(self, actor: Actor, course_id: UUID) -> CourseView:
        async def publish(uow: UnitOfWork, course: Course) -> None:
            await require_approved(uow, course.organization_id)
            course.publish(now=self._clock.now())

        return await self._change(actor, course_id, publish)

    async def archive(self, actor: Actor, course_id: UUID) -> CourseView:
        async def archive(_: UnitOfWork, course: Course) -> None:
            course.archive(now=self._clock.now())

        return await self._change(actor, course_id, archive)

    async def delete(self, actor: Actor, course_id: UUID) -> None:
        async with self._uow() as uow:
            course = await _staff_course(uow, actor, course_id)
            course.ensure_deletable()
            if await uow.enrollments.count_for_course(course_id):
                raise Conflict("This course has enrolments; archive it instead.")
            await uow.courses.delete(course_id)
            await uow.commit()
        await self._cache.clear()

    async def enroll(self, actor: Actor, course_id: UUID) -> Enrollment:
        async with self._uow() as uow:
            course = await uow.courses.get(course_id)
            if course is None or not course.is_public:
                raise NotFound(COURSE_NOT_FOUND)
            if await uow.enrollments.get(course_id, actor.user_id) is not None:
                raise Conflict("You are already enrolled in this course.")
            enrollment = course.enroll(actor.user_id, now=self._clock.now())
            await uow.enrollments.add(enrollment)
            await uow.commit()
        return enrollment

    async def _change(
        self,
        actor: Actor,
        course_id: UUID,
        change: Callable[[UnitOfWork, Course], Awaitable[None]],
    ) -> CourseView:
        async with self._uow() as uow:
            course = await _staff_course(uow, actor, course_id)
            await change(uow, course)
            await uow.courses.save(course)
            view = await _view(uow, course)
            await uow.commit()
        await self._cache.clear()
        return view


async def _staff_course(uow: UnitOfWork, actor: Actor, course_id: UUID) -> Course:
    course = await uow.courses.get(course_id)
    if course is None:
        raise NotFound(COURSE_NOT_FOUND)
    await require_staff(uow, actor, course.organization_id, not_found=COURSE_NOT_FOUND)
    return course


async def _view(uow: UnitOfWork, course: Course) -> CourseView:
    organization = await uow.organizations.get(course.organization_id)
    if organization is None:  # the foreign key makes this unreachable
        raise NotFound("Organization not found.")
    return CourseView.of(course, OrganizationRef.of(organization))
