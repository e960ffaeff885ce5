"""The outbox as a unit of work sees it: tasks staged until the transaction commits."""

from __future__ import annotations

from cpd.domain.tasks import Task


class StagedOutbox:
    def __init__(self) -> None:
        self.staged: list[Task] = []

    def add(self, task: Task) -> None:
        self.staged.append(task)
