"""Migrations and ``tables.py`` agree, on SQLite and PostgreSQL, and migrate both ways."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeEngine

from cpd.adapters.sql import tables as t
from cpd.adapters.sql.database import SqlDatabase, create_engine
from cpd.adapters.sql.migrations import downgrade, migrate
from cpd.adapters.sql.tables import include_in_autogenerate, metadata
from cpd.domain.accounts import UserProfile
from cpd.domain.events import EventFormat, Venue
from cpd.domain.refunds import STANDARD_REFUNDS
from cpd.domain.registrations import Attendee
from tests.contract.builders import (
    T0,
    FrozenClock,
    make_event,
    make_organization,
    make_registration,
    make_user,
)

SCHEMA_TABLES = {table.name for table in metadata.sorted_tables}


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
async def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no schema at all."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_scratch_url")
    engine = create_engine(url, pool_size=1)
    try:
        yield engine
    finally:
        await engine.dispose()


def _compare_type(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """On SQLite compare the declared column type with what ``tables.py`` would create.

    SQLite reflects types by affinity (``BINARY(16)``, a GUID, comes back as ``NUMERIC(16)``), so
    alembic's default comparison reports false differences there; the declared type is exact.
    PostgreSQL keeps alembic's default comparison (``None``).
    """
    if context.dialect.name != "sqlite":
        return None
    pragma = f'PRAGMA table_info("{inspected_column.table.name}")'
    assert context.connection is not None
    declared = {row[1]: row[2] for row in context.connection.exec_driver_sql(pragma)}
    expected = metadata_type.compile(dialect=context.dialect)
    return bool(declared[inspected_column.name].upper() != expected.upper())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": _compare_type, "include_object": include_in_autogenerate},
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def differences(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(_differences)


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(_tables)


async def test_migrated_schema_matches_the_table_definitions(empty_engine: AsyncEngine) -> None:
    await migrate(empty_engine)

    assert await differences(empty_engine) == []


async def test_downgrade_to_base_then_upgrade_again(empty_engine: AsyncEngine) -> None:
    await migrate(empty_engine)

    await downgrade(empty_engine, "base")
    assert await tables(empty_engine) & SCHEMA_TABLES == set()

    await migrate(empty_engine)
    assert await tables(empty_engine) >= SCHEMA_TABLES
    assert await differences(empty_engine) == []


async def test_migrating_twice_is_harmless(empty_engine: AsyncEngine) -> None:
    await migrate(empty_engine)
    await migrate(empty_engine)

    assert await differences(empty_engine) == []


async def test_processes_migrating_at_once_queue_rather_than_collide(
    empty_engine: AsyncEngine,
) -> None:
    """Server workers that each auto-migrate at start-up: one migrates, the others wait."""
    url = empty_engine.url.render_as_string(hide_password=False)
    others = [create_engine(url, pool_size=1) for _ in range(2)]
    try:
        migrations = (migrate(engine) for engine in [empty_engine, *others])
        await asyncio.wait_for(asyncio.gather(*migrations), timeout=120)
    finally:
        for engine in others:
            await engine.dispose()

    assert await differences(empty_engine) == []


async def test_text_stored_before_the_text_check_is_cleaned_and_loads_again(
    empty_engine: AsyncEngine,
) -> None:
    """Rows written while control, bidi and invisible characters were still accepted: the
    entities check text as they load, so without 0013 the event and registration would not
    load at all."""
    # Written by today's code at the head, then taken back to 0012 (its later migrations only
    # add columns or clean text), so columns added after 0013 never break this test.
    await migrate(empty_engine)
    clock = FrozenClock(T0)
    database = SqlDatabase(empty_engine, clock.now)
    user = make_user(profile=UserProfile(professional_title="Nurse", bio="Hello"))
    organization = make_organization()
    event = make_event(
        organization, event_format=EventFormat.IN_PERSON, venue=Venue("Hall", "1 Road")
    )
    registration = make_registration(event, user, attendees=(Attendee("Kim", "k@example.org"),))
    async with database.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.organizations.add(organization)
        await uow.events.add(event)
        await uow.registrations.add(registration)
        await uow.commit()
    await downgrade(empty_engine, "0012")
    async with empty_engine.begin() as connection:  # as the old code let them in
        u, e, s, r = t.users.c, t.events.c, t.event_sessions.c, t.registrations.c
        await connection.execute(
            update(t.users)
            .where(u.id == user.id)
            .values(professional_title="Nurse\u202e", bio="Line 1\r\nLine 2\x1b")
        )
        await connection.execute(
            update(t.events)
            .where(e.id == event.id)
            .values(
                title="Forged\r\nX-Header: 1", venue_name="\u200b", venue_address="1 Road\r\nTown"
            )
        )
        await connection.execute(
            update(t.event_sessions)
            .where(s.event_id == event.id)
            .values(title="Intro\u2066", join_url="javascript:alert(1)")
        )
        await connection.execute(
            update(t.registrations)
            .where(r.id == registration.id)
            .values(
                attendees=[
                    {"name": "Kim\ufeff", "email": "k@example.org", "registration_number": None}
                ]
            )
        )

    await migrate(empty_engine)

    async with database.unit_of_work() as uow:
        stored_user = await uow.users.get(user.id)
        stored_event = await uow.events.get(event.id)
        stored_registration = await uow.registrations.get(registration.id)
    assert stored_user is not None
    assert stored_event is not None
    assert stored_registration is not None
    assert (stored_user.profile.professional_title, stored_user.profile.bio) == (
        "Nurse",
        "Line 1\nLine 2",
    )
    assert stored_event.title == "Forged  X-Header: 1"
    assert stored_event.venue == Venue("-", "1 Road\nTown")
    assert [(x.title, x.join_url) for x in stored_event.sessions] == [("Intro", None)]
    assert stored_registration.attendees == (Attendee("Kim", "k@example.org"),)


async def test_existing_organizations_and_snapshots_keep_the_policy_fixed_in_code(
    empty_engine: AsyncEngine,
) -> None:
    """0014: organizations made before it get the standard policy; a snapshot stored as
    ``[[days, percent]]`` loads as the same policy in hours."""
    await migrate(empty_engine)
    database = SqlDatabase(empty_engine, FrozenClock(T0).now)
    user, organization = make_user(), make_organization()
    event = make_event(organization)
    registration = make_registration(event, user)
    async with database.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.organizations.add(organization)
        await uow.events.add(event)
        await uow.registrations.add(registration)
        await uow.commit()
    await downgrade(empty_engine, "0013")
    async with empty_engine.begin() as connection:
        r = t.registrations.c
        await connection.execute(
            update(t.registrations)
            .where(r.id == registration.id)
            .values(refund_policy=[[2, 50], [14, 100]])
        )

    await migrate(empty_engine)

    async with database.unit_of_work() as uow:
        stored_organization = await uow.organizations.get(organization.id)
        stored_event = await uow.events.get(event.id)
        stored_registration = await uow.registrations.get(registration.id)
    assert stored_organization is not None
    assert stored_event is not None
    assert stored_registration is not None
    assert stored_organization.refund_policy == STANDARD_REFUNDS
    assert stored_event.refund_policy is None
    assert stored_registration.refund_policy == STANDARD_REFUNDS

    await downgrade(empty_engine, "0013")  # and back: the snapshot in days again
    async with empty_engine.connect() as connection:
        r = t.registrations.c
        stored = (
            await connection.execute(select(r.refund_policy).where(r.id == registration.id))
        ).scalar_one()
    assert stored == [[14, 100], [2, 50]]


async def test_downgrading_keeps_the_rows_that_reference_a_changed_table(
    empty_engine: AsyncEngine,
) -> None:
    """On SQLite a batch alteration copies the table and drops the old one, which with
    foreign keys on deletes every row that references it (ON DELETE CASCADE): dropping
    ``organizations.approved_at`` that way took every event with it."""
    await migrate(empty_engine)
    database = SqlDatabase(empty_engine, FrozenClock(T0).now)
    user, organization = make_user(), make_organization()
    event = make_event(organization)
    async with database.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.organizations.add(organization)
        await uow.events.add(event)
        await uow.registrations.add(make_registration(event, user))
        await uow.commit()

    await downgrade(empty_engine, "0011")

    async with empty_engine.connect() as connection:
        events = (await connection.execute(select(t.events.c.id))).scalars().all()
        registrations = (await connection.execute(select(t.registrations.c.id))).scalars().all()
    assert events == [event.id]
    assert len(registrations) == 1
