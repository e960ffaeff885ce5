"""Events: the public catalog, staff management, sessions, attendance and calendars."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from cpd.domain.accounts import Actor
from cpd.domain.attendance import AttendanceSummary
from cpd.domain.catalog import EventFilters, EventView
from cpd.domain.errors import InvalidInput
from cpd.domain.events import EventFormat, EventStatus, Session
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.caching import ICS, encode, public_response
from cpd.entrypoints.http.common import OrganizationRef, Page, Query, organization_ref, set_fields
from cpd.entrypoints.http.csv_export import csv_response, wants_csv
from cpd.entrypoints.http.dependencies import Limit, Offset, container_of, response_cache_of
from cpd.entrypoints.http.events.schemas import (
    AttendanceIn,
    AttendanceOut,
    AttendeeSummaryOut,
    CompletedEventOut,
    CompleteIn,
    EventIn,
    EventPage,
    EventPatch,
    SessionIn,
    SessionPage,
    SessionPatch,
)
from cpd.entrypoints.http.problems import documented
from cpd.entrypoints.http.registrations.schemas import RefundPolicyOut
from cpd.ports.events import CalendarWriter
from cpd.ports.platform import Cache
from cpd.services.events.attendance import AttendanceService
from cpd.services.events.catalog import CatalogService
from cpd.services.events.lifecycle import EventService
from cpd.services.registrations.booking import RegistrationService


def event_filters(
    *,
    q: str | None,
    format: EventFormat | None,
    organization: str | None,
    tag: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    has_capacity: bool | None,
    free: bool | None,
    statuses: tuple[EventStatus, ...] = (EventStatus.PUBLISHED,),
) -> EventFilters:
    for name, value in (("starts_after", starts_after), ("starts_before", starts_before)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("Give a date-time with a UTC offset.", field=name)
    organization_id, organization_slug = organization_ref(organization)
    return EventFilters(
        q=(q or "").strip() or None,
        format=format,
        organization_id=organization_id,
        organization_slug=organization_slug,
        tag=tag.strip().lower() if tag else None,
        starts_after=starts_after,
        starts_before=starts_before,
        has_capacity=has_capacity,
        free=free,
        statuses=statuses,
    )


class EventsController(Controller):
    path = "/events"
    tags = ["events"]

    @get(
        "/", summary="Published events, soonest first (filters combine)", responses=documented(400)
    )
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        q: Query = None,
        format: EventFormat | None = None,
        organization: OrganizationRef = None,
        tag: Annotated[str | None, Parameter(max_length=50)] = None,
        starts_after: datetime | None = None,
        starts_before: datetime | None = None,
        has_capacity: bool | None = None,
        free: bool | None = None,
    ) -> Response[EventPage]:
        filters = event_filters(
            q=q,
            format=format,
            organization=organization,
            tag=tag,
            starts_after=starts_after,
            starts_before=starts_before,
            has_capacity=has_capacity,
            free=free,
        )
        page = PageRequest(limit, offset)
        # The hot path: services come straight from the container, not through dependency
        # injection, whose per-request task group cost more than the database query.
        container = container_of(request.app.state)

        async def build() -> bytes:
            return await container.catalog.events_json(filters, page)

        return await public_response(request, response_cache_of(container), build)

    @post(
        "/",
        summary="Create an event (org_admin, org_staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def create(self, data: EventIn, actor: Actor, events: EventService) -> EventView:
        return await events.create(actor, data.command())

    @get(
        "/{event_id:uuid}",
        summary="One event (drafts only for its staff)",
        responses=documented(401, 404),
    )
    async def get_one(
        self,
        request: Request[Any, Any, Any],
        event_id: UUID,
        catalog: CatalogService,
        response_cache: Cache | None,
        optional_actor: Actor | None,
    ) -> Response[EventView]:
        async def build() -> bytes:
            return encode(await catalog.event(event_id, optional_actor))

        return await public_response(request, response_cache, build)

    @get(
        "/{event_id:uuid}/refund-policy",
        summary="The refund policy a registrant buys: the event's own, else its organization's",
        responses=documented(401, 404),
    )
    async def refund_policy(
        self,
        event_id: UUID,
        registrations: RegistrationService,
        optional_actor: Actor | None,
    ) -> RefundPolicyOut:
        return RefundPolicyOut.of(await registrations.event_refund_policy(optional_actor, event_id))

    @patch(
        "/{event_id:uuid}",
        summary="Change an event (staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def update(
        self, event_id: UUID, data: EventPatch, actor: Actor, events: EventService
    ) -> EventView:
        return await events.update(actor, event_id, data.command())

    @delete(
        "/{event_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        security=BEARER,
        summary="Delete a draft without registrations (otherwise cancel it)",
        responses=documented(401, 403, 404, 409),
    )
    async def remove(self, event_id: UUID, actor: Actor, events: EventService) -> None:
        await events.delete(actor, event_id)

    @post(
        "/{event_id:uuid}/publish",
        status_code=200,
        security=BEARER,
        summary="Publish a draft (needs sessions, and a venue unless online)",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def publish(self, event_id: UUID, actor: Actor, events: EventService) -> EventView:
        return await events.publish(actor, event_id)

    @post(
        "/{event_id:uuid}/cancel",
        status_code=200,
        security=BEARER,
        summary="Cancel a draft or published event",
        responses=documented(401, 403, 404, 409),
    )
    async def cancel(self, event_id: UUID, actor: Actor, events: EventService) -> EventView:
        return await events.cancel(actor, event_id)

    @post(
        "/{event_id:uuid}/complete",
        status_code=200,
        security=BEARER,
        summary="Mark a published event completed; starts its certificate job",
        description="Only once its last session has ended (409 before), unless "
        "override_reason says why it is completed early; the reason is kept on the event. "
        "The answer names the certificate job (certificate_job_id, certificate_job_url).",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def complete(
        self,
        event_id: UUID,
        actor: Actor,
        events: EventService,
        data: CompleteIn | None = None,
    ) -> CompletedEventOut:
        reason = data.override_reason if data else None
        completed = await events.complete(actor, event_id, override_reason=reason)
        return CompletedEventOut.linked(completed)

    # Sessions

    @get(
        "/{event_id:uuid}/sessions", summary="Sessions of an event", responses=documented(401, 404)
    )
    async def list_sessions(
        self,
        event_id: UUID,
        events: EventService,
        optional_actor: Actor | None,
        page: PageRequest,
    ) -> SessionPage:
        found = page.of(await events.sessions(optional_actor, event_id))
        return Page.found(found)

    @post(
        "/{event_id:uuid}/sessions",
        summary="Add a session (staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def add_session(
        self, event_id: UUID, data: SessionIn, actor: Actor, events: EventService
    ) -> Session:
        return await events.add_session(actor, event_id, set_fields(data))

    @patch(
        "/{event_id:uuid}/sessions/{session_id:uuid}",
        summary="Change a session (staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def update_session(
        self,
        event_id: UUID,
        session_id: UUID,
        data: SessionPatch,
        actor: Actor,
        events: EventService,
    ) -> Session:
        return await events.update_session(actor, event_id, session_id, set_fields(data))

    @delete(
        "/{event_id:uuid}/sessions/{session_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a session (staff)",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def remove_session(
        self, event_id: UUID, session_id: UUID, actor: Actor, events: EventService
    ) -> None:
        await events.remove_session(actor, event_id, session_id)

    # Attendance

    @post(
        "/{event_id:uuid}/sessions/{session_id:uuid}/attendance",
        status_code=200,
        summary="Record attendance for one session (staff): confirmed registrants, walk-ins",
        security=BEARER,
        responses=documented(400, 401, 403, 404, 409),
    )
    async def record_attendance(
        self,
        event_id: UUID,
        session_id: UUID,
        data: AttendanceIn,
        actor: Actor,
        attendance: AttendanceService,
    ) -> list[AttendanceOut]:
        entries = [a.entry() for a in data.attendees]
        records = await attendance.record(actor, event_id, session_id, entries)
        return [AttendanceOut.of(r) for r in records]

    @get(
        "/{event_id:uuid}/attendance",
        security=BEARER,
        summary="Attendance per attendee (staff); CSV with 'Accept: text/csv'",
        responses=documented(401, 403, 404),
    )
    async def attendance_report(
        self,
        request: Request[Any, Any, Any],
        event_id: UUID,
        actor: Actor,
        attendance: AttendanceService,
        page: PageRequest,
    ) -> Response[Any]:
        """The CSV holds every attendee; JSON is paged like every list."""
        report = await attendance.summaries(actor, event_id)
        rows = [AttendeeSummaryOut.of(r) for r in report.attendees]
        rows += [AttendeeSummaryOut.of(w) for w in report.walk_ins]
        if wants_csv(request):
            columns = AttendeeSummaryOut.__struct_fields__
            return csv_response(rows, columns, f"attendance-{event_id}.csv")
        found = page.of(rows)
        return Response(Page.found(found))

    @get(
        "/{event_id:uuid}/attendance/me",
        security=BEARER,
        summary="My attendance",
        responses=documented(401, 404),
    )
    async def my_attendance(
        self, event_id: UUID, actor: Actor, attendance: AttendanceService
    ) -> AttendanceSummary:
        return await attendance.my_summary(actor, event_id)

    # Calendars

    @get(
        "/{event_id:uuid}/calendar.ics",
        media_type=ICS,
        summary="iCalendar of an event, one VEVENT per session (also at /events/{id}.ics)",
        responses=documented(404),
    )
    async def calendar(
        self,
        request: Request[Any, Any, Any],
        event_id: UUID,
        catalog: CatalogService,
        response_cache: Cache | None,
        optional_actor: Actor | None,
        calendars: CalendarWriter,
    ) -> Response[bytes]:
        base_url = str(request.base_url)

        async def build() -> bytes:
            event = await catalog.event(event_id, optional_actor)
            return calendars.calendar([event], name=event.title, base_url=base_url)

        return await public_response(request, response_cache, build, media_type=ICS)
