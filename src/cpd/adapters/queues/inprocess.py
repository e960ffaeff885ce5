"""The embedded task queue: runs each task right away, in this process, through the same
TaskRunner as the worker (so each run is counted and held like a worker's)."""

from __future__ import annotations

from cpd.adapters.queues.task_logging import run_logged
from cpd.domain.tasks import Task
from cpd.services.platform.outbox import TaskRunner


class InProcessTaskQueue:
    """``enqueue`` returns only once the handler has finished, so the relay marks a task
    dispatched only after it really ran; a failure is retried by the relay with backoff."""

    runs_inline = True

    def __init__(self, runner: TaskRunner) -> None:
        self._runner = runner

    async def enqueue(self, task: Task, *, attempt: int = 1) -> None:
        # The relay decides whether a failure is retried; the log says "retrying" until then.
        await run_logged(
            task, attempt, lambda: self._runner.run(task, last_attempt=False), last_attempt=False
        )
