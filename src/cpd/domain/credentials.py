"""Open Badges 3.0 credentials and Bitstring Status Lists, as plain JSON-ready values.

A certificate is also issued as an ``OpenBadgeCredential`` (1EdTech Open Badges 3.0 on the
W3C Verifiable Credentials Data Model 2.0) so a holder can prove it anywhere without calling
us: the document is signed as a VC-JWT (OB 3.0 section 8.2: the JWT payload *is* the
credential, with ``iss``/``jti``/``nbf``/``sub`` claims mirrored from it) and points at a
``BitstringStatusListCredential`` (W3C Bitstring Status List v1.0) where revocation shows.

Everything here is pure: documents are built from facts the caller already has, and the
signing lives behind the ``CredentialSigner`` port.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import uuid
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from cpd.domain.errors import InvalidInput

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_CREDENTIAL_CONTEXTS = (VC_CONTEXT_V2, OB_CONTEXT_V3)
STATUS_PURPOSE_REVOCATION = "revocation"

# Bitstring Status List v1.0: at least 16 KiB (131,072 entries) so that one set bit does not
# single out a holder, and a generous ceiling against decompression bombs when decoding.
MIN_STATUS_LIST_BITS = 16 * 1024 * 8
MAX_STATUS_LIST_BITS = 16 * 1024 * 1024 * 8
_MULTIBASE_BASE64URL = "u"

# Pseudonymous subject ids: the same holder in the same organization gets the same id, and
# nothing about the person (email, user id) can be read back from it.
_SUBJECT_NAMESPACE = UUID("5b0c1f0e-6a0e-4f41-9a8e-2f7f3c1d9e11")


@dataclass(frozen=True, slots=True)
class CredentialUrls:
    """The public URLs a credential refers to; one place so routes and documents agree."""

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def credential(self, certificate_id: UUID) -> str:
        return f"{self.base_url}/api/v1/certificates/{certificate_id}/credential"

    def issuer(self, organization_slug: str) -> str:
        return f"{self.base_url}/organizations/{organization_slug}"

    def jwks(self, organization_slug: str) -> str:
        return f"{self.base_url}/api/v1/organizations/{organization_slug}/.well-known/jwks.json"

    def status_list(self, organization_slug: str, list_number: int = 1) -> str:
        return (
            f"{self.base_url}/api/v1/organizations/{organization_slug}"
            f"/credentials/status/{list_number}"
        )

    def achievement(self, organization_slug: str, source_id: UUID) -> str:
        return f"{self.base_url}/organizations/{organization_slug}/achievements/{source_id}"

    def badge_image(self, badge_id: UUID) -> str:
        return f"{self.base_url}/api/v1/badges/{badge_id}/image"


def pseudonymous_subject_id(organization_id: UUID, holder_id: UUID) -> str:
    """``credentialSubject.id`` (and the JWT ``sub``) without personal data: a name-based UUID
    per holder and organization, so two organizations' credentials do not correlate."""
    return f"urn:uuid:{uuid.uuid5(_SUBJECT_NAMESPACE, f'{organization_id}:{holder_id}')}"


@dataclass(frozen=True, slots=True)
class IssuerProfile:
    """The OB 3.0 ``Profile`` of the organization that issues (and signs) the credential."""

    id: str
    name: str
    url: str
    image: str | None = None

    def to_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "id": self.id,
            "type": ["Profile"],
            "name": self.name,
            "url": self.url,
        }
        if self.image:
            profile["image"] = {"id": self.image, "type": "Image"}
        return profile


def issuer_profile_document(profile: IssuerProfile) -> dict[str, Any]:
    """The ``Profile`` served at the issuer id, standing alone (hence its own ``@context``)."""
    return {"@context": list(OB_CREDENTIAL_CONTEXTS), **profile.to_json()}


@dataclass(frozen=True, slots=True)
class AchievementFacts:
    """What was achieved: the event or course, its criteria and the CPD credits it carries."""

    id: str
    name: str
    description: str
    criteria: str
    cpd_credits: Decimal
    credit_category: str | None = None
    image: str | None = None

    def to_json(self) -> dict[str, Any]:
        achievement: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "name": self.name,
            "description": self.description,
            "criteria": {"narrative": self.criteria},
            "creditsAvailable": float(self.cpd_credits),
            "tag": ["CPD", *([self.credit_category] if self.credit_category else [])],
        }
        if self.image:
            achievement["image"] = {"id": self.image, "type": "Image"}
        return achievement


def achievement_document(achievement: AchievementFacts) -> dict[str, Any]:
    """The ``Achievement`` served at its id, standing alone (hence its own ``@context``)."""
    return {"@context": list(OB_CREDENTIAL_CONTEXTS), **achievement.to_json()}


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """Where a credential's revocation bit lives: its index in the organization's list."""

    list_url: str
    index: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < MIN_STATUS_LIST_BITS:
            raise InvalidInput(
                f"A status list index is between 0 and {MIN_STATUS_LIST_BITS - 1}.",
                field="status_index",
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": STATUS_PURPOSE_REVOCATION,
            "statusListIndex": str(self.index),  # the spec says a string of an integer
            "statusListCredential": self.list_url,
        }


@dataclass(frozen=True, slots=True)
class CredentialFacts:
    """Everything printed on a certificate that its credential carries (no email: privacy)."""

    id: str
    issuer: IssuerProfile
    subject_id: str
    holder_name: str
    achievement: AchievementFacts
    issued_at: datetime
    status: StatusEntry
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise InvalidInput("The issue time must be timezone-aware.", field="issued_at")
        if not self.holder_name.strip():
            raise InvalidInput("Required.", field="holder_name")


