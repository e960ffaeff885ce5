"""Emails the platform sends, and the task that delivers them."""

from __future__ import annotations

from dataclasses import asdict

from cpd.domain.accounts import User
from cpd.domain.tasks import EmailMessage, Task
from cpd.ports.services import Mailer, TaskHandler

SEND_EMAIL = "send_email"


def send_email_task(message: EmailMessage) -> Task:
    return Task(SEND_EMAIL, asdict(message))


def password_reset_email(user: User, link: str) -> EmailMessage:
    return EmailMessage(
        to=user.email,
        subject="Reset your CPD password",
        text=(
            f"Hello {user.first_name},\n\n"
            "Someone asked to reset the password of your CPD account. If it was you, open this "
            f"link within an hour:\n\n{link}\n\n"
            "If it was not you, ignore this email: your password stays as it is.\n"
        ),
    )


def send_email_handler(mailer: Mailer) -> TaskHandler:
    async def send_email(task: Task) -> None:
        fields = {**task.payload, "message_id": f"<{task.id}@cpd.tasks>"}
        await mailer.send(EmailMessage(**fields))

    return send_email
