"""Redis adapters: state shared by every server process (login throttle, catalog cache)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis

from cpd.domain.auth import AttemptPolicy


class RedisAttemptThrottle:
    """Each key is a hash (count, wait_until, forget_at) changed by one Lua script, so every
    process sees one count and a check can never be separated from its count. Redis expires
    a key once it is forgotten; the times are this throttle's clock (tests move it by hand)."""

    # ARGV: now, then for each key its policy's memory, the number of delays and the delays
    # after its 1st, 2nd, ... attempt (the last repeats): the arithmetic stays in the domain.
    _ATTEMPT = """
    local now, at, longest, keys = tonumber(ARGV[1]), 2, 0, {}
    for i, key in ipairs(KEYS) do
        local memory, n = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
        local delays = {}
        for j = 1, n do delays[j] = tonumber(ARGV[at + 1 + j]) end
        at = at + 2 + n
        local state = redis.call('HMGET', key, 'count', 'wait_until', 'forget_at')
        local count, wait_until = tonumber(state[1]) or 0, tonumber(state[2]) or 0
        if (tonumber(state[3]) or 0) <= now then count, wait_until = 0, 0 end
        longest = math.max(longest, wait_until - now)
        keys[i] = {count + 1, memory, delays}
    end
    if longest > 0 then return math.max(1, math.ceil(longest)) end
    for i, key in ipairs(KEYS) do
        local count, memory, delays = keys[i][1], keys[i][2], keys[i][3]
        local delay = delays[math.min(count, #delays)]
        redis.call('HSET', key, 'count', count, 'wait_until', tostring(now + delay),
                   'forget_at', tostring(now + delay + memory))
        redis.call('EXPIRE', key, math.ceil(delay + memory) + 1)
    end
    return 0
    """
    # ARGV: the same delays; a key back under its free attempts waits no more.
    _REFUND = """
    local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
    if count < 1 then return 0 end
    count = count - 1
    redis.call('HSET', KEYS[1], 'count', count)
    if count == 0 or tonumber(ARGV[math.min(count, #ARGV)]) == 0 then
        redis.call('HSET', KEYS[1], 'wait_until', '0')
    end
    return 0
    """

    def __init__(
        self,
        client: Redis,
        *,
        now: Callable[[], float] = time.time,
        prefix: str = "cpd:throttle:",
    ) -> None:
        self._redis = client
        self._now = now
        self._prefix = prefix
        self._attempt = client.register_script(self._ATTEMPT)
        self._refund = client.register_script(self._REFUND)

    async def attempt(self, *keys: tuple[str, AttemptPolicy]) -> int:
        args: list[str | int] = [repr(self._now())]
        for _, policy in keys:
            delays = _delays(policy)
            args += [policy.memory, len(delays), *delays]
        names = [self._prefix + key for key, _ in keys]
        return int(await self._attempt(keys=names, args=args))

    async def refund(self, key: str, policy: AttemptPolicy) -> None:
        await self._refund(keys=[self._prefix + key], args=_delays(policy))

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def remember(self, key: str, seconds: int) -> None:
        until = repr(self._now() + seconds)
        await self._redis.set(self._prefix + "known:" + key, until, ex=seconds + 1)

    async def remembers(self, key: str) -> bool:
        until = await self._redis.get(self._prefix + "known:" + key)
        return until is not None and float(until) > self._now()


def _delays(policy: AttemptPolicy) -> list[int]:
    """The policy's delay after each attempt up to the first that reaches its longest."""
    delays = []
    for attempts in range(1, policy.free + 34):
        delays.append(policy.delay_after(attempts))
        if delays[-1] >= policy.max_delay:
            break
    return delays


class RedisProbe:
    def __init__(self, client: Redis) -> None:
        self._redis = client

    async def ping(self) -> None:
        # redis-py types ping() for both its sync and async clients; this one is async.
        await cast(Awaitable[bool], self._redis.ping())


class RedisCache:
    """Entries live in one hash per generation; ``clear`` bumps the generation, so every
    process stops reading the old entries at once and a racing build lands in a dead hash."""

    _READ = """
    local generation = redis.call('GET', KEYS[1]) or '0'
    return {generation, redis.call('HGET', KEYS[1] .. ':' .. generation, ARGV[1])}
    """

    def __init__(self, client: Redis, *, namespace: str = "cpd:cache:catalog") -> None:
        self._redis = client
        self._name = namespace
        self._read = client.register_script(self._READ)

    async def peek(self, key: str) -> bytes | None:
        return (await self._lookup(key))[1]

    async def get_or_build(
        self, key: str, build: Callable[[], Awaitable[bytes]], ttl_seconds: int
    ) -> bytes:
        generation, found = await self._lookup(key)
        if found is not None:
            return found
        value = await build()
        entries = f"{self._name}:{int(generation)}"
        stamped = str(time.time() + ttl_seconds).encode() + b":" + value
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(entries, key, stamped)  # type: ignore[arg-type]  # bytes work; stubs say str
            pipe.expire(entries, max(ttl_seconds, 60) * 2)  # a generation dies when idle
            await pipe.execute()
        return value

    async def clear(self) -> None:
        await self._redis.incr(self._name)

    async def _lookup(self, key: str) -> tuple[Any, bytes | None]:
        generation, raw = await self._read(keys=[self._name], args=[key])
        if raw is not None:
            expires, _, value = bytes(raw).partition(b":")
            if float(expires) > time.time():
                return generation, value
        return generation, None
