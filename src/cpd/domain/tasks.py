"""Outgoing work, recorded in the same transaction as the change that causes it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum, StrEnum
from types import NoneType, UnionType
from typing import Any, ClassVar, Self, get_args, get_origin, get_type_hints
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


class TaskData:
    """A task's payload as a typed, frozen dataclass: ``task()`` writes it, ``of(task)`` reads
    it back. Subclasses name their task in ``NAME``; fields of type UUID, datetime, enums, str,
    int, float, bool and ``X | None`` round-trip through JSON (a ``None`` that is also the
    default is left out), others override ``to_payload`` and ``from_payload``."""

    NAME: ClassVar[str]
    __slots__ = ()

    def task(self, *, id: UUID | None = None) -> Task:
        if id is None:
            return Task(self.NAME, self.to_payload())
        return Task(self.NAME, self.to_payload(), id=id)

    def to_payload(self) -> JSONObject:
        payload: JSONObject = {}
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if value is None and item.default is None:
                continue
            payload[item.name] = _dump(value)
        return payload

    @classmethod
    def from_payload(cls, payload: JSONObject) -> Self:
        hints = get_type_hints(cls)
        values = {
            item.name: _load(hints[item.name], payload[item.name], item.name)
            for item in fields(cls)  # type: ignore[arg-type]
            if item.name in payload
        }
        try:
            return cls(**values)
        except TypeError as error:  # a required field is missing
            raise ValueError(f"A {cls.NAME} task's payload is incomplete: {error}") from None

    @classmethod
    def of(cls, task: Task) -> Self:
        if task.name != cls.NAME:
            raise ValueError(f"A {task.name} task is not a {cls.NAME} task.")
        return cls.from_payload(task.payload)


def _dump(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _load(kind: Any, value: object, name: str) -> Any:
    if isinstance(kind, UnionType):  # only ``X | None``
        if value is None:
            return None
        (kind,) = (arm for arm in get_args(kind) if arm is not NoneType)
    if kind is Any:
        return value
    if get_origin(kind) is dict:
        return dict(value)  # type: ignore[call-overload]
    if kind is UUID:
        return UUID(str(value))
    if kind is datetime:
        return datetime.fromisoformat(str(value))
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false.")
        return value
    if kind in (int, float, str) or (isinstance(kind, type) and issubclass(kind, Enum)):
        return kind(value)
    raise TypeError(f"{name}: a {kind} field needs its own from_payload.")
