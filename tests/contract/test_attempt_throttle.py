"""The AttemptThrottle port, held to one behaviour in memory and in Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from cpd.adapters.redis_store import RedisAttemptThrottle
from cpd.adapters.system import MemoryAttemptThrottle
from cpd.ports.services import AttemptThrottle


class ManualTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


MakeThrottle = Callable[[int, int], AttemptThrottle]


@pytest.fixture
def clock() -> ManualTime:
    return ManualTime()


@pytest.fixture(params=[pytest.param("memory"), pytest.param("redis", marks=pytest.mark.redis)])
async def make_throttle(
    request: pytest.FixtureRequest, clock: ManualTime
) -> AsyncIterator[MakeThrottle]:
    if request.param == "memory":
        yield lambda limit, window: MemoryAttemptThrottle(
            max_failures=limit, window_seconds=window, now=clock
        )
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid.uuid4().hex}:"  # tests share the server, never keys
    yield lambda limit, window: RedisAttemptThrottle(
        client, max_failures=limit, window_seconds=window, now=clock, prefix=prefix
    )
    await client.aclose()


async def test_opens_after_max_failures_and_tells_how_long_to_wait(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle(3, 60)
    start = clock.now
    for _ in range(2):
        await throttle.record_failure("k")
        clock.now += 10
    assert await throttle.retry_after("k") == 0
    await throttle.record_failure("k")  # failures at t=0, 10, 20
    wait = await throttle.retry_after("k")
    assert 40 <= wait <= 41  # the oldest leaves the window at t=60
    assert await throttle.retry_after("other") == 0

    clock.now = start + 59
    assert await throttle.retry_after("k") > 0
    clock.now = start + 20 + wait  # waiting as told is always enough
    assert await throttle.retry_after("k") == 0


async def test_old_failures_fall_out_of_the_window(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle(2, 60)
    await throttle.record_failure("k")
    clock.now += 61
    await throttle.record_failure("k")
    assert await throttle.retry_after("k") == 0


async def test_reset_clears_one_key_only(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(1, 60)
    await throttle.record_failure("a")
    await throttle.record_failure("b")
    await throttle.reset("a")
    assert await throttle.retry_after("a") == 0
    assert await throttle.retry_after("b") > 0


@pytest.mark.redis
async def test_redis_throttle_is_shared_by_every_process(redis_url: str) -> None:
    """Two server processes (two clients) count failures for one email together."""
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        a = RedisAttemptThrottle(first, max_failures=2, window_seconds=60, prefix=prefix)
        b = RedisAttemptThrottle(second, max_failures=2, window_seconds=60, prefix=prefix)
        await a.record_failure("login:email:x@example.org")
        await b.record_failure("login:email:x@example.org")
        assert await a.retry_after("login:email:x@example.org") > 0
        assert await b.retry_after("login:email:x@example.org") > 0
    finally:
        await first.aclose()
        await second.aclose()
