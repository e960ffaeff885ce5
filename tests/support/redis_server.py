"""A throwaway Redis server for the tests that need one (``redis_url`` fixture).

``CPD_TEST_REDIS_URL`` points the tests at an existing server instead. Without a
``redis-server`` binary the tests skip, unless ``CPD_REQUIRE_SERVICES=1`` makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("CPD_TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CPD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}; CPD_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(reason)
    with throwaway_redis(binary) as url:
        yield url


@contextmanager
def throwaway_redis(binary: str = "redis-server") -> Iterator[str]:
    """A redis-server on a free loopback port, with no persistence, stopped afterwards."""
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            assert server.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not answer in 10 s"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
