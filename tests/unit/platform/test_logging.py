"""What the logs say: one line per failing task, quiet SAQ, JSON from granian in production,
and never a secret, whatever the environment."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from granian.log import LogLevels
from granian.log import configure_logging as configure_granian_logging

from cpd.adapters.queues.saq import open_queue
from cpd.bootstrap import build_container
from cpd.domain.messaging import WELCOME, OutgoingEmail
from cpd.entrypoints import cli
from cpd.entrypoints.observability import configure_logging, granian_log_config
from cpd.services.messaging.emails import send_email_task
from cpd.settings import SECRET_FIELDS, Settings
from tests.unit.conftest import make_settings

SECRETS = {
    "secret_key": "sekrit-token-key-0123456789abcdefghij",
    "credential_key_secret": "sekrit-credential-key-0123456789abcdef",
    "smtp_password": "sekrit-smtp-password",
    "stripe_api_key": "sk_live_sekritstripekey",
    "stripe_webhook_secret": "whsec_sekritstripehook",
    "zoom_client_secret": "sekrit-zoom-client",
    "zoom_webhook_secret": "sekrit-zoom-hook",
    "s3_access_key_id": "AKIAEXAMPLE",
    "s3_secret_access_key": "sekrit-s3-secret",
}
DB_PASSWORD = "sekrit-db-password"
REDIS_PASSWORD = "sekrit-redis-password"
WELCOME_ANN = OutgoingEmail(
    template=WELCOME, to="ann@example.org", context={"first_name": "Ann", "site_url": "https://x"}
)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging points the root handler at this test's captured stderr."""
    root, saq = logging.getLogger(), logging.getLogger("saq")
    handlers, level, filters = root.handlers[:], root.level, saq.filters[:]
    granian = {name: logging.getLogger(name).handlers[:] for name in ("_granian", "granian.access")}
    yield
    root.handlers[:], saq.filters[:] = handlers, filters
    root.setLevel(level)
    for name, kept in granian.items():
        logging.getLogger(name).handlers[:] = kept


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_with_secrets(**overrides: Any) -> Settings:
    return make_settings(
        **SECRETS,
        persistence="sql",
        database_url=f"postgresql+asyncpg://cpd:{DB_PASSWORD}@127.0.0.1:1/cpd",
        redis_url=f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=closed_port(),
        smtp_username="mailer",
        smtp_security="starttls",
        payment_provider="stripe",
        video_provider="zoom",
        zoom_account_id="acct",
        zoom_client_id="client",
        file_storage="s3",
        s3_bucket="certificates",
        **overrides,
    )


