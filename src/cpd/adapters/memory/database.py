"""A unit of work over plain dicts, composed of every context's tables and repositories.

Transactions are serialised by one lock (like SQLite's ``BEGIN IMMEDIATE``) and rolled back by
restoring the dicts snapshotted at the start, so the memory adapter obeys the same contract as
the SQL one. Entities are copied in and out: a caller's mutation is invisible until ``save``.
A context joins with one base-class line in ``MemoryState`` and one in ``MemoryUnitOfWork``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

from cpd.adapters.memory.accounts import AccountsTables, MemoryAccounts
from cpd.adapters.memory.certificates import CertificatesTables, MemoryCertificates
from cpd.adapters.memory.events import EventsTables, MemoryEvents
from cpd.adapters.memory.learning import LearningTables, MemoryLearning
from cpd.adapters.memory.messaging import MemoryMessaging, MessagingTables
from cpd.adapters.memory.outbox import store_staged
from cpd.adapters.memory.platform import MemoryPlatform, PlatformTables
from cpd.adapters.memory.registrations import MemoryRegistrations, RegistrationsTables
from cpd.adapters.staged_outbox import StagedOutbox

if TYPE_CHECKING:
    from cpd.ports.unit_of_work import UnitOfWork


@dataclass
class MemoryState(
    AccountsTables,
    EventsTables,
    LearningTables,
    RegistrationsTables,
    CertificatesTables,
    MessagingTables,
    PlatformTables,
):
    """Every context's tables: what a transaction snapshots and restores."""


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


class MemoryUnitOfWork(
    MemoryAccounts,
    MemoryEvents,
    MemoryLearning,
    MemoryRegistrations,
    MemoryCertificates,
    MemoryMessaging,
    MemoryPlatform,
):
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.outbox = StagedOutbox()
        self._snapshot: MemoryState | None = None

    def repository_source(self) -> MemoryDatabase:
        return self.db

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
        store_staged(self.db.state.outbox, self.outbox.staged, self.db.now())
        had_tasks = bool(self.outbox.staged)
        self.outbox.staged = []
        self._snapshot = self.db.state.snapshot()  # later changes in this block roll back to here
        if had_tasks and self.db.after_commit:
            self.db.after_commit()


if TYPE_CHECKING:  # mypy proves that the composition is the port
    _checked: type[UnitOfWork] = MemoryUnitOfWork
