"""Certificates: what is printed on one, and the codes that let anyone verify it.

Pure values only; rendering (Typst) and storage live behind ports.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cpd.domain.errors import InvalidInput

# Crockford's base32: digits and letters without I, L, O, U (no look-alikes, no accidental
# words), so a code read off paper or over the phone survives being typed back.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
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
    return _grouped("".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH)))


def normalise_verification_code(typed: str) -> str:
    """The canonical form of a code as a person typed it: any case, with or without dashes or
    spaces, O for 0 and I or L for 1. Raise InvalidInput (field ``code``) when it cannot be one."""
    symbols = "".join(typed.split()).replace("-", "").upper().translate(_CONFUSABLES)
    if len(symbols) != CODE_LENGTH or any(s not in CROCKFORD for s in symbols):
        raise InvalidInput("This is not a certificate verification code.", field="code")
    return _grouped(symbols)


def _grouped(symbols: str) -> str:
    parts, start = [], 0
    for size in CODE_GROUPS:
        parts.append(symbols[start : start + size])
        start += size
    return "-".join(parts)


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
