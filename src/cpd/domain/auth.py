"""Records behind sessions and password resets: what makes a token spendable, and when it stops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime

    @property
    def lifetime_seconds(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID  # the refresh-token family it was issued with: revoking one ends both
    jti: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: UUID
    jti: str
    family_id: UUID


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh: IssuedToken
    device: str | None = None  # from a sign-in: the known-device secret for the client to keep


@dataclass(slots=True)
class RefreshTokenRecord:
    """One refresh token; tokens rotated from one login share a ``family_id``.

    A token is spent once (``used_at``). Presenting a spent token means it leaked, so the
    whole family is revoked.
    """

    jti: str
    user_id: UUID
    family_id: UUID
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PasswordResetToken:
    """A single-use reset; only the SHA-256 of the secret is kept, never the secret."""

    token_hash: str
    user_id: UUID
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AttemptPolicy:
    """How a throttled key slows down: ``free`` attempts go through at once, then each one
    waits twice as long as the one before (``first_delay`` after the last free attempt, at most
    ``max_delay``), so a typo costs seconds and a guesser's rate keeps halving. A key left
    alone ``memory`` seconds after its last wait ends is forgotten."""

    free: int
    first_delay: int
    max_delay: int
    memory: int

    def delay_after(self, attempts: int) -> int:
        """Seconds the key must wait after its ``attempts``-th counted attempt."""
        if attempts < self.free:
            return 0
        doubled: int = self.first_delay << min(attempts - self.free, 32)
        return min(doubled, self.max_delay)
