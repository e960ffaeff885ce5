"""Scheduled work: the cron schedule the SAQ worker follows, and the embedded mode's own
scheduler, which runs the same jobs inside ``cpd serve`` when there is no worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from croniter import croniter

from cpd.bootstrap import Container

log = logging.getLogger(__name__)
EVERY_MINUTE = "* * * * *"
PeriodicJobs = dict[str, tuple[str, Callable[[], Awaitable[object]]]]


def periodic_jobs(container: Container) -> PeriodicJobs:
    """Scheduled work by name: (cron schedule for the SAQ worker, the job)."""
    return {
        "release_expired_holds_and_offers": (EVERY_MINUTE, container.registrations.expire_due),
        "event_reminders": ("*/5 * * * *", container.reminders.queue_due),
        "outbox_sweep": (EVERY_MINUTE, container.relay.drain),
        "zoom_attendance_sync": ("*/5 * * * *", container.meetings.sync_due_attendance),
    }


class EmbeddedScheduler:
    """Wakes every CPD_HOUSEKEEPING_SECONDS: jobs scheduled every minute run at each wake, the
    others when their cron comes due (the relay loop already sweeps the outbox)."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        clock, every = self._container.clock, self._container.settings.housekeeping_seconds
        jobs = {
            name: (cron, job)
            for name, (cron, job) in periodic_jobs(self._container).items()
            if name != "outbox_sweep"
        }
        due = dict.fromkeys(jobs, clock.now())
        while not self._stop.is_set():
            now = clock.now()
            for name, (cron, job) in jobs.items():
                if cron != EVERY_MINUTE and now < due[name]:
                    continue
                due[name] = croniter(cron, now).get_next(datetime)
                try:
                    await job()
                except Exception:  # the loop must outlive a database blip
                    log.exception("housekeeping job %s failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=every)