def open_badge_credential(facts: CredentialFacts) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` document (OB 3.0, VC Data Model 2.0).

    The holder is named with an OB 3.0 ``IdentityObject`` of type ``name`` (plain, as the
    certificate prints it); credits go in ``creditsAvailable`` on the achievement and
    ``creditsEarned`` on the subject, both defined by OB 3.0; the CPD category is a ``tag``.
    """
    achievement = facts.achievement
    achievement_json = achievement.to_json()
    credential: dict[str, Any] = {
        "@context": list(OB_CREDENTIAL_CONTEXTS),
        "id": facts.id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.name,
        "issuer": facts.issuer.to_json(),
        "validFrom": rfc3339(facts.issued_at),
        "credentialSubject": {
            "id": facts.subject_id,
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": facts.holder_name,
                }
            ],
            "creditsEarned": float(achievement.cpd_credits),
            "achievement": achievement_json,
        },
        "credentialStatus": facts.status.to_json(),
    }
    if facts.valid_until is not None:
        credential["validUntil"] = rfc3339(facts.valid_until)
    return credential


def status_list_credential(
    *, list_url: str, issuer_id: str, status_list: BitstringStatusList, generated_at: datetime
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` served at ``statusListCredential``."""
    return {
        "@context": [VC_CONTEXT_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": rfc3339(generated_at),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE_REVOCATION,
            "encodedList": status_list.encode(),
        },
    }


def jwt_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT payload of a VC-JWT per OB 3.0 section 8.2: the credential itself plus the
    registered claims mirrored from it (``iss`` = issuer id, ``jti`` = id, ``nbf`` =
    ``validFrom``, ``sub`` = subject id when there is one, ``exp`` = ``validUntil`` if set)."""
    issuer = credential["issuer"]
    claims: dict[str, Any] = dict(credential)
    claims["iss"] = issuer["id"] if isinstance(issuer, Mapping) else issuer
    claims["jti"] = credential["id"]
    claims["nbf"] = int(parse_rfc3339(credential["validFrom"]).timestamp())
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and "id" in subject:
        claims["sub"] = subject["id"]
    if "validUntil" in credential:
        claims["exp"] = int(parse_rfc3339(credential["validUntil"]).timestamp())
    return claims


def rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, ``Z``: the form VC examples use and ``nbf`` can round-trip."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise InvalidInput("A credential time must carry its offset.", field="validFrom")
    return moment


@dataclass(slots=True)
class BitstringStatusList:
    """A W3C Bitstring Status List of one-bit entries (bit 0 is the first byte's most
    significant bit), encoded as multibase base64url (``u`` prefix, no padding) of GZIP."""

    size: int = MIN_STATUS_LIST_BITS
    _bits: bytearray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.size < MIN_STATUS_LIST_BITS or self.size % 8:
            raise InvalidInput(
                f"A status list holds at least {MIN_STATUS_LIST_BITS} entries, in whole bytes.",
                field="size",
            )
        self._bits = bytearray(self.size // 8)

    @classmethod
    def with_set(
        cls, indexes: Iterable[int], size: int = MIN_STATUS_LIST_BITS
    ) -> BitstringStatusList:
        status_list = cls(size)
        for index in indexes:
            status_list.set(index)
        return status_list

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise InvalidInput(f"Index {index} is outside the status list.", field="index")
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> bool:
        byte, mask = self._locate(index)
        return bool(self._bits[byte] & mask)

    def set(self, index: int) -> None:
        byte, mask = self._locate(index)
        self._bits[byte] |= mask

    def clear(self, index: int) -> None:
        byte, mask = self._locate(index)
        self._bits[byte] &= ~mask & 0xFF

    def set_indexes(self) -> list[int]:
        return [i for i in range(self.size) if self._bits[i // 8] & (0x80 >> (i % 8))]

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """``encodedList``; ``mtime=0`` so the same bits always give the same text."""
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        return _MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()

    @classmethod
    def decode(cls, encoded: str) -> BitstringStatusList:
        """Parse an ``encodedList``; anything malformed or too small raises ``InvalidInput``."""
        if not encoded.startswith(_MULTIBASE_BASE64URL):
            raise InvalidInput("An encoded status list starts with 'u'.", field="encodedList")
        body = encoded[1:]
        try:
            compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
            raw = decompressor.decompress(compressed, MAX_STATUS_LIST_BITS // 8 + 1)
        except (binascii.Error, ValueError, zlib.error):
            raise InvalidInput("Not a GZIP base64url status list.", field="encodedList") from None
        if len(raw) > MAX_STATUS_LIST_BITS // 8 or not decompressor.eof:
            raise InvalidInput("The status list is too large or truncated.", field="encodedList")
        status_list = cls(len(raw) * 8)
        status_list._bits[:] = raw
        return status_list


_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}


def jwk_thumbprint(public_jwk: Mapping[str, str]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of an OKP/EC/RSA public JWK: a stable key id."""
    members = _THUMBPRINT_MEMBERS.get(public_jwk.get("kty", ""))
    if members is None:
        raise InvalidInput("Unsupported key type.", field="kty")
    canonical = "{" + ",".join(f'"{name}":"{public_jwk[name]}"' for name in members) + "}"
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An organization's credential signing key. ``private_material`` is opaque to the core
    (the adapter's wrapped private key), never shown in ``repr`` and never published."""

    kid: str
    algorithm: str
    public_jwk: Mapping[str, str]
    private_material: bytes = field(repr=False)
    created_at: datetime
