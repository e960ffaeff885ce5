"""Event reminders, 24 hours and 1 hour before an event starts, each sent once.

A scheduled job (SAQ cron in the worker, the housekeeping loop when embedded) queues the
reminders that are due. Each reminder task's id is derived from (registration, lead time),
so queueing it again finds it already in the outbox: however often the job runs, and on
however many workers, a person gets each reminder once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from cpd.domain.registrations import REMINDER_LEADS, Upcoming, due_reminder
from cpd.domain.tasks import Task
from cpd.ports.platform import Clock, OutboxStore
from cpd.ports.unit_of_work import UnitOfWorkFactory
from cpd.services.registrations.tasks import EventReminder

_REMINDER_IDS = uuid.UUID("6f7c2a52-4d4b-4c1e-9a53-3b7f0f0f6e21")  # uuid5 namespace


def reminder_task(upcoming: Upcoming, lead: timedelta) -> Task:
    hours = int(lead.total_seconds() // 3600)
    return EventReminder(upcoming.registration_id, hours).task(
        id=uuid.uuid5(_REMINDER_IDS, f"{upcoming.registration_id}:{hours}")
    )


class ReminderService:
    def __init__(self, uow: UnitOfWorkFactory, outbox: OutboxStore, *, clock: Clock) -> None:
        self._uow = uow
        self._outbox = outbox
        self._clock = clock

    async def queue_due(self) -> int:
        """Queue every reminder due now that was never queued; returns how many."""
        now = self._clock.now()
        async with self._uow() as uow:
            upcoming = await uow.registrations.upcoming(now, now + max(REMINDER_LEADS))
        due = [
            reminder_task(item, lead)
            for item in upcoming
            if (lead := due_reminder(item, now)) is not None
        ]
        queued = await self._outbox.known([task.id for task in due])
        fresh = [task for task in due if task.id not in queued]
        if fresh:
            async with self._uow() as uow:
                for task in fresh:
                    uow.outbox.add(task)
                await uow.commit()
        return len(fresh)
