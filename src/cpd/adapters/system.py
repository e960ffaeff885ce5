"""Small adapters with no external service: the clock, password hashing, attempt throttling."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from cpd.adapters.threads import BlockingPool
from cpd.domain.auth import AttemptPolicy

V = TypeVar("V")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Argon2Hasher:
    """Argon2id with argon2-cffi's RFC 9106 low-memory profile (its defaults), run on this
    hasher's own threads: the default pool is shared with every other blocking call."""

    def __init__(
        self, *, time_cost: int | None = None, memory_cost: int | None = None, threads: int = 2
    ) -> None:
        defaults = Argon2()
        self._argon2 = Argon2(
            time_cost=time_cost or defaults.time_cost,
            memory_cost=memory_cost or defaults.memory_cost,
        )
        self._pool = BlockingPool("argon2", threads)

    async def hash(self, password: str) -> str:
        return await self._pool.run(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._pool.run(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._pool.close()

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)


@dataclass(slots=True)
class _Attempts:
    count: int = 0
    wait_until: float = 0.0
    forget_at: float = 0.0


class MemoryAttemptThrottle:
    """Attempt counts in this process (one server process, or tests).

    At most ``max_keys`` keys and as many remembered devices: a key past its ``forget_at`` is
    dropped when met, and beyond the cap the least recently used goes first. No method awaits
    between reading and writing a key, so each is atomic on the event loop.
    """

    def __init__(
        self, *, now: Callable[[], float] = time.monotonic, max_keys: int = 50_000
    ) -> None:
        self._now = now
        self._max_keys = max_keys
        self._keys: OrderedDict[str, _Attempts] = OrderedDict()
        self._remembered: OrderedDict[str, float] = OrderedDict()

    async def attempt(self, *keys: tuple[str, AttemptPolicy]) -> int:
        now = self._now()
        _trim(self._keys, self._max_keys - len(keys), lambda old: old.forget_at <= now)
        states = [(self._live(key, now), policy) for key, policy in keys]
        longest = max((state.wait_until - now for state, _ in states), default=0.0)
        if longest > 0:
            return wait_seconds(longest)
        for state, policy in states:
            state.count += 1
            delay = policy.delay_after(state.count)
            state.wait_until = now + delay
            state.forget_at = now + delay + policy.memory
        return 0

    async def refund(self, key: str, policy: AttemptPolicy) -> None:
        state = self._keys.get(key)
        if state is not None and state.count > 0:
            state.count -= 1
            if policy.delay_after(state.count) == 0:
                state.wait_until = 0.0

    async def clear(self, key: str) -> None:
        self._keys.pop(key, None)

    async def remember(self, key: str, seconds: int) -> None:
        now = self._now()
        self._remembered.pop(key, None)
        _trim(self._remembered, self._max_keys - 1, lambda until: until <= now)
        self._remembered[key] = now + seconds

    async def remembers(self, key: str) -> bool:
        until = self._remembered.get(key)
        if until is None:
            return False
        if until <= self._now():
            del self._remembered[key]
            return False
        return True

    def _live(self, key: str, now: float) -> _Attempts:
        state = self._keys.pop(key, None)
        if state is None or state.forget_at <= now:
            state = _Attempts()
        self._keys[key] = state  # now the most recently used
        return state

    def __len__(self) -> int:
        return len(self._keys) + len(self._remembered)


def _trim(entries: OrderedDict[str, V], cap: int, expired: Callable[[V], bool]) -> None:
    """Drop expired entries from the least recently used end, then any beyond ``cap``."""
    while entries and (len(entries) > cap or expired(next(iter(entries.values())))):
        entries.popitem(last=False)


def wait_seconds(seconds: float) -> int:
    """A wait as ``Retry-After`` says it: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(seconds))
