"""Signing Open Badges 3.0 credentials as VC-JWTs: Ed25519 (JWS ``EdDSA``, RFC 8037) by
default, or RSA (``RS256``), the one algorithm OB 3.0 requires every implementation to support.

python-jose 3.5 has no EdDSA/OKP support, so the compact JWS is assembled here with the
``cryptography`` package (RFC 7515 section 7.1 is three base64url segments; the signature is
over ``header.payload``). Ed25519 is the default: deterministic signatures (no nonce to get
wrong), 32-byte keys; ``CPD_CREDENTIAL_ALGORITHM=RS256`` makes new keys RSA-2048 for verifiers
that know nothing else. A key signs with its own algorithm, so an organization's older keys
keep verifying after the setting changes.

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
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cpd.domain.credentials import SigningKey, jwk_thumbprint, jwt_claims, parse_rfc3339

Algorithm = Literal["EdDSA", "RS256"]
ALGORITHM: Algorithm = "EdDSA"  # the default
RS256: Algorithm = "RS256"
RSA_BITS = 2048  # RFC 7518 section 3.3: 2048 or larger
JWT_TYPE = "JWT"  # OB 3.0 section 8.2.2: ``typ``, if present, MUST be "JWT"
ALLOWED_HEADERS = frozenset({"alg", "kid", "typ"})  # OB 3.0: additional JOSE headers NOT allowed
PUBLIC_JWK_MEMBERS = ("kty", "crv", "x", "n", "e", "kid", "alg", "use")
MIN_SECRET_LENGTH = 32
CLOCK_LEEWAY = timedelta(seconds=60)  # how far a verifier's clock may be from the issuer's
_WRAP_VERSION = b"\x01"
_NONCE_BYTES = 12
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")  # no "+", "/" or padding: one encoding per value


class CredentialKeyError(RuntimeError):
    """A stored private key cannot be unwrapped: the key secret changed or the row was altered."""


class CredentialVerificationError(ValueError):
    """A VC-JWT is malformed, signed by another key or algorithm, tampered with, or not valid."""


class JwsCredentialSigner:
    """The ``CredentialSigner`` port: keys per organization (``EdDSA`` or ``RS256``), wrapped
    at rest."""

    def __init__(self, key_secret: str, algorithm: Algorithm = ALGORITHM) -> None:
        if len(key_secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the credential key secret needs {MIN_SECRET_LENGTH}+ characters")
        if algorithm not in (ALGORITHM, RS256):
            raise ValueError(f"credentials are signed with EdDSA or RS256, not {algorithm}")
        self.algorithm: Algorithm = algorithm
        self._kek = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"cpd/credential-signing-keys",
            info=b"aes-256-gcm key wrap v1",
        ).derive(key_secret.encode())

    def generate_key(self, jwks_url: str, now: datetime) -> SigningKey:
        private: Ed25519PrivateKey | rsa.RSAPrivateKey
        if self.algorithm == RS256:
            private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        else:
            private = Ed25519PrivateKey.generate()
        jwk = _public_jwk(private)
        kid = f"{jwks_url}#{jwk_thumbprint(jwk)}"
        # Ed25519 keys are kept raw (32 bytes), RSA ones as PKCS#8 DER.
        encoding, form = (
            (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8)
            if self.algorithm == RS256
            else (serialization.Encoding.Raw, serialization.PrivateFormat.Raw)
        )
        private_bytes = private.private_bytes(encoding, form, serialization.NoEncryption())
        return SigningKey(
            kid=kid,
            algorithm=self.algorithm,
            public_jwk={**jwk, "kid": kid, "alg": self.algorithm, "use": "sig"},
            private_material=self._wrap(private_bytes, kid),
            created_at=now,
        )

    def sign(self, credential: Mapping[str, object], key: SigningKey) -> str:
        private = self._private_key(key)
        if any(_public_jwk(private)[name] != key.public_jwk.get(name) for name in ("n", "x")
               if name in key.public_jwk):  # fmt: skip
            raise CredentialKeyError(f"the private key of {key.kid} does not match its JWK")
        header = {"alg": key.algorithm, "kid": key.kid, "typ": JWT_TYPE}
        signing_input = f"{_b64(_json(header))}.{_b64(_json(jwt_claims(credential)))}"
        data = signing_input.encode("ascii")
        if isinstance(private, rsa.RSAPrivateKey):
            signature = private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = private.sign(data)
        return f"{signing_input}.{_b64(signature)}"

    def _private_key(self, key: SigningKey) -> Ed25519PrivateKey | rsa.RSAPrivateKey:
        material = self._unwrap(key)
        if key.algorithm != RS256:
            return Ed25519PrivateKey.from_private_bytes(material)
        private = serialization.load_der_private_key(material, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise CredentialKeyError(f"{key.kid} is not an RSA key")
        return private

    def public_jwks(self, keys: Iterable[SigningKey]) -> dict[str, object]:
        """An allow-list of public members, so a private ``d`` can never leak through."""
        return {"keys": [_public_members(key.public_jwk) for key in keys]}

    def _wrap(self, private_bytes: bytes, kid: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _WRAP_VERSION + nonce + AESGCM(self._kek).encrypt(nonce, private_bytes, _aad(kid))

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
    algorithm = _algorithm_of(jwk)
    if header.get("alg") != algorithm:
        raise CredentialVerificationError("algorithm does not match the key")
    try:
        signature, data = _unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii")
        if algorithm == RS256:
            numbers = rsa.RSAPublicNumbers(_int(jwk.get("e")), _int(jwk.get("n")))
            rsa_key = numbers.public_key()
            if rsa_key.key_size < RSA_BITS:
                raise CredentialVerificationError("RSA key too small")
            rsa_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            Ed25519PublicKey.from_public_bytes(_unb64(str(jwk.get("x", "")))).verify(
                signature, data
            )
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


def _algorithm_of(jwk: Mapping[str, Any]) -> str:
    """The one algorithm a key may verify (pinned by its type, never taken from the token):
    an Ed25519 key ``EdDSA``, an RSA key ``RS256``; anything else is refused."""
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        algorithm = ALGORITHM
    elif jwk.get("kty") == "RSA":
        algorithm = RS256
    else:
        raise CredentialVerificationError("unsupported key")
    if jwk.get("alg", algorithm) != algorithm:
        raise CredentialVerificationError("unsupported key")
    return algorithm


def _public_jwk(private: Ed25519PrivateKey | rsa.RSAPrivateKey) -> dict[str, str]:
    if isinstance(private, rsa.RSAPrivateKey):
        numbers = private.public_key().public_numbers()
        return {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}


def _b64_int(value: int) -> str:
    """RFC 7518 section 6.3.1: big-endian, no leading zero bytes."""
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _int(text: object) -> int:
    return int.from_bytes(_unb64(str(text or "")), "big")


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
