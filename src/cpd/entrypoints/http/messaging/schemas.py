"""Messaging over HTTP: the communication log, notifications and preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from cpd.domain.messaging import CommunicationStatus
from cpd.entrypoints.http.common import Page, component


class CommunicationOut(Struct):
    id: UUID
    recipient: str
    user_id: UUID | None
    organization_id: UUID | None
    template: str
    subject: str
    related_type: str | None
    related_id: UUID | None
    status: CommunicationStatus
    provider_message_id: str | None
    error: str | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class NotificationOut(Struct):
    id: UUID
    kind: str
    title: str
    body: str
    organization_id: UUID | None
    related_type: str | None
    related_id: UUID | None
    created_at: datetime
    read_at: datetime | None


class NotificationPageOut(Struct):
    items: list[NotificationOut]
    total: int
    limit: int
    offset: int
    unread: int


class ReadAllOut(Struct):
    marked: int


class PreferencesOut(Struct):
    event_reminders: bool
    waitlist_updates: bool
    updated_at: datetime | None


class PreferencesPatch(Struct, forbid_unknown_fields=True):
    """Optional emails only: password resets, confirmations, receipts and offers always go."""

    event_reminders: bool | UnsetType = UNSET
    waitlist_updates: bool | UnsetType = UNSET


CommunicationPage = Annotated[Page[CommunicationOut], component("CommunicationPage")]
