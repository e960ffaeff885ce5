"""The in-process byte cache: build once, time to live, least-recently-used eviction, and a
clear that also outdates values being built while it happens."""

from __future__ import annotations

import asyncio

import pytest

from cpd.adapters.memory.cache import MemoryCache


class Ticker:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


class Builder:
    """Builds ``<name>:<n>`` where n counts the builds, so a test sees cache hits and misses."""

    def __init__(self, name: str = "v") -> None:
        self.name = name
        self.builds = 0

    async def __call__(self) -> bytes:
        self.builds += 1
        return f"{self.name}:{self.builds}".encode()


async def test_a_value_is_built_once_and_then_served() -> None:
    cache = MemoryCache(now=Ticker())
    build = Builder()
    assert await cache.get_or_build("page", build, 60) == b"v:1"
    assert await cache.get_or_build("page", build, 60) == b"v:1"
    assert build.builds == 1


async def test_keys_are_independent() -> None:
    cache = MemoryCache(now=Ticker())
    first, second = Builder("a"), Builder("b")
    assert await cache.get_or_build("a", first, 60) == b"a:1"
    assert await cache.get_or_build("b", second, 60) == b"b:1"
    assert await cache.get_or_build("a", first, 60) == b"a:1"
    assert (first.builds, second.builds) == (1, 1)


async def test_a_value_lives_until_its_ttl_has_passed() -> None:
    now = Ticker()
    cache = MemoryCache(now=now)
    build = Builder()
    await cache.get_or_build("page", build, 30)
    now.seconds += 29.999
    assert await cache.get_or_build("page", build, 30) == b"v:1"
    now.seconds += 0.001  # exactly at expiry
    assert await cache.get_or_build("page", build, 30) == b"v:2"
    now.seconds += 29
    assert await cache.get_or_build("page", build, 30) == b"v:2"  # the rebuild has a new ttl
    assert build.builds == 2


async def test_a_zero_ttl_is_never_served_from_the_cache() -> None:
    cache = MemoryCache(now=Ticker())
    build = Builder()
    await cache.get_or_build("page", build, 0)
    assert await cache.get_or_build("page", build, 0) == b"v:2"


async def test_the_least_recently_used_entry_is_evicted_first() -> None:
    cache = MemoryCache(max_entries=2, now=Ticker())
    a, b, c = Builder("a"), Builder("b"), Builder("c")
    await cache.get_or_build("a", a, 60)
    await cache.get_or_build("b", b, 60)
    await cache.get_or_build("a", a, 60)  # a hit makes "a" more recent than "b"
    await cache.get_or_build("c", c, 60)
    assert await cache.get_or_build("a", a, 60) == b"a:1"
    assert await cache.get_or_build("c", c, 60) == b"c:1"
    assert await cache.get_or_build("b", b, 60) == b"b:2"  # evicted, so built again


async def test_the_cache_never_holds_more_than_its_maximum() -> None:
    cache = MemoryCache(max_entries=3, now=Ticker())
    builders = [Builder(f"k{i}") for i in range(10)]
    for i, build in enumerate(builders):
        await cache.get_or_build(f"k{i}", build, 60)
    for i in reversed(range(10)):  # newest first: the kept three are hit before any rebuild
        await cache.get_or_build(f"k{i}", builders[i], 60)
    assert [b.builds for b in builders[7:]] == [1, 1, 1]
    assert all(b.builds == 2 for b in builders[:7])


async def test_clear_empties_the_cache() -> None:
    cache = MemoryCache(now=Ticker())
    a, b = Builder("a"), Builder("b")
    await cache.get_or_build("a", a, 60)
    await cache.get_or_build("b", b, 60)
    await cache.clear()
    assert await cache.get_or_build("a", a, 60) == b"a:2"
    assert await cache.get_or_build("b", b, 60) == b"b:2"
    assert await cache.get_or_build("a", a, 60) == b"a:2"


async def test_a_value_built_across_a_clear_is_returned_but_not_kept() -> None:
    cache = MemoryCache(now=Ticker())
    started, release = asyncio.Event(), asyncio.Event()
    builds = 0

    async def slow_build() -> bytes:
        nonlocal builds
        builds += 1
        started.set()
        await release.wait()
        return b"from before the change"

    reader = asyncio.create_task(cache.get_or_build("page", slow_build, 60))
    await started.wait()
    await cache.clear()  # a writer changed the data while the reader was building
    release.set()
    assert await reader == b"from before the change"

    fresh = Builder("after")
    assert await cache.get_or_build("page", fresh, 60) == b"after:1"
    assert (builds, fresh.builds) == (1, 1)


async def test_a_failed_build_stores_nothing() -> None:
    cache = MemoryCache(now=Ticker())

    async def broken() -> bytes:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await cache.get_or_build("page", broken, 60)
    build = Builder()
    assert await cache.get_or_build("page", build, 60) == b"v:1"
