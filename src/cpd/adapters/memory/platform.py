"""Platform records in memory: the webhook inbox and idempotency keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from cpd.adapters.memory.base import _Repo
from cpd.domain.errors import NotFound
from cpd.domain.idempotency import IDEMPOTENCY_KEY_NOT_FOUND, IdempotencyRecord


class MemoryWebhookInbox(_Repo):
    async def accept(self, provider: str, event_id: str, received_at: datetime) -> bool:
        if (provider, event_id) in self._state.webhooks:
            return False
        self._state.webhooks[provider, event_id] = received_at
        return True


class MemoryIdempotencyStore(_Repo):
    async def find(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        return self._state.idempotency.get((user_id, key))

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, resource_id: UUID, at: datetime
    ) -> bool:
        if (user_id, key) in self._state.idempotency:
            return False
        self._state.idempotency[user_id, key] = IdempotencyRecord(fingerprint, resource_id, None)
        return True

    async def answer(self, user_id: UUID, key: str, response: bytes) -> bytes:
        record = self._state.idempotency.get((user_id, key))
        if record is None:
            raise NotFound(IDEMPOTENCY_KEY_NOT_FOUND)
        if record.response is None:
            record = replace(record, response=response)
            self._state.idempotency[user_id, key] = record
        assert record.response is not None
        return record.response
