"""Loading what a use case acts on, or 404: shared by the contexts that act on events and
registrations, so each answers a missing one with the same words."""

from __future__ import annotations

from uuid import UUID

from cpd.domain.accounts import Actor
from cpd.domain.errors import NotFound
from cpd.domain.events import Event
from cpd.domain.registrations import Registration
from cpd.ports.unit_of_work import UnitOfWork

EVENT_NOT_FOUND = "Event not found."
COURSE_NOT_FOUND = "Course not found."
REGISTRATION_NOT_FOUND = "Registration not found."


async def event_for_update(uow: UnitOfWork, event_id: UUID) -> Event:
    """The event, its row locked until commit: seat counts and statuses are decided under it."""
    event = await uow.events.get_for_update(event_id)
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event


async def existing_event(uow: UnitOfWork, event_id: UUID) -> Event:
    event = await uow.events.get(event_id)
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event


async def own_registration(uow: UnitOfWork, actor: Actor, registration_id: UUID) -> Registration:
    """The actor's own registration; anyone else's is as good as missing."""
    registration = await uow.registrations.get(registration_id)
    if registration is None or registration.user_id != actor.user_id:
        raise NotFound(REGISTRATION_NOT_FOUND)
    return registration
