"""Courses: the public catalog, staff management and free enrolment."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from cpd.domain.accounts import Actor
from cpd.domain.catalog import CourseFilters, CourseView
from cpd.domain.courses import CourseMode, Enrollment
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.caching import encode, public_response
from cpd.entrypoints.http.common import OrganizationRef, Page, Query, organization_ref
from cpd.entrypoints.http.dependencies import Limit, Offset, container_of, response_cache_of
from cpd.entrypoints.http.learning.schemas import CourseIn, CoursePage, CoursePatch
from cpd.entrypoints.http.problems import documented
from cpd.ports.platform import Cache
from cpd.services.events.catalog import CatalogService
from cpd.services.learning.courses import CourseService


class CoursesController(Controller):
    path = "/courses"
    tags = ["courses"]

    @get("/", summary="Published courses by title", responses=documented(400))
    async def list_courses(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        q: Query = None,
        mode: CourseMode | None = None,
        organization: OrganizationRef = None,
        free: bool | None = None,
    ) -> Response[CoursePage]:
        organization_id, organization_slug = organization_ref(organization)
        filters = CourseFilters(
            q=(q or "").strip() or None,
            organization_id=organization_id,
            organization_slug=organization_slug,
            mode=mode,
            free=free,
        )

        page = PageRequest(limit, offset)
        container = container_of(request.app.state)  # hot path: see EventsController

        async def build() -> bytes:
            result = await container.catalog.courses(filters, page)
            return encode(Page.found(result))

        return await public_response(request, response_cache_of(container), build)

    @post(
        "/",
        summary="Create a course (org_admin, org_staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def create(self, data: CourseIn, actor: Actor, courses: CourseService) -> CourseView:
        return await courses.create(actor, data.command())

    @get(
        "/{course_id:uuid}",
        summary="One course (drafts only for its staff)",
        responses=documented(401, 404),
    )
    async def get_one(
        self,
        request: Request[Any, Any, Any],
        course_id: UUID,
        catalog: CatalogService,
        response_cache: Cache | None,
        optional_actor: Actor | None,
    ) -> Response[CourseView]:
        async def build() -> bytes:
            return encode(await catalog.course(course_id, optional_actor))

        return await public_response(request, response_cache, build)

    @patch(
        "/{course_id:uuid}",
        summary="Change a course (staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def update(
        self, course_id: UUID, data: CoursePatch, actor: Actor, courses: CourseService
    ) -> CourseView:
        return await courses.update(actor, course_id, data.command())

    @delete(
        "/{course_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        security=BEARER,
        summary="Delete a draft course without enrolments (otherwise archive it)",
        responses=documented(401, 403, 404, 409),
    )
    async def remove(self, course_id: UUID, actor: Actor, courses: CourseService) -> None:
        await courses.delete(actor, course_id)

    @post(
        "/{course_id:uuid}/publish",
        status_code=200,
        security=BEARER,
        summary="Publish a draft course",
        responses=documented(401, 403, 404, 409),
    )
    async def publish(self, course_id: UUID, actor: Actor, courses: CourseService) -> CourseView:
        return await courses.publish(actor, course_id)

    @post(
        "/{course_id:uuid}/archive",
        status_code=200,
        security=BEARER,
        summary="Archive a course",
        responses=documented(401, 403, 404, 409),
    )
    async def archive(self, course_id: UUID, actor: Actor, courses: CourseService) -> CourseView:
        return await courses.archive(actor, course_id)

    @post(
        "/{course_id:uuid}/enroll",
        security=BEARER,
        summary="Enrol in a free published course (paid ones answer 409 until payments)",
        responses=documented(401, 404, 409),
    )
    async def enroll(self, course_id: UUID, actor: Actor, courses: CourseService) -> Enrollment:
        return await courses.enroll(actor, course_id)
