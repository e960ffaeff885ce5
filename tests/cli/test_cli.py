"""The operator CLI, run as an operator would: real settings from the environment."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from click.testing import CliRunner

from cpd.bootstrap import build_container
from cpd.domain.accounts import Actor
from cpd.domain.catalog import CourseFilters, EventFilters
from cpd.domain.errors import DomainError
from cpd.domain.pages import PageRequest
from cpd.entrypoints import cli
from cpd.services.events.attendance import AttendanceEntry
from cpd.settings import Settings
from tests.cli.serving import cpd_serve
from tests.support.clock import FakeClock
from tests.support.commands import new_event
from tests.support.settings import FAST_ARGON2


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "CPD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cpd.db'}",
        "CPD_MAIL_OUTBOX_DIR": str(tmp_path / "mail"),
        "CPD_ARGON2_TIME_COST": str(FAST_ARGON2["argon2_time_cost"]),
        "CPD_ARGON2_MEMORY_COST_KIB": str(FAST_ARGON2["argon2_memory_cost_kib"]),
        "CPD_LOG_LEVEL": "WARNING",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args), input=input)
    return result.exit_code, result.output


def test_migrate_then_migrate_again_is_a_no_op(env: dict[str, str]) -> None:
    assert run("migrate") == (0, "database is at the latest revision\n")
    assert run("migrate")[0] == 0


def test_migrate_refuses_memory_persistence(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPD_PERSISTENCE", "memory")
    code, output = run("migrate")
    assert code == 1
    assert "CPD_PERSISTENCE=sql" in output


def test_bad_configuration_is_one_line_and_non_zero(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPD_SMTP_PORT", "twenty-five")
    code, output = run("migrate")
    assert code == 1
    assert output.strip().splitlines() == [
        "Error: configuration: CPD_SMTP_PORT: Expected `int`, got `str`"
    ]


def test_production_lists_every_refused_stand_in_then_exits(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPD_ENVIRONMENT", "production")
    monkeypatch.setenv("CPD_SECRET_KEY", "p" * 40)
    code, output = run("serve")
    assert code == 1
    lines = output.strip().splitlines()
    assert lines[0] == "Error: configuration has 4 problems:"
    assert [line.split()[0] for line in lines[1:]] == [
        "CPD_PAYMENT_PROVIDER=offline",
        "CPD_VIDEO_PROVIDER=fake",
        "CPD_MAIL_BACKEND=file",
        "CPD_PUBLIC_BASE_URL",
    ]


def test_create_superuser_with_flags_then_login_works(env: dict[str, str]) -> None:
    code, output = run(
        "create-superuser", "--email", "Root@Example.org", "--password", "a long admin passphrase"
    )
    assert code == 0, output
    assert "root@example.org" in output
    # Promoting an existing account is allowed and idempotent.
    assert (
        run(
            "create-superuser",
            "--email",
            "root@example.org",
            "--password",
            "another long passphrase",
        )[0]
        == 0
    )


def test_create_superuser_prompts_when_interactive(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    code, output = run(
        "create-superuser",
        input="ops@example.org\na long admin passphrase\na long admin passphrase\n",
    )
    assert code == 0, output
    assert "superuser ops@example.org" in output


def test_create_superuser_without_input_fails_clearly(env: dict[str, str]) -> None:
    code, output = run("create-superuser", "--email", "x@example.org")
    assert code == 2
    assert "--password" in output
    code, output = run("create-superuser", "--email", "x@example.org", "--password", "short")
    assert code == 1
    assert output.strip() == "Error: Password must be at least 10 characters long. (password)"


def test_seed_demo_prints_working_credentials_and_can_run_twice(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPD_ORGANIZATION_SIGNUP", "approval")  # production's default
    code, output = run("seed-demo")
    assert code == 0, output
    assert "demo-institute" in output
    rows = [line.split() for line in output.splitlines()[1:-1]]
    assert [row[0] for row in rows] == ["org_admin", "org_staff", "member"]
    admin_email, admin_password = rows[0][1], rows[0][2]
    assert asyncio.run(_signs_in(admin_email, admin_password))
    code, again = run("seed-demo")
    assert code == 0
    assert again.splitlines()[0] == output.splitlines()[0]  # the same organization
    for line in again.splitlines()[1:-1]:  # existing users keep their passwords, and it says so
        assert line.endswith("(exists: password unchanged; --reset-passwords gives a new one)")
    assert asyncio.run(_signs_in(admin_email, admin_password))
    code, reset = run("seed-demo", "--reset-passwords")
    assert code == 0, reset
    new_password = reset.splitlines()[1].split()[2]
    assert reset.splitlines()[1].endswith(f"{new_password} (exists: password reset)")
    assert not asyncio.run(_signs_in(admin_email, admin_password))
    assert asyncio.run(_signs_in(admin_email, new_password))
    assert sorted(asyncio.run(_published_titles())) == [
        "Data protection update",
        "Ethics in practice",
    ]
    code, listed = run("organizations", "list")
    assert code == 0, listed
    assert "demo-institute" in listed
    assert " approved " in listed


def test_organizations_awaiting_approval_are_listed_and_approved(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPD_ORGANIZATION_SIGNUP", "approval")
    assert run("migrate")[0] == 0

    async def signed_up() -> str:
        app = build_container(Settings.from_env())
        await app.startup(run_relay=False)
        try:
            user = await app.accounts.register(
                email="founder@example.org", password="a sound passphrase", first_name="F",
                last_name="O",
            )  # fmt: skip
            created = await app.organizations.create(Actor(user.id), name="Newcomers Academy")
            await app.organizations.create(Actor(user.id, is_superadmin=True), name="Trusted")
            return str(created.id)
        finally:
            await app.shutdown()

    organization_id = asyncio.run(signed_up())
    code, output = run("organizations", "list", "--pending")
    assert code == 0, output
    assert output.split() == [
        organization_id,
        "newcomers-academy",
        "pending_approval",
        "Newcomers",
        "Academy",
    ]
    code, output = run("organizations", "approve", "newcomers-academy")
    assert code == 0, output
    assert output.startswith(f"organization newcomers-academy ({organization_id}) is approved")
    assert run("organizations", "list", "--pending")[1] == "no organizations\n"
    assert run("organizations", "approve", organization_id)[0] == 0  # again: no change
    code, output = run("organizations", "approve", "nobody")
    assert (code, output.strip()) == (1, "Error: Organization not found.")


async def _signs_in(email: str, password: str) -> bool:
    container = build_container(Settings.from_env())
    try:
        await container.accounts.login(email=email, password=password, client="127.0.0.1")
    except DomainError:
        return False
    finally:
        await container.shutdown()
    return True


async def _published_titles() -> list[str]:
    container = build_container(Settings.from_env())
    try:
        page = await container.catalog.events(EventFilters(), PageRequest())
        courses = await container.catalog.courses(CourseFilters(), PageRequest())
        assert [c.title for c in courses.items] == ["Reflective practice"]
        return [e.title for e in page.items]
    finally:
        await container.shutdown()


def test_serve_runs_the_api_on_the_embedded_default(env: dict[str, str], tmp_path: Path) -> None:
    with cpd_serve(env, tmp_path) as served:
        registered = httpx.post(
            f"{served.base}/api/v1/auth/register",
            json={
                "email": "first@example.org",
                "password": "a long first passphrase",
                "first_name": "First",
                "last_name": "User",
            },
        )
        assert registered.status_code == 202
        assert httpx.get(f"{served.base}/schema/openapi.json").status_code == 200
    assert "CPD_SECRET_KEY is the public development default" in served.output


PRODUCTION_SECRETS = {
    "CPD_SECRET_KEY": "sekrit-token-key-0123456789abcdefghij",
    "CPD_CREDENTIAL_KEY_SECRET": "sekrit-credential-key-0123456789abcdef",
    "CPD_STRIPE_API_KEY": "sk_live_sekritstripekey",
    "CPD_STRIPE_WEBHOOK_SECRET": "whsec_sekritstripehook",
    "CPD_ZOOM_CLIENT_SECRET": "sekrit-zoom-client",
    "CPD_ZOOM_WEBHOOK_SECRET": "sekrit-zoom-hook",
    "CPD_SMTP_PASSWORD": "sekrit-smtp-password",
}


def test_serve_in_production_logs_json_only_and_its_configuration_without_secrets(
    env: dict[str, str], tmp_path: Path
) -> None:
    production = {
        **env,
        **PRODUCTION_SECRETS,
        "CPD_ENVIRONMENT": "production",
        "CPD_LOG_LEVEL": "INFO",
        "CPD_PUBLIC_BASE_URL": "https://cpd.example.org",
        "CPD_PAYMENT_PROVIDER": "stripe",
        "CPD_VIDEO_PROVIDER": "zoom",
        "CPD_ZOOM_ACCOUNT_ID": "account",
        "CPD_ZOOM_CLIENT_ID": "client",
        "CPD_MAIL_BACKEND": "smtp",
        "CPD_SMTP_HOST": "smtp.example.org",
        "CPD_SMTP_SECURITY": "starttls",
        "CPD_FILE_STORAGE_DIR": str(tmp_path / "files"),
    }
    with cpd_serve(production, tmp_path) as served:
        pass
    output = served.output
    lines = [json.loads(line) for line in output.splitlines()]  # every line, granian's too
    assert "_granian" in {line["logger"] for line in lines}
    [started] = [line for line in lines if line["event"] == "serve starting"]
    assert started["database"] == env["CPD_DATABASE_URL"]
    assert (started["environment"], started["mail_backend"]) == ("production", "smtp")
    assert (started["smtp"], started["payment_provider"]) == ("smtp.example.org:25", "stripe")
    assert started["public_base_url"] == "https://cpd.example.org"
    for secret in PRODUCTION_SECRETS.values():
        assert secret not in output


def test_tasks_ping_list_stats_and_retry_in_the_embedded_mode(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = run("tasks", "ping")
    assert code == 0, output
    task_id = output.split()[-1]
    code, listing = run("tasks", "list")
    assert code == 0
    [line] = listing.splitlines()
    assert line.split()[:4] == [task_id, "ping", "completed", "1"]  # ran in-process

    code, stats = run("tasks", "stats")
    assert (code, stats.splitlines()) == (
        0,
        ["pending    0", "dispatched 0", "completed  1", "failed     0"],
    )
    assert run("tasks", "list", "--failed") == (0, "no tasks\n")
    code, refused = run("tasks", "retry", task_id)
    assert code == 1
    assert f"no failed task has the id {task_id}" in refused
    assert run("tasks", "retry", "not-a-uuid")[0] == 2


def test_the_worker_needs_the_saq_queue(env: dict[str, str]) -> None:
    code, output = run("worker")
    assert code == 1
    assert "CPD_TASK_QUEUE=saq" in output


def test_certificates_issue_with_progress_then_verify(env: dict[str, str]) -> None:
    """An operator issues a completed event's certificates from the command line and checks
    one by its code; emails go out through the outbox as they would from the API."""
    assert run("migrate")[0] == 0
    clock = FakeClock()

    async def completed_event() -> tuple[str, str]:
        app = build_container(Settings.from_env(), clock=clock)
        await app.startup(run_relay=False)
        try:
            owner = Actor((await app.accounts.register(
                email="owner@example.org", password="a sound passphrase", first_name="O",
                last_name="W",
            )).id)  # fmt: skip
            organization = await app.organizations.create(owner, name="Royal Society of Ethics")
            starts = clock.now() + timedelta(days=1)
            event = await app.events.create(
                owner,
                new_event(
                    organization.id,
                    {"title": "Ethics", "format": "online"},
                    [{"title": "Day", "starts_at": starts, "ends_at": starts + timedelta(hours=1)}],
                ),
            )
            await app.events.publish(owner, event.id)
            people = []
            for n in range(3):
                user = await app.accounts.register(
                    email=f"p{n}@example.org", password="a sound passphrase", first_name="Ada",
                    last_name=f"Lovelace{n}",
                )  # fmt: skip
                people.append(Actor(user.id))
                await app.registrations.register(people[-1], event.id)
            clock.advance(days=2)
            await app.attendance.record(
                owner, event.id, event.sessions[0].id,
                [AttendanceEntry(user_id=p.user_id) for p in people[:2]],
            )  # fmt: skip
            # Completing queues a job; the operator's run below gets there first.
            await app.events.complete(owner, event.id)
            return str(event.id), str(people[0].user_id)
        finally:
            await app.shutdown()

    event_id, first = asyncio.run(completed_event())
    code, output = run("certificates", "issue", "--event", event_id)
    assert code == 0, output
    assert "certificates" in output  # the progress bar's label
    assert "completed, 2 issued, 0 failed" in output

    async def verification_code() -> str:
        app = build_container(Settings.from_env())
        try:
            async with app.uow() as uow:
                page = await uow.certificates.list_for_holder(UUID(first), PageRequest(10, 0))
            return page.items[0].verification_code
        finally:
            await app.shutdown()

    verification = asyncio.run(verification_code())
    code, output = run("certificates", "verify", verification.lower().replace("-", ""))
    assert code == 0, output
    assert output.splitlines()[0] == "RSOE-000001 VALID"
    assert "Ada Lovelace0: Ethics (Royal Society of Ethics)" in output
    certificate_mail = [
        p
        for p in Path(env["CPD_MAIL_OUTBOX_DIR"]).glob("*.eml")
        if b"certificate-RSOE" in p.read_bytes()
    ]
    assert len(certificate_mail) == 2

    assert run("certificates", "issue", "--event", event_id)[1].endswith(
        "completed, 0 issued, 0 failed\n"
    )  # a second run finds nobody new
    code, output = run("certificates", "verify", "0000-0000-0000-0000-00")
    assert (code, output.strip()) == (1, "Error: No certificate has this code.")
    code, output = run("certificates", "issue", "--event", str(UUID(int=1)))
    assert (code, output.strip()) == (1, "Error: Event not found.")
