"""Unit-test fixtures: the real wiring on memory adapters, driven by a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cpd.bootstrap import Container, build_container
from tests.conftest import make_settings
from tests.unit.fakes import CatalogWorld, FakeClock, Tenants


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
