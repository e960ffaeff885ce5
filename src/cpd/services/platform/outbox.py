"""The relay: moves committed outbox tasks to the task queue, retrying with backoff."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from cpd.domain.tasks import Task, TaskData
from cpd.ports.platform import Clock, OutboxStore, TaskHandlers, TaskQueue
from cpd.ports.unit_of_work import UnitOfWorkFactory
from cpd.services.common.tasks import handles

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        queue: TaskQueue,
        clock: Clock,
        *,
        batch_size: int = 50,
        lease_seconds: int = 300,
        max_attempts: int = 8,
    ) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask the running loop to look now instead of at its next tick (after a commit)."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Hand on every due task once; returns how many were claimed."""
        claimed = await self._store.claim_due(
            self._clock.now(), self._batch_size, self._lease_seconds
        )
        handed_on: list[UUID] = []
        for item in claimed:
            try:
                await self._queue.enqueue(item.task, attempt=item.claims)
            except Exception as exc:  # noqa: BLE001 - any failure of a task is retried, not fatal
                give_up = item.claims >= self._max_attempts
                retry_at = None if give_up else self._clock.now() + _backoff(item.claims)
                # An inline queue ran the task, whose own log line said it failed.
                level = (
                    logging.DEBUG if self._queue.runs_inline and not give_up else logging.WARNING
                )
                log.log(
                    level,
                    "task %s (%s) failed on attempt %d%s: %s",
                    item.task.id,
                    item.task.name,
                    item.claims,
                    "; giving up" if give_up else "",
                    exc,
                )
                await self._store.mark_failed(item.task.id, repr(exc)[:2000], retry_at)
            else:
                if self._queue.runs_inline:  # it ran already
                    await self._store.mark_completed(item.task.id, self._clock.now())
                else:  # a worker's queue holds it and will report back
                    handed_on.append(item.task.id)
        if handed_on:  # one statement for the batch, not one per task
            await self._store.mark_dispatched(handed_on, self._clock.now())
        return len(claimed)

    async def drain(self) -> None:
        """Relay until nothing is due (tests, CLI)."""
        while await self.relay_once():
            pass

    async def run(self, stop: asyncio.Event, *, interval: float = 1.0) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                while await self.relay_once() == self._batch_size:
                    pass
            except Exception:  # the loop must outlive a database blip
                log.exception("outbox relay pass failed")
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 3600))


class TaskRunner:
    """Runs a task a worker dequeued, at most once to completion and never twice at once.

    The outbox row is the record and the lock: a run holds the row for ``hold_seconds`` and
    renews the hold while it works (``renew``), so a second delivery of the same task (a
    queue redelivering a job it wrongly thinks stuck) waits instead of running alongside; a
    task already completed is skipped; a success is recorded; the last failed attempt records
    the task as failed for an operator to see and retry (``cpd tasks``).
    """

    def __init__(
        self, store: OutboxStore, handlers: TaskHandlers, clock: Clock, *, hold_seconds: float
    ) -> None:
        self._store = store
        self._handlers = handlers
        self._clock = clock
        self._hold = timedelta(seconds=hold_seconds)

    async def run(self, task: Task, *, last_attempt: bool) -> TaskOutcome:
        now = self._clock.now()
        if not await self._store.begin_run(task.id, now, now + self._hold):
            if await self._store.is_completed(task.id):
                return TaskOutcome.SKIPPED
            raise TaskBusy(f"task {task.id} is being run elsewhere, or is unknown")
        try:
            handler = self._handlers.get(task.name)
            if handler is None:
                raise LookupError(f"no handler for task {task.name!r}")
            await handler(task)
        except Exception as error:
            await self._store.end_run(task.id, repr(error)[:2000])
            if last_attempt or isinstance(error, LookupError):
                await self._store.mark_failed(task.id, repr(error)[:2000], None)
            raise
        await self._store.mark_completed(task.id, self._clock.now())
        return TaskOutcome.COMPLETED

    async def renew(self, task: Task) -> None:
        """Keep holding a task that is still running."""
        await self._store.extend_run(task.id, self._clock.now() + self._hold)


class TaskBusy(RuntimeError):
    """Another run holds the task: the queue retries this delivery later."""


class TaskOutcome(StrEnum):
    COMPLETED = "completed"
    SKIPPED = "skipped"  # it had completed before


MAX_PING_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Ping(TaskData):
    NAME: ClassVar[str] = "ping"
    seconds: float = 0.0  # how long the handler sleeps, standing in for a slow task


@handles(Ping)
async def ping(task: Task) -> None:
    """A diagnostic task (``cpd tasks ping``): proves the path outbox → queue → worker, and
    with ``seconds`` stands in for a slow task."""
    await asyncio.sleep(min(Ping.of(task).seconds, MAX_PING_SECONDS))


async def queue_ping(uow: UnitOfWorkFactory, seconds: float = 0.0) -> Task:
    task = Ping(seconds).task()
    async with uow() as work:
        work.outbox.add(task)
        await work.commit()
    return task
