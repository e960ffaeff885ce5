"""Shared fixtures. Settings for tests come from ``make_settings``: fast Argon2, memory mail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from cpd.adapters.sql.database import create_engine
from cpd.adapters.sql.migrations import migrate
from cpd.bootstrap import Container, build_container
from cpd.settings import Settings
from tests.support.settings import make_settings, sqlite_url

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.redis_server",
    "tests.support.s3_server",
    "tests.support.smtp_server",
]

# Property tests check rules, not speed: a loaded CI machine must not fail them on a deadline.
hypothesis_settings.register_profile(
    "cpd", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("cpd")


@pytest.fixture
def container_settings() -> Settings:
    """What ``container`` is built from (tests/unit overrides it: the fake renderer)."""
    return make_settings()


@pytest.fixture
async def container(container_settings: Settings) -> AsyncIterator[Container]:
    """The real wiring on in-memory adapters; the relay runs only when a test drains it."""
    app = build_container(container_settings)
    await app.startup(run_relay=False)
    yield app
    await app.shutdown()


async def _migrate_file(path: Path) -> None:
    engine = create_engine(sqlite_url(path))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test works on a copy of it."""
    from tests.support.postgres import run_async  # imported here: pytest loads it as a plugin first

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    run_async(_migrate_file(path))
    # The engine is disposed, so WAL content is checkpointed into the main file.
    assert not path.with_name(path.name + "-wal").exists()
    return path
