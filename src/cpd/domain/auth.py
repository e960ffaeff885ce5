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
