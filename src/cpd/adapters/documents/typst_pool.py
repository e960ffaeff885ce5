"""Long-lived Typst child processes (``typst_worker``), each compile under a deadline.

A compile that outlasts its deadline has its child killed (SIGKILL) and replaced by a new one
on the next compile; so does a child that dies (its address space is capped: a template that
allocates past it aborts the child, not the service). The pool's own threads, one per child,
wait on the children, so no compile ever occupies Python's default thread pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal, TypeVar

from cpd.adapters.documents import typst_worker

T = TypeVar("T")
# One thread per child (the pool is the parallelism); an aborting child says one line.
STARTUP_SECONDS = 60.0
# What a child needs of the environment to start Python; nothing else (no CPD_*, AWS_* secret
# is within reach of a compile that escaped Typst).
_PASSED_ON = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LANG", "LC_ALL", "TMPDIR")
CHILD_ENV = {"RAYON_NUM_THREADS": "1", "RUST_BACKTRACE": "0"}


@dataclass
class Budget:
    """Compile time shared by several compiles (an upload's samples). Only compiles spend it:
    starting a child (imports, fonts: seconds on a busy machine) does not."""

    seconds: float


class CompileTimeout(Exception):
    """The compile outlasted its deadline; its child was killed."""


class CompilerStopped(Exception):
    """The child died while compiling (over its memory cap, or crashed)."""


class _Child:
    def __init__(self, root: Path, font_dirs: Sequence[Path], memory_mib: int) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [
                    sys.executable,
                    "-m",
                    typst_worker.__name__,
                    str(os.getpid()),
                    str(request_read),
                    str(reply_write),
                    str(memory_mib),
                    str(root),
                    *map(str, font_dirs),
                ],
                pass_fds=(request_read, reply_write),
                stdin=subprocess.DEVNULL,
                env={k: os.environ[k] for k in _PASSED_ON if k in os.environ} | CHILD_ENV,
            )
        except BaseException:
            os.close(request_write)
            os.close(reply_read)
            raise
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._requests = Connection(request_write, readable=False)
        self._replies = Connection(reply_read, writable=False)
        # Started (imports, fonts) before any deadline runs: a compile's time is its own.
        try:
            ready = self._replies.poll(STARTUP_SECONDS) and self._replies.recv_bytes()
        except EOFError:
            ready = False
        if ready != typst_worker.READY:
            self.kill()
            raise CompilerStopped

    def compile(self, request: Mapping[str, object], seconds: float) -> bytes:
        try:
            self._requests.send_bytes(pickle.dumps(request))
            if not self._replies.poll(seconds):
                raise CompileTimeout
            reply = self._replies.recv_bytes()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise CompilerStopped from None
        if reply[:1] == typst_worker.FAILED:
            raise typst_worker.TemplateError(*json.loads(reply[1:]))
        return reply[1:]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self._requests.close()
        self._replies.close()


class TypstProcessPool:
    """``processes`` children, started when first needed, each compile within ``seconds``."""

    def __init__(
        self,
        *,
        name: str,
        processes: int,
        seconds: float,
        memory_mib: int,
        root: Path,
        font_dirs: Sequence[Path],
    ) -> None:
        self.processes = max(1, processes)
        self.seconds = seconds
        self.memory_mib = memory_mib
        self._root = root
        self._font_dirs = list(font_dirs)
        self._executor = ThreadPoolExecutor(self.processes, thread_name_prefix=f"cpd-{name}")
        self._lock = threading.Lock()
        self._idle: list[_Child] = []
        self._children: set[_Child] = set()
        self._closed = False

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` in one of the pool's threads (where ``compile`` may be called)."""
        context = contextvars.copy_context()  # the request's log context follows the work
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, context.run, work, *args)

    def compile(
        self,
        source: bytes,
        inputs: Mapping[str, str],
        *,
        output: Literal["pdf", "png"] = "pdf",
        ppi: float | None = None,
        budget: Budget | None = None,
        timestamp: int | None = None,
    ) -> bytes:
        """In a pool thread: the document, or TemplateError, CompileTimeout, CompilerStopped.
        ``timestamp`` (UNIX seconds): the PDF's creation date; None: the time of the compile.
        The deadline (``seconds``, or what is left of ``budget``) starts once a child is ready."""
        if budget is not None and budget.seconds <= 0:
            raise CompileTimeout
        child = self._take()
        request = {
            "source": source,
            "inputs": dict(inputs),
            "output": output,
            "ppi": ppi,
            "timestamp": timestamp,
        }
        started = time.monotonic()
        try:
            document = child.compile(request, self.seconds if budget is None else budget.seconds)
        except (CompileTimeout, CompilerStopped):
            self._discard(child)
            raise
        except BaseException:
            self._give_back(child)
            raise
        finally:
            if budget is not None:
                budget.seconds -= time.monotonic() - started
        self._give_back(child)
        return document

    def _take(self) -> _Child:
        with self._lock:
            if self._closed:
                raise RuntimeError("the Typst process pool is closed")
            if self._idle:
                return self._idle.pop()
        child = _Child(self._root, self._font_dirs, self.memory_mib)
        with self._lock:
            self._children.add(child)
        return child

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(child)
                return
        self._discard(child)

    def _discard(self, child: _Child) -> None:
        with self._lock:
            self._children.discard(child)
        child.kill()

    def close(self) -> None:
        """Kill every child (a compile under way fails) and let the threads go."""
        with self._lock:
            self._closed = True
            children, self._children, self._idle = self._children, set(), []
        for child in children:
            child.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)
