"""The same concurrency rules on the embedded default: SQLite in a file, several connections.

SQLite has no row locks; the unit of work starts every transaction with ``BEGIN IMMEDIATE`` so
writers serialise. These tests prove that the embedded default is as correct as PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.test_pg_concurrency import (
    competing_relays,
    duplicate_payment_race,
    mutual_demotions,
    refresh_token_race,
    registration_race,
    start_container,
)

from cpd.bootstrap import Container


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cpd.sqlite'}"


@pytest.fixture
async def sqlite_app(tmp_path: Path) -> AsyncIterator[Container]:
    app = await start_container(sqlite_url(tmp_path))  # the embedded default migrates at start
    try:
        yield app
    finally:
        await app.shutdown()


async def test_mutual_demotion_keeps_an_org_admin(sqlite_app: Container) -> None:
    await mutual_demotions(sqlite_app, organizations=4, rounds=4)


async def test_concurrent_refreshes_with_one_token_rotate_once(sqlite_app: Container) -> None:
    await refresh_token_race(sqlite_app)


async def test_concurrent_registrations_with_one_email_make_one_account(
    sqlite_app: Container,
) -> None:
    await registration_race(sqlite_app)


async def test_concurrent_relays_never_claim_the_same_task(
    sqlite_app: Container, tmp_path: Path
) -> None:
    other_relay = await start_container(sqlite_url(tmp_path))
    try:
        await competing_relays(sqlite_app, other_relay, tasks=100)
    finally:
        await other_relay.shutdown()


async def test_duplicate_payments_at_once_confirm_once_and_refund_nothing(
    sqlite_app: Container,
) -> None:
    await duplicate_payment_race(sqlite_app)
