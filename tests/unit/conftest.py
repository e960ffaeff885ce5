"""Unit-test fixtures: the real wiring on memory adapters, driven by a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cpd.bootstrap import Container, build_container
from cpd.settings import Settings
from tests import conftest
from tests.support.clock import FakeClock
from tests.unit.fakes import CatalogWorld, Tenants


def make_settings(**overrides: Any) -> Settings:
    """The shared test settings with the fake certificate renderer: no Typst processes here
    (tests/integration renders real PDFs)."""
    return conftest.make_settings(**{"certificate_renderer": "fake"} | overrides)


@pytest.fixture
def container_settings() -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def clocked(clock: FakeClock) -> AsyncIterator[Container]:
    """Like ``container``, but time only moves when the test calls ``clock.advance``."""
    app = build_container(make_settings(), clock=clock)
    await app.startup(run_relay=False)
    yield app
    await app.shutdown()


@pytest.fixture
def world() -> CatalogWorld:
    """Event, course, attendance and catalog services on one memory database, built by hand."""
    return CatalogWorld.build()


@pytest.fixture
async def tenants(world: CatalogWorld) -> Tenants:
    return await Tenants.build(world)
