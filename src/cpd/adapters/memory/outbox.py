"""The outbox in memory: its rows, the unit of work's commit of staged tasks, the relay's store."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from cpd.domain.tasks import ClaimedTask, Task, TaskRecord, TaskState

if TYPE_CHECKING:
    from cpd.adapters.memory.database import MemoryDatabase


@dataclass(slots=True)
class OutboxRow:
    task: Task
    created_at: datetime
    available_at: datetime
    attempts: int = 0  # handler runs
    relay_claims: int = 0
    dispatched_at: datetime | None = None
    completed_at: datetime | None = None
    running_until: datetime | None = None
    last_error: str | None = None
    abandoned: bool = False

    @property
    def record(self) -> TaskRecord:
        return TaskRecord(
            task=self.task,
            state=TaskState.of(
                abandoned=self.abandoned,
                dispatched_at=self.dispatched_at,
                completed_at=self.completed_at,
            ),
            attempts=self.attempts,
            created_at=self.created_at,
            available_at=self.available_at,
            dispatched_at=self.dispatched_at,
            completed_at=self.completed_at,
            last_error=self.last_error,
        )


def store_staged(outbox: dict[UUID, OutboxRow], tasks: Iterable[Task], now: datetime) -> None:
    """A committing unit of work's tasks; a deterministic id already queued is not again."""
    for task in tasks:
        outbox.setdefault(task.id, OutboxRow(task, created_at=now, available_at=now))


class MemoryOutboxStore:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def claim_due(self, now: datetime, limit: int, lease_seconds: int) -> list[ClaimedTask]:
        async with self._db.lock:
            due = sorted(
                (
                    row
                    for row in self._db.state.outbox.values()
                    if row.dispatched_at is None and not row.abandoned and row.available_at <= now
                ),
                key=lambda row: row.created_at,
            )[:limit]
            for row in due:
                row.relay_claims += 1
                row.available_at = now + timedelta(seconds=lease_seconds)
            return [ClaimedTask(row.task, row.relay_claims, row.created_at) for row in due]

    async def mark_dispatched(self, task_ids: Collection[UUID], now: datetime) -> None:
        async with self._db.lock:
            for task_id in task_ids:
                self._db.state.outbox[task_id].dispatched_at = now

    async def mark_failed(self, task_id: UUID, error: str, retry_at: datetime | None) -> None:
        async with self._db.lock:
            row = self._db.state.outbox[task_id]
            row.last_error = error
            if retry_at is None:
                row.abandoned = True
            else:
                row.available_at = retry_at

    async def mark_completed(self, task_id: UUID, now: datetime) -> None:
        async with self._db.lock:
            row = self._db.state.outbox[task_id]
            row.dispatched_at = row.dispatched_at or now
            row.completed_at = now
            row.running_until = None
            row.abandoned = False

    async def is_completed(self, task_id: UUID) -> bool:
        row = self._db.state.outbox.get(task_id)
        return row is not None and row.completed_at is not None

    async def begin_run(self, task_id: UUID, now: datetime, until: datetime) -> bool:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is None or row.completed_at is not None:
                return False
            if row.running_until is not None and row.running_until > now:
                return False
            row.running_until = until
            row.attempts += 1
            return True

    async def extend_run(self, task_id: UUID, until: datetime) -> None:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is not None and row.running_until is not None:
                row.running_until = until

    async def end_run(self, task_id: UUID, error: str) -> None:
        async with self._db.lock:
            if (row := self._db.state.outbox.get(task_id)) is not None:
                row.running_until = None
                row.last_error = error

    async def pending_count(self) -> int:
        return sum(
            1
            for row in self._db.state.outbox.values()
            if row.dispatched_at is None and not row.abandoned
        )

    async def known(self, task_ids: Collection[UUID]) -> set[UUID]:
        return {task_id for task_id in task_ids if task_id in self._db.state.outbox}

    async def records(self, state: TaskState | None, limit: int) -> list[TaskRecord]:
        rows = sorted(self._db.state.outbox.values(), key=lambda r: r.created_at, reverse=True)
        return [r.record for r in rows if state is None or r.record.state is state][:limit]

    async def counts(self) -> dict[TaskState, int]:
        counted = dict.fromkeys(TaskState, 0)
        for row in self._db.state.outbox.values():
            counted[row.record.state] += 1
        return counted

    async def retry(self, task_id: UUID, now: datetime) -> bool:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is None or row.record.state is not TaskState.FAILED:
                return False
            row.abandoned, row.relay_claims, row.available_at = False, 0, now
            row.dispatched_at = None
            return True
