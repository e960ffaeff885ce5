"""Platform records over SQL: the webhook inbox and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _Repository
from cpd.domain.errors import NotFound
from cpd.domain.idempotency import IDEMPOTENCY_KEY_NOT_FOUND, IdempotencyRecord


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
