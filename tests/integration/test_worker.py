"""The SAQ worker on a real Redis: tasks travel outbox → relay → Redis → worker, run once,
retry with backoff, end failed for an operator to retry, and survive a worker killed mid-task."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from redis.asyncio import Redis
from saq import Status
from tests.support.clock import FakeClock
from tests.support.commands import new_event
from tests.support.settings import make_settings
from tests.support.smtp_server import SmtpServer

from cpd.adapters.queues.saq import build_worker
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.messaging import WELCOME, OutgoingEmail
from cpd.domain.pages import PageRequest
from cpd.domain.tasks import TaskState
from cpd.entrypoints.observability import configure_logging
from cpd.services.events.attendance import AttendanceEntry
from cpd.services.messaging.emails import send_email_task
from cpd.services.platform.outbox import queue_ping

pytestmark = pytest.mark.redis

WELCOME_ANN = OutgoingEmail(
    template=WELCOME, to="ann@example.org", context={"first_name": "Ann", "site_url": "https://x"}
)


@pytest.fixture
async def redis(redis_url: str) -> str:
    """The session's Redis, emptied for this test (SAQ keeps its queue there)."""
    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    return redis_url


def worker_settings(database_url: str, redis_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "persistence": "sql",
        "database_url": database_url,
        "auto_migrate": True,
        "redis_url": redis_url,
        "task_queue": "saq",
        "task_attempts": 3,
        "task_heartbeat_seconds": 2,
        "worker_sweep_seconds": 1,
        "mail_backend": "smtp",
        "smtp_host": "127.0.0.1",
        **overrides,
    }


@asynccontextmanager
async def running_worker(settings: dict[str, Any]) -> AsyncIterator[Container]:
    """A worker in this process, on its own container (as a separate process would be)."""
    container = build_container(make_settings(**settings))
    await container.startup(run_relay=False)
    assert container.saq_queue is not None
    worker = build_worker(
        container.saq_queue,
        container.task_runner,
        periodic={},
        concurrency=4,
        sweep_seconds=60,
    )
    running = asyncio.create_task(worker.start())
    try:
        yield container
    finally:
        await worker.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await container.shutdown()


