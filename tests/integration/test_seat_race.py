"""200 people register at once for 50 seats, over separate connections: exactly 50 get seats,
150 wait in line, nobody errors, and the line is first come first served. On PostgreSQL (row
lock on the event) and on the embedded SQLite default (``BEGIN IMMEDIATE``).

The registrations are spread over four app instances on one database, as over four server
processes: each instance batches what it receives, and the batches of different instances
meet at the database's lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.commands import new_event
from tests.support.settings import make_settings

from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.registrations import RegistrationStatus

PEOPLE, SEATS = 200, 50
START = datetime.now(UTC) + timedelta(days=30)


async def seat_race(apps: list[Container], *, price: int) -> None:
    app = apps[0]
    owner = await app.accounts.register(
        email="host@example.org", password="a long passphrase", first_name="H", last_name="O"
    )
    org = await app.organizations.create(Actor(owner.id), name="Race Host")
    details: dict[str, Any] = {
        "title": "Popular",
        "format": "online",
        "capacity": SEATS,
        "price": {"amount": price, "currency": "GBP"},
    }
    sessions = [{"title": "Day", "starts_at": START, "ends_at": START + timedelta(hours=2)}]
    event = await app.events.create(Actor(owner.id), new_event(org.id, details, sessions))
    await app.events.publish(Actor(owner.id), event.id)
    people = [
        Actor(
            (
                await app.accounts.register(
                    email=f"p{n}@example.org",
                    password="a long passphrase",
                    first_name="P",
                    last_name=str(n),
                )
            ).id
        )
        for n in range(PEOPLE)
    ]

    results = await asyncio.gather(
        *(
            apps[n % len(apps)].registrations.register(person, event.id)
            for n, person in enumerate(people)
        ),
        return_exceptions=True,
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    holding = RegistrationStatus.PENDING_PAYMENT if price else RegistrationStatus.CONFIRMED
    statuses = [r.status for r in results if not isinstance(r, BaseException)]
    assert statuses.count(holding) == SEATS
    assert statuses.count(RegistrationStatus.WAITLISTED) == PEOPLE - SEATS
    async with app.uow() as uow:
        assert await uow.registrations.seats_held(event.id) == SEATS
        line = await uow.registrations.waitlist(event.id)
    assert len(line) == PEOPLE - SEATS
    # First come, first served: the line is in the order the registrations were decided.
    assert [r.waitlisted_at for r in line] == sorted(r.waitlisted_at for r in line)
    view = await app.catalog.event(event.id)
    assert view.seats_available == 0


async def _app(url: str) -> Container:
    app = build_container(make_settings(persistence="sql", database_url=url, db_pool_size=20))
    await app.startup(run_relay=False)
    return app


async def _apps(url: str) -> AsyncIterator[list[Container]]:
    apps = [await _app(url) for _ in range(4)]
    yield apps
    for app in apps:
        await app.shutdown()


@pytest.fixture
async def pg_apps(postgres_database: str) -> AsyncIterator[list[Container]]:
    async for apps in _apps(postgres_database):
        yield apps


@pytest.fixture
async def sqlite_apps(tmp_path: Path) -> AsyncIterator[list[Container]]:
    async for apps in _apps(f"sqlite+aiosqlite:///{tmp_path / 'race.sqlite'}"):
        yield apps


@pytest.mark.postgres
@pytest.mark.parametrize("price", [0, 2500])
async def test_no_overbooking_on_postgresql(pg_apps: list[Container], price: int) -> None:
    await seat_race(pg_apps, price=price)


async def test_no_overbooking_on_sqlite(sqlite_apps: list[Container]) -> None:
    await seat_race(sqlite_apps, price=0)
