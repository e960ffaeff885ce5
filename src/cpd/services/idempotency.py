"""Idempotent requests: the first answer to a caller's ``Idempotency-Key`` is the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cpd.domain.accounts import Actor
from cpd.domain.errors import Conflict, InvalidInput
from cpd.ports.persistence import UnitOfWorkFactory
from cpd.ports.services import Clock

MAX_KEY_LENGTH = 255


class IdempotencyService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def once(
        self,
        actor: Actor,
        key: str,
        fingerprint: str,
        produce: Callable[[], Awaitable[bytes]],
    ) -> bytes:
        """Run ``produce`` the first time; afterwards return what it returned. The same key with
        a different request (``fingerprint``) is refused rather than silently answered."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(f"Use 1 to {MAX_KEY_LENGTH} characters.", field="Idempotency-Key")
        async with self._uow() as uow:
            found = await uow.idempotency.find(actor.user_id, key)
        if found is not None:
            stored_fingerprint, response = found
            if stored_fingerprint != fingerprint:
                raise Conflict(
                    "This Idempotency-Key was used for a different request.",
                    field="Idempotency-Key",
                )
            return response
        response = await produce()
        async with self._uow() as uow:
            await uow.idempotency.remember(
                actor.user_id, key, fingerprint, response, self._clock.now()
            )
            await uow.commit()
        return response
