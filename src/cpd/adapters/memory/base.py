"""What the memory repositories share: the state of dicts, paging, a repository base."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from cpd.domain.accounts import Membership, Organization, User
from cpd.domain.attendance import AttendanceRecord, WalkInRecord
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.certificate_design import Badge, CertificateTemplate
from cpd.domain.certificates import Certificate
from cpd.domain.courses import Course, Enrollment
from cpd.domain.credentials import SigningKey
from cpd.domain.events import Event
from cpd.domain.idempotency import IdempotencyRecord
from cpd.domain.invitations import Invitation
from cpd.domain.jobs import Job
from cpd.domain.meetings import SessionMeeting, SessionRegistrant
from cpd.domain.messaging import (
    Communication,
    Notification,
    NotificationPreferences,
)
from cpd.domain.pages import Page, PageRequest
from cpd.domain.registrations import Registration
from cpd.domain.tasks import Task, TaskRecord, TaskState

if TYPE_CHECKING:
    from cpd.adapters.memory.store import MemoryUnitOfWork

T = TypeVar("T")


@dataclass(slots=True)
class OutboxRow:
    task: Task
    created_at: datetime
    available_at: datetime
    attempts: int = 0  # handler runs
    relay_claims: int = 0
    dispatched_at: datetime | None = None
    completed_at: datetime | None = None
    running_until: datetime | None = None
    last_error: str | None = None
    abandoned: bool = False

    @property
    def record(self) -> TaskRecord:
        return TaskRecord(
            task=self.task,
            state=TaskState.of(
                abandoned=self.abandoned,
                dispatched_at=self.dispatched_at,
                completed_at=self.completed_at,
            ),
            attempts=self.attempts,
            created_at=self.created_at,
            available_at=self.available_at,
            dispatched_at=self.dispatched_at,
            completed_at=self.completed_at,
            last_error=self.last_error,
        )


@dataclass
class MemoryState:
    users: dict[UUID, User] = field(default_factory=dict)
    organizations: dict[UUID, Organization] = field(default_factory=dict)
    memberships: dict[tuple[UUID, UUID], Membership] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    password_resets: dict[str, PasswordResetToken] = field(default_factory=dict)
    outbox: dict[UUID, OutboxRow] = field(default_factory=dict)
    events: dict[UUID, Event] = field(default_factory=dict)
    courses: dict[UUID, Course] = field(default_factory=dict)
    enrollments: dict[tuple[UUID, UUID], Enrollment] = field(default_factory=dict)
    attendance: dict[tuple[UUID, UUID], AttendanceRecord] = field(default_factory=dict)
    walk_ins: dict[tuple[UUID, str], WalkInRecord] = field(default_factory=dict)
    registrations: dict[UUID, Registration] = field(default_factory=dict)
    seats_taken: dict[UUID, int] = field(default_factory=dict)
    webhooks: dict[tuple[str, str], datetime] = field(default_factory=dict)
    idempotency: dict[tuple[UUID, str], IdempotencyRecord] = field(default_factory=dict)
    communications: dict[UUID, Communication] = field(default_factory=dict)
    notifications: dict[UUID, Notification] = field(default_factory=dict)
    notification_preferences: dict[UUID, NotificationPreferences] = field(default_factory=dict)
    meetings: dict[UUID, SessionMeeting] = field(default_factory=dict)  # by session id
    registrants: dict[tuple[UUID, UUID], SessionRegistrant] = field(default_factory=dict)
    certificates: dict[UUID, Certificate] = field(default_factory=dict)
    certificate_sequences: dict[UUID, int] = field(default_factory=dict)  # by organization
    certificate_templates: dict[UUID, CertificateTemplate] = field(default_factory=dict)
    badges: dict[UUID, Badge] = field(default_factory=dict)
    signing_keys: dict[UUID, list[SigningKey]] = field(default_factory=dict)  # by organization
    jobs: dict[UUID, Job] = field(default_factory=dict)

    def snapshot(self) -> MemoryState:
        return MemoryState(**{name: dict(table) for name, table in vars(self).items()})


def _page(items: list[T], page: PageRequest) -> Page[T]:
    return Page(
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        limit=page.limit,
        offset=page.offset,
    )


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> MemoryState:
        return self._uow.db.state


def _newest_first(items: list[T], key: Callable[[T], tuple[datetime, UUID]]) -> list[T]:
    return sorted(items, key=lambda item: (key(item)[0], str(key(item)[1])), reverse=True)
