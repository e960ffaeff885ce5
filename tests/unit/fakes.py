"""Test doubles that stop at the ports: a clock the test moves by hand, and account helpers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cpd.adapters.mail import MemoryMailer
from cpd.bootstrap import Container
from cpd.domain.accounts import Actor, User
from cpd.domain.tasks import EmailMessage

PASSWORD = "correct horse battery"
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class FakeClock:
    """Starts at the real time (JWT expiry is checked against the wall clock) and then
    moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


async def register(
    app: Container,
    email: str = "alice@example.com",
    *,
    password: str = PASSWORD,
    first_name: str = "Alice",
    last_name: str = "Smith",
) -> User:
    return await app.accounts.register(
        email=email, password=password, first_name=first_name, last_name=last_name
    )


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, is_superadmin=user.is_superadmin)


def sent_mail(app: Container) -> list[EmailMessage]:
    assert isinstance(app.mailer, MemoryMailer)
    return app.mailer.sent


def reset_token_from(message: EmailMessage) -> str:
    match = re.search(r"https?://\S+/reset-password\?token=([A-Za-z0-9_\-]+)", message.text)
    assert match, f"no reset link in {message.text!r}"
    return match.group(1)


async def eventually(condition: Callable[[], bool], within: float = 1.0) -> None:
    """Wait until ``condition()`` holds (work done by a background task), or fail."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling state we do not own
            await asyncio.sleep(0.005)
