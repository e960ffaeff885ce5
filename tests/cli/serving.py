"""``cpd serve`` as an operator starts it: a real process on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.smtp_server import free_port


@dataclass
class Served:
    base: str  # http://127.0.0.1:<port>
    output: str = ""  # everything it printed, once it has stopped


@contextlib.contextmanager
def cpd_serve(
    env: dict[str, str], cwd: Path, *args: str, ready_within: float = 90
) -> Iterator[Served]:
    """Runs ``cpd serve`` until ``/ready`` answers 200 (a loaded machine takes a while), yields,
    then stops it and keeps its output. Its own process group, so a granian worker that hangs
    is killed with it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cpd.entrypoints.cli", "serve", "--port", str(port), *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + ready_within
        while True:
            try:
                if httpx.get(f"{served.base}/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            served.output = process.communicate(timeout=30)[0].decode()
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            served.output = process.communicate()[0].decode()
            raise
