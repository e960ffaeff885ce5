"""The batcher behind registrations: coalescing, per-request errors, isolation, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from cpd.services.common.batching import Batcher


class Recorder:
    """A ``decide`` that records its batches and doubles each number; negatives fail alone,
    and a batch holding 13 fails as a whole."""

    def __init__(self, pause: float = 0.0) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.pause = pause
        self.started = asyncio.Event()

    async def __call__(self, key: str, requests: list[int]) -> list[int | Exception]:
        self.batches.append((key, list(requests)))
        self.started.set()
        await asyncio.sleep(self.pause)
        if 13 in requests:
            raise RuntimeError("unlucky batch")
        return [ValueError(f"negative {n}") if n < 0 else n * 2 for n in requests]


async def test_requests_arriving_during_a_batch_share_the_next_one() -> None:
    decide = Recorder(pause=0.01)
    batcher: Batcher[str, int, int] = Batcher(decide)
    first = asyncio.create_task(batcher.submit("event", 1))
    await decide.started.wait()

    results = await asyncio.gather(*(batcher.submit("event", n) for n in range(2, 8)))

    assert await first == 2
    assert results == [4, 6, 8, 10, 12, 14]
    assert decide.batches == [("event", [1]), ("event", [2, 3, 4, 5, 6, 7])]


async def test_keys_are_batched_apart_and_batches_are_capped() -> None:
    decide = Recorder(pause=0.01)
    batcher: Batcher[str, int, int] = Batcher(decide, max_batch=2)

    await asyncio.gather(*(batcher.submit(key, n) for n in range(1, 6) for key in ("a", "b")))

    assert [b for k, b in decide.batches if k == "a"] == [[1, 2], [3, 4], [5]]
    assert [b for k, b in decide.batches if k == "b"] == [[1, 2], [3, 4], [5]]


async def test_a_request_fails_for_its_own_reasons_only() -> None:
    decide = Recorder(pause=0.01)
    batcher: Batcher[str, int, int] = Batcher(decide)

    results = await asyncio.gather(
        *(batcher.submit("event", n) for n in (1, 2, -3, 13, 5)), return_exceptions=True
    )

    assert results[:2] == [2, 4]
    assert isinstance(results[2], ValueError)
    assert isinstance(results[3], RuntimeError)  # its batch failed; alone it failed again
    assert results[4] == 10
    # The batch failed as a whole, so each of its requests was decided again alone.
    alone = [("event", [n]) for n in (1, 2, -3, 13, 5)]
    assert decide.batches == [("event", [1, 2, -3, 13, 5]), *alone]


async def test_a_caller_who_leaves_does_not_stop_the_batch() -> None:
    decide = Recorder(pause=0.05)
    batcher: Batcher[str, int, int] = Batcher(decide)
    first = asyncio.create_task(batcher.submit("event", 1))
    await decide.started.wait()
    leaving = asyncio.create_task(batcher.submit("event", 2))
    staying = asyncio.create_task(batcher.submit("event", 3))
    await asyncio.sleep(0)
    leaving.cancel()

    assert await first == 2
    assert await staying == 6
    assert decide.batches == [("event", [1]), ("event", [2, 3])]  # 2 was still decided
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_shutting_down_leaves_nobody_waiting_forever() -> None:
    decide = Recorder(pause=10)
    batcher: Batcher[str, int, int] = Batcher(decide)
    callers = [asyncio.create_task(batcher.submit("event", n)) for n in (1, 2)]
    await decide.started.wait()

    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__ == "Batcher._serve":  # type: ignore[union-attr]
            task.cancel()
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 1)

    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    decide.pause = 0
    assert await asyncio.wait_for(batcher.submit("event", 4), 1) == 8  # the line starts anew
