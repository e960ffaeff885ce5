"""Catalog load scenario: GET /api/v1/events on 10,000 seeded events in PostgreSQL.

Starts a throwaway PostgreSQL (or uses --database-url), migrates and seeds it
deterministically, serves the app with production settings, and drives it with wrk after a
warm-up. In the same run it serves a minimal Litestar hello-world the same way: the ceiling.
Run: ``uv run python -m bench.catalog`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.explain import print_plans
from bench.seed import seed_catalog
from cpd.bootstrap import build_container
from cpd.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BASELINE_DRF = 210.0  # req/s of the original stack for the same page, measured on this machine


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import _throwaway_server  # the test suite's throwaway server

    with _throwaway_server() as server_url:
        yield server_url


async def prepare(url: str, events: int) -> None:
    """Migrate, seed (once per database) and refresh planner statistics."""
    container = build_container(
        Settings.from_mapping({"persistence": "sql", "database_url": url, "auto_migrate": True})
    )
    await container.startup(run_relay=False)
    engine = container.database.engine  # type: ignore[union-attr]
    try:
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
        if count < events:
            started = time.perf_counter()
            await seed_catalog(container.uow, events=events)
            print(f"seeded {events} events in {time.perf_counter() - started:.1f}s")
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await container.shutdown()


@contextlib.contextmanager
def serve(command: list[str], env: dict[str, str], port: int, probe: str) -> Iterator[None]:
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "exited")
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def server_command(server: str, app: str, port: int, workers: int, *, factory: bool) -> list[str]:
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--no-ws",
            *(["--factory"] if factory else []),
            app,
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        *(["--factory"] if factory else []),
        app,
    ]


def wrk(name: str, url: str, *, seconds: int, connections: int, warmup: int) -> Result:
    if warmup:
        subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{warmup}s", url], check=True, capture_output=True
        )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(
        name,
        rps,
        _percentile(out, "50"),
        _percentile(out, "99"),
        errors + (int(non2xx.group(1)) if non2xx else 0),
    )


def _percentile(out: str, which: str) -> float:
    match = re.search(rf"^\s+{which}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--explain", action="store_true", help="print the query plans first")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    results: list[Result] = []
    run = {"seconds": args.seconds, "connections": args.connections, "warmup": args.warmup}
    with database(args.database_url) as url:
        asyncio.run(prepare(url, args.events))
        if args.explain:
            asyncio.run(print_plans(url))
        port = free_port()
        hello = server_command(args.server, "bench.hello:app", port, args.workers, factory=False)
        with serve(hello, {}, port, "/hello"):
            results.append(wrk("hello world (ceiling)", f"http://127.0.0.1:{port}/hello", **run))
        env = {
            "CPD_ENVIRONMENT": "production",
            "CPD_SECRET_KEY": "b" * 48,
            # Production on this machine's stand-ins: no payment, video or mail is real.
            "CPD_ALLOW_TEST_PAYMENTS": "true",
            "CPD_ALLOW_FAKE_VIDEO": "true",
            "CPD_ALLOW_FILE_MAIL": "true",
            "CPD_ALLOW_HTTP_PUBLIC_URL": "true",
            "CPD_DATABASE_URL": url,
            "CPD_LOG_LEVEL": "WARNING",
        }
        app = "cpd.entrypoints.http.app:create_app_from_env"
        base = f"http://127.0.0.1:{port}/api/v1/events?limit=20"
        scenarios = [
            ("", "list"),
            ("&q=ethics", "q=ethics"),
            ("&starts_after=2028-01-01T00:00:00Z", "starts_after"),
        ]
        for cached in (False, True):
            label = "cached" if cached else "uncached"
            command = server_command(args.server, app, port, args.workers, factory=True)
            with serve(command, {**env, "CPD_HTTP_CACHE": str(cached).lower()}, port, "/health"):
                for query, name in scenarios:
                    results.append(wrk(f"events {name} ({label})", base + query, **run))

    ceiling = results[0].requests_per_second
    print(
        f"\nserver={args.server} workers={args.workers} connections={args.connections} "
        f"duration={args.seconds}s events={args.events}"
    )
    print(
        f"{'scenario':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'x DRF':>7} {'/ceiling':>9}"
    )
    for r in results:
        print(
            f"{r.name:34} {r.requests_per_second:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{r.errors:7d} {r.requests_per_second / BASELINE_DRF:7.1f} "
            f"{r.requests_per_second / ceiling:9.2f}"
        )


if __name__ == "__main__":
    main()
