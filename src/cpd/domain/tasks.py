"""Outgoing work, recorded in the same transaction as the change that causes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from cpd.domain.ids import new_id

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Task:
    """A named job with a JSON payload; its ``id`` is the idempotency key for handlers."""

    name: str
    payload: JSONObject
    id: UUID = field(default_factory=new_id)


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    task: Task
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # "maintype/subtype"
    data: bytes


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None  # set from the task id so a resend is recognisably the same
    attachments: tuple[Attachment, ...] = ()
