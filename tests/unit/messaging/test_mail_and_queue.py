"""The file mailer writes real .eml files; the in-process queue runs known tasks only."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from cpd.adapters.mail.mailers import FileOutboxMailer
from cpd.adapters.memory.database import MemoryDatabase
from cpd.adapters.memory.outbox import MemoryOutboxStore
from cpd.adapters.queues import task_logging
from cpd.adapters.queues.inprocess import InProcessTaskQueue
from cpd.adapters.storage.files import LocalFileStorage
from cpd.bootstrap import build_container
from cpd.domain.messaging import Attachment, EmailMessage
from cpd.domain.tasks import Task
from cpd.ports.platform import TaskHandler
from cpd.services.messaging.emails import password_reset_email, send_email_task
from cpd.services.messaging.tasks import SendEmail
from cpd.services.platform.outbox import TaskRunner
from tests.support.clock import FakeClock
from tests.unit.conftest import make_settings
from tests.unit.fakes import register

SENDER = "CPD Events <no-reply@cpd.local>"


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def read_eml(path: Path) -> email.message.EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


async def test_file_mailer_writes_a_parseable_message(tmp_path: Path) -> None:
    folder = tmp_path / "mail" / "out"  # created on first send
    mailer = FileOutboxMailer(folder, sender=SENDER)
    await mailer.send(
        EmailMessage(
            to="alice@example.com",
            subject="Réinitialiser — your password",
            text="Hello Alice,\nopen https://cpd.example/reset?token=abc\n",
            html="<p>Hello <b>Alice</b></p>",
            message_id="<1234-abcd@cpd.tasks>",
        )
    )
    [path] = files_in(folder)
    assert path.name == "1234-abcd@cpd.tasks.eml"
    parsed = read_eml(path)
    assert parsed["From"] == SENDER
    assert parsed["To"] == "alice@example.com"
    assert parsed["Subject"] == "Réinitialiser — your password"
    assert parsed["Message-ID"] == "<1234-abcd@cpd.tasks>"
    assert parsed["Date"]
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None
    assert "token=abc" in text.get_content()
    assert html is not None
    assert "<b>Alice</b>" in html.get_content()


async def test_attachments_travel_with_the_message(tmp_path: Path) -> None:
    mailer = FileOutboxMailer(tmp_path, sender=SENDER)
    calendar = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    await mailer.send(
        EmailMessage(
            to="alice@example.com",
            subject="Booked",
            text="See you there.",
            html="<p>See you there.</p>",
            attachments=(Attachment("event.ics", "text/calendar", calendar),),
        )
    )
    [path] = files_in(tmp_path)
    [attached] = list(read_eml(path).iter_attachments())
    assert attached.get_filename() == "event.ics"
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_payload(decode=True) == calendar


async def test_resending_one_message_overwrites_it(tmp_path: Path) -> None:
    mailer = FileOutboxMailer(tmp_path, sender=SENDER)
    first = EmailMessage(to="a@example.com", subject="First", text="one", message_id="<m1@x>")
    await mailer.send(first)
    await mailer.send(
        EmailMessage(to="a@example.com", subject="Again", text="two", message_id="<m1@x>")
    )
    [path] = files_in(tmp_path)  # no duplicate, no leftover temporary file
    assert read_eml(path)["Subject"] == "Again"
    await mailer.send(EmailMessage(to="b@example.com", subject="Other", text="three"))
    assert len([p for p in files_in(tmp_path) if p.suffix == ".eml"]) == 2


async def test_the_email_task_sends_once_under_its_message_id(tmp_path: Path) -> None:
    """The task id becomes the Message-ID; a task run twice (a duplicate) sends once."""
    app = build_container(make_settings(mail_backend="file", mail_outbox_dir=str(tmp_path)))
    user = await register(app)
    for welcome in files_in(tmp_path):  # nothing runs the relay here: no welcome file yet
        welcome.unlink()
    task = send_email_task(password_reset_email(user, "https://cpd.example/reset?token=abc"))
    assert task.name == SendEmail.NAME
    await app.task_handlers[SendEmail.NAME](task)
    await app.task_handlers[SendEmail.NAME](task)
    [path] = files_in(tmp_path)
    parsed = read_eml(path)
    assert parsed["Message-ID"] == f"<{task.id}@cpd.tasks>"
    assert parsed["Subject"] == "Reset your CPD Events password"
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None
    assert 'href="https://cpd.example/reset?token=abc"' in html.get_content()
    await app.shutdown()


async def queue_of(handlers: dict[str, TaskHandler], *tasks: Task) -> InProcessTaskQueue:
    """The in-process queue over an outbox holding ``tasks`` (committed, as the relay finds
    them)."""
    clock = FakeClock()
    db = MemoryDatabase(clock.now)
    async with db.unit_of_work() as uow:
        for task in tasks:
            uow.outbox.add(task)
        await uow.commit()
    return InProcessTaskQueue(TaskRunner(MemoryOutboxStore(db), handlers, clock, hold_seconds=15))


async def test_queue_runs_the_named_handler_and_refuses_unknown_tasks() -> None:
    ran: list[Task] = []

    async def handler(task: Task) -> None:
        ran.append(task)

    task, unknown = Task("known", {"x": 1}), Task("nope", {})
    queue = await queue_of({"known": handler}, task, unknown)
    await queue.enqueue(task)
    assert ran == [task]
    with pytest.raises(LookupError, match="nope"):
        await queue.enqueue(unknown)
    assert ran == [task]


async def test_queue_lets_a_handler_failure_through() -> None:
    async def broken(task: Task) -> None:
        raise TimeoutError("smtp timeout")

    task = Task("send", {})
    with pytest.raises(TimeoutError):
        await (await queue_of({"send": broken}, task)).enqueue(task)


class RecordingLog:
    """Stands in for the module's structlog logger (whose configuration the app may have
    cached), keeping each line's event and fields."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def _line(self, level: str) -> Callable[..., None]:
        return lambda event, **fields: self.lines.append({"event": event, "level": level, **fields})

    def __getattr__(self, level: str) -> Callable[..., None]:
        return self._line(level)


