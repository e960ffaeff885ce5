"""The Cache port, held to one behaviour in memory and in Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from cpd.adapters.memory.cache import MemoryCache
from cpd.adapters.redis_store import RedisCache
from cpd.ports.platform import Cache


@pytest.fixture(params=[pytest.param("memory"), pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisCache(client, namespace=f"test:{uuid.uuid4().hex}")
    await client.aclose()


class Builder:
    def __init__(self, value: bytes) -> None:
        self.value = value
        self.calls = 0

    async def __call__(self) -> bytes:
        self.calls += 1
        return self.value


async def test_builds_once_then_serves_the_stored_value(cache: Cache) -> None:
    build = Builder(b"page one")
    assert await cache.peek("k") is None
    assert await cache.get_or_build("k", build, 60) == b"page one"
    assert await cache.get_or_build("k", Builder(b"other"), 60) == b"page one"
    assert await cache.peek("k") == b"page one"
    assert build.calls == 1


async def test_clear_empties_the_namespace_for_every_reader(cache: Cache) -> None:
    await cache.get_or_build("a", Builder(b"1"), 60)
    await cache.get_or_build("b", Builder(b"2"), 60)
    await cache.clear()
    assert await cache.peek("a") is None
    assert await cache.peek("b") is None
    assert await cache.get_or_build("a", Builder(b"fresh"), 60) == b"fresh"


async def test_a_value_built_while_a_clear_happens_is_not_kept(cache: Cache) -> None:
    """A reader that read old data before a writer's clear must not store it afterwards."""

    async def stale() -> bytes:
        await cache.clear()  # the writer commits and clears while this reader builds
        return b"stale"

    assert await cache.get_or_build("k", stale, 60) == b"stale"
    assert await cache.peek("k") is None


async def test_entries_expire(cache: Cache) -> None:
    await cache.get_or_build("k", Builder(b"short-lived"), 1)
    assert await cache.peek("k") == b"short-lived"
    if isinstance(cache, MemoryCache):
        cache._now = lambda: 10**12  # type: ignore[method-assign]  # jump past the TTL
    else:
        await asyncio.sleep(1.1)
    assert await cache.peek("k") is None


async def test_binary_values_round_trip(cache: Cache) -> None:
    value = b"application/json\n" + bytes(range(256))
    await cache.get_or_build("bin", Builder(value), 60)
    assert await cache.peek("bin") == value
