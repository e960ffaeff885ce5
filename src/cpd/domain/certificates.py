"""Certificates: what is printed on one, and the codes that let anyone verify it.

Pure values only; rendering (Typst) and storage live behind ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from cpd.domain.codes import CROCKFORD, grouped, random_symbols, typed_symbols
from cpd.domain.credentials import MIN_STATUS_LIST_BITS
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.ids import new_id

CODE_LENGTH = 18  # 18 symbols x 5 bits = 90 bits of randomness (at least 80 required)
CODE_GROUPS = (4, 4, 4, 4, 2)
MAX_LOGO_BYTES = 1024 * 1024
# English month names, not strftime's: the locale of the machine must not change a PDF.
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# What a template must fit: a person's first and last names (100 each), an event's title (200).
TEXT_LIMITS = {
    "holder_name": 201,
    "title": 200,
    "organization_name": 200,
    "serial_number": 40,
    "verification_url": 300,
    "registration_number": 60,
    "credit_category": 100,
    "signatory_name": 120,
    "signatory_title": 120,
}
LOGO_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/svg+xml"})


def new_verification_code() -> str:
    """An unguessable code (90 bits from ``secrets``), grouped: XXXX-XXXX-XXXX-XXXX-XX."""
    return grouped(random_symbols(CODE_LENGTH), CODE_GROUPS)


def normalise_verification_code(typed: str) -> str:
    """The canonical form of a code as a person typed it: any case, with or without dashes or
    spaces, O for 0 and I or L for 1. Raise InvalidInput (field ``code``) when it cannot be one."""
    symbols = typed_symbols(typed)
    if len(symbols) != CODE_LENGTH or any(s not in CROCKFORD for s in symbols):
        raise InvalidInput("This is not a certificate verification code.", field="code")
    return grouped(symbols, CODE_GROUPS)


@dataclass(frozen=True, slots=True)
class Logo:
    """An organization's logo as uploaded: raster (PNG, JPEG, GIF) or SVG."""

    data: bytes
    mime: str

    def __post_init__(self) -> None:
        if self.mime not in LOGO_TYPES:
            raise InvalidInput(
                f"A logo must be one of {', '.join(sorted(LOGO_TYPES))}.", field="logo"
            )
        if not self.data or len(self.data) > MAX_LOGO_BYTES:
            raise InvalidInput("A logo must be between 1 byte and 1 MiB.", field="logo")


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFields:
    """Everything a certificate template can print, already decided by the issuing service.

    Dates: a course gives ``completed_on``; an event gives ``starts_on`` and, when it spans
    several days, ``ends_on``.
    """

    holder_name: str
    title: str
    organization_name: str
    cpd_credits: Decimal
    serial_number: str
    verification_code: str
    verification_url: str
    issued_on: date
    registration_number: str | None = None
    credit_category: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    completed_on: date | None = None
    logo: Logo | None = None
    signatory_name: str | None = None
    signatory_title: str | None = None

    def __post_init__(self) -> None:
        for name, limit in TEXT_LIMITS.items():
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise InvalidInput(f"{name} must not be empty.", field=name)
            if value is not None and len(value) > limit:
                raise InvalidInput(f"{name} must be at most {limit} characters.", field=name)
        if not self.verification_url.startswith(("https://", "http://")):
            raise InvalidInput("verification_url must be an http(s) URL.", field="verification_url")
        if self.cpd_credits < 0:
            raise InvalidInput("cpd_credits must not be negative.", field="cpd_credits")
        if (self.completed_on is None) == (self.starts_on is None):
            raise InvalidInput(
                "Give either completed_on (a course) or starts_on (an event).", field="starts_on"
            )
        if self.ends_on is not None and (self.starts_on is None or self.ends_on < self.starts_on):
            raise InvalidInput("ends_on must follow starts_on.", field="ends_on")

    @property
    def dates_text(self) -> str:
        """The dates as printed: "14 March 2026", "14-16 March 2026" (an en dash), "30 March -
        2 April 2026" or "Completed 14 March 2026"."""
        if self.completed_on is not None:
            return f"Completed {long_date(self.completed_on)}"
        assert self.starts_on is not None  # __post_init__: one of the two is set
        start, end = self.starts_on, self.ends_on
        if end is None or end == start:
            return long_date(start)
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}\u2013{long_date(end)}"
        if start.year == end.year:
            return f"{start.day} {MONTHS[start.month - 1]} \u2013 {long_date(end)}"
        return f"{long_date(start)} \u2013 {long_date(end)}"

    @property
    def credits_text(self) -> str:
        """Credits without trailing zeros: 3, 1.5, 0.25."""
        return format(self.cpd_credits.normalize(), "f")

    def text_fields(self) -> dict[str, str]:
        """Every printed text by field name, for checks such as glyph coverage."""
        texts = {
            "holder_name": self.holder_name,
            "title": self.title,
            "organization_name": self.organization_name,
            "serial_number": self.serial_number,
            "verification_code": self.verification_code,
            "verification_url": self.verification_url,
            "registration_number": self.registration_number,
            "credit_category": self.credit_category,
            "signatory_name": self.signatory_name,
            "signatory_title": self.signatory_title,
        }
        return {name: value for name, value in texts.items() if value}


