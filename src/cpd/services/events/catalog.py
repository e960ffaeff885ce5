"""The public catalog: search and detail for events and courses, with cached totals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar
from uuid import UUID

from cpd.domain.accounts import Actor
from cpd.domain.catalog import CourseFilters, CourseView, EventFilters, EventView
from cpd.domain.errors import NotFound
from cpd.domain.pages import Page, PageRequest
from cpd.ports.events import CatalogReader
from cpd.ports.platform import Cache
from cpd.ports.unit_of_work import UnitOfWorkFactory
from cpd.services.common.access import is_staff, require_staff
from cpd.services.common.lookups import COURSE_NOT_FOUND, EVENT_NOT_FOUND

TOTAL_TTL_SECONDS = 300
# A completed event keeps its public page (certificates and calendars link to it); the
# catalog lists, though, show what is bookable: published events only, unless asked.
_PUBLIC_STATUSES = frozenset({"published", "completed"})
V = TypeVar("V", EventView, CourseView)


class CatalogService:
    """Totals are cached per filter set and dropped with the rest of the catalog cache on any
    change, so a page costs one indexed query instead of a count over every matching row."""

    def __init__(self, reader: CatalogReader, uow: UnitOfWorkFactory, *, cache: Cache) -> None:
        self._reader = reader
        self._uow = uow
        self._cache = cache

    async def events(self, filters: EventFilters, page: PageRequest) -> Page[EventView]:
        items = await self._reader.events(filters, page)
        total = await self._total(
            f"total:events:{filters.cache_key()}", lambda: self._reader.count_events(filters)
        )
        return Page(items, total, page.limit, page.offset)

    async def events_json(self, filters: EventFilters, page: PageRequest) -> bytes:
        """The page as the API's JSON, built from stored documents (the list's hot path)."""
        items = await self._reader.events_json(filters, page)
        total = await self._total(
            f"total:events:{filters.cache_key()}", lambda: self._reader.count_events(filters)
        )
        tail = f',"total":{total},"limit":{page.limit},"offset":{page.offset}}}'
        return b'{"items":' + items + tail.encode()

    async def organization_events(
        self, actor: Actor, organization_id: UUID, filters: EventFilters, page: PageRequest
    ) -> Page[EventView]:
        """Every event of an organization, drafts included, for its staff."""
        async with self._uow() as uow:
            if await uow.organizations.get(organization_id) is None:
                raise NotFound("Organization not found.")
            await require_staff(uow, actor, organization_id, not_found="Organization not found.")
        scoped = replace(filters, organization_id=organization_id, organization_slug=None)
        items = await self._reader.events(scoped, page)
        return Page(items, await self._reader.count_events(scoped), page.limit, page.offset)

    async def event(self, event_id: UUID, actor: Actor | None = None) -> EventView:
        return await self._visible(await self._reader.event(event_id), actor, EVENT_NOT_FOUND)

    async def event_by_slug(
        self, organization_slug: str, event_slug: str, actor: Actor | None = None
    ) -> EventView:
        view = await self._reader.event_by_slug(organization_slug, event_slug)
        return await self._visible(view, actor, EVENT_NOT_FOUND)

    async def courses(self, filters: CourseFilters, page: PageRequest) -> Page[CourseView]:
        items = await self._reader.courses(filters, page)
        total = await self._total(
            f"total:courses:{filters.cache_key()}", lambda: self._reader.count_courses(filters)
        )
        return Page(items, total, page.limit, page.offset)

    async def course(self, course_id: UUID, actor: Actor | None = None) -> CourseView:
        return await self._visible(await self._reader.course(course_id), actor, COURSE_NOT_FOUND)

    async def _visible(self, view: V | None, actor: Actor | None, not_found: str) -> V:
        """Published items are public; others only for staff of their organization."""
        if view is None:
            raise NotFound(not_found)
        if view.status in _PUBLIC_STATUSES:
            return view
        async with self._uow() as uow:
            if await is_staff(uow, actor, view.organization.id):
                return view
        raise NotFound(not_found)

    async def _total(self, key: str, count: Callable[[], Awaitable[int]]) -> int:
        async def build() -> bytes:
            return str(await count()).encode()

        return int(await self._cache.get_or_build(key, build, TOTAL_TTL_SECONDS))
