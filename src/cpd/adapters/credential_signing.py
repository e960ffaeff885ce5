"""Ed25519 (JWS ``EdDSA``, RFC 8037) signing of Open Badges 3.0 credentials as VC-JWTs.

python-jose 3.5 has no EdDSA/OKP support, so the compact JWS is assembled here with the
``cryptography`` package (RFC 7515 section 7.1 is three base64url segments; the signature is
Ed25519 over ``header.payload``). Ed25519 over ES256: deterministic signatures (no nonce to
get wrong), 32-byte keys, and no path through python-jose's ``ecdsa`` fallback.

Private keys are stored wrapped: AES-256-GCM under a key-encryption key derived with HKDF
from a server secret, with the key's ``kid`` as associated data, so a database dump alone
cannot sign and a wrapped key cannot be swapped onto another ``kid``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cpd.domain.credentials import SigningKey, jwk_thumbprint, jwt_claims, parse_rfc3339

ALGORITHM = "EdDSA"
JWT_TYPE = "JWT"  # OB 3.0 section 8.2.2: ``typ``, if present, MUST be "JWT"
ALLOWED_HEADERS = frozenset({"alg", "kid", "typ"})  # OB 3.0: additional JOSE headers NOT allowed
PUBLIC_JWK_MEMBERS = ("kty", "crv", "x", "kid", "alg", "use")
MIN_SECRET_LENGTH = 32
CLOCK_LEEWAY = timedelta(seconds=60)  # how far a verifier's clock may be from the issuer's
_WRAP_VERSION = b"\x01"
_NONCE_BYTES = 12
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")  # no "+", "/" or padding: one encoding per value


class CredentialKeyError(RuntimeError):
    """A stored private key cannot be unwrapped: the key secret changed or the row was altered."""


class CredentialVerificationError(ValueError):
    """A VC-JWT is malformed, signed by another key or algorithm, tampered with, or not valid."""


class Ed25519CredentialSigner:
    """The ``CredentialSigner`` port: Ed25519 keys per organization, wrapped at rest."""

    def __init__(self, key_secret: str) -> None:
        if len(key_secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the credential key secret needs {MIN_SECRET_LENGTH}+ characters")
        self._kek = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"cpd/credential-signing-keys",
            info=b"aes-256-gcm key wrap v1",
        ).derive(key_secret.encode())

    def generate_key(self, jwks_url: str, now: datetime) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        public_raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(public_raw)}
        kid = f"{jwks_url}#{jwk_thumbprint(jwk)}"
        private_raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return SigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            public_jwk={**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"},
            private_material=self._wrap(private_raw, kid),
            created_at=now,
        )

    def sign(self, credential: Mapping[str, object], key: SigningKey) -> str:
        if key.algorithm != ALGORITHM:
            raise ValueError(f"this signer signs {ALGORITHM}, not {key.algorithm}")
        private = Ed25519PrivateKey.from_private_bytes(self._unwrap(key))
        public_raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        if _b64(public_raw) != key.public_jwk.get("x"):
            raise CredentialKeyError(f"the private key of {key.kid} does not match its JWK")
        header = {"alg": ALGORITHM, "kid": key.kid, "typ": JWT_TYPE}
        signing_input = f"{_b64(_json(header))}.{_b64(_json(jwt_claims(credential)))}"
        return f"{signing_input}.{_b64(private.sign(signing_input.encode('ascii')))}"

    def public_jwks(self, keys: Iterable[SigningKey]) -> dict[str, object]:
        """An allow-list of public members, so a private ``d`` can never leak through."""
        return {"keys": [_public_members(key.public_jwk) for key in keys]}

    def _wrap(self, private_raw: bytes, kid: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _WRAP_VERSION + nonce + AESGCM(self._kek).encrypt(nonce, private_raw, _aad(kid))

    def _unwrap(self, key: SigningKey) -> bytes:
        material = key.private_material
        if not material.startswith(_WRAP_VERSION):
            raise CredentialKeyError(f"unknown key wrapping for {key.kid}")
        nonce = material[1 : 1 + _NONCE_BYTES]
        try:
            return AESGCM(self._kek).decrypt(nonce, material[1 + _NONCE_BYTES :], _aad(key.kid))
        except InvalidTag:
            raise CredentialKeyError(
                f"cannot unwrap {key.kid}: the credential key secret changed or the key was altered"
            ) from None


def verify_credential_jwt(
    token: str,
    jwks: Mapping[str, Any],
    *,
    now: datetime | None = None,
    leeway: timedelta = CLOCK_LEEWAY,
) -> dict[str, Any]:
    """Verify a VC-JWT from the issuer's public JWKS only, as an outside verifier would.

    Strict on purpose: the key is chosen by ``kid`` and the algorithm is pinned by that key
    (Ed25519 means ``EdDSA``; ``none``, HMAC and others are refused), headers beyond
    ``alg``/``kid``/``typ`` are refused, and the registered claims must mirror the credential
    as OB 3.0 section 8.2 requires; ``exp`` must match ``validUntil``. Times allow ``leeway``
    either way, since a verifier's clock is not ours. Returns the payload (the credential plus
    its claims).
    """
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise CredentialVerificationError("not a compact JWS")
    header = _json_object(parts[0], "header")
    if set(header) - ALLOWED_HEADERS:
        raise CredentialVerificationError("unexpected JOSE header")
    if header.get("typ", JWT_TYPE) != JWT_TYPE:
        raise CredentialVerificationError("typ must be JWT")
    jwk = _key_for(header.get("kid"), jwks)
    ed25519 = jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519"
    if not ed25519 or jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise CredentialVerificationError("unsupported key")
    if header.get("alg") != ALGORITHM:
        raise CredentialVerificationError("algorithm does not match the key")
    try:
        public = Ed25519PublicKey.from_public_bytes(_unb64(str(jwk.get("x", ""))))
        public.verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        raise CredentialVerificationError("bad signature") from None
    payload = _json_object(parts[1], "payload")
    _check_claims(payload, now or datetime.now(UTC), leeway)
    return payload


def _check_claims(payload: Mapping[str, Any], now: datetime, leeway: timedelta) -> None:
    try:
        issuer = payload["issuer"]
        issuer_id = issuer["id"] if isinstance(issuer, Mapping) else issuer
        valid_from = parse_rfc3339(payload["validFrom"])
        mirrored = [
            (payload["iss"], issuer_id),
            (payload["jti"], payload["id"]),
            (payload["nbf"], int(valid_from.timestamp())),
        ]
        subject = payload["credentialSubject"]
        if isinstance(subject, Mapping) and "id" in subject:
            mirrored.append((payload["sub"], subject["id"]))
        expires = payload.get("exp")
        if "validUntil" in payload or expires is not None:
            valid_until = int(parse_rfc3339(payload["validUntil"]).timestamp())
            mirrored.append((expires, valid_until))
    except (KeyError, TypeError, ValueError):
        raise CredentialVerificationError("missing or malformed claims") from None
    if any(claim != value or type(claim) is bool for claim, value in mirrored):
        raise CredentialVerificationError("claims do not match the credential")
    if valid_from > now + leeway:
        raise CredentialVerificationError("not valid yet")
    if expires is not None and expires <= (now - leeway).timestamp():
        raise CredentialVerificationError("expired")


def _public_members(jwk: Mapping[str, str]) -> dict[str, str]:
    return {name: jwk[name] for name in PUBLIC_JWK_MEMBERS if name in jwk}


def _key_for(kid: object, jwks: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(kid, str):
        raise CredentialVerificationError("no kid")
    keys = jwks.get("keys", [])
    matches = [key for key in keys if isinstance(key, Mapping) and key.get("kid") == kid]
    if len(matches) != 1:
        raise CredentialVerificationError("unknown kid")
    return matches[0]


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64(segment))
    except (ValueError, UnicodeDecodeError):
        raise CredentialVerificationError(f"malformed {what}") from None
    if not isinstance(value, dict):
        raise CredentialVerificationError(f"malformed {what}")
    return value


def _aad(kid: str) -> bytes:
    return b"cpd credential key|" + kid.encode()


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 section 2): other alphabets are refused."""
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("invalid base64url") from error
