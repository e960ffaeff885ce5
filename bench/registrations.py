"""Registration load scenario: 2,000 people register at once for a 100-seat free event.

Starts a throwaway PostgreSQL (or uses --database-url), serves the app with its production
settings, signs 2,000 distinct users in, then fires all 2,000 ``POST /api/v1/registrations``
concurrently over real HTTP and checks the outcome: exactly 100 confirmed, 1,900 waitlisted,
no errors. Run: ``uv run python -m bench.registrations`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

import httpx

from bench.catalog import database, free_port, serve, server_command

PASSWORD = "a long benchmark passphrase"  # noqa: S105 - throwaway users on a throwaway server


async def _sign_up(client: httpx.AsyncClient, n: int) -> str:
    email = f"racer{n}@bench.example.org"
    await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "first_name": "Racer", "last_name": str(n)},
    )
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


async def run(base: str, people: int, seats: int, concurrency: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        host = await _sign_up(client, -1)
        auth = {"Authorization": f"Bearer {host}"}
        org = (
            await client.post("/api/v1/organizations", json={"name": "Bench Host"}, headers=auth)
        ).json()
        event = (
            await client.post(
                "/api/v1/events",
                headers=auth,
                json={
                    "organization_id": org["id"],
                    "title": "Sold out",
                    "format": "online",
                    "capacity": seats,
                    "sessions": [
                        {
                            "title": "Day",
                            "starts_at": "2030-01-01T09:00:00Z",
                            "ends_at": "2030-01-01T17:00:00Z",
                        }
                    ],
                },
            )
        ).json()
        await client.post(f"/api/v1/events/{event['id']}/publish", headers=auth)
        started = time.perf_counter()
        tokens = await asyncio.gather(*(_sign_up(client, n) for n in range(people)))
        print(f"signed in {people} people in {time.perf_counter() - started:.1f}s")

        # The requests queue here rather than in httpx's pool, which spends CPU on its
        # waiters: with 2,000 waiting, the client took as much CPU as the server.
        connections = asyncio.Semaphore(concurrency)

        async def register(token: str) -> tuple[float, int, str]:
            sent = time.perf_counter()
            async with connections:
                response = await client.post(
                    "/api/v1/registrations",
                    json={"event_id": event["id"]},
                    headers={"Authorization": f"Bearer {token}"},
                )
            if response.status_code != 201:
                print(f"error {response.status_code}: {response.text[:300]}")
                return time.perf_counter() - sent, response.status_code, ""
            return time.perf_counter() - sent, response.status_code, response.json()["status"]

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
            "CPD_DATABASE_URL": url,
            "CPD_AUTO_MIGRATE": "true",
            "CPD_LOG_LEVEL": "WARNING",
            "CPD_DB_POOL_SIZE": "20",
            "CPD_LOGIN_MAX_FAILURES": "1000000",
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
