"""A database behind the code's migrations: processes refuse to start, ``/ready`` says 503,
and ``cpd serve`` migrates once before its workers start (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from cpd.adapters.sql.database import create_engine
from cpd.adapters.sql.migrations import downgrade, head_revision, migrate
from cpd.bootstrap import build_container
from cpd.entrypoints import cli
from cpd.entrypoints.http.app import create_app, create_app_from_env, create_served_app
from cpd.ports.platform import SchemaBehind
from cpd.settings import Settings
from tests.support.settings import FAST_ARGON2

PREVIOUS = "0012"


def _at(url: str, revision: str | None) -> None:
    """Bring the database to ``revision`` (None: leave it empty)."""

    async def work() -> None:
        engine = create_engine(url, pool_size=1)
        try:
            await migrate(engine)
            if revision != head_revision():
                await downgrade(engine, revision or "base")
        finally:
            await engine.dispose()

    asyncio.run(work())


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cpd.db'}"
    return str(request.getfixturevalue("postgres_scratch_url"))


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    values = {
        "CPD_DATABASE_URL": database_url,
        "CPD_MAIL_OUTBOX_DIR": str(tmp_path / "mail"),
        "CPD_FILE_STORAGE_DIR": str(tmp_path / "files"),
        "CPD_ARGON2_TIME_COST": str(FAST_ARGON2["argon2_time_cost"]),
        "CPD_ARGON2_MEMORY_COST_KIB": str(FAST_ARGON2["argon2_memory_cost_kib"]),
        "CPD_LOG_LEVEL": "WARNING",
        "CPD_AUTO_MIGRATE": "false",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return database_url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("revision", [None, PREVIOUS], ids=["never-migrated", "one-behind"])
def test_serve_worker_and_commands_refuse_a_schema_behind_the_code(
    env: str, revision: str | None, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    _at(env, revision)
    code, output = run("serve", "--port", "1")
    assert code == 1
    assert "run `cpd migrate`" in output
    assert f"needs {head_revision()}" in output
    assert run("tasks", "stats")[0] == 1  # any command on the database

    monkeypatch.setenv("CPD_TASK_QUEUE", "saq")
    monkeypatch.setenv("CPD_REDIS_URL", redis_url)
    code, output = run("worker")
    assert (code, "run `cpd migrate`" in output) == (1, True), output

    assert run("migrate")[0] == 0
    assert run("tasks", "stats")[0] == 0


def test_ready_answers_503_while_the_schema_is_behind(env: str) -> None:
    _at(env, head_revision())
    container = build_container(Settings.from_env())
    with TestClient(create_app(container, run_relay=False)) as client:
        assert client.get("/ready").status_code == 200
        _at(env, PREVIOUS)  # e.g. a backup of the last release restored under this code
        behind = client.get("/ready")
        assert behind.status_code == 503
        assert "run `cpd migrate`" in behind.json()["status"]
        assert client.get("/health").status_code == 200  # alive, just not ready
        _at(env, head_revision())
        assert client.get("/ready").status_code == 200


def test_a_database_migrated_by_a_newer_release_is_served(env: str) -> None:
    """A rolling deploy: the next release migrated first; this one keeps serving meanwhile."""
    _at(env, head_revision())

    async def stamp_newer() -> None:
        engine = create_engine(env, pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        finally:
            await engine.dispose()

    asyncio.run(stamp_newer())
    assert run("tasks", "stats")[0] == 0


def test_the_workers_factory_checks_the_schema_and_never_migrates(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cpd serve`` migrated once in its own process; its server workers only check."""
    monkeypatch.setenv("CPD_AUTO_MIGRATE", "true")
    with pytest.raises(ExceptionGroup) as refused, TestClient(create_served_app()):
        pass
    assert refused.group_contains(SchemaBehind, match="run `cpd migrate`")
    with TestClient(create_app_from_env()) as client:  # the standalone factory migrates
        assert client.get("/ready").status_code == 200
    with TestClient(create_served_app()) as client:
        assert client.get("/ready").status_code == 200
