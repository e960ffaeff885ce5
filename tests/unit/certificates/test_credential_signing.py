"""Signed Open Badges credentials, verified as an outsider would: from the public JWKS only.

The outside verifier here is PyJWT (a different implementation of RFC 7515/8037) plus the
standard library for the status list, so a bug shared by our signer and our own verifier
cannot hide.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cpd.adapters.security.credential_signing import (
    CredentialKeyError,
    CredentialVerificationError,
    JwsCredentialSigner,
    verify_credential_jwt,
)
from cpd.domain.credentials import (
    AchievementFacts,
    BitstringStatusList,
    CredentialFacts,
    CredentialUrls,
    IssuerProfile,
    SigningKey,
    StatusEntry,
    open_badge_credential,
    pseudonymous_subject_id,
    status_list_credential,
)

SECRET = "credential-key-secret-for-tests-0123456789"
URLS = CredentialUrls("https://cpd.example.org")
SLUG = "rcn"
# Relative to the real clock, because the outside verifier (PyJWT) checks nbf/exp against it.
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def signer() -> JwsCredentialSigner:
    return JwsCredentialSigner(SECRET)


@pytest.fixture
def key(signer: JwsCredentialSigner) -> SigningKey:
    return signer.generate_key(URLS.jwks(SLUG), NOW)


def credential(index: int = 7, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": URLS.credential(uuid4()),
        "issuer": IssuerProfile(id=URLS.issuer(SLUG), name="RCN", url="https://rcn.example.org"),
        "subject_id": pseudonymous_subject_id(uuid4(), uuid4()),
        "holder_name": "Zoë O'Brien",
        "achievement": AchievementFacts(
            id=URLS.achievement(SLUG, uuid4()),
            name="Wound care masterclass",
            description="A one-day masterclass.",
            criteria="Attended at least 80% of the sessions.",
            cpd_credits=Decimal("6.5"),
            credit_category="Clinical",
        ),
        "issued_at": NOW,
        "status": StatusEntry(URLS.status_list(SLUG), index),
    } | overrides
    return open_badge_credential(CredentialFacts(**values))


def published(signer: JwsCredentialSigner, *keys: SigningKey) -> dict[str, Any]:
    """What ``/.well-known/jwks.json`` serves, through JSON as a client receives it."""
    parsed: dict[str, Any] = json.loads(json.dumps(signer.public_jwks(keys)))
    return parsed


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload)), signature


def outside_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """A third-party verifier: PyJWT, key chosen by kid from the JWKS, algorithm pinned."""
    kid = pyjwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = pyjwt.decode(
        token,
        key=pyjwt.PyJWK(jwk).key,
        algorithms=[jwk["alg"]],  # pinned by the key the verifier chose
        options={"require": ["iss", "jti", "nbf"], "verify_aud": False},
    )
    return claims


def outside_revoked(claims: dict[str, Any], status_token: str, jwks: dict[str, Any]) -> bool:
    """Follow ``credentialStatus`` to the signed status list and read the bit, by hand."""
    entry = claims["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    status = outside_verify(status_token, jwks)
    assert status["id"] == entry["statusListCredential"]
    assert status["iss"] == claims["iss"]  # the same issuer vouches for the list
    subject = status["credentialSubject"]
    assert subject["statusPurpose"] == entry["statusPurpose"] == "revocation"
    encoded = subject["encodedList"]
    assert encoded[0] == "u"
    bits = gzip.decompress(unb64(encoded[1:]))
    assert len(bits) * 8 >= 131_072
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_a_credential_verifies_with_only_the_public_key_then_reads_as_revoked(
    signer: JwsCredentialSigner, key: SigningKey
) -> None:
    document = credential(index=1234)
    token = signer.sign(document, key)
    jwks = published(signer, key)

    def status_list_jwt(revoked: list[int]) -> str:
        status_list = BitstringStatusList.with_set(revoked)
        return signer.sign(
            status_list_credential(
                list_url=URLS.status_list(SLUG),
                issuer_id=URLS.issuer(SLUG),
                status_list=status_list,
                generated_at=NOW,
            ),
            key,
        )

    claims = outside_verify(token, jwks)
    assert claims["credentialSubject"]["identifier"][0]["identityHash"] == "Zoë O'Brien"
    assert not outside_revoked(claims, status_list_jwt([0, 1233, 1235]), jwks)
    assert outside_revoked(claims, status_list_jwt([0, 1234]), jwks)


def test_the_jwt_follows_ob3_section_8_2(signer: JwsCredentialSigner, key: SigningKey) -> None:
    document = credential()
    header, payload, _ = segments(signer.sign(document, key))

    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    assert key.kid.startswith(
        "https://cpd.example.org/api/v1/organizations/rcn/.well-known/jwks.json#"
    )
    assert payload["iss"] == document["issuer"]["id"]
    assert payload["jti"] == document["id"]
    assert payload["sub"] == document["credentialSubject"]["id"]
    assert payload["nbf"] == int(NOW.timestamp())
    assert "exp" not in payload
    assert "vc" not in payload
    assert {k: v for k, v in payload.items() if k not in {"iss", "jti", "sub", "nbf"}} == document
    assert (
        verify_credential_jwt(signer.sign(document, key), published(signer, key), now=NOW)
        == payload
    )


def test_jwks_has_public_members_only(signer: JwsCredentialSigner, key: SigningKey) -> None:
    other = signer.generate_key(URLS.jwks(SLUG), NOW)
    jwks = signer.public_jwks([key, other])
    text = json.dumps(jwks)

    assert [k["kid"] for k in jwks["keys"]] == [key.kid, other.kid]
    for jwk in jwks["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
        assert jwk["kty"] == "OKP"
        assert jwk["crv"] == "Ed25519"
        assert len(unb64(jwk["x"])) == 32
    assert '"d"' not in text
    assert b64(key.private_material) not in text
    assert key.private_material.hex() not in repr(key)
    # Even a JWK that somehow carries a private member is filtered on the way out.
    leaky = SigningKey(
        kid=key.kid,
        algorithm=key.algorithm,
        public_jwk={**key.public_jwk, "d": "secret"},
        private_material=key.private_material,
        created_at=NOW,
    )
    assert "d" not in signer.public_jwks([leaky])["keys"][0]


def test_private_keys_are_wrapped_under_the_secret(
    signer: JwsCredentialSigner, key: SigningKey
) -> None:
    document = credential()
    assert len(key.private_material) == 1 + 12 + 32 + 16  # version, nonce, key, GCM tag
    # A signer built from the same secret (another process) signs with the stored key.
    again = JwsCredentialSigner(SECRET).sign(document, key)
    outside_verify(again, published(signer, key))

    with pytest.raises(CredentialKeyError):
        JwsCredentialSigner(SECRET + "-rotated").sign(document, key)
    other = signer.generate_key(URLS.jwks("other-org"), NOW)
    swapped = SigningKey(
        kid=key.kid,
        algorithm=key.algorithm,
        public_jwk=key.public_jwk,
        private_material=other.private_material,
        created_at=NOW,
    )
    with pytest.raises(CredentialKeyError):
        signer.sign(document, swapped)
    flipped = bytearray(key.private_material)
    flipped[-1] ^= 1
    with pytest.raises(CredentialKeyError):
        signer.sign(
            document, SigningKey(key.kid, key.algorithm, key.public_jwk, bytes(flipped), NOW)
        )
    with pytest.raises(ValueError, match="32"):
        JwsCredentialSigner("short")


# --- attacks and mistakes our verifier refuses -----------------------------------------------


def forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    encoded = lambda value: b64(json.dumps(value).encode())  # noqa: E731
    return f"{encoded(header)}.{encoded(payload)}.{b64(signature)}"


def test_tampered_payloads_and_wrong_keys_are_refused(
    signer: JwsCredentialSigner, key: SigningKey
) -> None:
    token = signer.sign(credential(), key)
    jwks = published(signer, key)
    header, payload, signature = segments(token)

    payload["credentialSubject"]["identifier"][0]["identityHash"] = "Mallory"
    tampered = forge(header, payload, unb64(signature))
    with pytest.raises(CredentialVerificationError, match="signature"):
        verify_credential_jwt(tampered, jwks, now=NOW)
    with pytest.raises(pyjwt.InvalidSignatureError):
        outside_verify(tampered, jwks)

    # Signed by another organization's key but claiming this one's kid.
    impostor = signer.generate_key(URLS.jwks("impostor"), NOW)
    _, _, impostor_signature = segments(signer.sign(credential(), impostor))
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(token.rsplit(".", 1)[0] + "." + impostor_signature, jwks, now=NOW)
    # A kid that is not published.
    with pytest.raises(CredentialVerificationError, match="kid"):
        verify_credential_jwt(signer.sign(credential(), impostor), jwks, now=NOW)


def test_alg_none_and_algorithm_confusion_are_refused(
    signer: JwsCredentialSigner, key: SigningKey
) -> None:
    jwks = published(signer, key)
    header, payload, _ = segments(signer.sign(credential(), key))

    unsigned = forge(header | {"alg": "none"}, payload, b"")  # "header.payload."
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(unsigned, jwks, now=NOW)
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(unsigned.rstrip("."), jwks, now=NOW)

    # HS256 keyed with the public JWK's bytes (the classic key-confusion forgery).
    confused_header = header | {"alg": "HS256"}
    signing_input = forge(confused_header, payload, b"").rsplit(".", 1)[0]
    for secret in (unb64(key.public_jwk["x"]), json.dumps(jwks["keys"][0]).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(CredentialVerificationError, match="algorithm"):
            verify_credential_jwt(f"{signing_input}.{b64(mac)}", jwks, now=NOW)


def test_extra_headers_wrong_typ_and_malformed_tokens_are_refused(
    signer: JwsCredentialSigner, key: SigningKey
) -> None:
    jwks = published(signer, key)
    token = signer.sign(credential(), key)
    header, payload, signature = segments(token)

    for bad_header in (header | {"jwk": jwks["keys"][0]}, header | {"typ": "vc+jwt"}):
        with pytest.raises(CredentialVerificationError):
            verify_credential_jwt(forge(bad_header, payload, unb64(signature)), jwks, now=NOW)
    for malformed in ("", "a.b", "a.b.c.d", "!!.!!.!!", token + "="):
        with pytest.raises(CredentialVerificationError):
            verify_credential_jwt(malformed, jwks, now=NOW)
    # The standard alphabet ("+", "/") in place of base64url decodes to the same signature
    # bytes; it is refused all the same, so each credential has exactly one valid encoding.
    while not set(token.rsplit(".", 1)[1]) & set("-_"):
        token = signer.sign(credential(), key)
    signing_input, signature = token.rsplit(".", 1)
    standard = signature.replace("-", "+").replace("_", "/")
    assert unb64(signature) == base64.b64decode(standard + "=" * (-len(standard) % 4))
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(f"{signing_input}.{standard}", jwks, now=NOW)


def test_claims_must_mirror_the_credential_and_times_hold(
    signer: JwsCredentialSigner, key: SigningKey
) -> None:
    jwks = published(signer, key)
    private = Ed25519PrivateKey.from_private_bytes(signer._unwrap(key))

    def signed(payload: dict[str, Any]) -> str:
        header = {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
        signing_input = forge(header, payload, b"").rsplit(".", 1)[0]
        return f"{signing_input}.{b64(private.sign(signing_input.encode()))}"

    _, good, _ = segments(signer.sign(credential(), key))
    assert verify_credential_jwt(signed(good), jwks, now=NOW) == good
    for claim, value in (
        ("iss", URLS.issuer("other")),
        ("jti", "urn:uuid:x"),
        ("sub", "urn:x"),
        ("nbf", good["nbf"] + 1),
    ):
        with pytest.raises(CredentialVerificationError, match="claims"):
            verify_credential_jwt(signed(good | {claim: value}), jwks, now=NOW)
    with pytest.raises(CredentialVerificationError, match="claims"):
        verify_credential_jwt(signed({k: v for k, v in good.items() if k != "iss"}), jwks, now=NOW)
    # A verifier's clock a little behind ours is fine; a lot behind is not.
    assert verify_credential_jwt(signed(good), jwks, now=NOW - timedelta(seconds=59))
    with pytest.raises(CredentialVerificationError, match="not valid yet"):
        verify_credential_jwt(signed(good), jwks, now=NOW - timedelta(seconds=61))
    with pytest.raises(CredentialVerificationError, match="not valid yet"):
        verify_credential_jwt(
            signed(good), jwks, now=NOW - timedelta(seconds=1), leeway=timedelta()
        )

    expiring = credential(valid_until=NOW + timedelta(days=1))
    token = signer.sign(expiring, key)
    assert verify_credential_jwt(token, jwks, now=NOW + timedelta(hours=23))["exp"]
    with pytest.raises(CredentialVerificationError, match="expired"):
        verify_credential_jwt(token, jwks, now=NOW + timedelta(days=1, minutes=2))
    payload = verify_credential_jwt(token, jwks, now=NOW)
    for exp in (payload["exp"] + 3600, True, None):  # exp must mirror validUntil
        changed = {k: v for k, v in payload.items() if k != "exp"} | (
            {} if exp is None else {"exp": exp}
        )
        with pytest.raises(CredentialVerificationError, match="claims"):
            verify_credential_jwt(signed(changed), jwks, now=NOW)
    with pytest.raises(pyjwt.ExpiredSignatureError):
        outside_verify(token, jwks)  # PyJWT uses the real clock: a day past validUntil


@pytest.fixture(scope="module")
def rsa_signer() -> JwsCredentialSigner:
    return JwsCredentialSigner(SECRET, "RS256")


@pytest.fixture(scope="module")
def rsa_key(rsa_signer: JwsCredentialSigner) -> SigningKey:
    return rsa_signer.generate_key(URLS.jwks(SLUG), NOW)


def test_rs256_keys_sign_credentials_any_verifier_checks(
    rsa_signer: JwsCredentialSigner, rsa_key: SigningKey
) -> None:
    """RS256, the algorithm OB 3.0 asks every implementation to support."""
    assert (rsa_key.algorithm, rsa_key.public_jwk["kty"], rsa_key.public_jwk["alg"]) == (
        "RS256",
        "RSA",
        "RS256",
    )
    assert len(unb64(rsa_key.public_jwk["n"])) == 256  # 2048 bits
    token = rsa_signer.sign(credential(), rsa_key)
    header, payload, _ = segments(token)
    assert header == {"alg": "RS256", "kid": rsa_key.kid, "typ": "JWT"}
    jwks = published(rsa_signer, rsa_key)
    assert set(jwks["keys"][0]) == {"kty", "n", "e", "kid", "alg", "use"}  # nothing private
    assert verify_credential_jwt(token, jwks, now=NOW) == payload
    assert outside_verify(token, jwks)["jti"] == payload["id"]  # PyJWT agrees


def test_an_organization_may_hold_keys_of_both_algorithms(
    signer: JwsCredentialSigner,
    key: SigningKey,
    rsa_signer: JwsCredentialSigner,
    rsa_key: SigningKey,
) -> None:
    """Switching CPD_CREDENTIAL_ALGORITHM makes new keys; credentials signed before verify on."""
    jwks = published(signer, rsa_key, key)
    for token in (signer.sign(credential(), key), rsa_signer.sign(credential(), rsa_key)):
        assert verify_credential_jwt(token, jwks, now=NOW)
    by_eddsa_signer = signer.sign(credential(), rsa_key)  # a key signs with its own algorithm
    assert segments(by_eddsa_signer)[0]["alg"] == "RS256"
    assert verify_credential_jwt(by_eddsa_signer, jwks, now=NOW)


def test_the_key_pins_the_algorithm_not_the_token(
    signer: JwsCredentialSigner,
    key: SigningKey,
    rsa_signer: JwsCredentialSigner,
    rsa_key: SigningKey,
) -> None:
    jwks = published(signer, rsa_key, key)
    _, payload, _ = segments(rsa_signer.sign(credential(), rsa_key))
    modulus = unb64(rsa_key.public_jwk["n"])
    for alg, kid in (("EdDSA", rsa_key.kid), ("RS256", key.kid), ("HS256", rsa_key.kid)):
        header = {"alg": alg, "kid": kid, "typ": "JWT"}
        unsigned = forge(header, payload, b"").rsplit(".", 1)[0]
        mac = hmac.new(modulus, unsigned.encode(), "sha256").digest()  # HMAC with the public key
        with pytest.raises(CredentialVerificationError, match="algorithm"):
            verify_credential_jwt(f"{unsigned}.{b64(mac)}", jwks, now=NOW)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - on purpose
    numbers = weak.public_key().public_numbers()
    small = {
        "kty": "RSA", "kid": "weak", "alg": "RS256",
        "n": b64(numbers.n.to_bytes(128, "big")), "e": b64(numbers.e.to_bytes(3, "big")),
    }  # fmt: skip
    unsigned = forge({"alg": "RS256", "kid": "weak", "typ": "JWT"}, payload, b"").rsplit(".", 1)[0]
    signature = weak.sign(unsigned.encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(f"{unsigned}.{b64(signature)}", {"keys": [small]}, now=NOW)


def test_only_eddsa_and_rs256_are_offered() -> None:
    with pytest.raises(ValueError, match="EdDSA or RS256"):
        JwsCredentialSigner(SECRET, "ES256")  # type: ignore[arg-type]
