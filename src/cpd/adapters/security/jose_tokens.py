"""JWT access and refresh tokens with python-jose, verified strictly.

The accepted algorithm is pinned to the one configured (never taken from the token), and
issuer, audience, expiry, ``jti`` and token type are all required, which closes the
``alg: none`` and HS/RS key-confusion attacks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from jose import jwt
from jose.exceptions import JOSEError

from cpd.domain.auth import AccessClaims, IssuedToken, RefreshClaims
from cpd.domain.errors import NotAuthenticated

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}


class JoseTokenIssuer:
    def __init__(
        self,
        *,
        algorithm: str,
        signing_key: str,
        verifying_key: str | None = None,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
    ) -> None:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported JWT algorithm {algorithm!r}")
        if algorithm in HMAC_ALGORITHMS and len(signing_key) < 32:
            raise ValueError("an HMAC signing key must be at least 32 characters")
        self._algorithm = algorithm
        self._signing_key = signing_key
        self._verifying_key = verifying_key or signing_key
        self._issuer = issuer
        self._audience = audience
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl

    def issue_access(self, user_id: UUID, session_id: UUID, now: datetime) -> IssuedToken:
        claims = {"sub": str(user_id), "typ": "access", "sid": str(session_id)}
        return self._issue(claims, now, self._access_ttl)

    def issue_refresh(self, user_id: UUID, family_id: UUID, now: datetime) -> IssuedToken:
        claims = {"sub": str(user_id), "typ": "refresh", "fam": str(family_id)}
        return self._issue(claims, now, self._refresh_ttl)

    def decode_access(self, token: str) -> AccessClaims:
        claims = self._decode(token, "access")
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return AccessClaims(
            user_id=_uuid(claims["sub"]),
            session_id=_uuid(claims.get("sid")),
            jti=claims["jti"],
            expires_at=expires_at,
        )

    def decode_refresh(self, token: str) -> RefreshClaims:
        claims = self._decode(token, "refresh")
        return RefreshClaims(
            user_id=_uuid(claims["sub"]), jti=claims["jti"], family_id=_uuid(claims.get("fam"))
        )

    def _issue(self, claims: dict[str, Any], now: datetime, ttl: timedelta) -> IssuedToken:
        jti = uuid.uuid4().hex
        expires_at = now + ttl
        payload = {
            **claims,
            "jti": jti,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = jwt.encode(payload, self._signing_key, algorithm=self._algorithm)
        return IssuedToken(token=token, jti=jti, issued_at=now, expires_at=expires_at)

    def _decode(self, token: str, expected_type: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_jti": True,
                    "require_sub": True,
                    "require_aud": True,
                    "require_iss": True,
                },
            )
        except JOSEError:
            raise NotAuthenticated("The token is invalid or has expired.") from None
        if claims.get("typ") != expected_type:
            raise NotAuthenticated("The token is invalid or has expired.")
        return claims


def _uuid(value: object) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotAuthenticated("The token is invalid or has expired.") from None
