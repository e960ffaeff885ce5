"""JoseTokenIssuer: strict verification, and the classic JWT attacks refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cpd.adapters.security.jose_tokens import JoseTokenIssuer
from cpd.domain.errors import NotAuthenticated

SECRET = "s" * 16 + "-test-secret-key-of-32+chars"
SESSION = uuid4()
USER = uuid4()
FAMILY = uuid4()


def now() -> datetime:
    return datetime.now(UTC)


def issuer(**overrides: Any) -> JoseTokenIssuer:
    options: dict[str, Any] = {
        "algorithm": "HS256",
        "signing_key": SECRET,
        "issuer": "cpd",
        "audience": "cpd-api",
        "access_ttl": timedelta(minutes=15),
        "refresh_ttl": timedelta(days=14),
    } | overrides
    return JoseTokenIssuer(**options)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(unb64(token.split(".")[1]))
    return result


def forge(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture(scope="module")
def rsa_pems() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_round_trip() -> None:
    tokens = issuer()
    issued_at = now()
    access = tokens.issue_access(USER, SESSION, issued_at)
    refresh = tokens.issue_refresh(USER, FAMILY, issued_at)

    access_claims = tokens.decode_access(access.token)
    assert access_claims.user_id == USER
    assert access_claims.jti == access.jti
    assert access_claims.expires_at == access.expires_at.replace(microsecond=0)
    assert access.expires_at == issued_at + timedelta(minutes=15)

    refresh_claims = tokens.decode_refresh(refresh.token)
    assert (refresh_claims.user_id, refresh_claims.family_id) == (USER, FAMILY)
    assert refresh_claims.jti == refresh.jti
    assert refresh.expires_at == issued_at + timedelta(days=14)


def test_every_token_has_its_own_jti_in_its_claims() -> None:
    tokens = issuer()
    issued = [tokens.issue_access(USER, SESSION, now()) for _ in range(3)]
    issued += [tokens.issue_refresh(USER, FAMILY, now()) for _ in range(3)]
    jtis = [claims_of(t.token)["jti"] for t in issued]
    assert jtis == [t.jti for t in issued]
    assert len(set(jtis)) == len(jtis)
    assert all(jtis)
    for token in issued:
        assert {"iss", "aud", "exp", "iat", "nbf", "sub", "typ"} <= set(claims_of(token.token))


def test_a_tampered_signature_is_refused() -> None:
    token = issuer().issue_access(USER, SESSION, now()).token
    head, body, signature = token.split(".")
    raw = bytearray(unb64(signature))
    raw[len(raw) // 2] ^= 0x01
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(f"{head}.{body}.{b64(bytes(raw))}")


def test_a_tampered_payload_is_refused() -> None:
    token = issuer().issue_access(USER, SESSION, now()).token
    head, _, signature = token.split(".")
    payload = claims_of(token) | {"sub": str(uuid4())}
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(f"{head}.{b64(json.dumps(payload).encode())}.{signature}")


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = issuer(signing_key="another-secret-key-that-is-long-enough").issue_access(
        USER, SESSION, now()
    )
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(token.token)


def test_an_expired_token_is_refused() -> None:
    token = issuer().issue_access(USER, SESSION, now() - timedelta(hours=2)).token
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(token)


def test_an_alg_none_token_is_refused() -> None:
    genuine = issuer().issue_access(USER, SESSION, now()).token
    forged = forge({"alg": "none", "typ": "JWT"}, claims_of(genuine), key=None)
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(forged)
    # Control: the same claims, properly signed, do pass, so only the missing signature failed.
    resigned = forge({"alg": "HS256", "typ": "JWT"}, claims_of(genuine), key=SECRET.encode())
    assert issuer().decode_access(resigned).user_id == USER


def test_rs256_round_trip_and_key_confusion_refused(rsa_pems: tuple[str, str]) -> None:
    private, public = rsa_pems
    tokens = issuer(algorithm="RS256", signing_key=private, verifying_key=public)
    genuine = tokens.issue_access(USER, SESSION, now())
    assert tokens.decode_access(genuine.token).user_id == USER
    assert json.loads(unb64(genuine.token.split(".")[0]))["alg"] == "RS256"

    # The attacker knows the public key and signs HS256 with it as the HMAC secret.
    forged = forge({"alg": "HS256", "typ": "JWT"}, claims_of(genuine.token), public.encode())
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(forged)
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(forge({"alg": "none", "typ": "JWT"}, claims_of(genuine.token), None))


def test_a_verifier_without_the_private_key_cannot_sign(rsa_pems: tuple[str, str]) -> None:
    _, public = rsa_pems
    other_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    token = issuer(algorithm="RS256", signing_key=pem).issue_access(USER, SESSION, now())
    with pytest.raises(NotAuthenticated):
        issuer(algorithm="RS256", signing_key=pem, verifying_key=public).decode_access(token.token)


@pytest.mark.parametrize("override", [{"audience": "someone-else"}, {"issuer": "evil"}])
def test_another_audience_or_issuer_is_refused(override: dict[str, str]) -> None:
    token = issuer(**override).issue_access(USER, SESSION, now()).token
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(token)


def test_token_types_are_not_interchangeable() -> None:
    tokens = issuer()
    access = tokens.issue_access(USER, SESSION, now()).token
    refresh = tokens.issue_refresh(USER, FAMILY, now()).token
    with pytest.raises(NotAuthenticated):
        tokens.decode_refresh(access)
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(refresh)


@pytest.mark.parametrize("missing", ["jti", "exp", "iat", "sub", "aud", "iss"])
def test_a_token_missing_a_required_claim_is_refused(missing: str) -> None:
    claims = claims_of(issuer().issue_access(USER, SESSION, now()).token)
    del claims[missing]
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(forge({"alg": "HS256", "typ": "JWT"}, claims, SECRET.encode()))


def test_a_refresh_token_without_a_family_or_with_a_bad_subject_is_refused() -> None:
    claims = claims_of(issuer().issue_refresh(USER, FAMILY, now()).token)
    for broken in ({k: v for k, v in claims.items() if k != "fam"}, claims | {"sub": "admin"}):
        token = forge({"alg": "HS256", "typ": "JWT"}, broken, SECRET.encode())
        with pytest.raises(NotAuthenticated):
            issuer().decode_refresh(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "...", "e30.e30.", "\x00"])
def test_garbage_is_refused_not_crashing(garbage: str) -> None:
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(garbage)


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        issuer(algorithm="none")
    with pytest.raises(ValueError, match="at least 32"):
        issuer(signing_key="short")


def test_only_the_configured_algorithm_is_accepted() -> None:
    """Pinned, not read from the token: even HS512 with the right secret is refused."""
    claims = claims_of(issuer().issue_access(USER, SESSION, now()).token)
    header = b64(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha512).digest()
    with pytest.raises(NotAuthenticated):
        issuer().decode_access(f"{signing_input}.{b64(signature)}")
    assert issuer(algorithm="HS512").decode_access(f"{signing_input}.{b64(signature)}")
