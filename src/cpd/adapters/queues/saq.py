"""The TaskQueue port on SAQ (Redis), and the worker that runs what it holds.

The outbox stays the record of every task; SAQ only carries it to a worker. A task's SAQ job
key is the task id, so relaying one task twice (a relay that died before marking it
dispatched) queues it once while the first is still queued or running. The worker retries a
failing task with exponential backoff (``CPD_TASK_ATTEMPTS`` tries), beats a heartbeat while
a task runs so that the job of a worker that died is retried by another worker's sweep, and
logs every task with its name, id, attempt, duration, outcome and the request that caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import structlog
from saq import CronJob, Job, Queue, Worker
from saq.types import Context, PartialTimersDict

from cpd.adapters.queues.task_logging import run_logged, since_ms
from cpd.domain.tasks import Task
from cpd.services.platform.outbox import TaskRunner

QUEUE_NAME = "cpd"
RUN_TASK = "run_task"
RETRY_DELAY_SECONDS = 1.0  # the first retry's delay; each next one doubles
MAX_RETRY_DELAY_SECONDS = 600.0

log = structlog.get_logger("cpd.worker")


def open_queue(redis_url: str) -> Queue:
    return Queue.from_url(redis_url, name=QUEUE_NAME)


class SaqTaskQueue:
    runs_inline = False

    def __init__(self, queue: Queue, *, attempts: int, timeout: int, heartbeat: int) -> None:
        self._queue = queue
        self._attempts = attempts
        self._timeout = timeout
        self._heartbeat = heartbeat

    async def enqueue(self, task: Task, *, attempt: int = 1) -> None:
        # SAQ counts its own attempts. None back means the job of that key is still queued
        # or running: nothing to add.
        await self._queue.enqueue(
            RUN_TASK,
            key=str(task.id),
            retries=self._attempts,
            retry_delay=RETRY_DELAY_SECONDS,
            retry_backoff=MAX_RETRY_DELAY_SECONDS,
            timeout=self._timeout,
            heartbeat=self._heartbeat,
            payload=encode(task),
        )


def encode(task: Task) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "name": task.name,
        "payload": task.payload,
        "request_id": task.request_id,
    }


def decode(data: dict[str, Any]) -> Task:
    return Task(
        name=str(data["name"]),
        payload=dict(data["payload"]),
        id=UUID(str(data["id"])),
        request_id=data.get("request_id"),
    )


Periodic = Callable[[], Awaitable[object]]


def build_worker(
    queue: Queue,
    runner: TaskRunner,
    *,
    periodic: dict[str, tuple[str, Periodic]],
    concurrency: int,
    sweep_seconds: int,
    startup: Callable[[], Awaitable[None]] | None = None,
    shutdown: Callable[[], Awaitable[None]] | None = None,
) -> Worker[Context]:
    """A SAQ worker running relayed tasks, and ``periodic`` jobs (name: (cron, job)) that SAQ
    schedules once per tick across all workers."""

    async def run_task(ctx: Context, *, payload: dict[str, Any]) -> str:
        job: Job = ctx["job"]
        task = decode(payload)

        async def run() -> str:
            beating = asyncio.create_task(_beat(job, lambda: runner.renew(task)))
            try:
                return str(await runner.run(task, last_attempt=not job.retryable))
            finally:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating

        return await run_logged(task, job.attempts, run, last_attempt=not job.retryable)

    def cron(name: str, job: Periodic) -> Callable[[Context], Awaitable[None]]:
        async def scheduled(ctx: Context) -> None:
            with structlog.contextvars.bound_contextvars(task=name):
                started = time.perf_counter()
                try:
                    result = await job()
                except Exception:
                    log.exception("scheduled job failed", duration_ms=since_ms(started))
                    raise
                # A run that found nothing to do is chatter: every worker's every minute.
                log.log(
                    logging.INFO if result else logging.DEBUG,
                    "scheduled job finished",
                    duration_ms=since_ms(started),
                    result=result,
                )

        scheduled.__qualname__ = name  # SAQ names a cron job's function by its __qualname__
        return scheduled

    async def on_startup(ctx: Context) -> None:
        if startup is not None:
            await startup()

    async def on_shutdown(ctx: Context) -> None:
        if shutdown is not None:
            await shutdown()

    return Worker(
        queue,
        functions=[(RUN_TASK, run_task)],
        cron_jobs=[
            CronJob(cron(name, job), cron=schedule, unique=True, timeout=300)
            for name, (schedule, job) in periodic.items()
        ],
        concurrency=concurrency,
        startup=on_startup,
        shutdown=on_shutdown,
        timers=PartialTimersDict(schedule=1, worker_info=10, sweep=sweep_seconds, abort=1),
    )


async def _beat(job: Job, renew: Callable[[], Awaitable[None]]) -> None:
    """Touch the job, and renew the task's hold in the outbox, while it runs. A job left
    untouched past its heartbeat belonged to a worker that died: the next sweep retries it,
    and by then its hold has lapsed too."""
    interval = max(job.heartbeat / 3, 0.5)
    while True:
        await asyncio.sleep(interval)
        await job.update()
        await renew()
