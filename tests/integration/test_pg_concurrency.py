"""Concurrency rules on PostgreSQL, proven by use cases racing over separate connections.

The services come from the real composition root (``build_container``) and are called
concurrently with ``asyncio.gather``; each call opens its own unit of work, so each holds its own
pooled connection and the database, not the event loop, decides who wins. A test client would
serialise the requests and prove nothing.

The scenarios are plain functions so ``test_sqlite_concurrency.py`` runs them on the embedded
default as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select
from tests.support.commands import new_event
from tests.support.settings import make_settings
from tests.unit.fakes import join

from cpd.adapters.sql import tables
from cpd.adapters.sql.database import SqlDatabase
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor, Member, Role, User
from cpd.domain.auth import TokenPair
from cpd.domain.errors import Conflict, NotAuthenticated, PermissionDenied
from cpd.domain.tasks import Task

pytestmark = pytest.mark.postgres

PASSWORD = "a sound passphrase 42"
RACERS = 20


async def start_container(database_url: str) -> Container:
    # The races below sign one email up RACERS times at once: past the per-email mail limit.
    settings = make_settings(
        persistence="sql", database_url=database_url, account_mail_per_recipient=RACERS
    )
    app = build_container(settings)
    await app.startup(run_relay=False)
    return app


async def register(app: Container, email: str, last_name: str = "Racer") -> User:
    return await app.accounts.register(
        email=email, password=PASSWORD, first_name="Pat", last_name=last_name
    )


async def admin_count(app: Container, organization_id: UUID) -> int:
    async with app.uow() as uow:
        return await uow.memberships.count_with_role(organization_id, Role.ORG_ADMIN)


async def mutual_demotions(app: Container, *, organizations: int, rounds: int) -> None:
    """(a) Two org_admins demote each other at once: one wins, an org_admin always remains."""
    pairs: list[tuple[UUID, Actor, Actor]] = []
    for n in range(organizations):
        first = await register(app, f"first{n}@example.org")
        second = await register(app, f"second{n}@example.org")
        a, b = Actor(first.id), Actor(second.id)
        organization = await app.organizations.create(a, name=f"Race {n}")
        await join(app.organizations, app.outbox_store, a, organization.id, second, Role.ORG_ADMIN)
        pairs.append((organization.id, a, b))

    for _ in range(rounds):
        calls = []
        for organization_id, a, b in pairs:
            calls.append(app.organizations.change_role(a, organization_id, b.user_id, Role.MEMBER))
            calls.append(app.organizations.change_role(b, organization_id, a.user_id, Role.MEMBER))
        results = await asyncio.gather(*calls, return_exceptions=True)

        for n, (organization_id, a, b) in enumerate(pairs):
            outcome = results[2 * n : 2 * n + 2]
            won = [r for r in outcome if isinstance(r, Member)]
            lost = [r for r in outcome if not isinstance(r, Member)]
            assert len(won) == 1, outcome
            assert all(isinstance(r, PermissionDenied | Conflict) for r in lost), outcome
            assert await admin_count(app, organization_id) == 1
            demoted = won[0].user_id
            survivor, other = (b, a) if demoted == a.user_id else (a, b)
            await app.organizations.change_role(
                survivor, organization_id, other.user_id, Role.ORG_ADMIN
            )
            assert await admin_count(app, organization_id) == 2


async def refresh_token_race(app: Container, racers: int = RACERS) -> None:
    """(b) One refresh token presented many times at once is rotated exactly once."""
    user = await register(app, "refresher@example.org")
    pair = await app.accounts.login(email=user.email, password=PASSWORD, client="race")

    results = await asyncio.gather(
        *(app.accounts.refresh(pair.refresh.token) for _ in range(racers)),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, TokenPair)]
    losers = [r for r in results if not isinstance(r, TokenPair)]
    assert len(winners) == 1, results
    assert len(losers) == racers - 1
    assert all(isinstance(r, NotAuthenticated) for r in losers), losers


async def registration_race(app: Container, racers: int = RACERS) -> None:
    """(c) Many sign-ups with one email at once make exactly one account; the others are
    answered as for any known email (None: its owner is told), never a conflict."""
    results = await asyncio.gather(
        *(register(app, "Same.Person@Example.org", last_name=f"Racer{n}") for n in range(racers)),
        return_exceptions=True,
    )

    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if not isinstance(r, User)]
    assert len(created) == 1, results
    assert all(r is None for r in refused), refused

    assert isinstance(app.database, SqlDatabase)
    async with app.database.engine.connect() as connection:
        rows = await connection.execute(
            select(func.count()).where(tables.users.c.email == "same.person@example.org")
        )
        assert rows.scalar_one() == 1
    async with app.uow() as uow:
        stored = await uow.users.get_by_email("same.person@example.org")
    assert stored is not None
    assert stored.id == created[0].id


async def competing_relays(
    first: Container, second: Container, *, tasks: int = 300, claimers_per_relay: int = 3
) -> None:
    """(d) Relays claiming at the same time never claim the same task."""
    expected: set[UUID] = set()
    async with first.uow() as uow:
        for n in range(tasks):
            task = Task("race_probe", {"n": n})
            uow.outbox.add(task)
            expected.add(task.id)
        await uow.commit()
    due = first.clock.now() + timedelta(seconds=1)

    async def drain(app: Container) -> list[UUID]:
        claimed: list[UUID] = []
        while batch := await app.outbox_store.claim_due(due, limit=5, lease_seconds=300):
            claimed.extend(item.task.id for item in batch)
        return claimed

    claims = await asyncio.gather(
        *(drain(app) for app in (first, second) for _ in range(claimers_per_relay))
    )

    everything = [task_id for claim in claims for task_id in claim]
    assert len(everything) == len(set(everything)), "a task was claimed twice"
    assert set(everything) == expected
    assert await first.outbox_store.claim_due(due, limit=5, lease_seconds=300) == []


async def duplicate_payment_race(app: Container, copies: int = 6) -> None:
    """(e) The same payment reported several times at once (duplicate webhooks on several
    workers): the registration confirms once, one confirmation email is queued, and no copy
    mistakes the confirmed registration for a late payment and refunds it."""
    owner = Actor((await register(app, "host@example.org")).id)
    organization = await app.organizations.create(owner, name="Payments race")
    starts = datetime(2027, 6, 1, 9, tzinfo=UTC)
    details = {"title": "Paid", "format": "online", "price": {"amount": 2500, "currency": "GBP"}}
    sessions = [{"title": "S", "starts_at": starts, "ends_at": starts + timedelta(hours=1)}]
    event = await app.events.create(owner, new_event(organization.id, details, sessions))
    await app.events.publish(owner, event.id)
    buyer = Actor((await register(app, "buyer@example.org")).id)
    registration = await app.registrations.register(buyer, event.id)

    await asyncio.gather(
        *(app.registrations.confirm_payment(registration.id, 2500) for _ in range(copies))
    )

    records = await app.outbox_store.records(None, 1000)
    confirmations = [
        r
        for r in records
        if r.task.name == "registration_email" and r.task.payload["kind"] == "confirmed"
    ]
    assert len(confirmations) == 1
    assert [r for r in records if r.task.name == "refund_payment"] == []
    stored = await app.registrations.get(buyer, registration.id)
    assert (stored.status, stored.paid) == ("confirmed", 2500)


# PostgreSQL


@pytest.fixture
async def pg_app(postgres_database: str) -> AsyncIterator[Container]:
    app = await start_container(postgres_database)
    try:
        yield app
    finally:
        await app.shutdown()


async def test_mutual_demotion_keeps_an_org_admin(pg_app: Container) -> None:
    await mutual_demotions(pg_app, organizations=8, rounds=5)


async def test_concurrent_refreshes_with_one_token_rotate_once(pg_app: Container) -> None:
    await refresh_token_race(pg_app)


async def test_concurrent_registrations_with_one_email_make_one_account(pg_app: Container) -> None:
    await registration_race(pg_app)


async def test_concurrent_relays_never_claim_the_same_task(
    pg_app: Container, postgres_database: str
) -> None:
    other_relay = await start_container(postgres_database)
    try:
        await competing_relays(pg_app, other_relay)
    finally:
        await other_relay.shutdown()


async def test_duplicate_payments_at_once_confirm_once_and_refund_nothing(
    pg_app: Container,
) -> None:
    await duplicate_payment_race(pg_app)
