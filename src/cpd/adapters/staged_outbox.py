"""The outbox as a unit of work sees it: tasks staged until the transaction commits."""

from __future__ import annotations

from dataclasses import replace

import structlog

from cpd.domain.tasks import Task


class StagedOutbox:
    def __init__(self) -> None:
        self.staged: list[Task] = []

    def add(self, task: Task) -> None:
        """Stage ``task``, stamped with the id of the request being served (if any), so the
        worker's log lines for it can be found from the request's."""
        if task.request_id is None:
            request_id = structlog.contextvars.get_contextvars().get("request_id")
            task = replace(task, request_id=str(request_id) if request_id else None)
        self.staged.append(task)
