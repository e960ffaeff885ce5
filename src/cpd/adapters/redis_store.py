"""Redis adapters: state shared by every server process (login throttle, catalog cache)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis


class RedisAttemptThrottle:
    """Failures are members of a sorted set scored by time; the window is trimmed on use."""

    def __init__(
        self,
        client: Redis,
        *,
        max_failures: int,
        window_seconds: int,
        now: Callable[[], float] = time.time,
        prefix: str = "cpd:throttle:",
    ) -> None:
        self._redis = client
        self._max = max_failures
        self._window = window_seconds
        self._now = now
        self._prefix = prefix

    async def retry_after(self, key: str) -> int:
        now = self._now()
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - self._window)
            pipe.zrange(name, -self._max, -self._max, withscores=True)
            pipe.zcard(name)
            _, oldest_counted, count = await pipe.execute()
        if count < self._max:
            return 0
        oldest = float(oldest_counted[0][1])
        return max(1, int(oldest + self._window - now) + 1)

    async def record_failure(self, key: str) -> None:
        now = self._now()
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.zremrangebyscore(name, "-inf", now - self._window)
            pipe.expire(name, self._window + 1)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


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
