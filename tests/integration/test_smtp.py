"""SmtpMailer against a real SMTP server (aiosmtpd on loopback), alone and through the wiring."""

from __future__ import annotations

import pytest
from tests.support.settings import make_settings
from tests.support.smtp_server import SmtpServer, free_port

from cpd.adapters.mail.mailers import SmtpMailer
from cpd.bootstrap import build_container
from cpd.domain.messaging import EmailMessage

SENDER = "CPD Events <no-reply@cpd.local>"


async def test_smtp_mailer_delivers_one_message(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, sender=SENDER, start_tls=False, timeout=5
    )
    await mailer.send(
        EmailMessage(
            to="alice@example.com",
            subject="Your certificate — ready",
            text="Hello Alice,\nyour certificate is ready.\n",
            html="<p>Hello <b>Alice</b></p>",
            message_id="<task-42@cpd.tasks>",
        )
    )
    [got] = smtp_server.handler.received
    assert got.mail_from == "no-reply@cpd.local"
    assert got.rcpt_tos == ["alice@example.com"]
    assert got.message["From"] == SENDER
    assert got.message["To"] == "alice@example.com"
    assert got.message["Subject"] == "Your certificate — ready"
    assert got.message["Message-ID"] == "<task-42@cpd.tasks>"
    text = got.message.get_body(preferencelist=("plain",))
    html = got.message.get_body(preferencelist=("html",))
    assert text is not None
    # SMTP carries CRLF line ends; the words and lines are what the recipient sees.
    assert text.get_content().splitlines() == ["Hello Alice,", "your certificate is ready."]
    assert html is not None
    assert "<b>Alice</b>" in html.get_content()


async def test_smtp_mailer_reports_an_unreachable_server() -> None:
    mailer = SmtpMailer(
        host="127.0.0.1", port=free_port(), sender=SENDER, start_tls=False, timeout=2
    )
    # A ConnectionError reaches the relay, which retries the task later.
    with pytest.raises(ConnectionError):
        await mailer.send(EmailMessage(to="a@example.com", subject="s", text="t"))


async def test_password_reset_email_reaches_the_smtp_server(smtp_server: SmtpServer) -> None:
    app = build_container(
        make_settings(mail_backend="smtp", smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    )
    await app.startup(run_relay=False)
    try:
        await app.accounts.register(
            email="alice@example.com",
            password="correct horse battery",
            first_name="Alice",
            last_name="Smith",
        )
        await app.accounts.request_password_reset("Alice@Example.com")
        assert smtp_server.handler.received == []  # nothing is sent inside the request
        await app.relay.drain()
        assert await app.outbox_store.pending_count() == 0
    finally:
        await app.shutdown()

    welcome, got = smtp_server.handler.received  # sign-up sends a welcome first
    assert welcome.message["Subject"] == "Welcome to CPD Events"
    assert got.rcpt_tos == ["alice@example.com"]
    assert got.message["From"] == app.settings.mail_from
    assert got.message["Subject"] == "Reset your CPD Events password"
    assert got.message.get_body(preferencelist=("html",)) is not None
    assert str(got.message["Message-ID"]).endswith("@cpd.tasks>")
    body = got.message.get_body(preferencelist=("plain",))
    assert body is not None
    link = f"{app.settings.public_base_url}/reset-password?token="
    assert link in body.get_content()
