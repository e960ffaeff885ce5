"""The ``backend`` fixture: one persistence adapter per parameter (memory, SQLite, PostgreSQL).

Every contract test runs once per backend, so the adapters are held to one behaviour.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cpd.adapters.memory.store import MemoryDatabase, MemoryOutboxStore
from cpd.adapters.sql.database import SqlDatabase, SqlOutboxStore, create_engine
from cpd.adapters.sql.migrations import migrate
from tests.contract.builders import T0, Backend, FrozenClock
from tests.postgres import run_async

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _migrate_file(path: Path) -> None:
    engine = create_engine(sqlite_url(path))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test works on a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    run_async(_migrate_file(path))
    # The engine is disposed, so WAL content is checkpointed into the main file.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    clock = FrozenClock(T0)
    if request.param == "memory":
        memory = MemoryDatabase(clock.now)
        yield Backend("memory", memory, MemoryOutboxStore(memory), clock)
        return
    if request.param == "sqlite":
        path = tmp_path / "cpd.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = sqlite_url(path)
    else:
        url = request.getfixturevalue("postgres_database")
    sql = SqlDatabase(create_engine(url, pool_size=2), clock.now)
    try:
        yield Backend(request.param, sql, SqlOutboxStore(sql), clock)
    finally:
        await sql.dispose()
