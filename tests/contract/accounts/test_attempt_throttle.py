"""The AttemptThrottle port, held to one behaviour in memory and in Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from cpd.adapters.redis_store import RedisAttemptThrottle
from cpd.adapters.system import MemoryAttemptThrottle
from cpd.domain.auth import AttemptPolicy
from cpd.ports.platform import AttemptThrottle

# Three attempts at once, then waits of 10, 20, 40, 40... seconds; forgotten 100 s after.
POLICY = AttemptPolicy(free=3, first_delay=10, max_delay=40, memory=100)


class ManualTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


MakeThrottle = Callable[[], AttemptThrottle]


@pytest.fixture
def clock() -> ManualTime:
    return ManualTime()


@pytest.fixture(params=[pytest.param("memory"), pytest.param("redis", marks=pytest.mark.redis)])
async def make_throttle(
    request: pytest.FixtureRequest, clock: ManualTime
) -> AsyncIterator[MakeThrottle]:
    if request.param == "memory":
        yield lambda: MemoryAttemptThrottle(now=clock)
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid.uuid4().hex}:"  # tests share the server, never keys
    yield lambda: RedisAttemptThrottle(client, now=clock, prefix=prefix)
    await client.aclose()


async def attempts(throttle: AttemptThrottle, n: int, key: str = "k") -> list[int]:
    return [await throttle.attempt((key, POLICY)) for _ in range(n)]


async def test_free_attempts_then_waits_that_double_up_to_the_longest(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle()
    assert await attempts(throttle, 3) == [0, 0, 0]
    assert await throttle.attempt(("k", POLICY)) == 10  # refused, and not counted
    assert await throttle.attempt(("other", POLICY)) == 0
    for wait in (10, 20, 40, 40):
        clock.now += wait - 0.5
        assert await throttle.attempt(("k", POLICY)) == 1  # half a second early: rounded up
        clock.now += 0.5  # waiting as told is always enough
        assert await throttle.attempt(("k", POLICY)) == 0


async def test_parallel_attempts_are_decided_one_at_a_time(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle()
    decided = await asyncio.gather(*(throttle.attempt(("k", POLICY)) for _ in range(30)))
    assert sorted(decided) == [0] * 3 + [10] * 27


async def test_a_key_left_alone_is_forgotten(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle()
    await attempts(throttle, 3)
    clock.now += 10 + 99
    assert await throttle.attempt(("k", POLICY)) == 0  # the 4th: remembered, so a wait follows
    clock.now += 20 + 100
    assert await attempts(throttle, 3) == [0, 0, 0]  # forgotten: three free attempts again


async def test_an_attempt_at_several_new_keys_counts_at_each(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle()
    for _ in range(3):
        assert await throttle.attempt(("a", POLICY), ("b", POLICY)) == 0
    assert await throttle.attempt(("a", POLICY)) == 10
    assert await throttle.attempt(("b", POLICY)) == 10


async def test_an_attempt_refused_at_one_key_is_counted_at_none(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle()
    roomy = AttemptPolicy(free=10, first_delay=10, max_delay=40, memory=100)
    await attempts(throttle, 3, "account")
    for _ in range(5):  # refused: the account waits
        assert await throttle.attempt(("account", POLICY), ("address", roomy)) == 10
    clock.now += 10
    assert await throttle.attempt(("account", POLICY), ("address", roomy)) == 0
    # The address counted one of those six: nine more are free, the tenth starts a wait.
    assert [await throttle.attempt(("address", roomy)) for _ in range(9)] == [0] * 9
    assert await throttle.attempt(("address", roomy)) == 10
    # Both wait now (the account 20 s after its 4th attempt): the answer is the longer wait.
    assert await throttle.attempt(("account", POLICY), ("address", roomy)) == 20


async def test_a_refund_takes_back_one_attempt_and_its_wait(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle()
    await attempts(throttle, 3)
    await throttle.refund("k", POLICY)
    assert await attempts(throttle, 2) == [0, 10]
    await throttle.refund("never-seen", POLICY)
    assert await throttle.attempt(("never-seen", POLICY)) == 0


async def test_a_refund_above_the_free_attempts_keeps_the_wait(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle()
    await attempts(throttle, 3)
    clock.now += 10
    await throttle.attempt(("k", POLICY))  # the 4th, followed by 20 s
    await throttle.refund("k", POLICY)
    assert await throttle.attempt(("k", POLICY)) > 0


async def test_clear_forgets_one_key_only(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle()
    await attempts(throttle, 3, "a")
    await attempts(throttle, 3, "b")
    await throttle.clear("a")
    assert await throttle.attempt(("a", POLICY)) == 0
    assert await throttle.attempt(("b", POLICY)) > 0


async def test_remembers_a_key_for_as_long_as_told(
    make_throttle: MakeThrottle, clock: ManualTime
) -> None:
    throttle = make_throttle()
    assert not await throttle.remembers("device")
    await throttle.remember("device", 60)
    assert await throttle.remembers("device")
    assert not await throttle.remembers("another device")
    clock.now += 60
    assert not await throttle.remembers("device")


@pytest.mark.redis
async def test_redis_throttle_is_shared_by_every_process(redis_url: str) -> None:
    """Two server processes (two clients) count attempts at one key together."""
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        a = RedisAttemptThrottle(first, prefix=prefix)
        b = RedisAttemptThrottle(second, prefix=prefix)
        key = "login:account:x@example.org"
        assert [await t.attempt((key, POLICY)) for t in (a, b, a)] == [0, 0, 0]
        assert await b.attempt((key, POLICY)) > 0
        assert await a.attempt((key, POLICY)) > 0
    finally:
        await first.aclose()
        await second.aclose()


async def test_the_memory_throttle_stays_within_its_cap(clock: ManualTime) -> None:
    throttle = MemoryAttemptThrottle(now=clock, max_keys=1_000)
    for n in range(20_000):  # one guess at each of many accounts
        await throttle.attempt((f"login:account:{n}@example.org", POLICY))
        await throttle.remember(f"device:{n}", 3600)
    assert len(throttle) == 2_000
    assert await throttle.attempt(("login:account:19999@example.org", POLICY)) == 0  # still known
    assert await throttle.attempt(("login:account:19999@example.org", POLICY)) == 0
    assert await throttle.attempt(("login:account:19999@example.org", POLICY)) > 0


async def test_the_memory_throttle_drops_what_it_has_forgotten(clock: ManualTime) -> None:
    throttle = MemoryAttemptThrottle(now=clock)
    for n in range(500):
        await throttle.attempt((f"login:address:10.0.{n // 250}.{n % 250}", POLICY))
        await throttle.remember(f"device:{n}", 50)
    clock.now += 100
    await throttle.attempt(("login:address:192.0.2.1", POLICY))
    await throttle.remember("device:new", 50)
    assert len(throttle) == 2
