"""The one way a use case builds an event as the API shows it: with its host and the seat
count stored on the event row, the same count the catalog reads, so a write's answer and the
next ``GET`` agree."""

from __future__ import annotations

from cpd.domain.catalog import EventView, OrganizationRef
from cpd.domain.errors import NotFound
from cpd.domain.events import Event
from cpd.ports.unit_of_work import UnitOfWork


async def event_view(uow: UnitOfWork, event: Event) -> EventView:
    """Read inside the use case's transaction, after its own seat changes."""
    organization = await uow.organizations.get(event.organization_id)
    if organization is None:  # the foreign key makes this unreachable
        raise NotFound("Organization not found.")
    seats_taken = await uow.events.seats_taken(event.id)
    return EventView.of(event, OrganizationRef.of(organization), seats_taken=seats_taken)
