"""Engines, the unit of work and the relay's outbox store over SQLAlchemy Core.

SQLite: the driver opens no transaction before a SELECT, so a read-then-write would race.
Every transaction here therefore starts with ``BEGIN IMMEDIATE`` (one writer at a time), which
makes SQLite as correct as PostgreSQL with row locks. Pure reads that never write (the catalog)
say so with the execution option ``cpd_read_only=True`` and get a deferred ``BEGIN`` instead:
under WAL they then neither wait for nor block the writer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from cpd.adapters.sql import tables as t
from cpd.adapters.sql.accounts import (
    SqlInvitationRepository,
    SqlMembershipRepository,
    SqlOrganizationRepository,
    SqlPasswordResetRepository,
    SqlRefreshTokenRepository,
    SqlUserRepository,
)
from cpd.adapters.sql.base import _dialect_insert
from cpd.adapters.sql.certificates import (
    SqlBadgeRepository,
    SqlCertificateRepository,
    SqlCertificateTemplateRepository,
    SqlJobRepository,
    SqlSigningKeyRepository,
)
from cpd.adapters.sql.conflicts import conflict_from
from cpd.adapters.sql.events import (
    SqlAttendanceRepository,
    SqlCourseRepository,
    SqlEnrollmentRepository,
    SqlEventRepository,
)
from cpd.adapters.sql.meetings import SqlMeetingRepository
from cpd.adapters.sql.messaging import (
    SqlCommunicationLog,
    SqlNotificationPreferencesRepository,
    SqlNotificationRepository,
)
from cpd.adapters.sql.migrations import check_revision, current_revision
from cpd.adapters.sql.platform import SqlIdempotencyStore, SqlWebhookInbox
from cpd.adapters.sql.registrations import SqlRegistrationRepository
from cpd.adapters.staged_outbox import StagedOutbox
from cpd.domain.tasks import ClaimedTask, Task, TaskRecord, TaskState

READ_ONLY = "cpd_read_only"


def _json_dumps(value: Any) -> str:
    # Non-ASCII stays as it is, so SQLite's text search over JSON text sees the real words.
    return json.dumps(value, ensure_ascii=False)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo, json_serializer=_json_dumps)
        _make_sqlite_serializable(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
    )


def _make_sqlite_serializable(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # let "begin" below own transaction starts
        cursor = dbapi_connection.cursor()
        # The wait first: switching a new file to WAL takes a lock another process may hold.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class SqlDatabase:
    """Owns the engine; hands out units of work and serves health checks."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], datetime],
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.now = clock
        self.after_commit = after_commit
        self._on_dispose: list[Callable[[], Awaitable[None]]] = []

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self)

    def on_dispose(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run ``close`` when the database is disposed (for resources built on its URL)."""
        self._on_dispose.append(close)

    async def ping(self) -> None:
        """Readiness: the database answers and its schema is the code's (SchemaBehind)."""
        check_revision(await self.schema_revision())

    async def schema_revision(self) -> str | None:
        async with self.engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            return await current_revision(connection)

    async def dispose(self) -> None:
        closers, self._on_dispose = self._on_dispose, []
        for close in closers:
            await close()
        await self.engine.dispose()


class SqlUnitOfWork:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None
        self.outbox = StagedOutbox()

    async def __aenter__(self) -> Self:
        self._connection = await self._db.engine.connect()
        await self._connection.begin()
        self.users = SqlUserRepository(self._connection)
        self.organizations = SqlOrganizationRepository(self._connection)
        self.memberships = SqlMembershipRepository(self._connection)
        self.invitations = SqlInvitationRepository(self._connection)
        self.refresh_tokens = SqlRefreshTokenRepository(self._connection)
        self.password_resets = SqlPasswordResetRepository(self._connection)
        self.events = SqlEventRepository(self._connection)
        self.courses = SqlCourseRepository(self._connection)
        self.enrollments = SqlEnrollmentRepository(self._connection)
        self.attendance = SqlAttendanceRepository(self._connection)
        self.registrations = SqlRegistrationRepository(self._connection)
        self.webhooks = SqlWebhookInbox(self._connection)
        self.idempotency = SqlIdempotencyStore(self._connection)
        self.communications = SqlCommunicationLog(self._connection)
        self.notifications = SqlNotificationRepository(self._connection)
        self.notification_preferences = SqlNotificationPreferencesRepository(self._connection)
        self.meetings = SqlMeetingRepository(self._connection)
        self.certificates = SqlCertificateRepository(self._connection)
        self.certificate_templates = SqlCertificateTemplateRepository(self._connection)
        self.badges = SqlBadgeRepository(self._connection)
        self.signing_keys = SqlSigningKeyRepository(self._connection)
        self.jobs = SqlJobRepository(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            await self._connection.close()  # rolls back anything not committed
            self._connection = None
        if isinstance(exc, IntegrityError):
            # A unique constraint usually fires at the INSERT, before commit: answer Conflict
            # there too (as the memory adapter does), not a driver error the core cannot name.
            raise conflict_from(exc) from None

    async def commit(self) -> None:
        assert self._connection is not None, "commit outside 'async with'"
        had_tasks = bool(self.outbox.staged)
        try:
            if had_tasks:
                now = self._db.now()
                # A task with a deterministic id (one email per certificate version) that is
                # queued already is not queued again.
                insert = _dialect_insert(self._connection)(t.outbox).on_conflict_do_nothing(
                    index_elements=["id"]
                )
                await self._connection.execute(
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
                        for task in self.outbox.staged
                    ],
                )
            await self._connection.commit()
        except IntegrityError as error:
            await self._connection.rollback()
            raise conflict_from(error) from None
        finally:
            self.outbox.staged = []
        await self._connection.begin()  # work after a commit gets a transaction of its own
        if had_tasks and self._db.after_commit:
            self._db.after_commit()


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
