"""Persistence: the memory database, or SQL (SQLite, PostgreSQL) with its schema keeper.

Each branch imports its adapters, so a memory process never loads SQLAlchemy or Alembic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cpd.bootstrap.container import Resources

if TYPE_CHECKING:
    from cpd.adapters.memory.database import MemoryDatabase
    from cpd.adapters.payments.offline import OfflineLedger
    from cpd.adapters.sql.database import SqlDatabase
    from cpd.ports.events import CatalogReader
    from cpd.ports.platform import OutboxStore
    from cpd.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Persistence:
    database: SqlDatabase | MemoryDatabase
    outbox_store: OutboxStore
    catalog_reader: CatalogReader
    # The offline gateway's ledger; None: the gateway keeps its own, in the process like
    # the memory database.
    offline_ledger: Callable[[], OfflineLedger | None]


def build_persistence(
    settings: Settings,
    now: Callable[[], datetime],
    after_commit: Callable[[], None],
    resources: Resources,
) -> Persistence:
    if settings.persistence == "memory":
        from cpd.adapters.memory.catalog import MemoryCatalogReader
        from cpd.adapters.memory.database import MemoryDatabase
        from cpd.adapters.memory.outbox import MemoryOutboxStore

        memory = MemoryDatabase(now, after_commit=after_commit)
        resources.probe(type(memory).__name__, memory.ping)
        return Persistence(
            memory, MemoryOutboxStore(memory), MemoryCatalogReader(memory), lambda: None
        )

    from cpd.adapters.sql.catalog import SqlCatalogReader
    from cpd.adapters.sql.database import SqlDatabase, create_engine
    from cpd.adapters.sql.outbox import SqlOutboxStore

    _ensure_sqlite_folder(settings.database_url)
    database = SqlDatabase(
        create_engine(settings.database_url, pool_size=settings.db_pool_size),
        now,
        after_commit=after_commit,
    )
    resources.on_close(database.dispose)
    resources.probe(type(database).__name__, database.ping)
    resources.schema = SqlSchema(database)

    def offline_ledger() -> OfflineLedger:
        from cpd.adapters.sql.offline_payments import SqlOfflineLedger

        return SqlOfflineLedger(database)

    return Persistence(
        database, SqlOutboxStore(database), SqlCatalogReader(database), offline_ledger
    )


@dataclass
class SqlSchema:
    database: SqlDatabase

    async def migrate(self) -> None:
        from cpd.adapters.sql.migrations import migrate

        await migrate(self.database.engine)

    async def check(self) -> None:
        from sqlalchemy.exc import DBAPIError

        from cpd.adapters.sql.migrations import check_revision

        try:
            revision = await self.database.schema_revision()
        except (OSError, DBAPIError):  # down for now: start, and let /ready say so meanwhile
            log.warning("database unreachable at start; schema not checked", exc_info=True)
            return
        check_revision(revision)


def _ensure_sqlite_folder(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
