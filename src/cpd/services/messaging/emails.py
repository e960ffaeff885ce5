"""The emails the platform sends, as template names and contexts of plain values.

The words live in the templates (an adapter behind ``EmailRenderer``); these builders only
gather the facts each template shows, formatted for reading (times in the event's zone,
money with its currency), so the context can travel in a task payload as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from cpd.domain.accounts import Organization, User
from cpd.domain.events import Event
from cpd.domain.invitations import Invitation
from cpd.domain.messaging import (
    ACCOUNT_EXISTS,
    CERTIFICATE_ISSUED,
    EVENT_REMINDER,
    ORGANIZATION_INVITATION,
    PASSWORD_RESET,
    REGISTRATION_PREFIX,
    WELCOME,
    OutgoingEmail,
    Related,
)
from cpd.domain.money import Money
from cpd.domain.registrations import Registration
from cpd.domain.tasks import Task
from cpd.services.messaging.tasks import SendEmail

BRAND_COLOUR = "#1f4e79"


def send_email_task(email: OutgoingEmail) -> Task:
    """A task that renders and sends ``email`` (its id becomes the Message-ID)."""
    return SendEmail(email).task()


def brand_of(organization: Organization) -> dict[str, Any]:
    """An organization's name and branding as the email layout shows them."""
    return {
        "name": organization.name,
        "logo_url": organization.logo_url,
        "contact_email": organization.contact_email,
        "colour": BRAND_COLOUR,
    }


def platform_brand(name: str) -> dict[str, Any]:
    """The branding of emails that belong to no organization (accounts)."""
    return {"name": name, "logo_url": None, "contact_email": None, "colour": BRAND_COLOUR}


def welcome_email(user: User, *, site_url: str) -> OutgoingEmail:
    return _account_email(WELCOME, user, site_url)


def account_exists_email(user: User, *, site_url: str) -> OutgoingEmail:
    """To the owner of an email someone tried to sign up with again."""
    return _account_email(ACCOUNT_EXISTS, user, site_url)


def _account_email(template: str, user: User, site_url: str) -> OutgoingEmail:
    return OutgoingEmail(
        template=template,
        to=user.email,
        context={"first_name": user.first_name, "site_url": site_url},
        user_id=user.id,
        related=Related("user", user.id),
    )


def password_reset_email(user: User, link: str, *, valid_for: str = "an hour") -> OutgoingEmail:
    return OutgoingEmail(
        template=PASSWORD_RESET,
        to=user.email,
        context={"first_name": user.first_name, "link": link, "valid_for": valid_for},
        user_id=user.id,
        related=Related("user", user.id),
    )


def invitation_email(
    invitation: Invitation, organization: Organization, link: str, *, valid_for: str = "7 days"
) -> OutgoingEmail:
    """To an address, not an account: nobody is looked up by the email an admin typed."""
    return OutgoingEmail(
        template=ORGANIZATION_INVITATION,
        to=invitation.email,
        context={
            "brand": brand_of(organization),
            "first_name": "",
            "email": invitation.email,
            "role": invitation.role.value.replace("_", " ").removeprefix("org "),
            "link": link,
            "valid_for": valid_for,
        },
        organization_id=organization.id,
        related=Related("invitation", invitation.id),
    )


@dataclass(frozen=True, slots=True)
class Links:
    """Where links in registration emails point (the API's public base URL)."""

    base_url: str

    def registration(self, registration_id: UUID) -> str:
        return f"{self.base_url}/api/v1/registrations/{registration_id}"

    def calendar(self, event_id: UUID) -> str:
        return f"{self.base_url}/api/v1/events/{event_id}.ics"

    @property
    def preferences(self) -> str:
        return f"{self.base_url}/api/v1/users/me/notification-preferences"


def registration_email(
    kind: str,
    registration: Registration,
    user: User,
    event: Event,
    host: Organization,
    links: Links,
    *,
    refund: Money | None = None,
    now: datetime | None = None,
) -> OutgoingEmail:
    """The email for a registration's new state (``kind``: a status, or offer_expired)."""
    context: dict[str, Any] = {
        "first_name": user.first_name,
        "brand": brand_of(host),
        "event": event_facts(event),
        "registration": registration_facts(registration, event, links),
        "calendar_url": links.calendar(event.id),
        "refund": None,
    }
    if refund is not None and refund.amount:
        context["refund"] = {
            "amount": money_text(refund),
            "paid": money_text(Money(registration.paid, refund.currency)),
            "issued_at": local_time(now, event.timezone) if now else "",
        }
    template = f"{REGISTRATION_PREFIX}{kind}"
    if kind in {"waitlisted", "offer_expired"}:
        context["preferences_url"] = links.preferences
    return OutgoingEmail(
        template=template,
        to=user.email,
        context=context,
        user_id=user.id,
        organization_id=host.id,
        related=Related("registration", registration.id),
    )


def reminder_email(
    registration: Registration,
    user: User,
    event: Event,
    host: Organization,
    links: Links,
    *,
    hours_before: int,
) -> OutgoingEmail:
    when = {24: "tomorrow", 1: "in an hour"}.get(hours_before, f"in {hours_before} hours")
    return OutgoingEmail(
        template=EVENT_REMINDER,
        to=user.email,
        context={
            "first_name": user.first_name,
            "brand": brand_of(host),
            "event": event_facts(event),
            "registration": registration_facts(registration, event, links),
            "calendar_url": links.calendar(event.id),
            "when": when,
            "hours_before": hours_before,
            "preferences_url": links.preferences,
        },
        user_id=user.id,
        organization_id=host.id,
        related=Related("registration", registration.id),
    )


def certificate_email(
    user: User,
    host: Organization,
    *,
    certificate_id: UUID,
    number: str,
    activity: str,
    credits: Decimal,
    credit_category: str | None,
    issued_at: datetime,
    verify_url: str,
    filename: str,
) -> OutgoingEmail:
    """The email that carries a certificate; the caller attaches the PDF when delivering."""
    return OutgoingEmail(
        template=CERTIFICATE_ISSUED,
        to=user.email,
        context={
            "first_name": user.first_name,
            "brand": brand_of(host),
            "certificate": {
                "activity": activity,
                "number": number,
                "credits": str(credits),
                "credit_category": credit_category,
                "issued_at": issued_at.date().isoformat(),
                "verify_url": verify_url,
                "filename": filename,
            },
        },
        user_id=user.id,
        organization_id=host.id,
        related=Related("certificate", certificate_id),
    )


def event_facts(event: Event) -> dict[str, Any]:
    join_urls = [s.join_url for s in event.sessions if s.join_url]
    return {
        "title": event.title,
        "starts_at": local_time(event.starts_at, event.timezone) if event.starts_at else None,
        "venue": f"{event.venue.name}, {event.venue.address}" if event.venue else None,
        "join_url": join_urls[0] if join_urls else None,
    }


def registration_facts(registration: Registration, event: Event, links: Links) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return local_time(moment, event.timezone) if moment else None

    return {
        "id": str(registration.id),
        "seats": registration.seats,
        "check_in_code": registration.check_in_code,
        "amount_due": money_text(registration.amount_due),
        "paid": money_text(Money(registration.paid, registration.amount_due.currency))
        if registration.paid
        else None,
        "hold_expires_at": when(registration.hold_expires_at),
        "offer_expires_at": when(registration.offer_expires_at),
        "url": links.registration(registration.id),
    }


def local_time(moment: datetime, timezone: str) -> str:
    """``Monday 1 March 2027, 09:00 GMT``: in the event's own zone, as attendees read it."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M %Z}"


def money_text(money: Money) -> str:
    return money.display()
