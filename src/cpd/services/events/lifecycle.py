"""Running events: drafting, sessions, publishing, cancelling, completing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar
from uuid import UUID

from cpd.domain.accounts import Actor, check_slug
from cpd.domain.catalog import CompletedEventView, EventView
from cpd.domain.errors import Conflict, NotFound
from cpd.domain.events import Event, Session
from cpd.ports.platform import Cache, Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.access import is_staff, require_approved, require_staff
from cpd.services.common.lookups import EVENT_NOT_FOUND
from cpd.services.common.slugs import free_slug
from cpd.services.events.commands import EventFields, NewEvent
from cpd.services.events.meetings import queue_meeting_sync
from cpd.services.events.reactions import EventReactions
from cpd.services.events.views import event_view

SLUG_TAKEN = "This organization already has an event with this slug."
T = TypeVar("T")


class EventService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        catalog_cache: Cache,
        reactions: EventReactions,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = catalog_cache
        self._reactions = reactions

    async def create(self, actor: Actor, new: NewEvent) -> EventView:
        organization_id, details = new.organization_id, new.fields.given()
        async with self._uow() as uow:
            await require_staff(uow, actor, organization_id, not_found="Organization not found.")
            slug = await free_slug(
                details.pop("slug", None),
                derive_from=str(details.get("title") or "event"),
                taken=lambda slug: uow.events.slug_exists(organization_id, slug),
                taken_message=SLUG_TAKEN,
                fallback="event",
            )
            event = Event.create(
                organization_id=organization_id,
                slug=slug,
                now=self._clock.now(),
                details=details,
                sessions=new.session_details(),
            )
            await uow.events.add(event)
            view = await event_view(uow, event)
            await uow.commit()
        await self._cache.clear()
        return view

    async def update(self, actor: Actor, event_id: UUID, patch: EventFields) -> EventView:
        changes = patch.given()
        async with self._uow() as uow:
            event = await _staff_event(uow, actor, event_id, lock=True)
            new_slug = changes.get("slug")
            if (
                new_slug
                and new_slug != event.slug
                and await uow.events.slug_exists(event.organization_id, check_slug(new_slug))
            ):
                raise Conflict(SLUG_TAKEN, field="slug")
            had_meetings = event.has_online_meetings
            event.update(changes, now=self._clock.now())
            await uow.events.save(event)
            queue_meeting_sync(uow, event, had_meetings=had_meetings)
            if "capacity" in changes:  # more room may let the waitlist in
                await self._reactions.seats_freed(uow, event.id, self._clock.now())
            return await self._finish(uow, event)

    async def publish(self, actor: Actor, event_id: UUID) -> EventView:
        async with self._uow() as uow:
            event = await _staff_event(uow, actor, event_id, lock=True)
            await require_approved(uow, event.organization_id)
            had_meetings = event.has_online_meetings
            event.publish(now=self._clock.now())
            return await self._save(uow, event, had_meetings=had_meetings)

    async def cancel(self, actor: Actor, event_id: UUID) -> EventView:
        """Cancelling the event cancels every registration with a full refund."""
        async with self._uow() as uow:
            event = await _staff_event(uow, actor, event_id, lock=True)
            had_meetings = event.has_online_meetings
            event.cancel(now=self._clock.now())
            await self._reactions.event_cancelled(uow, event_id, self._clock.now())
            return await self._save(uow, event, had_meetings=had_meetings)

    async def complete(
        self, actor: Actor, event_id: UUID, *, override_reason: str | None = None
    ) -> CompletedEventView:
        """Completing the event starts issuing its attendees' certificates (a job): only
        once its last session has ended, or earlier with staff's ``override_reason``."""
        now = self._clock.now()
        async with self._uow() as uow:
            event = await _staff_event(uow, actor, event_id, lock=True)
            had_meetings = event.has_online_meetings
            event.complete(now=now, by=actor.user_id, override_reason=override_reason)
            job = await self._reactions.event_completed(
                uow, event, now=now, created_by=actor.user_id
            )
            view = await self._save(uow, event, had_meetings=had_meetings)
        return CompletedEventView.completed(view, event, job.id)

    async def delete(self, actor: Actor, event_id: UUID) -> None:
        async with self._uow() as uow:
            event = await _staff_event(uow, actor, event_id, lock=True)
            event.ensure_deletable()
            if await uow.attendance.count_for_event(event_id):
                raise Conflict("This event has attendance records; cancel it instead.")
            await uow.events.delete(event_id)
            await uow.commit()
        await self._cache.clear()

    async def add_session(self, actor: Actor, event_id: UUID, spec: dict[str, Any]) -> Session:
        return await self._edit_sessions(
            actor, event_id, lambda e: e.add_session(spec, now=self._clock.now())
        )

    async def update_session(
        self, actor: Actor, event_id: UUID, session_id: UUID, changes: dict[str, Any]
    ) -> Session:
        return await self._edit_sessions(
            actor, event_id, lambda e: e.update_session(session_id, changes, now=self._clock.now())
        )

    async def remove_session(self, actor: Actor, event_id: UUID, session_id: UUID) -> None:
        await self._edit_sessions(
            actor, event_id, lambda e: e.remove_session(session_id, now=self._clock.now())
        )

    async def sessions(self, actor: Actor | None, event_id: UUID) -> list[Session]:
        """Sessions of an event the caller may see (public, or staff of its organization).

        Join links are the organization's to hand out: staff see them; registrants get
        theirs with their registration; everyone else sees none."""
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            staff = event is not None and await is_staff(uow, actor, event.organization_id)
            if event is None or not (event.is_public or staff):
                raise NotFound(EVENT_NOT_FOUND)
        return event.sessions if staff else [replace(s, join_url=None) for s in event.sessions]

    async def _edit_sessions(self, actor: Actor, event_id: UUID, edit: Callable[[Event], T]) -> T:
        async with self._uow() as uow:
            event = await _staff_event(uow, actor, event_id, lock=True)
            had_meetings = event.has_online_meetings
            result = edit(event)
            await self._save(uow, event, had_meetings=had_meetings)
        return result

    async def _save(self, uow: UnitOfWork, event: Event, *, had_meetings: bool) -> EventView:
        """Write the event, and queue its online meetings' sync in the same transaction."""
        await uow.events.save(event)
        queue_meeting_sync(uow, event, had_meetings=had_meetings)
        return await self._finish(uow, event)

    async def _finish(self, uow: UnitOfWork, event: Event) -> EventView:
        view = await event_view(uow, event)
        await uow.commit()
        await self._cache.clear()
        return view


async def _staff_event(uow: UnitOfWork, actor: Actor, event_id: UUID, *, lock: bool) -> Event:
    event = await (uow.events.get_for_update if lock else uow.events.get)(event_id)
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    await require_staff(uow, actor, event.organization_id, not_found=EVENT_NOT_FOUND)
    return event
