"""Ports every context shares: the clock, tasks and their outbox, cache, throttle, files, health."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from cpd.domain.auth import (
    AttemptPolicy,
)
from cpd.domain.idempotency import IdempotencyRecord
from cpd.domain.jobs import Job
from cpd.domain.tasks import ClaimedTask, Task, TaskRecord, TaskState


class JobRepository(Protocol):
    async def add(self, job: Job) -> None: ...
    async def get(self, job_id: UUID) -> Job | None: ...
    async def save(self, job: Job) -> None: ...


class IdempotencyStore(Protocol):
    """Requests remembered per caller and ``Idempotency-Key``: the key is claimed in the
    transaction that makes the resource, and the answer stored once it is known, so a retry
    gets the first answer instead of doing the work twice."""

    async def find(self, user_id: UUID, key: str) -> IdempotencyRecord | None: ...

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, resource_id: UUID, at: datetime
    ) -> bool:
        """Record the key for ``resource_id``; False when it is taken. A transaction that holds
        the key uncommitted makes this wait for its outcome (PostgreSQL's unique index; SQLite
        and memory run one writer at a time). The transaction stays usable either way."""
        ...

    async def answer(self, user_id: UUID, key: str, response: bytes) -> bytes:
        """Store the claimed key's answer unless one is stored; return the stored answer."""
        ...


class WebhookInbox(Protocol):
    async def accept(self, provider: str, event_id: str, received_at: datetime) -> bool:
        """Record a provider's event id; False when it was seen before (a duplicate)."""
        ...


class Outbox(Protocol):
    def add(self, task: Task) -> None:
        """Record a task to run after, and only if, this transaction commits; a task whose
        id was committed before (a deterministic id) is not recorded again."""
        ...


class OutboxStore(Protocol):
    """The relay's side of the outbox: claim due tasks, then record how handing them on went."""

    async def claim_due(self, now: datetime, limit: int, lease_seconds: int) -> list[ClaimedTask]:
        """Lease up to ``limit`` due tasks so no other relay takes them until the lease ends."""
        ...

    async def mark_dispatched(self, task_ids: Collection[UUID], now: datetime) -> None:
        """These tasks are in the worker's queue now (a relay's batch, in one statement)."""
        ...

    async def mark_completed(self, task_id: UUID, now: datetime) -> None:
        """The task's handler finished (dispatched too, if it ran where it was relayed)."""
        ...

    async def is_completed(self, task_id: UUID) -> bool:
        """Whether the task already finished: a redelivered task is then not run again."""
        ...

    async def begin_run(self, task_id: UUID, now: datetime, until: datetime) -> bool:
        """Hold the task for one run until ``until`` and count the attempt: False if it is
        completed, unknown, or held by a run that has not ended or lapsed."""
        ...

    async def extend_run(self, task_id: UUID, until: datetime) -> None: ...
    async def end_run(self, task_id: UUID, error: str) -> None:
        """Release the hold after a failed run, recording its error (a completed run
        releases it itself)."""
        ...

    async def mark_failed(self, task_id: UUID, error: str, retry_at: datetime | None) -> None:
        """``retry_at`` None gives up on the task for good (it stays for an operator to see)."""
        ...

    async def pending_count(self) -> int:
        """Tasks still to hand on (abandoned ones excluded)."""
        ...

    async def known(self, task_ids: Collection[UUID]) -> set[UUID]:
        """Which of these task ids were ever committed (tasks with a deterministic id are
        queued once: event reminders)."""
        ...

    async def records(self, state: TaskState | None, limit: int) -> list[TaskRecord]:
        """Tasks for operators, newest first, optionally in one state."""
        ...

    async def counts(self) -> dict[TaskState, int]: ...
    async def retry(self, task_id: UUID, now: datetime) -> bool:
        """Make a failed task due again, the relay's and the worker's tries afresh (its
        attempts and last error stay as history); False if no failed task has the id."""
        ...


class SchemaBehind(RuntimeError):
    """The database lacks migrations this code needs: every query may fail until
    ``cpd migrate`` runs. A ``HealthProbe`` raises it; readiness shows its message."""


class HealthProbe(Protocol):
    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class TaskQueue(Protocol):
    # True when ``enqueue`` runs the task to completion before returning (in-process).
    runs_inline: bool

    async def enqueue(self, task: Task, *, attempt: int = 1) -> None:
        """Hand a task on; once this returns the queue owns it (it may run it right away).
        ``attempt`` is the relay's count, for a queue that runs the task itself."""
        ...


TaskHandler = Callable[[Task], Awaitable[None]]


TaskHandlers = Mapping[str, TaskHandler]


class AttemptThrottle(Protocol):
    """Attempts per key (an account, an address, a device), slowed down by an AttemptPolicy.

    Every method is one atomic step for all processes sharing the store, so parallel attempts
    cannot all pass a check made before any of them is counted. Memory held is bounded.
    """

    async def attempt(self, *keys: tuple[str, AttemptPolicy]) -> int:
        """Decide an attempt at all ``keys`` (say an account and an address) at once: 0 lets it
        go ahead, counted at every key; otherwise the whole seconds until every key may try
        again, and it is counted at none."""
        ...

    async def refund(self, key: str, policy: AttemptPolicy) -> None:
        """Take one counted attempt back (it turned out well); a key brought back under its
        free attempts waits no more."""
        ...

    async def clear(self, key: str) -> None: ...
    async def remember(self, key: str, seconds: int) -> None:
        """Note ``key`` (a known device) for ``seconds``."""
        ...

    async def remembers(self, key: str) -> bool: ...


@runtime_checkable  # Litestar checks the type of what it injects
class Cache(Protocol):
    """A shared byte cache with one namespace that ``clear`` empties for every reader at once.

    ``get_or_build`` never stores a value built from data older than the last ``clear``: a
    reader that races a writer's clear leaves its result in a generation nobody reads.
    """

    async def get_or_build(
        self, key: str, build: Callable[[], Awaitable[bytes]], ttl_seconds: int
    ) -> bytes: ...
    async def peek(self, key: str) -> bytes | None:
        """The current value, or None; never builds."""
        ...

    async def clear(self) -> None: ...


class FileStorage(Protocol):
    """Bytes by key (``certificates/<org>/<id>.pdf``): a folder, or an S3-compatible bucket.

    Keys are relative paths of safe segments; anything else (``..``, absolute, empty
    segments, backslashes) raises InvalidInput (field ``key``). A write is all or nothing.
    """

    async def put(self, key: str, data: bytes, *, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes:
        """The stored bytes; NotFound when there is nothing under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove it; a missing key is fine (retries repeat)."""
        ...

    async def exists(self, key: str) -> bool: ...


class PlatformRepos(Protocol):
    """What a unit of work holds of platform: one line in ``UnitOfWork``'s bases."""

    @property
    def webhooks(self) -> WebhookInbox: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def jobs(self) -> JobRepository: ...