def long_date(day: date) -> str:
    """14 March 2026: unambiguous in every locale that reads English (no 03/04 puzzles)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def sample_fields() -> CertificateFields:
    """Realistic fields for checking a template before it is saved (every optional field set,
    the longest layout)."""
    return CertificateFields(
        holder_name="Zoë Łukasz-Ñúñez O'Brien",
        registration_number="GMC 7654321",
        title="Advanced Clinical Governance: Risk, Audit and Patient Safety in Practice",
        starts_on=date(2026, 3, 30),
        ends_on=date(2026, 4, 2),
        cpd_credits=Decimal("12.5"),
        credit_category="Category 1 (external)",
        organization_name="Royal Society of Continuing Education",
        serial_number="RSCE-2026-000123",
        verification_code="7K3M-9QX2-HZ4P-T8VW-RD",
        verification_url="https://cpd.example.org/verify/7K3M-9QX2-HZ4P-T8VW-RD",
        signatory_name="Dr Αλέξανδρος Мария Smith",
        signatory_title="Director of Education",
        issued_on=date(2026, 4, 3),
    )


# -- Issued certificates ---------------------------------------------------------------------


class CertificateStatus(StrEnum):
    ISSUED = "issued"
    REVOKED = "revoked"


class CertificateSource(StrEnum):
    EVENT = "event"  # an event registration whose attendance met the threshold
    COURSE = "course"  # a completed course enrollment


# Status-list positions: the n-th certificate of an organization takes list (n-1) // SIZE + 1
# at a scattered index. The Bitstring Status List spec asks issuers not to hand out indexes in
# issue order (a verifier could then date a credential, or tell neighbours apart); multiplying
# by an odd constant modulo a power of two is a bijection, so no two certificates share a bit.
_STATUS_SCATTER = 0x9E3779B1 % MIN_STATUS_LIST_BITS | 1


def status_position(sequence: int) -> tuple[int, int]:
    """(list number from 1, index in that list) of an organization's ``sequence``-th certificate."""
    if sequence < 1:
        raise InvalidInput("Certificate sequences start at 1.", field="sequence")
    list_offset, position = divmod(sequence - 1, MIN_STATUS_LIST_BITS)
    return list_offset + 1, position * _STATUS_SCATTER % MIN_STATUS_LIST_BITS


def serial_number(organization_slug: str, sequence: int) -> str:
    """``RSCE-000123``: the organization's initials (its slug's words) and its own count."""
    initials = "".join(word[0] for word in organization_slug.split("-") if word)[:6].upper()
    return f"{initials or 'CPD'}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class Activity:
    """What a certificate is for, as printed: the event or course and the credits it carries."""

    source: CertificateSource
    source_id: UUID
    title: str
    cpd_credits: Decimal
    credit_category: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    completed_on: date | None = None


@dataclass(frozen=True, slots=True)
class Holder:
    """Who a certificate is for: the person's account and the name printed on it."""

    user_id: UUID
    name: str
    registration_number: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("The holder's name must not be empty.", field="holder_name")
        if len(self.name) > TEXT_LIMITS["holder_name"]:
            raise InvalidInput("The holder's name is too long.", field="holder_name")


