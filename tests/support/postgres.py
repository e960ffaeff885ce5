"""A throwaway PostgreSQL 15 server for the test session (a pytest plugin).

Fixtures:

- ``postgres_url`` (session): the SQLAlchemy URL of an empty database ``cpd_test`` on a server
  started for this session (``initdb`` + ``pg_ctl`` on a free loopback port, data in a temp
  directory, durability off for speed), stopped and deleted at the end. Set
  ``CPD_TEST_POSTGRES_URL`` to use an existing server instead.
- ``postgres_schema`` (session): the same URL once the schema is migrated to head.
- ``postgres_database`` (function): the migrated database with every table truncated, so each
  test starts empty.
- ``postgres_scratch_url`` (function): a brand-new empty database on the same server, dropped
  afterwards (for migration tests that must not disturb the shared schema).

Without the binaries the PostgreSQL tests are skipped, unless ``CPD_REQUIRE_SERVICES=1`` (CI),
which turns the skip into a failure. Mark such tests ``@pytest.mark.postgres``.

The fixtures are synchronous and do their database work on a private event loop in a worker
thread, so they can be requested from sync tests, async tests and async fixtures alike, and no
connection outlives the loop it was made on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from cpd.adapters.sql.migrations import migrate
from cpd.adapters.sql.tables import metadata

PG_BIN = Path(os.environ.get("CPD_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "cpd_test"
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh event loop in a worker thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CPD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CPD_REQUIRE_SERVICES=1 requires PostgreSQL)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], *, cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
        )


@contextlib.contextmanager
def _throwaway_server() -> Iterator[str]:
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        _unavailable("running as root needs `runuser` to start PostgreSQL as the postgres user")
    # initdb refuses root: the cluster runs as the postgres user, which must own the directory.
    as_postgres = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="cpd-pg-"))
    data = root / "data"
    started = False
    try:
        if as_root:
            try:
                shutil.chown(root, "postgres", "postgres")
            except LookupError:
                _unavailable("running as root needs a `postgres` OS user to own the test cluster")
        _run(
            [
                *as_postgres,
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            cwd=root,
        )
        error: Exception | None = None
        for _ in range(3):  # another process may take the free port before the server binds it
            port = _free_port()
            options = [f"-p {port}", f"-k {root}"]
            options += [f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()]
            try:
                _run(
                    [
                        *as_postgres,
                        str(PG_BIN / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(root / "server.log"),
                        "-o",
                        " ".join(options),
                        "-w",
                        "-t",
                        "60",
                        "start",
                    ],
                    cwd=root,
                )
            except RuntimeError as failure:
                log = root / "server.log"
                error = RuntimeError(f"{failure}\n{log.read_text() if log.exists() else ''}")
                continue
            started = True
            break
        if not started:
            assert error is not None
            raise error
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{DATABASE}"
        run_async(_create_database(url))
        yield url
    finally:
        if started:
            subprocess.run(
                [
                    *as_postgres,
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                cwd=root,
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def _admin_engine(url: str) -> AsyncEngine:
    """An autocommit engine on the server's maintenance database (CREATE/DROP DATABASE)."""
    admin_url = make_url(url).set(database="postgres")
    return create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


async def _create_database(url: str) -> None:
    engine = _admin_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
    finally:
        await engine.dispose()


async def _drop_database(url: str) -> None:
    engine = _admin_engine(url)
    try:
        async with engine.connect() as connection:
            name = make_url(url).database
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table of the schema (not ``alembic_version``)."""
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))


async def _with_engine(url: str, action: Any) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await action(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty database on a throwaway server (or on ``CPD_TEST_POSTGRES_URL``)."""
    override = os.environ.get("CPD_TEST_POSTGRES_URL")
    if override:
        yield override
        return
    missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).is_file()]
    if missing:
        _unavailable(
            f"PostgreSQL 15 binaries not found ({', '.join(missing)} missing in {PG_BIN}); "
            "install postgresql-15 or set CPD_TEST_POSTGRES_URL"
        )
    with _throwaway_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_schema(postgres_url: str) -> str:
    """The database URL, after migrating the schema to head once per session."""
    run_async(_with_engine(postgres_url, migrate))
    return postgres_url


@pytest.fixture
def postgres_database(postgres_schema: str) -> str:
    """The migrated database with all tables emptied before this test."""
    run_async(_with_engine(postgres_schema, truncate_all))
    return postgres_schema


@pytest.fixture
def postgres_scratch_url(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the same server, dropped after the test."""
    url = make_url(postgres_url).set(database=f"cpd_scratch_{uuid.uuid4().hex[:12]}")
    rendered = url.render_as_string(hide_password=False)
    run_async(_create_database(rendered))
    try:
        yield rendered
    finally:
        run_async(_drop_database(rendered))
