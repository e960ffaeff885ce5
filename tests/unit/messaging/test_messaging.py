"""Emails from templates, their delivery log, in-app notifications, preferences, reminders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from markupsafe import escape

from cpd.adapters.mail.mailers import MemoryMailer
from cpd.adapters.mail.rendering import JinjaEmailRenderer, MissingTemplateField
from cpd.adapters.memory.database import MemoryDatabase
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor, Organization, Role, User
from cpd.domain.catalog import EventView
from cpd.domain.errors import InvalidInput, NotFound
from cpd.domain.events import Venue
from cpd.domain.invitations import Invitation
from cpd.domain.messaging import Attachment, CommunicationStatus, EmailMessage, OutgoingEmail
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from cpd.domain.registrations import Registration, RegistrationStatus
from cpd.domain.tasks import Task
from cpd.services.messaging.emails import (
    Links,
    account_exists_email,
    certificate_email,
    invitation_email,
    password_reset_email,
    registration_email,
    reminder_email,
    send_email_task,
    welcome_email,
)
from cpd.services.messaging.messages import MessagingService
from cpd.services.messaging.tasks import SendEmail
from tests.contract.builders import (
    make_event,
    make_organization,
    make_registration,
    make_user,
)
from tests.support.commands import new_event
from tests.unit.conftest import make_settings

LINKS = Links("https://cpd.example")
START = datetime(2027, 6, 1, 9, tzinfo=UTC)
renderer = JinjaEmailRenderer()


def branded_host() -> Organization:
    return replace(
        make_organization("Royal College of R&D"),
        logo_url="https://cdn.example/logo.png",
        contact_email="events@rcrd.example",
    )


def sample_emails() -> dict[str, OutgoingEmail]:
    """One email of every template, built by the services' own builders."""
    user, host = make_user(first_name="Zoë"), branded_host()
    event = make_event(host, title="Ethics <& Law>", venue=Venue("Main hall", "1 High St"))
    registration = make_registration(
        event,
        user,
        paid=2500,
        amount_due=Money(2500, "GBP"),
        hold_expires_at=START,
        offer_expires_at=START,
    )
    emails = {
        f"registration_{kind}": registration_email(
            kind,
            registration,
            user,
            event,
            host,
            LINKS,
            refund=Money(1250, "GBP") if kind == "cancelled" else None,
            now=START,
        )
        for kind in (
            "confirmed",
            "pending_payment",
            "waitlisted",
            "offered",
            "offer_expired",
            "cancelled",
        )
    }
    emails["welcome"] = welcome_email(user, site_url="https://cpd.example")
    emails["account_exists"] = account_exists_email(user, site_url="https://cpd.example")
    emails["password_reset"] = password_reset_email(user, "https://cpd.example/reset?token=t")
    invitation = Invitation.issue(
        organization_id=host.id,
        email="Invited@Example.org",
        role=Role.ORG_STAFF,
        token_hash="0" * 64,
        invited_by=user.id,
        now=START,
    )
    emails["organization_invitation"] = invitation_email(
        invitation, host, "https://cpd.example/invitations/accept?token=t"
    )
    emails["event_reminder"] = reminder_email(
        registration, user, event, host, LINKS, hours_before=1
    )
    emails["certificate_issued"] = certificate_email(
        user,
        host,
        certificate_id=uuid4(),
        number="CPD-2027-000123",
        activity="Ethics <& Law>",
        credits=Decimal("6"),
        credit_category="Clinical",
        issued_at=START,
        verify_url="https://cpd.example/verify/CPD-2027-000123",
        filename="certificate.pdf",
    )
    return emails


PLATFORM = {
    "brand": {"name": "CPD Events", "logo_url": None, "contact_email": None, "colour": "#000"}
}


def test_every_template_renders_subject_summary_text_and_html() -> None:
    emails = sample_emails()
    assert sorted(emails) == renderer.templates()  # a template without a sample fails here
    for name, email in emails.items():
        rendered = renderer.render(email.template, PLATFORM | email.context)
        assert rendered.subject, name
        assert "\n" not in rendered.subject, name
        assert rendered.summary, name
        # An invitation goes to an address, not an account: it knows no name.
        greeting = "Hello,\n" if name == "organization_invitation" else "Hello Zoë,\n"
        assert rendered.text.startswith(greeting), name
        assert rendered.html.startswith("<!DOCTYPE html>"), name
        assert f"<title>{escape(rendered.subject)}</title>" in rendered.html, name
    host_brand = renderer.render("registration_confirmed", emails["registration_confirmed"].context)
    assert (
        '<img src="https://cdn.example/logo.png" alt="Royal College of R&amp;D"' in host_brand.html
    )
    assert "mailto:events@rcrd.example" in host_brand.html
    assert "Questions? Write to events@rcrd.example" in host_brand.text
    platform = renderer.render("welcome", PLATFORM | emails["welcome"].context)
    assert "<img" not in platform.html
    assert "CPD Events" in platform.html


