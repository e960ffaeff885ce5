"""What the platform told people: the communication log (staff, and each person's own),
in-app notifications, and notification preferences."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import Parameter

from cpd.domain.accounts import Actor
from cpd.domain.messaging import CommunicationStatus, NotificationPreferences
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.common import Page, present, set_fields
from cpd.entrypoints.http.messaging.schemas import (
    CommunicationOut,
    CommunicationPage,
    NotificationOut,
    NotificationPageOut,
    PreferencesOut,
    PreferencesPatch,
    ReadAllOut,
)
from cpd.entrypoints.http.problems import documented
from cpd.services.messaging.messages import MessagingService

StatusFilter = Annotated[
    CommunicationStatus | None, Parameter(description="Only messages with this status")
]


def _preferences(preferences: NotificationPreferences) -> PreferencesOut:
    return present(preferences, PreferencesOut)


class CommunicationsController(Controller):
    path = "/"
    tags = ["communications"]
    security = BEARER

    @get(
        "/organizations/{organization_id:uuid}/communications",
        summary="Emails sent on the organization's behalf, newest first (org_admin, org_staff)",
        responses=documented(400, 401, 403, 404),
    )
    async def for_organization(
        self,
        organization_id: UUID,
        actor: Actor,
        messaging: MessagingService,
        page: PageRequest,
        status: StatusFilter = None,
    ) -> CommunicationPage:
        found = await messaging.organization_log(actor, organization_id, status, page)
        return present(found, Page[CommunicationOut])

    @get(
        "/users/me/communications",
        summary="Emails sent to me, newest first",
        responses=documented(400, 401),
    )
    async def mine(
        self,
        actor: Actor,
        messaging: MessagingService,
        page: PageRequest,
        status: StatusFilter = None,
    ) -> CommunicationPage:
        return present(await messaging.my_log(actor, status, page), Page[CommunicationOut])

    @get(
        "/users/me/notification-preferences",
        summary="Which optional emails I receive",
        responses=documented(401),
    )
    async def preferences(self, actor: Actor, messaging: MessagingService) -> PreferencesOut:
        return _preferences(await messaging.preferences(actor))

    @patch(
        "/users/me/notification-preferences",
        summary="Turn optional emails on or off (in-app notifications are always written)",
        responses=documented(400, 401),
    )
    async def update_preferences(
        self, data: PreferencesPatch, actor: Actor, messaging: MessagingService
    ) -> PreferencesOut:
        return _preferences(await messaging.update_preferences(actor, set_fields(data)))


class NotificationsController(Controller):
    path = "/notifications"
    tags = ["notifications"]
    security = BEARER

    @get("/", summary="My notifications, newest first, with the unread count")
    async def list_mine(
        self,
        actor: Actor,
        messaging: MessagingService,
        page: PageRequest,
        unread: Annotated[bool, Parameter(description="Only unread ones")] = False,
    ) -> NotificationPageOut:
        found = await messaging.notifications(actor, unread_only=unread, page=page)
        return present(found, NotificationPageOut)

    @post(
        "/{notification_id:uuid}/read",
        status_code=200,
        summary="Mark one of my notifications read",
        responses=documented(401, 404),
    )
    async def read(
        self, notification_id: UUID, actor: Actor, messaging: MessagingService
    ) -> NotificationOut:
        return present(await messaging.mark_read(actor, notification_id), NotificationOut)

    @post(
        "/read-all",
        status_code=200,
        summary="Mark all my notifications read",
        responses=documented(401),
    )
    async def read_all(self, actor: Actor, messaging: MessagingService) -> ReadAllOut:
        return ReadAllOut(marked=await messaging.mark_all_read(actor))
