"""The idempotency store: a key is claimed inside the caller's transaction, and its first
answer stays. One contract for memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from cpd.domain.errors import NotFound
from cpd.domain.idempotency import IdempotencyRecord
from tests.contract.builders import T0, Backend, given_users, make_user


async def test_a_claim_commits_or_vanishes_with_its_transaction(backend: Backend) -> None:
    user = make_user()
    await given_users(backend, user)
    made = uuid4()
    async with backend.uow() as uow:
        assert await uow.idempotency.claim(user.id, "k", "print", made, T0)
        # not committed: rolled back with the rest of the work
    async with backend.uow() as uow:
        assert await uow.idempotency.find(user.id, "k") is None
        assert await uow.idempotency.claim(user.id, "k", "print", made, T0)
        assert not await uow.idempotency.claim(user.id, "k", "other", uuid4(), T0)
        await uow.users.get(user.id)  # the transaction stays usable after a refused claim
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.idempotency.find(user.id, "k") == IdempotencyRecord("print", made, None)
        assert not await uow.idempotency.claim(user.id, "k", "print", made, T0)
        assert await uow.idempotency.find(uuid4(), "k") is None  # keys belong to their caller


async def test_the_first_answer_stays(backend: Backend) -> None:
    user = make_user()
    await given_users(backend, user)
    made = uuid4()
    async with backend.uow() as uow:
        await uow.idempotency.claim(user.id, "k", "print", made, T0)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.idempotency.answer(user.id, "k", b'{"n":1}') == b'{"n":1}'
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.idempotency.answer(user.id, "k", b'{"n":2}') == b'{"n":1}'
        await uow.commit()
        found = await uow.idempotency.find(user.id, "k")
    assert found == IdempotencyRecord("print", made, b'{"n":1}')
    async with backend.uow() as uow:
        with pytest.raises(NotFound):
            await uow.idempotency.answer(user.id, "never claimed", b"{}")


@pytest.mark.parametrize("first_commits", [True, False], ids=["commit", "rollback"])
async def test_a_second_claimant_gets_the_first_transactions_outcome(
    backend: Backend, first_commits: bool
) -> None:
    """A claim of a key another transaction holds uncommitted is decided by how that one
    ends: refused after its commit, granted after its rollback (PostgreSQL waits on the key,
    SQLite and memory on the single writer)."""
    user = make_user()
    await given_users(backend, user)
    first_claimed = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with backend.uow() as uow:
            assert await uow.idempotency.claim(user.id, "k", "print", uuid4(), T0)
            first_claimed.set()
            await release.wait()
            if first_commits:
                await uow.commit()

    async def second() -> bool:
        await first_claimed.wait()
        async with backend.uow() as uow:
            claimed = await uow.idempotency.claim(user.id, "k", "print", uuid4(), T0)
            await uow.commit()
            return claimed

    holder = asyncio.create_task(first())
    claimant = asyncio.create_task(second())
    await first_claimed.wait()
    release.set()
    await holder
    assert await claimant is not first_commits