def test_html_is_escaped_and_plain_text_is_not() -> None:
    email = sample_emails()["registration_confirmed"]
    rendered = renderer.render(email.template, email.context)
    assert rendered.subject == "You're booked: Ethics <& Law>"
    assert "Ethics <& Law>" in rendered.text
    assert "Ethics &lt;&amp; Law&gt;" in rendered.html
    assert "Ethics <& Law>" not in rendered.html


def test_optional_emails_link_to_the_preferences_and_transactional_ones_do_not() -> None:
    emails = sample_emails()
    for name in ("registration_waitlisted", "registration_offer_expired", "event_reminder"):
        rendered = renderer.render(name, emails[name].context)
        assert LINKS.preferences in rendered.text, name
        assert LINKS.preferences in rendered.html, name
    for name in ("registration_confirmed", "registration_offered", "registration_cancelled"):
        assert LINKS.preferences not in renderer.render(name, emails[name].context).text


def test_a_missing_field_fails_rather_than_rendering_blank() -> None:
    context = dict(sample_emails()["registration_offered"].context)
    del context["registration"]
    with pytest.raises(MissingTemplateField, match="registration"):
        renderer.render("registration_offered", context)
    with pytest.raises(LookupError):
        renderer.render("no_such_template", context)


def test_the_cancellation_carries_a_refund_receipt_only_when_refunding() -> None:
    user, host = make_user(), branded_host()
    event = make_event(host)
    registration = make_registration(event, user)
    free = registration_email("cancelled", registration, user, event, host, LINKS)
    rendered = renderer.render(free.template, free.context)
    assert "Refund receipt" not in rendered.text
    assert "Refund receipt" not in rendered.html
    paid = sample_emails()["registration_cancelled"]
    receipt = renderer.render(paid.template, paid.context)
    assert "Refunded:      12.50 GBP" in receipt.text
    assert "<strong>12.50 GBP</strong>" in receipt.html
    assert "Tuesday 1 June 2027, 10:00 BST" in receipt.text  # in the event's time zone
    assert receipt.summary.endswith("We are refunding 12.50 GBP.")


# --- delivery ---------------------------------------------------------------------------------


