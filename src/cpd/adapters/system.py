"""Small adapters with no external service: the clock, password hashing, attempt throttling."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError


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
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._argon2.hash, password
        )

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._verify, password_hash, password
        )

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)


class MemoryAttemptThrottle:
    """Sliding-window failure counter in this process (one server process, or tests)."""

    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: int,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._now = now
        self._failures: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    async def retry_after(self, key: str) -> int:
        now = self._now()
        async with self._lock:
            failures = self._recent(key, now)
            if len(failures) < self._max:
                return 0
            return max(1, int(failures[-self._max] + self._window - now) + 1)

    async def record_failure(self, key: str) -> None:
        now = self._now()
        async with self._lock:
            self._recent(key, now).append(now)

    async def reset(self, key: str) -> None:
        async with self._lock:
            self._failures.pop(key, None)
