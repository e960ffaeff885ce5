"""Mailers: a folder of .eml files (embedded default), SMTP, and a list in memory (tests)."""

from __future__ import annotations

import email.message
import email.utils
from pathlib import Path

import aiosmtplib

from cpd.adapters.threads import BlockingPool
from cpd.domain.messaging import EmailMessage
from cpd.domain.text import displayable


def to_mime(message: EmailMessage, sender: str) -> email.message.EmailMessage:
    """The message as MIME. Header and body text goes through ``displayable``: the email
    package refuses a line break in a header, and a lone surrogate cannot be encoded."""
    mime = email.message.EmailMessage()
    mime["From"] = sender
    mime["To"] = displayable(message.to)
    mime["Subject"] = displayable(message.subject)
    mime["Date"] = email.utils.formatdate(localtime=False)
    mime["Message-ID"] = message.message_id or email.utils.make_msgid(domain="cpd.local")
    mime.set_content(displayable(message.text, multiline=True))
    if message.html:
        mime.add_alternative(displayable(message.html, multiline=True), subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=displayable(attachment.filename),
        )
    return mime


class FileOutboxMailer:
    """Writes each message as ``<message-id>.eml``; a resent task overwrites its own file."""

    def __init__(self, folder: Path, *, sender: str, threads: int = 2) -> None:
        self._folder = folder
        self._sender = sender
        self._pool = BlockingPool("mail", threads)

    def close(self) -> None:
        self._pool.close()

    async def send(self, message: EmailMessage) -> None:
        mime = to_mime(message, self._sender)
        name = "".join(c for c in str(mime["Message-ID"]) if c.isalnum() or c in "-.@") + ".eml"
        await self._pool.run(self._write, name, mime.as_bytes())

    def _write(self, name: str, data: bytes) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        tmp = self._folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(self._folder / name)  # atomic: a reader never sees half a message


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._sender = sender
        self._options: dict[str, object] = {
            "hostname": host,
            "port": port,
            "username": username,
            "password": password,
            "use_tls": use_tls,
            "start_tls": start_tls,
            "timeout": timeout,
        }

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(to_mime(message, self._sender), **self._options)  # type: ignore[arg-type]


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