class FlakyMailer(MemoryMailer):
    """Fails the first ``failures`` sends, like an SMTP server having a bad minute."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    async def send(self, message: EmailMessage) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError("451 try again later")
        await super().send(message)


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


async def stored_user(db: MemoryDatabase, user: User | None = None) -> User:
    user = user or make_user()
    async with db.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


def messaging_on(db: MemoryDatabase, mailer: MemoryMailer, clock: Clock) -> MessagingService:
    return MessagingService(
        db.unit_of_work, clock=clock, mailer=mailer, renderer=renderer, platform_name="CPD Events"
    )


async def test_a_failed_send_is_logged_then_the_retry_updates_the_same_row() -> None:
    clock, db, mailer = Clock(), MemoryDatabase(Clock().now), FlakyMailer(failures=1)
    messaging = messaging_on(db, mailer, clock)
    user = await stored_user(db)
    task = send_email_task(password_reset_email(user, "https://cpd.example/reset?token=t"))
    actor = Actor(user.id)

    with pytest.raises(ConnectionError):
        await messaging.send_email(task)
    [failed] = (await messaging.my_log(actor, None, PageRequest())).items
    assert (failed.id, failed.status, failed.attempts) == (task.id, "failed", 1)
    assert failed.error == "ConnectionError: 451 try again later"
    assert failed.sent_at is None
    assert (await messaging.notifications(actor, unread_only=False, page=PageRequest())).total == 0

    clock.current += timedelta(minutes=1)
    await messaging.send_email(task)  # the relay's retry
    await messaging.send_email(task)  # a duplicate delivery of the same task
    assert mailer.attempts == 2  # the duplicate was recognised, not sent again
    [sent] = (await messaging.my_log(actor, None, PageRequest())).items
    assert (sent.status, sent.attempts, sent.error) == ("sent", 2, None)
    assert sent.created_at == failed.created_at
    assert sent.sent_at == clock.current
    assert sent.provider_message_id == f"<{task.id}@cpd.tasks>" == mailer.sent[0].message_id
    assert (sent.template, sent.subject) == ("password_reset", "Reset your CPD Events password")
    assert (sent.related_type, sent.related_id, sent.organization_id) == ("user", user.id, None)
    page = await messaging.notifications(actor, unread_only=False, page=PageRequest())
    assert [(n.id, n.title) for n in page.items] == [(task.id, "Reset your CPD Events password")]
    assert "token" not in page.items[0].body  # the secret link stays in the email
    assert page.unread == 1


async def test_an_opted_out_email_is_not_sent_but_the_notification_is_written() -> None:
    clock, db, mailer = Clock(), MemoryDatabase(Clock().now), MemoryMailer()
    messaging = messaging_on(db, mailer, clock)
    user = await stored_user(db)
    actor = Actor(user.id)
    await messaging.update_preferences(actor, {"waitlist_updates": False, "event_reminders": False})
    emails = sample_emails()
    waitlisted = replace(emails["registration_waitlisted"], user_id=user.id, to=user.email)
    offered = replace(emails["registration_offered"], user_id=user.id, to=user.email)

    skipped = await messaging.deliver(uuid4(), waitlisted)
    delivered = await messaging.deliver(uuid4(), offered)  # transactional: always sent

    assert (skipped.sent, skipped.opted_out, delivered.sent) == (False, True, True)
    assert [m.subject for m in mailer.sent] == ["A place is free for you at Ethics <& Law>"]
    log = await messaging.my_log(actor, None, PageRequest())
    assert [c.template for c in log.items] == ["registration_offered"]
    page = await messaging.notifications(actor, unread_only=True, page=PageRequest())
    assert sorted(n.kind for n in page.items) == ["registration_offered", "registration_waitlisted"]


async def test_email_to_no_known_user_is_logged_without_a_notification() -> None:
    db, mailer = MemoryDatabase(Clock().now), MemoryMailer()
    messaging = messaging_on(db, mailer, Clock())
    host = branded_host()
    async with db.unit_of_work() as uow:
        await uow.organizations.add(host)
        await uow.commit()
    email = replace(sample_emails()["certificate_issued"], user_id=None, organization_id=host.id)
    pdf = Attachment("certificate.pdf", "application/pdf", b"%PDF-1.7 fake")
    delivery_id = uuid4()
    await messaging.deliver(delivery_id, email, (pdf,))
    [message] = mailer.sent
    assert message.attachments == (pdf,)
    assert message.subject == "Your certificate for Ethics <& Law>"
    async with db.unit_of_work() as uow:
        logged = await uow.communications.get(delivery_id)
        assert await uow.notifications.get(delivery_id) is None
    assert logged is not None
    assert (logged.status, logged.organization_id, logged.user_id) == ("sent", host.id, None)
    assert logged.related_type == "certificate"


async def test_a_send_email_task_queued_before_templates_is_still_sent() -> None:
    db, mailer = MemoryDatabase(Clock().now), MemoryMailer()
    messaging = messaging_on(db, mailer, Clock())
    legacy = Task(
        SendEmail.NAME, {"to": "a@example.org", "subject": "Old", "text": "queued", "html": None}
    )
    await messaging.send_email(legacy)
    assert [(m.subject, m.message_id) for m in mailer.sent] == [("Old", f"<{legacy.id}@cpd.tasks>")]


async def test_preferences_default_on_and_refuse_unknown_or_non_boolean_fields() -> None:
    db = MemoryDatabase(Clock().now)
    messaging = messaging_on(db, MemoryMailer(), Clock())
    actor = Actor((await stored_user(db)).id)
    defaults = await messaging.preferences(actor)
    assert (defaults.event_reminders, defaults.waitlist_updates, defaults.updated_at) == (
        True,
        True,
        None,
    )
    with pytest.raises(InvalidInput) as unknown:
        await messaging.update_preferences(actor, {"password_reset": False})
    assert unknown.value.field == "password_reset"  # transactional email cannot be turned off
    with pytest.raises(InvalidInput) as not_bool:
        await messaging.update_preferences(actor, {"event_reminders": "no"})  # type: ignore[dict-item]
    assert not_bool.value.field == "event_reminders"
    changed = await messaging.update_preferences(actor, {"event_reminders": False})
    assert (changed.event_reminders, changed.waitlist_updates) == (False, True)
    assert await messaging.preferences(actor) == changed


async def test_notifications_of_others_are_not_found() -> None:
    db = MemoryDatabase(Clock().now)
    messaging = messaging_on(db, MemoryMailer(), Clock())
    owner, other = await stored_user(db), await stored_user(db)
    delivery_id = uuid4()
    email = replace(sample_emails()["welcome"], user_id=owner.id, to=owner.email)
    await messaging.deliver(delivery_id, email)
    with pytest.raises(NotFound):
        await messaging.mark_read(Actor(other.id), delivery_id)
    with pytest.raises(NotFound):
        await messaging.mark_read(Actor(owner.id), uuid4())
    assert await messaging.mark_all_read(Actor(other.id)) == 0
    read = await messaging.mark_read(Actor(owner.id), delivery_id)
    assert read.read_at is not None


# --- reminders through the real wiring -----------------------------------------------------------


@pytest.fixture
async def app() -> AsyncIterator[tuple[Container, Clock]]:
    clock = Clock()
    container = build_container(make_settings(), clock=clock)
    await container.startup(run_relay=False)
    yield container, clock
    await container.shutdown()


async def booked(app: Container, **details: Any) -> tuple[Actor, EventView, Registration]:
    owner = await app.accounts.register(
        email=f"o{uuid4().hex[:8]}@example.org",
        password="a long passphrase",
        first_name="O",
        last_name="W",
    )
    org = await app.organizations.create(Actor(owner.id), name=f"Host {uuid4().hex[:6]}")
    sessions = [{"title": "Day", "starts_at": START, "ends_at": START + timedelta(hours=6)}]
    fields = {"title": "Conference", "format": "online", "capacity": None} | details
    event = await app.events.create(Actor(owner.id), new_event(org.id, fields, sessions))
    await app.events.publish(Actor(owner.id), event.id)
    person = await app.accounts.register(
        email=f"p{uuid4().hex[:8]}@example.org",
        password="a long passphrase",
        first_name="Pat",
        last_name="L",
    )
    registration = await app.registrations.register(Actor(person.id), event.id)
    await app.relay.drain()
    return Actor(person.id), event, registration


async def test_a_reminder_goes_once_per_registration_and_lead_time(
    app: tuple[Container, Clock],
) -> None:
    container, _ = app
    person, _, registration = await booked(container)
    mailer = container.mailer
    assert isinstance(mailer, MemoryMailer)
    before = len(mailer.sent)

    first = await container.registrant_emails.send_reminder(registration.id, 24)
    again = await container.registrant_emails.send_reminder(registration.id, 24)
    await container.task_handlers["event_reminder"](
        Task("event_reminder", {"registration_id": str(registration.id), "hours_before": 1})
    )

    assert first is not None
    assert first.sent
    assert again is not None
    assert again.duplicate
    reminders = mailer.sent[before:]
    assert [m.subject for m in reminders] == [
        "Reminder: Conference starts tomorrow",
        "Reminder: Conference starts in an hour",
    ]
    assert [a.filename for a in reminders[0].attachments] == ["event.ics"]
    assert registration.check_in_code in reminders[0].text
    log = await container.messaging.my_log(person, CommunicationStatus.SENT, PageRequest())
    assert [c.template for c in log.items].count("event_reminder") == 2
    with pytest.raises(InvalidInput) as caught:
        await container.registrant_emails.send_reminder(registration.id, 3)
    assert caught.value.field == "hours_before"


async def test_no_reminder_for_a_cancelled_registration_a_past_event_or_an_opt_out(
    app: tuple[Container, Clock],
) -> None:
    container, clock = app
    person, _, registration = await booked(container)
    await container.registrations.cancel(person, registration.id)
    assert await container.registrant_emails.send_reminder(registration.id, 24) is None

    other, _, later = await booked(container)
    await container.messaging.update_preferences(other, {"event_reminders": False})
    opted_out = await container.registrant_emails.send_reminder(later.id, 24)
    assert opted_out is not None
    assert opted_out.opted_out
    page = await container.messaging.notifications(other, unread_only=True, page=PageRequest())
    assert "event_reminder" in [n.kind for n in page.items]  # still told in the app

    clock.current = START + timedelta(minutes=1)
    assert await container.registrant_emails.send_reminder(later.id, 1) is None


async def test_registration_emails_are_logged_under_the_host_organization(
    app: tuple[Container, Clock],
) -> None:
    container, _ = app
    person, event, registration = await booked(container)
    log = await container.messaging.my_log(person, None, PageRequest())
    by_template = {c.template: c for c in log.items}
    assert sorted(by_template) == ["registration_confirmed", "welcome"]
    assert by_template["welcome"].organization_id is None  # an account email, no tenant's
    confirmed = by_template["registration_confirmed"]
    assert confirmed.organization_id == event.organization.id
    assert (confirmed.related_type, confirmed.related_id) == ("registration", registration.id)
    assert registration.status is RegistrationStatus.CONFIRMED
