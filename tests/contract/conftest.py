"""The ``backend`` fixture: one persistence adapter per parameter (memory, SQLite, PostgreSQL).

Every contract test runs once per backend, so the adapters are held to one behaviour.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cpd.adapters.memory.catalog import MemoryCatalogReader
from cpd.adapters.memory.database import MemoryDatabase
from cpd.adapters.memory.outbox import MemoryOutboxStore
from cpd.adapters.sql.catalog import SqlCatalogReader
from cpd.adapters.sql.database import SqlDatabase, create_engine
from cpd.adapters.sql.outbox import SqlOutboxStore
from tests.contract.builders import T0, Backend, FrozenClock
from tests.support.settings import sqlite_url

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    clock = FrozenClock(T0)
    if request.param == "memory":
        memory = MemoryDatabase(clock.now)
        yield Backend(
            "memory", memory, MemoryOutboxStore(memory), clock, MemoryCatalogReader(memory)
        )
        return
    if request.param == "sqlite":
        path = tmp_path / "cpd.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = sqlite_url(path)
    else:
        url = request.getfixturevalue("postgres_database")
    sql = SqlDatabase(create_engine(url, pool_size=2), clock.now)
    try:
        yield Backend(request.param, sql, SqlOutboxStore(sql), clock, SqlCatalogReader(sql))
    finally:
        await sql.dispose()
