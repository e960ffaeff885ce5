"""The outbox over SQL: the unit of work's insert of staged tasks, and the relay's store."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _dialect_insert
from cpd.domain.tasks import ClaimedTask, Task, TaskRecord, TaskState

if TYPE_CHECKING:
    from cpd.adapters.sql.database import SqlDatabase


async def store_staged(connection: AsyncConnection, tasks: Sequence[Task], now: datetime) -> None:
    """A committing unit of work's tasks, in its transaction; a task with a deterministic id
    (one email per certificate version) that is queued already is not queued again."""
    insert = _dialect_insert(connection)(t.outbox).on_conflict_do_nothing(index_elements=["id"])
    await connection.execute(
        insert,
        [
            {
                "id": task.id,
                "name": task.name,
                "payload": task.payload,
                "created_at": now,
                "available_at": now,
                "request_id": task.request_id,
            }
            for task in tasks
        ],
    )


_o = t.outbox.c
_STATE_CONDITIONS = {
    TaskState.PENDING: and_(_o.completed_at.is_(None), ~_o.abandoned, _o.dispatched_at.is_(None)),
    TaskState.DISPATCHED: and_(
        _o.completed_at.is_(None), ~_o.abandoned, _o.dispatched_at.is_not(None)
    ),
    TaskState.COMPLETED: _o.completed_at.is_not(None),
    TaskState.FAILED: and_(_o.completed_at.is_(None), _o.abandoned),
}


class SqlOutboxStore:
    def __init__(self, db: SqlDatabase) -> None:
        self._engine = db.engine

    async def claim_due(self, now: datetime, limit: int, lease_seconds: int) -> list[ClaimedTask]:
        due = (
            select(t.outbox.c.id)
            .where(
                t.outbox.c.dispatched_at.is_(None),
                t.outbox.c.abandoned.is_(False),
                t.outbox.c.available_at <= now,
            )
            .order_by(t.outbox.c.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # concurrent relays take different rows
        )
        claim = (
            update(t.outbox)
            .where(t.outbox.c.id.in_(due.scalar_subquery()))
            .values(
                relay_claims=t.outbox.c.relay_claims + 1,
                available_at=now + timedelta(seconds=lease_seconds),
            )
            .returning(
                t.outbox.c.id,
                t.outbox.c.name,
                t.outbox.c.payload,
                t.outbox.c.relay_claims,
                t.outbox.c.created_at,
                t.outbox.c.request_id,
            )
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(claim)).all()
        claimed = [
            ClaimedTask(
                Task(row.name, row.payload, id=row.id, request_id=row.request_id),
                row.relay_claims,
                row.created_at,
            )
            for row in rows
        ]
        return sorted(claimed, key=lambda c: c.created_at)

    async def mark_dispatched(self, task_ids: Collection[UUID], now: datetime) -> None:
        query = update(t.outbox).where(t.outbox.c.id.in_(list(task_ids))).values(dispatched_at=now)
        async with self._engine.begin() as connection:
            await connection.execute(query)

    async def mark_completed(self, task_id: UUID, now: datetime) -> None:
        o = t.outbox.c
        await self._update(
            task_id,
            dispatched_at=func.coalesce(o.dispatched_at, now),
            completed_at=now,
            abandoned=False,
        )

    async def is_completed(self, task_id: UUID) -> bool:
        o = t.outbox.c
        query = select(o.completed_at.is_not(None)).where(o.id == task_id)
        async with self._engine.connect() as connection:
            return bool((await connection.execute(query)).scalar())

    async def begin_run(self, task_id: UUID, now: datetime, until: datetime) -> bool:
        o = t.outbox.c
        hold = (
            update(t.outbox)
            .where(
                o.id == task_id,
                o.completed_at.is_(None),
                or_(o.running_until.is_(None), o.running_until <= now),
            )
            .values(running_until=until, attempts=o.attempts + 1)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(hold)).rowcount == 1

    async def extend_run(self, task_id: UUID, until: datetime) -> None:
        o = t.outbox.c
        extend = (
            update(t.outbox)
            .where(o.id == task_id, o.running_until.is_not(None))
            .values(running_until=until)
        )
        async with self._engine.begin() as connection:
            await connection.execute(extend)

    async def end_run(self, task_id: UUID, error: str) -> None:
        await self._update(task_id, running_until=None, last_error=error)

    async def known(self, task_ids: Collection[UUID]) -> set[UUID]:
        if not task_ids:
            return set()
        query = select(t.outbox.c.id).where(t.outbox.c.id.in_(list(task_ids)))
        async with self._engine.connect() as connection:
            return set((await connection.execute(query)).scalars())

    async def records(self, state: TaskState | None, limit: int) -> list[TaskRecord]:
        o = t.outbox.c
        query = select(t.outbox).order_by(o.created_at.desc(), o.id).limit(limit)
        if state is not None:
            query = query.where(_STATE_CONDITIONS[state])
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            TaskRecord(
                task=Task(row.name, row.payload, id=row.id, request_id=row.request_id),
                state=TaskState.of(
                    abandoned=row.abandoned,
                    dispatched_at=row.dispatched_at,
                    completed_at=row.completed_at,
                ),
                attempts=row.attempts,
                created_at=row.created_at,
                available_at=row.available_at,
                dispatched_at=row.dispatched_at,
                completed_at=row.completed_at,
                last_error=row.last_error,
            )
            for row in rows
        ]

    async def counts(self) -> dict[TaskState, int]:
        columns = [func.count().filter(condition) for condition in _STATE_CONDITIONS.values()]
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(*columns))).one()
        return dict(zip(_STATE_CONDITIONS, (int(n) for n in row), strict=True))

    async def retry(self, task_id: UUID, now: datetime) -> bool:
        o = t.outbox.c
        query = (
            update(t.outbox)
            .where(o.id == task_id, _STATE_CONDITIONS[TaskState.FAILED])
            .values(abandoned=False, relay_claims=0, available_at=now, dispatched_at=None)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(query)).rowcount == 1

    async def mark_failed(self, task_id: UUID, error: str, retry_at: datetime | None) -> None:
        if retry_at is None:
            await self._update(task_id, last_error=error, abandoned=True)
        else:
            await self._update(task_id, last_error=error, available_at=retry_at)

    async def pending_count(self) -> int:
        query = select(func.count()).where(
            t.outbox.c.dispatched_at.is_(None), t.outbox.c.abandoned.is_(False)
        )
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def _update(self, task_id: UUID, **values: object) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(t.outbox).where(t.outbox.c.id == task_id).values(**values)
            )
