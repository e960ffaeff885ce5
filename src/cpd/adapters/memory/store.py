"""A unit of work over plain dicts.

Transactions are serialised by one lock (like SQLite's ``BEGIN IMMEDIATE``) and rolled back by
restoring the dicts snapshotted at the start, so the memory adapter obeys the same contract as
the SQL one. Entities are copied in and out: a caller's mutation is invisible until ``save``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self
from uuid import UUID

from cpd.adapters.memory.accounts import (
    MemoryInvitationRepository,
    MemoryMembershipRepository,
    MemoryOrganizationRepository,
    MemoryPasswordResetRepository,
    MemoryRefreshTokenRepository,
    MemoryUserRepository,
)
from cpd.adapters.memory.base import MemoryState, OutboxRow
from cpd.adapters.memory.certificates import (
    MemoryBadgeRepository,
    MemoryCertificateRepository,
    MemoryCertificateTemplateRepository,
    MemoryJobRepository,
    MemorySigningKeyRepository,
)
from cpd.adapters.memory.events import (
    MemoryAttendanceRepository,
    MemoryCourseRepository,
    MemoryEnrollmentRepository,
    MemoryEventRepository,
)
from cpd.adapters.memory.meetings import MemoryMeetingRepository
from cpd.adapters.memory.messaging import (
    MemoryCommunicationLog,
    MemoryNotificationPreferencesRepository,
    MemoryNotificationRepository,
)
from cpd.adapters.memory.platform import MemoryIdempotencyStore, MemoryWebhookInbox
from cpd.adapters.memory.registrations import MemoryRegistrationRepository
from cpd.adapters.staged_outbox import StagedOutbox
from cpd.domain.tasks import ClaimedTask, TaskRecord, TaskState


class MemoryDatabase:
    """Shared state plus the lock that serialises transactions over it."""

    def __init__(
        self, clock: Callable[[], datetime], after_commit: Callable[[], None] | None = None
    ) -> None:
        self.state = MemoryState()
        self.lock = asyncio.Lock()
        self.now = clock
        self.after_commit = after_commit

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    async def ping(self) -> None:
        return None


class MemoryUnitOfWork:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.users = MemoryUserRepository(self)
        self.organizations = MemoryOrganizationRepository(self)
        self.memberships = MemoryMembershipRepository(self)
        self.invitations = MemoryInvitationRepository(self)
        self.refresh_tokens = MemoryRefreshTokenRepository(self)
        self.password_resets = MemoryPasswordResetRepository(self)
        self.events = MemoryEventRepository(self)
        self.courses = MemoryCourseRepository(self)
        self.enrollments = MemoryEnrollmentRepository(self)
        self.attendance = MemoryAttendanceRepository(self)
        self.registrations = MemoryRegistrationRepository(self)
        self.webhooks = MemoryWebhookInbox(self)
        self.idempotency = MemoryIdempotencyStore(self)
        self.communications = MemoryCommunicationLog(self)
        self.notifications = MemoryNotificationRepository(self)
        self.notification_preferences = MemoryNotificationPreferencesRepository(self)
        self.meetings = MemoryMeetingRepository(self)
        self.certificates = MemoryCertificateRepository(self)
        self.certificate_templates = MemoryCertificateTemplateRepository(self)
        self.badges = MemoryBadgeRepository(self)
        self.signing_keys = MemorySigningKeyRepository(self)
        self.jobs = MemoryJobRepository(self)
        self.outbox = StagedOutbox()
        self._snapshot: MemoryState | None = None

    async def __aenter__(self) -> Self:
        await self.db.lock.acquire()
        self._snapshot = self.db.state.snapshot()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._snapshot is not None:  # not committed: put everything back
                self.db.state = self._snapshot
        finally:
            self._snapshot = None
            self.db.lock.release()

    async def commit(self) -> None:
        now = self.db.now()
        for task in self.outbox.staged:  # a deterministic id already queued is not again
            self.db.state.outbox.setdefault(
                task.id, OutboxRow(task, created_at=now, available_at=now)
            )
        had_tasks = bool(self.outbox.staged)
        self.outbox.staged = []
        self._snapshot = self.db.state.snapshot()  # later changes in this block roll back to here
        if had_tasks and self.db.after_commit:
            self.db.after_commit()


class MemoryOutboxStore:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def claim_due(self, now: datetime, limit: int, lease_seconds: int) -> list[ClaimedTask]:
        async with self._db.lock:
            due = sorted(
                (
                    row
                    for row in self._db.state.outbox.values()
                    if row.dispatched_at is None and not row.abandoned and row.available_at <= now
                ),
                key=lambda row: row.created_at,
            )[:limit]
            for row in due:
                row.relay_claims += 1
                row.available_at = now + timedelta(seconds=lease_seconds)
            return [ClaimedTask(row.task, row.relay_claims, row.created_at) for row in due]

    async def mark_dispatched(self, task_ids: Collection[UUID], now: datetime) -> None:
        async with self._db.lock:
            for task_id in task_ids:
                self._db.state.outbox[task_id].dispatched_at = now

    async def mark_failed(self, task_id: UUID, error: str, retry_at: datetime | None) -> None:
        async with self._db.lock:
            row = self._db.state.outbox[task_id]
            row.last_error = error
            if retry_at is None:
                row.abandoned = True
            else:
                row.available_at = retry_at

    async def mark_completed(self, task_id: UUID, now: datetime) -> None:
        async with self._db.lock:
            row = self._db.state.outbox[task_id]
            row.dispatched_at = row.dispatched_at or now
            row.completed_at = now
            row.running_until = None
            row.abandoned = False

    async def is_completed(self, task_id: UUID) -> bool:
        row = self._db.state.outbox.get(task_id)
        return row is not None and row.completed_at is not None

    async def begin_run(self, task_id: UUID, now: datetime, until: datetime) -> bool:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is None or row.completed_at is not None:
                return False
            if row.running_until is not None and row.running_until > now:
                return False
            row.running_until = until
            row.attempts += 1
            return True

    async def extend_run(self, task_id: UUID, until: datetime) -> None:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is not None and row.running_until is not None:
                row.running_until = until

    async def end_run(self, task_id: UUID, error: str) -> None:
        async with self._db.lock:
            if (row := self._db.state.outbox.get(task_id)) is not None:
                row.running_until = None
                row.last_error = error

    async def pending_count(self) -> int:
        return sum(
            1
            for row in self._db.state.outbox.values()
            if row.dispatched_at is None and not row.abandoned
        )

    async def known(self, task_ids: Collection[UUID]) -> set[UUID]:
        return {task_id for task_id in task_ids if task_id in self._db.state.outbox}

    async def records(self, state: TaskState | None, limit: int) -> list[TaskRecord]:
        rows = sorted(self._db.state.outbox.values(), key=lambda r: r.created_at, reverse=True)
        return [r.record for r in rows if state is None or r.record.state is state][:limit]

    async def counts(self) -> dict[TaskState, int]:
        counted = dict.fromkeys(TaskState, 0)
        for row in self._db.state.outbox.values():
            counted[row.record.state] += 1
        return counted

    async def retry(self, task_id: UUID, now: datetime) -> bool:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is None or row.record.state is not TaskState.FAILED:
                return False
            row.abandoned, row.relay_claims, row.available_at = False, 0, now
            row.dispatched_at = None
            return True
