"""What an event's changes set off in other contexts, answered by ``services/policies.py``.

Each call runs in the caller's unit of work, so the reaction commits or rolls back with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from cpd.domain.events import Event
from cpd.domain.jobs import Job
from cpd.ports.unit_of_work import UnitOfWork


class EventReactions(Protocol):
    async def seats_freed(self, uow: UnitOfWork, event_id: UUID, now: datetime) -> None:
        """More room (a raised capacity): the waitlist may be offered seats."""
        ...

    async def event_cancelled(self, uow: UnitOfWork, event_id: UUID, now: datetime) -> None:
        """Every registration is cancelled with a full refund."""
        ...

    async def event_completed(
        self, uow: UnitOfWork, event: Event, *, now: datetime, created_by: UUID | None
    ) -> Job:
        """Its attendees' certificates are issued, by the job returned."""
        ...

    async def attendance_changed(self, uow: UnitOfWork, event: Event, now: datetime) -> None:
        """Attendance recorded or corrected: once completed, it may earn certificates."""
        ...
