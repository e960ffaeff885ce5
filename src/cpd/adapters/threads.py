"""Bounded thread pools of their own for an adapter's blocking calls (files, mail).

``asyncio.to_thread`` shares Python's default pool (min(32, cpus + 4) threads) with
everything else in the process: a burst of one kind of blocking work there makes every
other kind, password hashing included, wait behind it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BlockingPool:
    """``threads`` threads named ``cpd-<name>``, started when first needed."""

    def __init__(self, name: str, threads: int) -> None:
        self._executor = ThreadPoolExecutor(max(1, threads), thread_name_prefix=f"cpd-{name}")

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        context = contextvars.copy_context()  # the request's log context follows the work
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: context.run(work, *args, **kwargs)
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
