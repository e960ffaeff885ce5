"""``cpd serve --workers N``: refused while a setting keeps state in each process; with shared
state (PostgreSQL, Redis), offline payments work whichever worker answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cpd.entrypoints import cli
from tests.cli.serving import cpd_serve
from tests.support.settings import FAST_ARGON2


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "CPD_DATABASE_URL": database_url,
        "CPD_MAIL_OUTBOX_DIR": str(tmp_path / "mail"),
        "CPD_FILE_STORAGE_DIR": str(tmp_path / "files"),
        "CPD_ARGON2_TIME_COST": str(FAST_ARGON2["argon2_time_cost"]),
        "CPD_ARGON2_MEMORY_COST_KIB": str(FAST_ARGON2["argon2_memory_cost_kib"]),
        "CPD_LOG_LEVEL": "WARNING",
        **extra,
    }


def test_serve_refuses_several_workers_while_state_is_kept_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in _env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'cpd.db'}").items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli.main, ["serve", "--workers", "2", "--port", "1"])
    assert result.exit_code == 1
    assert "--workers 2 needs state shared by every process" in result.output
    assert "CPD_VIDEO_PROVIDER=fake" in result.output
    assert "CPD_REDIS_URL" in result.output
    assert not (tmp_path / "cpd.db").exists()  # refused before touching anything

    monkeypatch.setenv("CPD_PERSISTENCE", "memory")
    monkeypatch.setenv("CPD_FILE_STORAGE", "memory")
    output = CliRunner().invoke(cli.main, ["serve", "--workers", "3", "--port", "1"]).output
    assert "CPD_PERSISTENCE=memory" in output
    assert "CPD_FILE_STORAGE=memory" in output


def _cpd(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cpd.entrypoints.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.postgres
@pytest.mark.redis
def test_offline_payments_work_across_server_workers(
    tmp_path: Path, postgres_scratch_url: str, redis_url: str
) -> None:
    """The README's PostgreSQL deployment with two workers: each request may reach either
    worker, and the offline gateway's payments are in the database both see."""
    env = _env(
        tmp_path,
        postgres_scratch_url,
        CPD_REDIS_URL=redis_url,
        CPD_VIDEO_PROVIDER="zoom",
        CPD_ZOOM_ACCOUNT_ID="acct",
        CPD_ZOOM_CLIENT_ID="client",
        CPD_ZOOM_CLIENT_SECRET="a-client-secret",
        CPD_ZOOM_WEBHOOK_SECRET="a-webhook-secret",
        CPD_ZOOM_API_BASE="http://127.0.0.1:1/v2",  # never called: no online sessions here
    )
    assert _cpd(env, "migrate").returncode == 0
    seeded = _cpd(env, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    member = next(line.split() for line in seeded.stdout.splitlines() if line.startswith("member"))
    with cpd_serve(env, tmp_path, "--workers", "2") as served:
        base = f"{served.base}/api/v1"
        login = httpx.post(f"{base}/auth/login", json={"email": member[1], "password": member[2]})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        events = httpx.get(f"{base}/events", params={"limit": 10}).json()["items"]
        paid_event = next(e for e in events if e["price"]["amount"] > 0)
        held = httpx.post(
            f"{base}/registrations/", json={"event_id": paid_event["id"]}, headers=auth
        )
        assert held.status_code == 201, held.text
        registration = held.json()["id"]
        # Each call may reach either worker; all of them must see the one payment.
        for _ in range(6):
            due = httpx.post(f"{base}/registrations/{registration}/payment", headers=auth)
            assert due.status_code == 200, due.text
        paid = httpx.post(
            f"{base}/registrations/{registration}/pay",
            json={"card_token": "tok_visa"},
            headers=auth,
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "confirmed"
