"""Registrants' emails: news of their registration and reminders before the event, written
at send time from the current data, each with the event's calendar file where it helps."""

from __future__ import annotations

from uuid import UUID, uuid5

from cpd.domain.accounts import Organization
from cpd.domain.errors import InvalidInput
from cpd.domain.events import Event, EventStatus
from cpd.domain.messaging import REMINDER_HOURS, Attachment
from cpd.domain.money import Money
from cpd.domain.registrations import RegistrationStatus
from cpd.domain.tasks import Task
from cpd.ports.events import CalendarWriter
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWorkFactory
from cpd.services.common.tasks import handles
from cpd.services.messaging.emails import Links, registration_email, reminder_email
from cpd.services.messaging.messages import Delivery, MessagingService
from cpd.services.registrations.steps import registrant_of
from cpd.services.registrations.tasks import EventReminder, RegistrationEmail

REMINDERS = UUID("6f1c2a51-3a0e-4f5b-9a57-5d0f4c1b7e21")  # namespace of reminder delivery ids


class RegistrantEmails:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        messaging: MessagingService,
        calendars: CalendarWriter,
        public_base_url: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._messaging = messaging
        self._calendars = calendars
        self._public_base_url = public_base_url.rstrip("/")
        self._links = Links(self._public_base_url)

    @handles(RegistrationEmail)
    async def send_registration_email(self, task: Task) -> None:
        """The ``registration_email`` task: written at send time from the current data."""
        news = RegistrationEmail.of(task)
        kind = news.kind
        found = await registrant_of(self._uow, news.registration_id)
        if found is None:
            return  # deleted since: nobody to tell
        registration, user, event, host = found
        refund = news.refund
        email = registration_email(
            kind,
            registration,
            user,
            event,
            host,
            self._links,
            refund=Money(int(refund), registration.amount_due.currency) if refund else None,
            now=self._clock.now(),
        )
        attachments: tuple[Attachment, ...] = ()
        if kind == RegistrationStatus.CONFIRMED:  # the sessions, straight into their calendar
            attachments = (self._calendar_attachment(event, host),)
        await self._messaging.deliver(task.id, email, attachments)

    async def send_reminder(self, registration_id: UUID, hours_before: int) -> Delivery | None:
        """Remind a confirmed registrant that the event starts soon (24 h or 1 h before).

        Keyed by (registration, hours): however often a scheduler asks, one reminder goes out.
        None when there is nothing to remind of (not confirmed, event cancelled or started).
        """
        if hours_before not in REMINDER_HOURS:
            raise InvalidInput(
                f"Reminders go {' or '.join(map(str, sorted(REMINDER_HOURS)))} hours before.",
                field="hours_before",
            )
        found = await registrant_of(self._uow, registration_id)
        if found is None:
            return None
        registration, user, event, host = found
        if (
            registration.status is not RegistrationStatus.CONFIRMED
            or event.status is not EventStatus.PUBLISHED
            or event.starts_at is None
            or event.starts_at <= self._clock.now()
        ):
            return None
        email = reminder_email(
            registration, user, event, host, self._links, hours_before=hours_before
        )
        delivery_id = uuid5(REMINDERS, f"{registration.id}:{hours_before}")
        return await self._messaging.deliver(
            delivery_id, email, (self._calendar_attachment(event, host),)
        )

    @handles(EventReminder)
    async def send_reminder_task(self, task: Task) -> None:
        """The ``event_reminder`` task: ``{registration_id, hours_before}``."""
        reminder = EventReminder.of(task)
        await self.send_reminder(reminder.registration_id, reminder.hours_before)

    def _calendar_attachment(self, event: Event, host: Organization) -> Attachment:
        ics = self._calendars.calendar([event], name=event.title, base_url=self._public_base_url)
        return Attachment("event.ics", "text/calendar", ics)
