"""The embedded task queue: runs each task's handler right away, in this process."""

from __future__ import annotations

from cpd.adapters.task_logging import run_logged
from cpd.domain.tasks import Task
from cpd.ports.services import TaskHandlers


class UnknownTask(LookupError):
    pass


class InProcessTaskQueue:
    """``enqueue`` returns only once the handler has finished, so the relay marks a task
    dispatched only after it really ran; a failure is retried by the relay with backoff."""

    runs_inline = True

    def __init__(self, handlers: TaskHandlers) -> None:
        self._handlers = handlers

    async def enqueue(self, task: Task, *, attempt: int = 1) -> None:
        handler = self._handlers.get(task.name)
        if handler is None:
            raise UnknownTask(f"no handler for task {task.name!r}")
        # The relay decides whether a failure is retried; the log says "retrying" until then.
        await run_logged(task, attempt, lambda: handler(task), last_attempt=False)
