"""Coalescing concurrent requests for one key into one unit of work.

Registrations for one event serialise on its row lock, and the lock is held until the commit
is acknowledged: one transaction per registration caps an event at one registration per
lock round. Callers that arrive while a batch runs wait for the next one, which decides all
of them in arrival order under a single lock and commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")  # a request
T = TypeVar("T")  # its result

# A batch's outcome per request, in order: its result, or the error that request alone met.
Decide = Callable[[K, list[R]], Awaitable[list[T | Exception]]]


@dataclass(slots=True)
class _Waiting(Generic[R, T]):
    request: R
    future: asyncio.Future[T]


@dataclass(slots=True)
class _Line(Generic[R, T]):
    waiting: list[_Waiting[R, T]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class Batcher(Generic[K, R, T]):
    """``submit`` a request under a key; ``decide`` runs for the batch it lands in.

    ``decide`` runs one batch per key at a time, taking what arrived while the previous one
    ran (at most ``max_batch``). If a batch of several fails as a whole, each of its
    requests is decided again alone, so a request fails only for its own reasons.
    """

    def __init__(self, decide: Decide[K, R, T], *, max_batch: int = 100) -> None:
        self._decide = decide
        self._max_batch = max_batch
        self._lines: dict[K, _Line[R, T]] = {}

    async def submit(self, key: K, request: R) -> T:
        line = self._lines.setdefault(key, _Line())
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)  # an abandoned future's error is not "unretrieved"
        line.waiting.append(_Waiting(request, future))
        if line.task is None:
            line.task = asyncio.create_task(self._serve(key, line))
        # The batch goes on if this caller goes away (a client disconnecting); its result is
        # then committed as it would be had the caller stayed.
        return await asyncio.shield(future)

    async def _serve(self, key: K, line: _Line[R, T]) -> None:
        batch: list[_Waiting[R, T]] = []
        try:
            while line.waiting:
                batch = line.waiting[: self._max_batch]
                del line.waiting[: self._max_batch]
                await self._run(key, batch)
        finally:  # cancelled (shutting down): nobody is left waiting forever
            for waiting in [*batch, *line.waiting]:
                waiting.future.cancel()
            line.waiting.clear()
            line.task = None
            if self._lines.get(key) is line:
                del self._lines[key]

    async def _run(self, key: K, batch: list[_Waiting[R, T]]) -> None:
        try:
            outcomes = await self._decide(key, [w.request for w in batch])
        except Exception as error:  # noqa: BLE001 - handed to the callers, who raise it
            if len(batch) == 1:
                outcomes = [error]
            else:
                for one in batch:
                    await self._run(key, [one])
                return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.future.done():
                continue
            if isinstance(outcome, Exception):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_result(outcome)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
