"""Health, readiness, request ids, the OpenAPI document and error logging."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from pathlib import Path

import pytest
from litestar.testing import TestClient

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app
from cpd.entrypoints.observability import configure_logging
from tests.api.conftest import Api
from tests.support.settings import make_settings, sqlite_url


@pytest.mark.parametrize("prefix", ["", "/api/v1", "/api"])
def test_health_and_ready(api: Api, prefix: str) -> None:
    assert api.client.get(f"{prefix}/health").json() == {"status": "ok"}
    assert api.client.get(f"{prefix}/ready").json() == {"status": "ok"}


def test_ready_answers_503_when_the_database_is_unreachable() -> None:
    container = build_container(
        make_settings(persistence="sql", database_url="postgresql+asyncpg://cpd@127.0.0.1:9/cpd")
    )
    with TestClient(create_app(container, run_relay=False)) as client:
        response = client.get("/ready")
    assert response.status_code == 503


def test_every_response_carries_a_request_id_and_keeps_a_safe_incoming_one(api: Api) -> None:
    generated = api.client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    kept = api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    unsafe = api.client.get("/health", headers={"X-Request-ID": "evil\tvalue"})
    assert unsafe.headers["x-request-id"] != "evil\tvalue"
    problem = api.client.get("/api/v1/users/me", headers={"X-Request-ID": "trace-1"})
    assert problem.json()["request_id"] == "trace-1"


def test_openapi_documents_every_route_with_bearer_security(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
        "/api/v1/users/me",
        "/api/v1/organizations",
        "/api/v1/organizations/{organization_id}",
        "/api/v1/organizations/{organization_id}/members",
        "/api/v1/organizations/{organization_id}/members/{user_id}",
        "/api/v1/organizations/{organization_id}/invitations",
        "/api/v1/organizations/{organization_id}/invitations/{invitation_id}",
        "/api/v1/organizations/{organization_id}/approve",
        "/api/v1/invitations/accept",
        "/health",
        "/ready",
    }
    assert expected <= set(paths)
    assert not any(p.startswith("/api/auth") for p in paths)  # the alias is not documented twice
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert paths["/api/v1/users/me"]["get"]["security"] == [{"BearerToken": []}]
    assert api.client.get("/schema").status_code == 200


def test_unexpected_errors_are_500_problems_and_logged_with_traceback(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(api.container.accounts, "request_password_reset", broken)
    with caplog.at_level(logging.ERROR):
        response = api.client.post("/api/v1/auth/password-reset", json={"email": "a@b.org"})
    assert response.status_code == 500
    body = response.json()
    assert body["title"] == "Internal server error"
    assert "exploded" not in response.text
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    configure_logging(make_settings(log_format="json"))
    [ours] = [h for h in logging.getLogger().handlers if h.get_name() == "cpd"]
    assert ours.formatter is not None
    line = json.loads(ours.formatter.format(record))
    assert line["request_id"] == body["request_id"]
    assert "Traceback" in line["exception"]
    assert "database exploded" in line["exception"]


def test_ready_answers_503_when_redis_is_configured_but_down() -> None:
    container = build_container(make_settings(redis_url="redis://127.0.0.1:9/0"))
    with TestClient(create_app(container, run_relay=False)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "Redis" in response.json()["status"]


@pytest.mark.redis
def test_login_limit_holds_across_server_processes_sharing_redis(redis_url: str) -> None:
    """Two app instances (as two workers would be) share one failure count through Redis.

    The email is unknown to both, which the throttle must not care about (no enumeration)."""
    settings = make_settings(redis_url=redis_url, login_max_failures=4)
    first, second = build_container(settings), build_container(settings)
    email = f"{uuid.uuid4().hex}@example.org"
    with (
        TestClient(create_app(first, run_relay=False)) as one,
        TestClient(create_app(second, run_relay=False)) as two,
    ):
        wrong = {"email": email, "password": "not the password"}
        statuses = [
            client.post("/api/v1/auth/login", json=wrong).status_code
            for client in (one, two, one, two, one, two)
        ]
        assert one.get("/ready").status_code == 200
    assert statuses == [401, 401, 401, 401, 429, 429]


@pytest.mark.redis
def test_a_change_through_one_process_clears_every_process_cache(
    redis_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    """Two server processes on one database and one Redis: no process serves a stale page."""
    database = tmp_path / "shared.sqlite"
    shutil.copyfile(sqlite_template, database)
    settings = make_settings(
        persistence="sql",
        database_url=sqlite_url(database),
        redis_url=redis_url,
        auto_migrate=False,
    )
    writer_app, reader_app = (create_app(build_container(settings), run_relay=False) for _ in "ab")
    with TestClient(writer_app) as writer, TestClient(reader_app) as reader:
        api = Api(writer, writer_app.state.container)
        owner = api.user()
        event = api.event(owner, api.organization(owner, f"Shared {uuid.uuid4().hex[:8]}"))
        assert reader.get(f"/api/v1/events/{event['id']}").json()["title"] == event["title"]
        writer.patch(
            f"/api/v1/events/{event['id']}",
            json={"title": "Changed elsewhere"},
            headers=owner.headers,
        )
        assert reader.get(f"/api/v1/events/{event['id']}").json()["title"] == "Changed elsewhere"
