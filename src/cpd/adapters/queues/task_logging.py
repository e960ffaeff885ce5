"""One structured log line per task run, the same from the in-process runner and the worker:
name, id, attempt, duration, outcome, and the id of the request that caused the task. A
failure's traceback follows at debug only: a retried task would otherwise repeat it on every
attempt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from cpd.domain.tasks import Task

T = TypeVar("T")
log = structlog.get_logger("cpd.tasks")


async def run_logged(
    task: Task, attempt: int, run: Callable[[], Awaitable[T]], *, last_attempt: bool
) -> T:
    fields = {
        "task": task.name,
        "task_id": str(task.id),
        "attempt": attempt,
        "request_id": task.request_id,
    }
    with structlog.contextvars.bound_contextvars(**fields):
        started = time.perf_counter()
        try:
            result = await run()
        except Exception as error:
            (log.error if last_attempt else log.warning)(
                "task failed",
                **fields,
                duration_ms=since_ms(started),
                outcome="failed" if last_attempt else "retrying",
                error_type=type(error).__name__,
                error=str(error)[:500],
            )
            log.debug("task failure traceback", **fields, exc_info=error)
            raise
        except asyncio.CancelledError:  # its timeout, or the process stopping
            log.warning(
                "task interrupted",
                **fields,
                duration_ms=since_ms(started),
                outcome="failed" if last_attempt else "retrying",
            )
            raise
        outcome = str(result or "completed")
        log.info("task finished", **fields, duration_ms=since_ms(started), outcome=outcome)
        return result


def since_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()``), to 0.1 ms."""
    return round((time.perf_counter() - started) * 1000, 1)
