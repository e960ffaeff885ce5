"""The one place where a change in one context sets off work in another.

Contexts announce through the protocols in their own packages (``events/reactions.py``,
``registrations/reactions.py``) and never import each other; the composition root hands their
services these answers. Each runs in the announcing unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from cpd.domain.events import Event, EventStatus
from cpd.domain.jobs import Job
from cpd.ports.unit_of_work import UnitOfWork
from cpd.services.certificates.issuing import queue_event_certificates
from cpd.services.events.tasks import AddMeetingRegistrants
from cpd.services.registrations.steps import cancel_everyone, offer_freed_seats


class Policies:
    async def seats_freed(self, uow: UnitOfWork, event_id: UUID, now: datetime) -> None:
        await offer_freed_seats(uow, event_id, now)

    async def event_cancelled(self, uow: UnitOfWork, event_id: UUID, now: datetime) -> None:
        await cancel_everyone(uow, event_id, now)

    async def event_completed(
        self, uow: UnitOfWork, event: Event, *, now: datetime, created_by: UUID | None
    ) -> Job:
        return await queue_event_certificates(uow, event, now=now, created_by=created_by)

    async def attendance_changed(self, uow: UnitOfWork, event: Event, now: datetime) -> None:
        if event.status is EventStatus.COMPLETED:  # a late record or a correction
            await queue_event_certificates(uow, event, now=now, created_by=None)

    def seat_confirmed(self, uow: UnitOfWork, registration_id: UUID) -> None:
        uow.outbox.add(AddMeetingRegistrants(registration_id).task())


POLICIES = Policies()

if TYPE_CHECKING:
    from cpd.services.events.reactions import EventReactions
    from cpd.services.registrations.reactions import RegistrationReactions

    _answers_events: type[EventReactions] = Policies
    _answers_registrations: type[RegistrationReactions] = Policies