@dataclass(slots=True, kw_only=True)
class Certificate:
    """One person's certificate for one activity.

    ``sequence`` is the organization's own count (the serial number and the credential status
    position derive from it). Re-issuing keeps the id, code and serial, bumps ``version`` and
    forgets the stored PDF (``pdf_key``), which the worker renders again.
    """

    id: UUID
    organization_id: UUID
    holder: Holder
    activity: Activity
    sequence: int
    serial_number: str
    verification_code: str
    issued_at: datetime
    registration_id: UUID | None = None
    enrollment_id: UUID | None = None
    template_id: UUID | None = None
    badge_ids: tuple[UUID, ...] = ()
    issued_by: UUID | None = None  # None: issued automatically
    override_reason: str | None = None  # why staff issued it although the rules did not
    version: int = 1
    status: CertificateStatus = CertificateStatus.ISSUED
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    pdf_key: str | None = None  # the stored PDF of the current version, once rendered
    updated_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        organization_id: UUID,
        organization_slug: str,
        holder: Holder,
        activity: Activity,
        sequence: int,
        now: datetime,
        registration_id: UUID | None = None,
        enrollment_id: UUID | None = None,
        template_id: UUID | None = None,
        badge_ids: tuple[UUID, ...] = (),
        issued_by: UUID | None = None,
        override_reason: str | None = None,
    ) -> Certificate:
        if override_reason is not None:
            override_reason = _reason(override_reason, "override_reason")
        return cls(
            id=new_id(),
            organization_id=organization_id,
            holder=holder,
            activity=activity,
            sequence=sequence,
            serial_number=serial_number(organization_slug, sequence),
            verification_code=new_verification_code(),
            issued_at=now,
            registration_id=registration_id,
            enrollment_id=enrollment_id,
            template_id=template_id,
            badge_ids=badge_ids,
            issued_by=issued_by,
            override_reason=override_reason,
            updated_at=now,
        )

    @property
    def is_valid(self) -> bool:
        return self.status is CertificateStatus.ISSUED

    @property
    def status_position(self) -> tuple[int, int]:
        return status_position(self.sequence)

    @property
    def filename(self) -> str:
        return f"certificate-{self.serial_number}.pdf"

    @property
    def storage_key(self) -> str:
        """Where this version's PDF is kept: a new version never overwrites an old file."""
        return f"certificates/{self.organization_id}/{self.id}-v{self.version}.pdf"

    def revoke(self, reason: str, *, now: datetime) -> None:
        if self.status is CertificateStatus.REVOKED:
            raise Conflict("This certificate is already revoked.", field="status")
        self.revoked_reason = _reason(reason, "reason")  # checked before anything changes
        self.status = CertificateStatus.REVOKED
        self.revoked_at = now
        self.updated_at = now

    def reissue(
        self, *, now: datetime, holder: Holder | None = None, activity: Activity | None = None
    ) -> None:
        """A corrected copy (a name spelled right, a changed title): same code, next version."""
        if self.status is CertificateStatus.REVOKED:
            raise Conflict("A revoked certificate cannot be re-issued.", field="status")
        if holder is not None:
            if holder.user_id != self.holder.user_id:
                raise InvalidInput("A certificate keeps its holder.", field="holder")
            self.holder = holder
        if activity is not None:
            if (activity.source, activity.source_id) != (
                self.activity.source,
                self.activity.source_id,
            ):
                raise InvalidInput("A certificate keeps its activity.", field="activity")
            self.activity = activity
        self.version += 1
        self.pdf_key = None
        self.updated_at = now

    def rendered(self, key: str) -> None:
        self.pdf_key = key

    def fields(
        self,
        *,
        organization_name: str,
        verification_url: str,
        logo: Logo | None = None,
        signatory_name: str | None = None,
        signatory_title: str | None = None,
    ) -> CertificateFields:
        """What the template prints for the current version."""
        activity = self.activity
        return CertificateFields(
            holder_name=self.holder.name,
            registration_number=self.holder.registration_number,
            title=activity.title,
            organization_name=organization_name,
            cpd_credits=activity.cpd_credits,
            credit_category=activity.credit_category,
            serial_number=self.serial_number,
            verification_code=self.verification_code,
            verification_url=verification_url,
            issued_on=self.issued_at.date(),
            starts_on=activity.starts_on,
            ends_on=activity.ends_on,
            completed_on=activity.completed_on,
            logo=logo,
            signatory_name=signatory_name,
            signatory_title=signatory_title,
        )


def _reason(text: str, field_name: str) -> str:
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput("Give a reason.", field=field_name)
    if len(text) > 500:
        raise InvalidInput("At most 500 characters.", field=field_name)
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """What anyone holding the code may learn: only what the certificate itself prints."""

    valid: bool
    status: CertificateStatus
    holder_name: str
    title: str
    organization: str
    issued_at: datetime
    cpd_credits: Decimal
    credit_category: str | None
    serial_number: str
    verification_code: str
    version: int
    revoked_reason: str | None = None
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, certificate: Certificate, organization_name: str) -> Verification:
        return cls(
            valid=certificate.is_valid,
            status=certificate.status,
            holder_name=certificate.holder.name,
            title=certificate.activity.title,
            organization=organization_name,
            issued_at=certificate.issued_at,
            cpd_credits=certificate.activity.cpd_credits,
            credit_category=certificate.activity.credit_category,
            serial_number=certificate.serial_number,
            verification_code=certificate.verification_code,
            version=certificate.version,
            revoked_reason=certificate.revoked_reason,
            revoked_at=certificate.revoked_at,
        )
