"""One ``Idempotency-Key`` sent by many requests at once, over real HTTP: one registration, and
every request gets the same 201. On the embedded SQLite default and on PostgreSQL.

The app is served by uvicorn on loopback ports (a test client would run the requests one at a
time). A free event is booked through two app instances on one database, as through two server
processes, so duplicates meet in the database; a paid one through one instance, since the
offline payment gateway keeps its payments in its process.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.support.settings import make_settings, sqlite_url

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app

RACERS = 8
PASSWORD = "a sound passphrase 42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(database_url: str, instances: int) -> Iterator[list[str]]:
    """``instances`` app instances on one database, each served on its own port."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    settings = make_settings(
        persistence="sql",
        database_url=database_url,
        auto_migrate=False,
        db_pool_size=5,
        account_mail_per_address=1_000,  # every caller signs up from 127.0.0.1
    )
    try:
        for _ in range(instances):
            port = _free_port()
            app = create_app(build_container(settings))
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            servers.append((server, thread))
            deadline = time.monotonic() + 20
            while not server.started:
                assert thread.is_alive(), "uvicorn stopped"
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.05)
        yield [f"http://127.0.0.1:{server.config.port}" for server, _ in servers]
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, thread in servers:
            thread.join(timeout=15)


async def _caller(client: httpx.AsyncClient, base: str, email: str) -> dict[str, str]:
    account = {"email": email, "password": PASSWORD, "first_name": "Pat", "last_name": "Lee"}
    registered = await client.post(f"{base}/api/v1/auth/register", json=account)
    assert registered.status_code == 202, registered.text
    tokens = await client.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


async def _published_event(client: httpx.AsyncClient, base: str, price: int) -> str:
    host = await _caller(client, base, "host@example.org")
    org = await client.post(f"{base}/api/v1/organizations", json={"name": "Race"}, headers=host)
    assert org.status_code == 201, org.text
    event: dict[str, Any] = {
        "organization_id": org.json()["id"],
        "title": "Popular",
        "format": "online",
        "capacity": 10,
        "price": {"amount": price, "currency": "GBP"},
        "sessions": [
            {
                "title": "Day",
                "starts_at": "2027-03-01T09:00:00Z",
                "ends_at": "2027-03-01T12:00:00Z",
            }
        ],
    }
    created = await client.post(f"{base}/api/v1/events", json=event, headers=host)
    assert created.status_code == 201, created.text
    event_id = str(created.json()["id"])
    published = await client.post(f"{base}/api/v1/events/{event_id}/publish", headers=host)
    assert published.status_code == 200, published.text
    return event_id


async def duplicate_race(bases: list[str], *, price: int) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        event_id = await _published_event(client, bases[0], price)
        buyer = await _caller(client, bases[0], "buyer@example.org")
        headers = {**buyer, "Idempotency-Key": "one-booking"}
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{bases[n % len(bases)]}/api/v1/registrations",
                    json={"event_id": event_id},
                    headers=headers,
                )
                for n in range(RACERS)
            )
        )
        mine = (await client.get(f"{bases[0]}/api/v1/registrations", headers=buyer)).json()

    assert [r.status_code for r in responses] == [201] * RACERS, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1, "the answers differ"
    assert [r["id"] for r in mine["items"]] == [responses[0].json()["id"]]
    expected = "pending_payment" if price else "confirmed"
    assert responses[0].json()["status"] == expected


@pytest.fixture
def sqlite_database(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "cpd.sqlite"
    shutil.copyfile(sqlite_template, path)
    return sqlite_url(path)


def test_duplicates_get_one_booking_on_sqlite(sqlite_database: str) -> None:
    with serving(sqlite_database, instances=2) as bases:
        asyncio.run(duplicate_race(bases, price=0))


def test_paid_duplicates_get_one_booking_on_sqlite(sqlite_database: str) -> None:
    with serving(sqlite_database, instances=1) as bases:
        asyncio.run(duplicate_race(bases, price=2500))


@pytest.mark.postgres
def test_duplicates_get_one_booking_on_postgresql(postgres_database: str) -> None:
    with serving(postgres_database, instances=2) as bases:
        asyncio.run(duplicate_race(bases, price=0))


@pytest.mark.postgres
def test_paid_duplicates_get_one_booking_on_postgresql(postgres_database: str) -> None:
    with serving(postgres_database, instances=1) as bases:
        asyncio.run(duplicate_race(bases, price=2500))
