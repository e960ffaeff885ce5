"""API test fixtures: the real app on in-memory adapters, driven through Litestar's client."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient

from cpd.adapters.mail.mailers import MemoryMailer
from cpd.bootstrap import Container, build_container
from cpd.domain.messaging import EmailMessage
from cpd.entrypoints.http.app import create_app
from cpd.entrypoints.observability import configure_logging
from tests.support.clock import FakeClock
from tests.support.settings import make_settings, sqlite_url

T = TypeVar("T")


def eventually(probe: Callable[[], T], *, timeout: float = 5.0) -> T:
    """The relay runs tasks in the background: wait for ``probe`` to give something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


PASSWORD = "correct horse battery staple"
INVITES = "invites you to join"  # the subject of an invitation email


def sessions_underway() -> list[dict[str, str]]:
    """Two sessions of three hours: the morning ends in 5 minutes, the afternoon starts in 10
    (inside its early check-in hour), so attendance may be recorded for both."""
    now = datetime.now(UTC)
    morning = now - timedelta(minutes=175)
    afternoon = now + timedelta(minutes=10)
    return [
        {
            "title": title,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
        }
        for title, start in (("Morning", morning), ("Afternoon", afternoon))
    ]


@dataclass
class Api:
    client: TestClient[Any]
    container: Container
    _count: int = 0

    def register(self, email: str | None = None, **fields: str) -> dict[str, Any]:
        self._count += 1
        body = {
            "email": email or f"user{self._count}@example.org",
            "password": PASSWORD,
            "first_name": "Test",
            "last_name": f"User{self._count}",
        } | fields
        response = self.client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 202, response.text
        # The answer says nothing about the account (it must not tell whether one existed).
        tokens = self.login(body["email"].strip().lower(), body["password"])
        me = self.client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text
        return {key: me.json()[key] for key in ("id", "email", "first_name", "last_name")}

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def user(self, email: str | None = None, **fields: str) -> Caller:
        account = self.register(email, **fields)
        tokens = self.login(account["email"])
        return Caller(account, tokens)

    def superadmin(self) -> Caller:
        caller = self.user()
        self.client.blocking_portal.call(
            lambda: self.container.accounts.create_superuser(
                email=caller.email, password=PASSWORD, first_name="Super", last_name="Admin"
            )
        )
        return caller

    def organization(self, owner: Caller, name: str = "Royal College") -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/organizations", json={"name": name}, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def invite(self, org: dict[str, Any], admin: Caller, email: str, role: str) -> str:
        """Invite ``email``; the token of the link in the invitation email it then receives."""
        email = email.strip().lower()
        before = len(self.invitations_to(email))
        response = self.client.post(
            f"/api/v1/organizations/{org['id']}/invitations",
            json={"email": email, "role": role},
            headers=admin.headers,
        )
        assert response.status_code == 202, response.text
        arrived = eventually(lambda: self.invitations_to(email)[before:])
        assert arrived, f"no invitation reached {email}"
        found = re.search(r"/invitations/accept\?token=([\w-]+)", arrived[-1].text)
        assert found, arrived[-1].text
        return found.group(1)

    def add_member(self, org: dict[str, Any], admin: Caller, member: Caller, role: str) -> None:
        """``member`` joins as members do: invited by ``admin``, accepting the emailed link."""
        token = self.invite(org, admin, member.email, role)
        response = self.client.post(
            "/api/v1/invitations/accept", json={"token": token}, headers=member.headers
        )
        assert response.status_code == 200, response.text

    def event(
        self, owner: Caller, org: dict[str, Any], *, publish: bool = True, **fields: Any
    ) -> dict[str, Any]:
        """An event with two sessions on 1 March 2027 (09-12 and 13-16 UTC)."""
        body = {
            "organization_id": org["id"],
            "title": "Ethics in practice",
            "format": "in_person",
            "venue": {"name": "Main hall", "address": "1 High Street, London"},
            "timezone": "Europe/London",
            "cpd_credits": "6",
            "sessions": [
                {
                    "title": "Morning",
                    "starts_at": "2027-03-01T09:00:00Z",
                    "ends_at": "2027-03-01T12:00:00Z",
                },
                {
                    "title": "Afternoon",
                    "starts_at": "2027-03-01T13:00:00Z",
                    "ends_at": "2027-03-01T16:00:00Z",
                },
            ],
        } | fields
        response = self.client.post("/api/v1/events", json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        event = dict(response.json())
        if publish:
            published = self.client.post(
                f"/api/v1/events/{event['id']}/publish", headers=owner.headers
            )
            assert published.status_code == 200, published.text
            event = dict(published.json())
        return event

    def invitations_to(self, email: str) -> list[EmailMessage]:
        """Invitation emails that reached ``email`` so far, oldest first."""
        mailer = self.container.mailer
        assert isinstance(mailer, MemoryMailer)
        return [m for m in mailer.sent if m.to == email and INVITES in m.subject]

    def sent_mail(self, to: str, *, about: str = "", timeout: float = 3.0) -> list[EmailMessage]:
        """Mail is sent by the relay in the background: wait briefly for it to arrive.
        ``about``: only messages whose subject contains it (every account gets a welcome)."""
        mailer = self.container.mailer
        assert isinstance(mailer, MemoryMailer)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in mailer.sent if m.to == to and about in m.subject]
            if found:
                return found
            time.sleep(0.02)
        return []


@dataclass
class Caller:
    account: dict[str, Any]
    tokens: dict[str, Any]

    @property
    def email(self) -> str:
        return str(self.account["email"])

    @property
    def id(self) -> str:
        return str(self.account["id"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


@pytest.fixture
def api_settings() -> dict[str, Any]:
    """Settings the ``api`` fixture adds; a test changes them with
    ``@pytest.mark.parametrize("api_settings", [{...}])``."""
    return {}


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def api(
    request: pytest.FixtureRequest, tmp_path: Path, api_settings: dict[str, Any]
) -> Iterator[Api]:
    """The app on each persistence: in memory, the embedded SQLite file, and PostgreSQL."""
    overrides: dict[str, Any] = dict(api_settings)
    if request.param == "sqlite":
        path = tmp_path / "cpd.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        overrides |= {"persistence": "sql", "database_url": sqlite_url(path)}
    elif request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        overrides |= {"persistence": "sql", "database_url": url, "db_pool_size": 2}
    # Every account a test makes signs up from the test client's one address.
    overrides.setdefault("account_mail_per_address", 1_000)
    settings = make_settings(outbox_poll_seconds=0.05, auto_migrate=False, **overrides)
    configure_logging(settings)
    container = build_container(settings)
    with TestClient(create_app(container)) as client:
        yield Api(client, container)


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def timed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Api, FakeClock]]:
    """The app with a clock the test moves: register before the event, then move past it."""
    overrides: dict[str, Any] = {}
    if request.param == "sqlite":
        path = tmp_path / "cpd.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        overrides = {"persistence": "sql", "database_url": sqlite_url(path)}
    elif request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        overrides = {"persistence": "sql", "database_url": url, "db_pool_size": 2}
    clock = FakeClock()
    settings = make_settings(outbox_poll_seconds=0.05, auto_migrate=False, **overrides)
    container = build_container(settings, clock=clock)
    with TestClient(create_app(container)) as client:
        yield Api(client, container), clock
