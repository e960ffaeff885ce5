"""Emails the platform sends, and the task that delivers them."""

from __future__ import annotations

from dataclasses import asdict

from cpd.domain.accounts import User
from cpd.domain.money import Money
from cpd.domain.registrations import Registration
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


REGISTRATION_EMAIL = "registration_email"

_SUBJECTS = {
    "confirmed": "You're booked: {title}",
    "pending_payment": "Complete your payment for {title}",
    "waitlisted": "You're on the waitlist for {title}",
    "offered": "A place is free for you at {title}",
    "offer_expired": "Your offered place at {title} has gone",
    "cancelled": "Your registration for {title} is cancelled",
}
_BODIES = {
    "confirmed": "Your {seats} place(s) at {title} are confirmed. Your check-in code is {code}.\n"
    "Add it to your calendar: {calendar}",
    "pending_payment": "We are holding {seats} place(s) at {title} for you until {hold}. "
    "Complete your payment to confirm them.",
    "waitlisted": "{title} is full, so you are on the waitlist. We will email you the moment a "
    "place is free.",
    "offered": "A place is free at {title}. It is yours if you accept it before {offer}.",
    "offer_expired": "The place we offered you at {title} was not taken in time and has gone "
    "to the next person waiting.",
    "cancelled": "Your registration for {title} is cancelled.{refund}",
}


def registration_email(
    kind: str,
    registration: Registration,
    user: User,
    *,
    event_title: str,
    calendar_url: str,
    refund: Money | None = None,
) -> EmailMessage:
    """The email for a registration's new state (``kind``: a status, or offer_expired)."""
    refund_line = ""
    if refund is not None and refund.amount:
        refund_line = f" We are refunding {refund.amount / 100:.2f} {refund.currency} to your card."
    fields = {
        "title": event_title,
        "seats": registration.seats,
        "code": registration.check_in_code,
        "calendar": calendar_url,
        "hold": registration.hold_expires_at.isoformat() if registration.hold_expires_at else "",
        "offer": registration.offer_expires_at.isoformat() if registration.offer_expires_at else "",
        "refund": refund_line,
    }
    return EmailMessage(
        to=user.email,
        subject=_SUBJECTS[kind].format(**fields),
        text=f"Hello {user.first_name},\n\n" + _BODIES[kind].format(**fields) + "\n",
    )
