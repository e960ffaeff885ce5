"""Platform records over SQL: the webhook inbox, idempotency keys, jobs (the outbox: outbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Row,
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _Repository
from cpd.domain.errors import NotFound
from cpd.domain.idempotency import IDEMPOTENCY_KEY_NOT_FOUND, IdempotencyRecord
from cpd.domain.jobs import Job, JobStatus


class SqlWebhookInbox(_Repository):
    async def accept(self, provider: str, event_id: str, received_at: datetime) -> bool:
        """A savepoint keeps a duplicate's key clash from aborting the surrounding work."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(
                    insert(t.webhook_events).values(
                        provider=provider, event_id=event_id, received_at=received_at
                    )
                )
        except IntegrityError:
            return False
        return True


class SqlIdempotencyStore(_Repository):
    async def find(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        c = t.idempotency_keys.c
        query = select(c.fingerprint, c.resource_id, c.response).where(
            c.user_id == user_id, c.key == key
        )
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        response = None if row.response is None else row.response.encode()
        return IdempotencyRecord(row.fingerprint, row.resource_id, response)

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, resource_id: UUID, at: datetime
    ) -> bool:
        """In a savepoint: PostgreSQL makes a second claimant wait on the primary key until the
        first commits (then it fails here) or rolls back (then it succeeds)."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(
                    insert(t.idempotency_keys).values(
                        user_id=user_id,
                        key=key,
                        fingerprint=fingerprint,
                        resource_id=resource_id,
                        created_at=at,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def answer(self, user_id: UUID, key: str, response: bytes) -> bytes:
        c = t.idempotency_keys.c
        mine = and_(c.user_id == user_id, c.key == key)
        # The first answer stays: a concurrent writer waits on the row and then matches nothing.
        await self._db.execute(
            update(t.idempotency_keys)
            .where(mine, c.response.is_(None))
            .values(response=response.decode())
        )
        stored = (await self._db.execute(select(c.response).where(mine))).scalar_one_or_none()
        if stored is None:
            raise NotFound(IDEMPOTENCY_KEY_NOT_FOUND)
        return str(stored).encode()


def _job_values(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "organization_id": job.organization_id,
        "subject_id": job.subject_id,
        "created_by": job.created_by,
        "status": job.status.value,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "errors": list(job.errors),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _job(row: Row[Any]) -> Job:
    values = dict(row._mapping)  # columns are named as the fields
    values["status"] = JobStatus(values["status"])
    values["errors"] = tuple(values["errors"])
    return Job(**values)


class SqlJobRepository(_Repository):
    _c = t.jobs.c

    async def add(self, job: Job) -> None:
        await self._db.execute(insert(t.jobs).values(_job_values(job)))

    async def get(self, job_id: UUID) -> Job | None:
        row = (await self._db.execute(select(t.jobs).where(self._c.id == job_id))).first()
        return _job(row) if row else None

    async def save(self, job: Job) -> None:
        values = _job_values(job)
        for fixed in ("id", "kind", "organization_id", "subject_id", "created_at"):
            del values[fixed]
        await self._db.execute(update(t.jobs).where(self._c.id == job.id).values(values))


class SqlPlatform:
    """Platform's repositories, one base of ``SqlUnitOfWork`` (which holds the outbox)."""

    webhooks = RepositorySlot(SqlWebhookInbox)
    idempotency = RepositorySlot(SqlIdempotencyStore)
    jobs = RepositorySlot(SqlJobRepository)
