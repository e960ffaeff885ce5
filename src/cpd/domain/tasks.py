"""Outgoing work, recorded in the same transaction as the change that causes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
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
    request_id: str | None = None  # the request that caused it, for following it in the logs


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    task: Task
    claims: int  # how often the relay took it, this one included (its backoff counts these)
    created_at: datetime


class TaskState(StrEnum):
    PENDING = "pending"  # waiting for the relay (or for its retry time)
    DISPATCHED = "dispatched"  # handed to the worker's queue, not finished yet
    COMPLETED = "completed"
    FAILED = "failed"  # gave up after its last attempt; an operator may retry it

    @classmethod
    def of(
        cls, *, abandoned: bool, dispatched_at: datetime | None, completed_at: datetime | None
    ) -> TaskState:
        if completed_at is not None:
            return cls.COMPLETED
        if abandoned:
            return cls.FAILED
        return cls.PENDING if dispatched_at is None else cls.DISPATCHED


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task as operators see it (``cpd tasks list``)."""

    task: Task
    state: TaskState
    attempts: int  # runs of its handler, across retries and `cpd tasks retry`
    created_at: datetime
    available_at: datetime
    dispatched_at: datetime | None
    completed_at: datetime | None
    last_error: str | None  # of the latest failed run; a completed task's is from before

    @property
    def error_shown(self) -> str:
        """The last error as operators should read it: on a completed task, history."""
        error = (self.last_error or "").replace("\n", " ")
        if error and self.state is TaskState.COMPLETED:
            return f"(an earlier attempt) {error}"
        return error