async def fail_a_task(settings: Settings) -> None:
    """A handler that fails with the settings among its frames' locals, as wiring code does."""

    def connect(config: Settings) -> None:
        raise ConnectionRefusedError(f"cannot reach {config.smtp_host}:{config.smtp_port}")

    async def handler(task: object) -> None:
        connect(settings)

    container = build_container(make_settings(), clock=None)
    container.task_handlers["send_email"] = handler
    async with container.uow() as uow:
        uow.outbox.add(send_email_task(WELCOME_ANN))
        await uow.commit()
    await container.relay.drain()
    await container.shutdown()


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_no_secret_is_logged_in_tracebacks_or_the_start_up_summary(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_with_secrets(log_level="DEBUG", log_format=log_format)
    configure_logging(settings)
    cli._log_configuration(settings, "serve")
    await fail_a_task(settings)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("cpd.test").exception("unhandled error while holding %r", settings)
    output = capsys.readouterr().err
    assert "serve starting" in output
    assert "task failure traceback" in output
    assert "ConnectionRefusedError" in output
    assert "RuntimeError: boom" in output
    for secret in [*SECRETS.values(), DB_PASSWORD, REDIS_PASSWORD]:
        if secret != SECRETS["s3_access_key_id"]:  # an id, not a secret
            assert secret not in output


def test_settings_and_their_summary_show_no_secret() -> None:
    settings = settings_with_secrets()
    shown = repr(settings) + repr(settings.__rich_repr__()) + json.dumps(settings.summary())
    for secret in [*SECRETS.values(), DB_PASSWORD, REDIS_PASSWORD]:
        if secret != SECRETS["s3_access_key_id"]:
            assert secret not in shown
    assert "postgresql+asyncpg://cpd:***@127.0.0.1:1/cpd" in shown
    assert settings.summary() == {
        "environment": "test",
        "database": "postgresql+asyncpg://cpd:***@127.0.0.1:1/cpd",
        "mail_backend": "smtp",
        "smtp": f"127.0.0.1:{settings.smtp_port}",
        "smtp_security": "starttls",
        "task_queue": "inprocess",
        "payment_provider": "stripe",
        "video_provider": "zoom",
        "file_storage": "s3 s3://certificates/",
        "redis": "redis://:***@127.0.0.1:1/0",
        "public_base_url": "http://127.0.0.1:8000",
    }


def test_every_secret_looking_setting_is_redacted() -> None:
    """A new secret setting is redacted only once it is named in SECRET_FIELDS."""
    looks_secret = {
        name
        for name in Settings.__struct_fields__
        if any(word in name for word in ("secret", "password", "api_key", "token"))
        and not name.endswith(("_seconds", "_threads"))
    }
    assert looks_secret <= SECRET_FIELDS


def test_the_saq_queue_shows_no_redis_password() -> None:
    """SAQ logs its queue's repr at start."""
    assert REDIS_PASSWORD not in repr(open_queue(f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0"))


async def test_a_failing_email_is_one_log_line_and_its_traceback_only_at_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(
        mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=closed_port(), log_format="json"
    )
    configure_logging(settings)
    container = build_container(settings)
    task = send_email_task(WELCOME_ANN)
    async with container.uow() as uow:
        uow.outbox.add(task)
        await uow.commit()
    await container.relay.drain()
    output = capsys.readouterr().err
    [line] = [json.loads(line) for line in output.splitlines() if str(task.id) in line]
    assert (line["event"], line["level"], line["task"]) == ("task failed", "warning", "send_email")
    assert (line["attempt"], line["error_type"]) == (1, "SMTPConnectError")
    assert "exception" not in line

    configure_logging(make_settings(log_level="DEBUG", log_format="json"))
    async with container.uow() as uow:
        uow.outbox.add(send_email_task(WELCOME_ANN))
        await uow.commit()
    await container.relay.drain()
    await container.shutdown()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    tracebacks = [line for line in lines if "exception" in line]
    assert [line["event"] for line in tracebacks] == ["task failure traceback"]
    assert "SMTPConnectError" in tracebacks[0]["exception"]


def test_saq_chatter_is_debug_and_its_error_traceback_is_left_to_the_task_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    saq = logging.getLogger("saq")
    configure_logging(make_settings(log_format="json"))
    saq.info("Enqueuing %s", "Job<cron:outbox_sweep>")
    saq.info("Scheduled %s", ["cron:outbox_sweep"])
    saq.info("Processing %s", "Job<run_task>")
    try:
        raise ConnectionError("mail server down")
    except ConnectionError:
        saq.exception("Error processing job %s", "Job<run_task>")
    saq.warning("No active workers found for queue %s", "cpd")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["No active workers found for queue cpd"]

    configure_logging(make_settings(log_format="json", log_level="DEBUG"))
    try:
        raise ConnectionError("mail server down")
    except ConnectionError:
        saq.exception("Error processing job %s", "Job<run_task>")
    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert (line["event"], line["level"]) == ("Error processing job Job<run_task>", "debug")
    assert "exception" not in line


def test_granian_logs_json_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_mapping(
        {
            "environment": "production",
            "secret_key": "p" * 40,
            "public_base_url": "https://cpd.example.org",
            "payment_provider": "stripe",
            "stripe_api_key": "sk_live_x",
            "stripe_webhook_secret": "whsec_x",
            "allow_fake_video": True,
            "mail_backend": "smtp",
        }
    )
    # What granian's main process and each of its workers do with the config it is given.
    configure_granian_logging(LogLevels.info, granian_log_config(settings))
    logging.getLogger("_granian").info("Listening at: %s", "http://0.0.0.0:8000")
    logging.getLogger("granian.access").info("%(method)s %(path)s", {"method": "GET", "path": "/"})
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in (captured.err + captured.out).splitlines()]
    assert [(line["logger"], line["event"]) for line in lines] == [
        ("_granian", "Listening at: http://0.0.0.0:8000"),
        ("granian.access", "GET /"),
    ]
    assert all(line["level"] == "info" and "timestamp" in line for line in lines)
