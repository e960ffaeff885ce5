"""Shared fixtures. Settings for tests come from ``make_settings``: fast Argon2, memory mail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cpd.bootstrap import Container, build_container
from cpd.settings import Settings

pytest_plugins = ["tests.postgres"]

FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 64}


def make_settings(**overrides: Any) -> Settings:
    return Settings.from_mapping(
        {"environment": "test", "persistence": "memory", "mail_backend": "memory"}
        | FAST_ARGON2
        | overrides
    )


@pytest.fixture
async def container() -> AsyncIterator[Container]:
    """The real wiring on in-memory adapters; the relay runs only when a test drains it."""
    app = build_container(make_settings())
    await app.startup(run_relay=False)
    yield app
    await app.shutdown()
