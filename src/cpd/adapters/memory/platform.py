"""Platform records in memory: the webhook inbox, idempotency keys, jobs (the outbox: outbox.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from cpd.adapters.memory.base import Tables, _Repo
from cpd.adapters.memory.outbox import OutboxRow
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.errors import NotFound
from cpd.domain.idempotency import IDEMPOTENCY_KEY_NOT_FOUND, IdempotencyRecord
from cpd.domain.jobs import Job


class MemoryWebhookInbox(_Repo):
    async def accept(self, provider: str, event_id: str, received_at: datetime) -> bool:
        if (provider, event_id) in self._state.webhook_events:
            return False
        self._state.webhook_events[provider, event_id] = received_at
        return True


class MemoryIdempotencyStore(_Repo):
    async def find(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        return self._state.idempotency_keys.get((user_id, key))

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, resource_id: UUID, at: datetime
    ) -> bool:
        if (user_id, key) in self._state.idempotency_keys:
            return False
        self._state.idempotency_keys[user_id, key] = IdempotencyRecord(
            fingerprint, resource_id, None
        )
        return True

    async def answer(self, user_id: UUID, key: str, response: bytes) -> bytes:
        record = self._state.idempotency_keys.get((user_id, key))
        if record is None:
            raise NotFound(IDEMPOTENCY_KEY_NOT_FOUND)
        if record.response is None:
            record = replace(record, response=response)
            self._state.idempotency_keys[user_id, key] = record
        assert record.response is not None
        return record.response


class MemoryJobRepository(_Repo):
    async def add(self, job: Job) -> None:
        self._state.jobs[job.id] = copy.copy(job)

    async def get(self, job_id: UUID) -> Job | None:
        return copy.copy(self._state.jobs.get(job_id))

    async def save(self, job: Job) -> None:
        self._state.jobs[job.id] = copy.copy(job)


@dataclass
class PlatformTables(Tables):
    outbox: dict[UUID, OutboxRow] = field(default_factory=dict)
    webhook_events: dict[tuple[str, str], datetime] = field(default_factory=dict)
    idempotency_keys: dict[tuple[UUID, str], IdempotencyRecord] = field(default_factory=dict)
    jobs: dict[UUID, Job] = field(default_factory=dict)


class MemoryPlatform:
    """Platform's repositories, one base of ``MemoryUnitOfWork`` (which holds the outbox)."""

    webhooks = RepositorySlot(MemoryWebhookInbox)
    idempotency = RepositorySlot(MemoryIdempotencyStore)
    jobs = RepositorySlot(MemoryJobRepository)
