"""Idempotent requests: the first answer to a caller's ``Idempotency-Key`` is the answer.

A use case claims the key in the transaction that makes the resource (``IdempotencyStore.claim``),
so a booking and its key commit or vanish together; the answer is stored once it is known. A
retry finds the key: the stored answer, or, when the answer was lost (a crash after the
commit), one rebuilt from the resource and stored under the same first-answer-wins rule.
Within one process, a duplicate waits for the running request's answer (``InFlight``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.idempotency import IdempotencyRecord
from cpd.ports.unit_of_work import UnitOfWorkFactory

MAX_KEY_LENGTH = 255
FIELD = "Idempotency-Key"


class KeyTaken(Exception):  # a signal between steps of one use case, never answered
    """Another request holds this key already: replay what it stored."""


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    user_id: UUID
    key: str
    fingerprint: str  # of what was asked: the same key with another request is refused

    @classmethod
    def of(cls, user_id: UUID, key: str, request: object) -> IdempotentRequest:
        """``request``: the request's meaning as JSON-able data (ids as strings)."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(f"Use 1 to {MAX_KEY_LENGTH} characters.", field=FIELD)
        canonical = json.dumps(request, ensure_ascii=False, separators=(",", ":"))
        return cls(user_id, key, hashlib.sha256(canonical.encode()).hexdigest())

    def matching(self, record: IdempotencyRecord) -> IdempotencyRecord:
        if record.fingerprint != self.fingerprint:
            raise Conflict("This Idempotency-Key was used for a different request.", field=FIELD)
        return record


async def find(uow: UnitOfWorkFactory, request: IdempotentRequest) -> IdempotencyRecord | None:
    async with uow() as unit:
        found = await unit.idempotency.find(request.user_id, request.key)
    return None if found is None else request.matching(found)


async def store_answer(uow: UnitOfWorkFactory, request: IdempotentRequest, body: bytes) -> bytes:
    """Store ``body`` unless an answer is stored; every caller returns the one stored."""
    async with uow() as unit:
        stored = await unit.idempotency.answer(request.user_id, request.key, body)
        await unit.commit()
    return stored


class InFlight:
    """The requests running in this process, by caller and key: a duplicate (same fingerprint)
    awaits the running one's answer instead of racing it, e.g. to a payment provider that
    refuses a key in concurrent use. If the running one fails, the next takes its place."""

    def __init__(self) -> None:
        self._running: dict[tuple[UUID, str], tuple[str, asyncio.Future[bytes]]] = {}

    async def run(self, request: IdempotentRequest, work: Callable[[], Awaitable[bytes]]) -> bytes:
        slot = (request.user_id, request.key)
        while (running := self._running.get(slot)) is not None:
            fingerprint, first = running
            if fingerprint != request.fingerprint:
                return await work()  # another request under this key: the store refuses it
            try:
                return await asyncio.shield(first)
            except asyncio.CancelledError:
                if not first.cancelled():
                    raise  # this caller was cancelled, not the one it waited for
            except Exception:  # noqa: BLE001, S110 - its caller got the error; this one retries
                pass
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._running[slot] = (request.fingerprint, future)
        try:
            body = await work()
        except Exception as error:
            future.set_exception(error)
            raise
        except BaseException:
            future.cancel()  # cancelled: a waiter takes over
            raise
        else:
            future.set_result(body)
            return body
        finally:
            del self._running[slot]


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
