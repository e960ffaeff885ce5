"""Open Badges 3.0 documents and the Bitstring Status List, as pure values."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.credentials import (
    MIN_STATUS_LIST_BITS,
    AchievementFacts,
    BitstringStatusList,
    CredentialFacts,
    CredentialUrls,
    IssuerProfile,
    StatusEntry,
    jwk_thumbprint,
    jwt_claims,
    open_badge_credential,
    pseudonymous_subject_id,
    status_list_credential,
)
from cpd.domain.errors import InvalidInput

URLS = CredentialUrls("https://cpd.example.org/")
CERTIFICATE = UUID("0b6f8a3e-8d0c-4a8e-9d57-3c8f7d2f1a10")
ORGANIZATION = UUID("7e1d3f1c-2b4a-4c5d-8e6f-0a1b2c3d4e5f")
ISSUED = datetime(2026, 11, 20, 16, 30, 12, 345678, tzinfo=UTC)

# The OB 3.0 required members, written from the spec's data model (AchievementCredential,
# Profile, AchievementSubject, Achievement, Criteria, IdentityObject) and the Bitstring Status
# List entry; additional members are allowed as the spec allows them.
_URI = {"type": "string", "pattern": "^(https?|urn):"}
_TYPES = {"type": "array", "minItems": 1, "items": {"type": "string"}}
OB3_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["@context", "id", "type", "name", "issuer", "validFrom", "credentialSubject"],
    "properties": {
        "@context": {
            "type": "array",
            "prefixItems": [
                {"const": "https://www.w3.org/ns/credentials/v2"},
                {"const": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"},
            ],
        },
        "id": _URI,
        "type": {
            "allOf": [
                _TYPES,
                {"contains": {"const": "VerifiableCredential"}},
                {"contains": {"const": "OpenBadgeCredential"}},
            ]
        },
        "name": {"type": "string", "minLength": 1},
        "validFrom": {"type": "string", "format": "date-time"},
        "issuer": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {"id": _URI, "type": {"contains": {"const": "Profile"}}},
        },
        "credentialSubject": {
            "type": "object",
            "required": ["type", "achievement"],
            "anyOf": [{"required": ["id"]}, {"required": ["identifier"]}],
            "properties": {
                "type": {"contains": {"const": "AchievementSubject"}},
                "creditsEarned": {"type": "number"},
                "identifier": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "hashed", "identityHash", "identityType"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "IdentityObject"},
                            "hashed": {"type": "boolean"},
                            "identityHash": {"type": "string"},
                            "identityType": {"type": "string"},
                            "salt": {"type": "string"},
                        },
                    },
                },
                "achievement": {
                    "type": "object",
                    "required": ["id", "type", "criteria", "description", "name"],
                    "properties": {
                        "id": _URI,
                        "type": {"contains": {"const": "Achievement"}},
                        "criteria": {
                            "type": "object",
                            "anyOf": [{"required": ["id"]}, {"required": ["narrative"]}],
                        },
                        "creditsAvailable": {"type": "number"},
                        "tag": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
        "credentialStatus": {
            "type": "object",
            "required": ["type", "statusPurpose", "statusListIndex", "statusListCredential"],
            "properties": {
                "type": {"const": "BitstringStatusListEntry"},
                "statusListIndex": {"type": "string", "pattern": "^[0-9]+$"},
                "statusListCredential": _URI,
            },
        },
    },
}


def facts(**overrides: Any) -> CredentialFacts:
    values: dict[str, Any] = {
        "id": URLS.credential(CERTIFICATE),
        "issuer": IssuerProfile(
            id=URLS.issuer("rcn"),
            name="Royal College of Nursing",
            url="https://rcn.example.org",
            image="https://rcn.example.org/logo.png",
        ),
        "subject_id": pseudonymous_subject_id(ORGANIZATION, uuid4()),
        "holder_name": "Łukasz Żółć",
        "achievement": AchievementFacts(
            id=URLS.achievement("rcn", uuid4()),
            name="Wound care masterclass",
            description="A one-day masterclass on chronic wound care.",
            criteria="Attended at least 80% of the sessions.",
            cpd_credits=Decimal("6.5"),
            credit_category="Clinical",
        ),
        "issued_at": ISSUED,
        "status": StatusEntry(URLS.status_list("rcn"), 42),
    } | overrides
    return CredentialFacts(**values)


def test_the_credential_is_an_open_badge_with_the_required_members() -> None:
    credential = open_badge_credential(facts())

    jsonschema_rs.validator_for(OB3_SCHEMA, validate_formats=True).validate(credential)
    assert (
        credential["id"] == f"https://cpd.example.org/api/v1/certificates/{CERTIFICATE}/credential"
    )
    assert credential["validFrom"] == "2026-11-20T16:30:12Z"
    assert credential["name"] == "Wound care masterclass"
    assert credential["issuer"] == {
        "id": "https://cpd.example.org/organizations/rcn",
        "type": ["Profile"],
        "name": "Royal College of Nursing",
        "url": "https://rcn.example.org",
        "image": {"id": "https://rcn.example.org/logo.png", "type": "Image"},
    }
    subject = credential["credentialSubject"]
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Łukasz Żółć",
        }
    ]
    assert subject["creditsEarned"] == 6.5
    assert subject["achievement"]["creditsAvailable"] == 6.5
    assert subject["achievement"]["tag"] == ["CPD", "Clinical"]
    criteria = subject["achievement"]["criteria"]
    assert criteria == {"narrative": "Attended at least 80% of the sessions."}
    assert credential["credentialStatus"] == {
        "id": "https://cpd.example.org/api/v1/organizations/rcn/credentials/status/1#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": "https://cpd.example.org/api/v1/organizations/rcn/credentials/status/1",
    }
    assert "validUntil" not in credential


def test_the_schema_rejects_a_credential_missing_what_the_spec_requires() -> None:
    validator = jsonschema_rs.validator_for(OB3_SCHEMA, validate_formats=True)
    for member in ("issuer", "validFrom", "name", "credentialSubject"):
        broken = open_badge_credential(facts())
        del broken[member]
        assert not validator.is_valid(broken), member
    broken = open_badge_credential(facts())
    broken["@context"] = ["https://www.w3.org/2018/credentials/v1"]
    assert not validator.is_valid(broken)


def test_no_personal_data_beyond_the_printed_name() -> None:
    holder = UUID("11111111-2222-3333-4444-555555555555")
    subject_id = pseudonymous_subject_id(ORGANIZATION, holder)
    text = str(open_badge_credential(facts(subject_id=subject_id)))

    assert "@" not in text.replace("@context", "")
    assert str(holder) not in text
    assert subject_id == pseudonymous_subject_id(ORGANIZATION, holder)
    assert subject_id != pseudonymous_subject_id(uuid4(), holder)
    assert subject_id.startswith("urn:uuid:")


def test_optional_members_appear_only_when_given() -> None:
    achievement = facts().achievement
    bare = open_badge_credential(
        facts(
            issuer=IssuerProfile(id=URLS.issuer("rcn"), name="RCN", url="https://rcn.example.org"),
            achievement=AchievementFacts(
                id=achievement.id,
                name="Talk",
                description="A talk.",
                criteria="Attended.",
                cpd_credits=Decimal(1),
            ),
            valid_until=ISSUED + timedelta(days=365),
        )
    )
    assert "image" not in bare["issuer"]
    assert bare["credentialSubject"]["achievement"]["tag"] == ["CPD"]
    assert bare["validUntil"] == "2027-11-20T16:30:12Z"


def test_facts_refuse_naive_times_blank_names_and_out_of_range_indexes() -> None:
    with pytest.raises(InvalidInput):
        facts(issued_at=datetime(2026, 11, 20, 16, 30))
    with pytest.raises(InvalidInput):
        facts(holder_name="  ")
    with pytest.raises(InvalidInput):
        StatusEntry(URLS.status_list("rcn"), MIN_STATUS_LIST_BITS)
    with pytest.raises(InvalidInput):
        StatusEntry(URLS.status_list("rcn"), -1)


def test_jwt_claims_mirror_the_credential_as_ob3_section_8_2_says() -> None:
    credential = open_badge_credential(facts(valid_until=ISSUED + timedelta(days=1)))
    claims = jwt_claims(credential)

    assert claims["iss"] == credential["issuer"]["id"]
    assert claims["jti"] == credential["id"]
    assert claims["sub"] == credential["credentialSubject"]["id"]
    assert claims["nbf"] == int(datetime(2026, 11, 20, 16, 30, 12, tzinfo=UTC).timestamp())
    assert claims["exp"] == claims["nbf"] + 86400
    assert "vc" not in claims  # VCDM 2.0: the payload is the credential itself
    registered = {"iss", "jti", "sub", "nbf", "exp"}
    assert {k: v for k, v in claims.items() if k not in registered} == credential


def test_status_list_credential_document() -> None:
    url = URLS.status_list("rcn")
    document = status_list_credential(
        list_url=url,
        issuer_id=URLS.issuer("rcn"),
        status_list=BitstringStatusList.with_set([3]),
        generated_at=ISSUED,
    )
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert document["id"] == url
    subject = document["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert BitstringStatusList.decode(subject["encodedList"]).set_indexes() == [3]
    assert jwt_claims(document)["iss"] == URLS.issuer("rcn")


# --- Bitstring Status List -------------------------------------------------------------------

indexes = st.integers(min_value=0, max_value=MIN_STATUS_LIST_BITS - 1)


def test_the_encoding_is_multibase_base64url_gzip_with_msb_first_bits() -> None:
    status_list = BitstringStatusList.with_set([0, 9])
    encoded = status_list.encode()

    assert encoded.startswith("u")
    assert not set(encoded) & set("=+/")
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024  # the spec's minimum: 131,072 entries
    assert raw[:2] == bytes([0b1000_0000, 0b0100_0000])
    assert not any(raw[2:])
    assert encoded == BitstringStatusList.with_set([9, 0]).encode()  # deterministic (mtime 0)


@given(st.sets(indexes, max_size=50))
def test_encode_decode_round_trip(revoked: set[int]) -> None:
    decoded = BitstringStatusList.decode(BitstringStatusList.with_set(revoked).encode())
    assert decoded.size == MIN_STATUS_LIST_BITS
    assert decoded.set_indexes() == sorted(revoked)


@given(st.sets(indexes, max_size=20), indexes)
def test_setting_one_bit_changes_only_that_bit(revoked: set[int], index: int) -> None:
    status_list = BitstringStatusList.with_set(revoked)
    before = status_list.to_bytes()
    status_list.set(index)
    after = status_list.to_bytes()

    assert status_list.get(index)
    changed = [i for i in range(len(before)) if before[i] != after[i]]
    assert changed == ([] if index in revoked else [index // 8])
    assert (before[index // 8] ^ after[index // 8]) in (0, 0x80 >> (index % 8))
    status_list.clear(index)
    assert not status_list.get(index)
    assert status_list.set_indexes() == sorted(revoked - {index})


def test_sizes_and_bounds() -> None:
    with pytest.raises(InvalidInput):
        BitstringStatusList(MIN_STATUS_LIST_BITS - 8)
    with pytest.raises(InvalidInput):
        BitstringStatusList(MIN_STATUS_LIST_BITS + 1)
    larger = BitstringStatusList.with_set([MIN_STATUS_LIST_BITS + 5], size=2 * MIN_STATUS_LIST_BITS)
    assert BitstringStatusList.decode(larger.encode()).set_indexes() == [MIN_STATUS_LIST_BITS + 5]
    with pytest.raises(InvalidInput):
        BitstringStatusList().set(MIN_STATUS_LIST_BITS)
    with pytest.raises(InvalidInput):
        BitstringStatusList().get(-1)


def _encoded(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, mtime=0)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        BitstringStatusList().encode()[1:],  # no multibase prefix
        "z" + BitstringStatusList().encode()[1:],  # another multibase
        "u!!!not-base64",
        "u" + base64.urlsafe_b64encode(b"not gzip").decode(),
        _encoded(bytes(1024)),  # below the 16 KiB minimum
        BitstringStatusList().encode()[:-20],  # truncated
    ],
)
def test_decode_refuses_malformed_lists(encoded: str) -> None:
    with pytest.raises(InvalidInput):
        BitstringStatusList.decode(encoded)


def test_decode_refuses_a_decompression_bomb() -> None:
    bomb = _encoded(bytes(17 * 1024 * 1024))  # ~17 KiB on the wire, 17 MiB inflated
    assert len(bomb) < 40_000
    with pytest.raises(InvalidInput):
        BitstringStatusList.decode(bomb)


def test_jwk_thumbprint_matches_rfc_8037_appendix_a3() -> None:
    # RFC 8037 A.3: the thumbprint of the Ed25519 example key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    with pytest.raises(InvalidInput):
        jwk_thumbprint({"kty": "oct", "k": "c2VjcmV0"})
