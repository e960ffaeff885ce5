"""Registration load scenario: 2,000 people register at once for a 100-seat free event.

Starts a throwaway PostgreSQL (or uses --database-url), serves the app with its production
settings, signs 2,000 distinct users in, then fires all 2,000 ``POST /api/v1/registrations``
concurrently over real HTTP and checks the outcome: exactly 100 confirmed, 1,900 waitlisted,
no errors. Run: ``uv run python -m bench.registrations`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import aiohttp

from bench.catalog import database, free_port, serve, server_command

PASSWORD = "a long benchmark passphrase"  # noqa: S105 - throwaway users on a throwaway server


async def _sign_up(client: aiohttp.ClientSession, n: int) -> str:
    email = f"racer{n}@bench.example.org"
    body = {"email": email, "password": PASSWORD, "first_name": "Racer", "last_name": str(n)}
    async with client.post("/api/v1/auth/register", json=body):
        pass
    login = {"email": email, "password": PASSWORD}
    async with client.post("/api/v1/auth/login", json=login) as response:
        response.raise_for_status()
        return str((await response.json())["access_token"])


async def _create_event(client: aiohttp.ClientSession, auth: dict[str, str], seats: int) -> str:
    async with client.post(
        "/api/v1/organizations", json={"name": "Bench Host"}, headers=auth
    ) as response:
        org = await response.json()
    body = {
        "organization_id": org["id"],
        "title": "Sold out",
        "format": "online",
        "capacity": seats,
        "sessions": [
            {"title": "Day", "starts_at": "2030-01-01T09:00:00Z", "ends_at": "2030-01-01T17:00:00Z"}
        ],
    }
    async with client.post("/api/v1/events", json=body, headers=auth) as response:
        event_id = str((await response.json())["id"])
    async with client.post(f"/api/v1/events/{event_id}/publish", headers=auth) as response:
        response.raise_for_status()
    return event_id


async def run(base: str, people: int, seats: int, concurrency: int) -> dict[str, Any]:
    # aiohttp, not httpx: at 256 connections httpx's client used a whole core by itself and
    # became what the benchmark measured.
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:
        auth = {"Authorization": f"Bearer {await _sign_up(client, -1)}"}
        event_id = await _create_event(client, auth, seats)
        started = time.perf_counter()
        tokens = await asyncio.gather(*(_sign_up(client, n) for n in range(people)))
        print(f"signed in {people} people in {time.perf_counter() - started:.1f}s")

        # The requests queue here rather than in the client's pool, so each one's latency
        # counts from when a connection is free to send it to when the answer arrives, as
        # a server sees it; the run's wall time covers the whole queue.
        connections = asyncio.Semaphore(concurrency)

        async def register(token: str) -> tuple[float, int, str]:
            async with connections:
                sent = time.perf_counter()
                async with client.post(
                    "/api/v1/registrations",
                    json={"event_id": event_id},
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    body = await response.text()
                    took = time.perf_counter() - sent
            if response.status != 201:
                print(f"error {response.status}: {body[:300]}")
                return took, response.status, ""
            return took, response.status, str(json.loads(body)["status"])

        started = time.perf_counter()
        results = await asyncio.gather(*(register(token) for token in tokens))
        elapsed = time.perf_counter() - started
    latencies = sorted(r[0] * 1000 for r in results)
    return {
        "requests": len(results),
        "seconds": elapsed,
        "rps": len(results) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "errors": sum(1 for r in results if r[1] != 201),
        "confirmed": sum(1 for r in results if r[2] == "confirmed"),
        "waitlisted": sum(1 for r in results if r[2] == "waitlisted"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=256, help="open connections")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with database(args.database_url) as url:
        port = free_port()
        env = {
            "CPD_ENVIRONMENT": "production",
            "CPD_SECRET_KEY": "b" * 48,
            # Production on this machine's stand-ins: no payment, video or mail is real.
            "CPD_ALLOW_TEST_PAYMENTS": "true",
            "CPD_ALLOW_FAKE_VIDEO": "true",
            "CPD_ALLOW_FILE_MAIL": "true",
            "CPD_ALLOW_HTTP_PUBLIC_URL": "true",
            "CPD_DATABASE_URL": url,
            "CPD_AUTO_MIGRATE": "true",
            "CPD_LOG_LEVEL": "WARNING",
            "CPD_DB_POOL_SIZE": "20",
            "CPD_LOGIN_MAX_FAILURES": "1000000",
            # The bench's own host organization publishes at once (production waits for a
            # superadmin's approval): booking is what is measured.
            "CPD_ORGANIZATION_SIGNUP": "open",
            "CPD_LOGIN_ADDRESS_MAX_FAILURES": "1000000",  # every sign-in comes from one address
            # Signing 2,000 people in is set-up, not the measurement: cheap password hashing.
            "CPD_ARGON2_TIME_COST": "1",
            "CPD_ARGON2_MEMORY_COST_KIB": "64",
        }
        command = server_command(
            args.server,
            "cpd.entrypoints.http.app:create_app_from_env",
            port,
            args.workers,
            factory=True,
        )
        with serve(command, env, port, "/health"):
            result = asyncio.run(
                run(f"http://127.0.0.1:{port}", args.people, args.seats, args.concurrency)
            )
    print(
        f"\nserver={args.server} workers={args.workers} people={args.people} "
        f"seats={args.seats} connections={args.concurrency}"
    )
    print(
        f"{result['requests']} registrations in {result['seconds']:.2f}s: "
        f"{result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms"
    )
    print(
        f"confirmed {result['confirmed']}, waitlisted {result['waitlisted']}, "
        f"errors {result['errors']}"
    )
    ok = (
        result["confirmed"] == args.seats
        and result["errors"] == 0
        and result["waitlisted"] == args.people - args.seats
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