@asynccontextmanager
async def web(settings: dict[str, Any]) -> AsyncIterator[Container]:
    container = build_container(make_settings(**settings))
    await container.startup(run_relay=False)
    try:
        yield container
    finally:
        await container.shutdown()


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_a_task_travels_to_the_worker_and_completes_once(
    redis: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    settings = worker_settings(database, redis, smtp_port=smtp_server.port)
    async with web(settings) as app, running_worker(settings):
        email = send_email_task(WELCOME_ANN)
        async with app.uow() as uow:
            uow.outbox.add(email)
            await uow.commit()
        await app.relay.drain()  # hands it to Redis; the worker runs it

        await until(lambda: app.outbox_store.is_completed(email.id))
        await app.relay.drain()  # relaying again changes nothing: the row is settled
        assert app.saq_queue is not None
        job = await app.saq_queue.job(str(email.id))
        assert job is not None
        assert (job.status, job.attempts) == (Status.COMPLETE, 1)
    [received] = smtp_server.handler.received
    assert received.message["Message-ID"] == f"<{email.id}@cpd.tasks>"


async def test_a_failing_task_retries_then_fails_and_an_operator_retries_it(
    redis: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    down = worker_settings(database, redis, smtp_port=1, task_attempts=2)  # nothing listens
    async with web(down) as app, running_worker(down):
        email = send_email_task(WELCOME_ANN)
        async with app.uow() as uow:
            uow.outbox.add(email)
            await uow.commit()
        await app.relay.drain()

        async def failed() -> bool:
            return bool(await app.outbox_store.records(TaskState.FAILED, 10))

        await until(failed)
        [record] = await app.outbox_store.records(TaskState.FAILED, 10)
        assert record.task.id == email.id
        assert "Connect" in (record.last_error or "")  # the SMTP connection was refused
        assert app.saq_queue is not None
        job = await app.saq_queue.job(str(email.id))
        assert job is not None
        assert job.attempts == 2  # retried once, after a delay
        assert record.attempts == 2  # what `cpd tasks list` shows: both runs on the worker

    up = worker_settings(database, redis, smtp_port=smtp_server.port)  # the mail server is back
    async with web(up) as app, running_worker(up):
        assert await app.outbox_store.retry(email.id, app.clock.now())
        await app.relay.drain()
        await until(lambda: app.outbox_store.is_completed(email.id))
        [record] = await app.outbox_store.records(TaskState.COMPLETED, 10)
        assert record.attempts == 3  # the operator's retry counted on, not reset
        assert record.error_shown.startswith("(an earlier attempt) ")
    assert len(smtp_server.handler.received) == 1


async def test_a_failing_task_on_the_worker_logs_one_line_per_attempt(
    redis: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SAQ's own lines (enqueuing, processing, retrying, its traceback) are debug: at info a
    task that fails twice is two lines, each with the error, and no traceback."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    down = worker_settings(database, redis, smtp_port=1, task_attempts=2)
    root = logging.getLogger()
    handlers, level, saq_filters = root.handlers[:], root.level, logging.getLogger("saq").filters[:]
    try:
        async with web(down) as app, running_worker(down):
            configure_logging(make_settings(log_format="json"))
            capsys.readouterr()
            email = send_email_task(WELCOME_ANN)
            async with app.uow() as uow:
                uow.outbox.add(email)
                await uow.commit()
            await app.relay.drain()

            async def failed() -> bool:
                return bool(await app.outbox_store.records(TaskState.FAILED, 10))

            await until(failed)
            output = capsys.readouterr().err
    finally:
        root.handlers[:], logging.getLogger("saq").filters[:] = handlers, saq_filters
        root.setLevel(level)
    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line["event"], line["level"], line["attempt"]) for line in lines] == [
        ("task failed", "warning", 1),
        ("task failed", "error", 2),
    ]
    assert {line["error_type"] for line in lines} == {"SMTPConnectError"}
    assert "Traceback" not in output


def _worker_process(settings: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    env = {f"CPD_{k.upper()}": str(v) for k, v in settings.items()}
    env |= {"CPD_ENVIRONMENT": "test", "CPD_LOG_FORMAT": "json", "CPD_LOG_LEVEL": "INFO"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cpd.entrypoints.cli", "worker"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _log_lines(log: Path, task_id: UUID) -> list[dict[str, Any]]:
    lines = []
    for raw in log.read_text().splitlines():
        if str(task_id) in raw and raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


@pytest.mark.postgres
async def test_a_task_whose_worker_is_killed_completes_exactly_once_after_restart(
    redis: str, postgres_database: str, tmp_path: Path
) -> None:
    settings = worker_settings(postgres_database, redis, mail_backend="memory")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    async with web(settings) as app:
        assert app.saq_queue is not None
        queue = app.saq_queue
        task = await queue_ping(app.uow, seconds=3)
        await app.relay.drain()

        first = _worker_process(settings, first_log)
        try:

            async def running() -> bool:
                job = await queue.job(str(task.id))
                return job is not None and job.status == Status.ACTIVE

            await until(running, seconds=30)
            first.send_signal(signal.SIGKILL)  # no chance to clean up
            first.wait(10)
        finally:
            first.kill()
        assert not await app.outbox_store.is_completed(task.id)

        second = _worker_process(settings, second_log)
        try:
            await until(lambda: app.outbox_store.is_completed(task.id), seconds=60)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)

        job = await queue.job(str(task.id))
        assert job is not None
        assert (job.status, job.attempts) == (Status.COMPLETE, 2)
    started_first = _log_lines(first_log, task.id)
    assert not [line for line in started_first if line.get("event") == "task finished"]
    finished = [
        line for line in _log_lines(second_log, task.id) if line["event"] == "task finished"
    ]
    assert len(finished) == 1
    assert (finished[0]["outcome"], finished[0]["attempt"], finished[0]["task"]) == (
        "completed",
        2,
        "ping",
    )
    assert finished[0]["duration_ms"] >= 3000


async def test_certificates_are_rendered_stored_and_emailed_by_the_worker(
    redis: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """Production's path: completing an event queues the job, the relay hands it to Redis, a
    worker issues and renders the certificates into the shared file storage, and their
    emails (the PDF attached) reach an SMTP server through a second trip of the outbox."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    settings = worker_settings(
        database,
        redis,
        smtp_port=smtp_server.port,
        file_storage="local",
        file_storage_dir=str(tmp_path / "files"),
    )
    clock = FakeClock()
    web_app = build_container(make_settings(**settings), clock=clock)
    await web_app.startup(run_relay=False)
    try:
        owner = Actor((await register(web_app, "owner@example.org")).id)
        organization = await web_app.organizations.create(owner, name="Royal Society of Ethics")
        starts = clock.now() + timedelta(days=1)
        event = await web_app.events.create(
            owner,
            new_event(
                organization.id,
                {"title": "Ethics", "format": "online"},
                [{"title": "Day", "starts_at": starts, "ends_at": starts + timedelta(hours=1)}],
            ),
        )
        await web_app.events.publish(owner, event.id)
        people = [Actor((await register(web_app, f"p{n}@example.org")).id) for n in range(3)]
        for someone in people:
            await web_app.registrations.register(someone, event.id)
        clock.advance(days=2)
        await web_app.attendance.record(
            owner, event.id, event.sessions[0].id,
            [AttendanceEntry(user_id=p.user_id) for p in people],
        )  # fmt: skip
        await web_app.events.complete(owner, event.id)
        async with running_worker(settings):
            page = PageRequest(limit=10, offset=0)

            async def all_emailed() -> bool:
                await web_app.relay.drain()  # the job's email tasks, once it queued them
                return sum(1 for r in smtp_server.handler.received if _pdf_of(r)) == 3

            await until(all_emailed)
        found = await web_app.certificates.for_event(owner, event.id, page)
        assert [c.serial_number for c in found.items] == [
            "RSOE-000001",
            "RSOE-000002",
            "RSOE-000003",
        ]
        stored = sorted((tmp_path / "files" / "certificates").rglob("*.pdf"))
        assert len(stored) == 3
        assert all(c.pdf_key for c in found.items)
        mailed = {r.rcpt_tos[0]: _pdf_of(r) for r in smtp_server.handler.received if _pdf_of(r)}
        assert sorted(mailed) == [f"p{n}@example.org" for n in range(3)]
        assert set(mailed.values()) == {p.read_bytes() for p in stored}
    finally:
        await web_app.shutdown()


async def register(app: Container, email: str) -> Any:
    return await app.accounts.register(
        email=email, password="a sound passphrase", first_name="Pat", last_name="Doe"
    )


def _pdf_of(received: Any) -> bytes | None:
    for part in received.message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            return bytes(part.get_content())
    return None