async def test_each_task_run_is_one_structured_log_line(monkeypatch: pytest.MonkeyPatch) -> None:
    async def handler(task: Task) -> None:
        if task.payload.get("fail"):
            raise ConnectionError("mail server down")

    logs = RecordingLog()
    monkeypatch.setattr(task_logging, "log", logs)
    ok, failing = Task("send", {}, request_id="req-7"), Task("send", {"fail": True})
    queue = await queue_of({"send": handler}, ok, failing)
    await queue.enqueue(ok, attempt=2)
    with pytest.raises(ConnectionError):
        await queue.enqueue(failing)

    finished, failed, traceback = logs.lines
    assert finished["event"] == "task finished"
    assert (finished["task"], finished["task_id"], finished["attempt"]) == ("send", str(ok.id), 2)
    assert (finished["request_id"], finished["outcome"]) == ("req-7", "completed")
    assert finished["duration_ms"] >= 0
    assert (failed["event"], failed["outcome"]) == ("task failed", "retrying")
    assert (failed["level"], failed["error_type"]) == ("warning", "ConnectionError")
    assert failed["error"] == "mail server down"
    assert (traceback["level"], traceback["task_id"]) == ("debug", failed["task_id"])
    assert isinstance(traceback["exc_info"], ConnectionError)


async def test_mail_and_files_do_not_wait_for_python_s_default_thread_pool(tmp_path: Path) -> None:
    """Password hashing runs in the default pool: a burst of file or mail work must neither
    take it nor wait behind it (here it is one thread, held busy until the end)."""
    loop = asyncio.get_running_loop()
    default = ThreadPoolExecutor(1)
    loop.set_default_executor(default)
    release = threading.Event()
    blocked = loop.run_in_executor(None, release.wait)
    mailer = FileOutboxMailer(tmp_path / "mail", sender=SENDER)
    files = LocalFileStorage(tmp_path / "files")
    try:
        message = EmailMessage(to="a@example.com", subject="Hi", text="Hello", message_id="m-1")
        await asyncio.wait_for(mailer.send(message), 5)
        await asyncio.wait_for(files.put("a/b.pdf", b"%PDF", content_type="application/pdf"), 5)
        assert await asyncio.wait_for(files.get("a/b.pdf"), 5) == b"%PDF"
        assert await asyncio.wait_for(files.exists("a/b.pdf"), 5)
        await asyncio.wait_for(files.delete("a/b.pdf"), 5)
    finally:
        release.set()
        await blocked
        default.shutdown()
        mailer.close()
        files.close()
    assert [path.name for path in files_in(tmp_path / "mail")] == ["m-1.eml"]
