"""A byte cache in this process: right for one server process and for tests."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable


class MemoryCache:
    """Least-recently-used with a time to live; ``clear`` starts a new generation."""

    def __init__(
        self, *, max_entries: int = 10_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._now = now
        self._generation = 0

    async def peek(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._now():
            self._entries.move_to_end(key)
            return entry[1]
        return None

    async def get_or_build(
        self, key: str, build: Callable[[], Awaitable[bytes]], ttl_seconds: int
    ) -> bytes:
        found = await self.peek(key)
        if found is not None:
            return found
        generation = self._generation
        value = await build()
        if generation == self._generation:  # no clear while building: the value is current
            self._entries[key] = (self._now() + ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value

    async def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
