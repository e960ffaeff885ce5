"""Delivering email (render, honour preferences, send, log, notify in-app) and reading the
results: the communication log for staff, and each person's notifications and preferences.

Delivery runs in task handlers, never inside a request's transaction. It is keyed by a
delivery id (the task's id, or a business key such as a reminder's), which is also the email's
Message-ID, its log row's id and its notification's id: a retried task updates one log row,
writes one notification, and a message already logged as sent is not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cpd.domain.accounts import Actor
from cpd.domain.errors import NotFound
from cpd.domain.messaging import (
    Attachment,
    Communication,
    CommunicationStatus,
    EmailMessage,
    Notification,
    NotificationPage,
    NotificationPreferences,
    OutgoingEmail,
    RenderedEmail,
)
from cpd.domain.pages import Page, PageRequest
from cpd.domain.tasks import Task
from cpd.ports.messaging import EmailRenderer, Mailer
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.access import require_staff
from cpd.services.common.tasks import handles
from cpd.services.messaging.emails import platform_brand
from cpd.services.messaging.tasks import SendEmail

MAX_ERROR_LENGTH = 2000
NOTIFICATION_NOT_FOUND = "Notification not found."


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one email: sent now, sent before (a duplicate), or opted out."""

    sent: bool
    duplicate: bool = False
    opted_out: bool = False


def message_id_of(delivery_id: UUID) -> str:
    return f"<{delivery_id}@cpd.tasks>"


class MessagingService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        mailer: Mailer,
        renderer: EmailRenderer,
        platform_name: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._mailer = mailer
        self._renderer = renderer
        self._platform_brand = platform_brand(platform_name)

    # Delivery (task handlers)

    @handles(SendEmail)
    async def send_email(self, task: Task) -> None:
        """The ``send_email`` task: an ``OutgoingEmail`` in the payload."""
        # Queued by code from before templates (a deploy overlap): this can go once the outbox
        # holds no unfinished send_email task without a "template".
        if "template" not in task.payload:
            fields = {**task.payload, "message_id": message_id_of(task.id)}
            await self._mailer.send(EmailMessage(**fields))
            return
        await self.deliver(task.id, SendEmail.of(task).email)

    def render(self, email: OutgoingEmail) -> RenderedEmail:
        context: dict[str, Any] = {"brand": self._platform_brand} | email.context
        return self._renderer.render(email.template, context)

    async def deliver(
        self,
        delivery_id: UUID,
        email: OutgoingEmail,
        attachments: tuple[Attachment, ...] = (),
    ) -> Delivery:
        """Send ``email`` once under ``delivery_id``, log it, and notify its user in-app.

        An email the user opted out of is not sent (nor logged), but the notification is
        written. A send that fails is logged as failed and the error propagates, so the task
        is retried; the retry updates the same log row.
        """
        async with self._uow() as uow:
            logged = await uow.communications.get(delivery_id)
            preferences = (
                await uow.notification_preferences.get(email.user_id) if email.user_id else None
            )
        if logged is not None and logged.status is CommunicationStatus.SENT:
            return Delivery(sent=False, duplicate=True)
        rendered = self.render(email)  # before sending: a template error sends nothing
        if preferences is not None and not preferences.allows(email.template):
            await self._notify(delivery_id, email, rendered)
            return Delivery(sent=False, opted_out=True)
        message = EmailMessage(
            to=email.to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id_of(delivery_id),
            attachments=attachments,
        )
        entry = Communication(
            id=delivery_id,
            recipient=email.to,
            template=email.template,
            subject=rendered.subject,
            status=CommunicationStatus.SENT,
            created_at=logged.created_at if logged else self._clock.now(),
            user_id=email.user_id,
            organization_id=email.organization_id,
            related_type=email.related.type if email.related else None,
            related_id=email.related.id if email.related else None,
            provider_message_id=message.message_id,
            attempts=logged.attempts + 1 if logged else 1,
        )
        try:
            await self._mailer.send(message)
        except Exception as error:
            entry.status = CommunicationStatus.FAILED
            entry.error = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
            async with self._uow() as uow:
                await uow.communications.record(entry)
                await uow.commit()
            raise
        entry.sent_at = self._clock.now()
        async with self._uow() as uow:
            await uow.communications.record(entry)
            await self._add_notification(uow, delivery_id, email, rendered)
            await uow.commit()
        return Delivery(sent=True)

    async def _notify(
        self, delivery_id: UUID, email: OutgoingEmail, rendered: RenderedEmail
    ) -> None:
        async with self._uow() as uow:
            await self._add_notification(uow, delivery_id, email, rendered)
            await uow.commit()

    async def _add_notification(
        self, uow: UnitOfWork, delivery_id: UUID, email: OutgoingEmail, rendered: RenderedEmail
    ) -> None:
        if email.user_id is None:
            return  # nobody to show it to in the app
        await uow.notifications.add(
            Notification(
                id=delivery_id,
                user_id=email.user_id,
                kind=email.template,
                title=rendered.subject,
                body=rendered.summary,
                created_at=self._clock.now(),
                organization_id=email.organization_id,
                related_type=email.related.type if email.related else None,
                related_id=email.related.id if email.related else None,
            )
        )

    # The communication log

    async def organization_log(
        self,
        actor: Actor,
        organization_id: UUID,
        status: CommunicationStatus | None,
        page: PageRequest,
    ) -> Page[Communication]:
        """What the platform sent on an organization's behalf (org_admin, org_staff)."""
        async with self._uow() as uow:
            await require_staff(uow, actor, organization_id, not_found="Organization not found.")
            if await uow.organizations.get(organization_id) is None:
                raise NotFound("Organization not found.")
            return await uow.communications.list_for_organization(organization_id, status, page)

    async def my_log(
        self, actor: Actor, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        async with self._uow() as uow:
            return await uow.communications.list_for_user(actor.user_id, status, page)

    # In-app notifications

    async def notifications(
        self, actor: Actor, *, unread_only: bool, page: PageRequest
    ) -> NotificationPage:
        async with self._uow() as uow:
            found = await uow.notifications.list_for_user(
                actor.user_id, unread_only=unread_only, page=page
            )
            unread = await uow.notifications.unread_count(actor.user_id)
        return NotificationPage(found.items, found.total, found.limit, found.offset, unread)

    async def mark_read(self, actor: Actor, notification_id: UUID) -> Notification:
        async with self._uow() as uow:
            notification = await uow.notifications.get(notification_id)
            if notification is None or notification.user_id != actor.user_id:
                raise NotFound(NOTIFICATION_NOT_FOUND)
            await uow.notifications.mark_read(notification_id, self._clock.now())
            await uow.commit()
            read = await uow.notifications.get(notification_id)
        assert read is not None
        return read

    async def mark_all_read(self, actor: Actor) -> int:
        async with self._uow() as uow:
            marked = await uow.notifications.mark_all_read(actor.user_id, self._clock.now())
            await uow.commit()
        return marked

    # Preferences

    async def preferences(self, actor: Actor) -> NotificationPreferences:
        async with self._uow() as uow:
            found = await uow.notification_preferences.get(actor.user_id)
        return found or NotificationPreferences(actor.user_id)

    async def update_preferences(
        self, actor: Actor, changes: dict[str, bool]
    ) -> NotificationPreferences:
        async with self._uow() as uow:
            found = await uow.notification_preferences.get(actor.user_id)
            preferences = found or NotificationPreferences(actor.user_id)
            preferences.change(changes, now=self._clock.now())
            await uow.notification_preferences.save(preferences)
            await uow.commit()
        return preferences
