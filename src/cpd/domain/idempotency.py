"""What a caller's ``Idempotency-Key`` stands for once a request has used it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

IDEMPOTENCY_KEY_NOT_FOUND = "This Idempotency-Key has not been used."


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str  # of the request that first used the key
    resource_id: UUID | None  # what that request made, stored in the same transaction
    response: bytes | None  # its answer; None until stored, or lost with a crash before it
