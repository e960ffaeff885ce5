"""Engines, and the unit of work composed of every context's repositories (one base each).

SQLite: the driver opens no transaction before a SELECT, so a read-then-write would race.
Every transaction here therefore starts with ``BEGIN IMMEDIATE`` (one writer at a time), which
makes SQLite as correct as PostgreSQL with row locks. Pure reads that never write (the catalog)
say so with the execution option ``cpd_read_only=True`` and get a deferred ``BEGIN`` instead:
under WAL they then neither wait for nor block the writer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from cpd.adapters.sql.accounts import SqlAccounts
from cpd.adapters.sql.certificates import SqlCertificates
from cpd.adapters.sql.conflicts import conflict_from
from cpd.adapters.sql.events import SqlEvents
from cpd.adapters.sql.learning import SqlLearning
from cpd.adapters.sql.messaging import SqlMessaging
from cpd.adapters.sql.migrations import check_revision, current_revision
from cpd.adapters.sql.outbox import store_staged
from cpd.adapters.sql.platform import SqlPlatform
from cpd.adapters.sql.registrations import SqlRegistrations
from cpd.adapters.staged_outbox import StagedOutbox

if TYPE_CHECKING:
    from cpd.ports.unit_of_work import UnitOfWork

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


class SqlUnitOfWork(
    SqlAccounts,
    SqlEvents,
    SqlLearning,
    SqlRegistrations,
    SqlCertificates,
    SqlMessaging,
    SqlPlatform,
):
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None
        self.outbox = StagedOutbox()

    def repository_source(self) -> AsyncConnection:
        assert self._connection is not None, "a repository outside 'async with'"
        return self._connection

    async def __aenter__(self) -> Self:
        self._connection = await self._db.engine.connect()
        await self._connection.begin()
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
                await store_staged(self._connection, self.outbox.staged, self._db.now())
            await self._connection.commit()
        except IntegrityError as error:
            await self._connection.rollback()
            raise conflict_from(error) from None
        finally:
            self.outbox.staged = []
        await self._connection.begin()  # work after a commit gets a transaction of its own
        if had_tasks and self._db.after_commit:
            self._db.after_commit()


if TYPE_CHECKING:  # mypy proves that the composition is the port
    _checked: type[UnitOfWork] = SqlUnitOfWork
