"""An organization's events: public pages by slug, its calendar, and the staff's full list."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get

from cpd.domain.accounts import Actor
from cpd.domain.catalog import EventFilters, EventView
from cpd.domain.events import EventFormat, EventStatus
from cpd.domain.pages import MAX_PAGE_SIZE, PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.caching import ICS, encode, public_response
from cpd.entrypoints.http.common import Page, PathSlug, Query
from cpd.entrypoints.http.events.controllers import event_filters
from cpd.entrypoints.http.events.schemas import EventPage
from cpd.entrypoints.http.problems import documented
from cpd.ports.events import CalendarWriter
from cpd.ports.platform import Cache
from cpd.services.events.catalog import CatalogService


class OrganizationCatalogController(Controller):
    path = "/organizations"
    tags = ["events"]

    @get(
        "/{organization_slug:str}/events/{event_slug:str}",
        summary="One event by its organization's slug and its own",
        responses=documented(401, 404),
    )
    async def event_by_slug(
        self,
        request: Request[Any, Any, Any],
        organization_slug: PathSlug,
        event_slug: PathSlug,
        catalog: CatalogService,
        response_cache: Cache | None,
        optional_actor: Actor | None,
    ) -> Response[EventView]:
        async def build() -> bytes:
            view = await catalog.event_by_slug(organization_slug, event_slug, optional_actor)
            return encode(view)

        return await public_response(request, response_cache, build)

    @get(
        "/{organization_slug:str}/calendar.ics",
        media_type=ICS,
        summary="iCalendar of an organization's published events "
        "(also at /organizations/{slug}/events.ics)",
    )
    async def calendar(
        self,
        request: Request[Any, Any, Any],
        organization_slug: PathSlug,
        catalog: CatalogService,
        response_cache: Cache | None,
        calendars: CalendarWriter,
    ) -> Response[bytes]:
        base_url = str(request.base_url)

        async def build() -> bytes:
            filters = EventFilters(organization_slug=organization_slug.lower())
            result = await catalog.events(filters, PageRequest(limit=MAX_PAGE_SIZE))
            name = result.items[0].organization.name if result.items else organization_slug
            return calendars.calendar(result.items, name=name, base_url=base_url)

        return await public_response(request, response_cache, build, media_type=ICS)

    @get(
        "/{organization_id:uuid}/events",
        security=BEARER,
        summary="Every event of my organization, drafts included (staff)",
        responses=documented(400, 401, 403, 404),
    )
    async def staff_events(
        self,
        organization_id: UUID,
        actor: Actor,
        catalog: CatalogService,
        page: PageRequest,
        status: list[EventStatus] | None = None,
        q: Query = None,
        format: EventFormat | None = None,
        starts_after: datetime | None = None,
        starts_before: datetime | None = None,
    ) -> EventPage:
        filters = event_filters(
            q=q,
            format=format,
            organization=None,
            tag=None,
            starts_after=starts_after,
            starts_before=starts_before,
            has_capacity=None,
            free=None,
            statuses=tuple(status) if status else tuple(EventStatus),
        )
        return Page.found(await catalog.organization_events(actor, organization_id, filters, page))
