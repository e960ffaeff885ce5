"""Certificate designs: an organization's Typst templates and its Open Badges badges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from cpd.domain.certificates import Logo
from cpd.domain.errors import InvalidInput
from cpd.domain.ids import new_id
from cpd.domain.text import checked_text

MAX_TEMPLATE_BYTES = 512 * 1024
# Templates may import nothing from outside: no package downloads at render time (the worker
# has no network, and output must not change when a package does).
_REMOTE_IMPORT = "@preview/"


@dataclass(slots=True, kw_only=True)
class CertificateTemplate:
    """An organization's certificate design: Typst source defining ``certificate(c)``, plus
    the logo and signatory it prints. One template per organization may be the default."""

    id: UUID
    organization_id: UUID
    name: str
    source: bytes
    created_at: datetime
    updated_at: datetime
    logo: Logo | None = None
    signatory_name: str | None = None
    signatory_title: str | None = None
    is_default: bool = False

    @classmethod
    def create(
        cls, *, organization_id: UUID, now: datetime, details: dict[str, Any]
    ) -> CertificateTemplate:
        template = cls(
            id=new_id(),
            organization_id=organization_id,
            name="",
            source=b"",
            created_at=now,
            updated_at=now,
        )
        template._apply(details)
        if not template.name:
            raise InvalidInput("Must not be blank.", field="name")
        if not template.source:
            raise InvalidInput("Give the template's Typst source.", field="source")
        return template

    def update(self, changes: dict[str, Any], *, now: datetime) -> None:
        self._apply(changes)
        self.updated_at = now

    def _apply(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if name == "name":
                self.name = checked_text(value, "name", 200)
            elif name == "source":
                self.source = check_template_source(value)
            elif name == "logo":
                if value is not None and not isinstance(value, Logo):
                    raise InvalidInput("Give the logo as an image.", field="logo")
                self.logo = value
            elif name in ("signatory_name", "signatory_title"):
                setattr(self, name, None if value is None else checked_text(value, name, 120))
            elif name == "is_default":
                self.is_default = bool(value)
            else:
                raise InvalidInput("Unknown field.", field=name)


def check_template_source(source: object) -> bytes:
    """UTF-8 Typst source within the size limit that imports no remote packages."""
    data = source.encode() if isinstance(source, str) else source
    if not isinstance(data, bytes) or not data.strip():
        raise InvalidInput("Give the template's Typst source.", field="source")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise InvalidInput("A template must be at most 512 KiB.", field="source")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise InvalidInput("A template must be UTF-8 text.", field="source") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if _REMOTE_IMPORT in line:
            raise InvalidInput(
                f"line {number}: templates cannot import packages (@preview/...); "
                "everything must be in the template itself.",
                field="source",
            )
    return data


BADGE_IMAGE_TYPES = frozenset({"image/png", "image/svg+xml"})  # what Open Badges allows
MAX_BADGE_IMAGE_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class BadgeImage:
    data: bytes
    mime: str

    def __post_init__(self) -> None:
        if self.mime not in BADGE_IMAGE_TYPES:
            raise InvalidInput("A badge image is PNG or SVG.", field="image")
        if not self.data or len(self.data) > MAX_BADGE_IMAGE_BYTES:
            raise InvalidInput("A badge image must be between 1 byte and 512 KiB.", field="image")


@dataclass(slots=True, kw_only=True)
class Badge:
    """An organization's badge, awarded with the certificates of the events and courses it
    lists in ``awarded_for``; it becomes the Open Badges ``Achievement`` of their credentials."""

    id: UUID
    organization_id: UUID
    name: str
    description: str
    criteria: str
    created_at: datetime
    updated_at: datetime
    image: BadgeImage | None = None
    awarded_for: tuple[UUID, ...] = field(default_factory=tuple)  # event and course ids

    @classmethod
    def create(cls, *, organization_id: UUID, now: datetime, details: dict[str, Any]) -> Badge:
        badge = cls(
            id=new_id(),
            organization_id=organization_id,
            name="",
            description="",
            criteria="",
            created_at=now,
            updated_at=now,
        )
        badge._apply(details)
        for required in ("name", "description", "criteria"):
            if not getattr(badge, required):
                raise InvalidInput("Must not be blank.", field=required)
        return badge

    def update(self, changes: dict[str, Any], *, now: datetime) -> None:
        self._apply(changes)
        self.updated_at = now

    def _apply(self, changes: dict[str, Any]) -> None:
        limits = {"name": 200, "description": 2000, "criteria": 5000}
        for name, value in changes.items():
            if name in limits:
                multiline = name != "name"  # a badge's description and criteria are prose
                setattr(self, name, checked_text(value, name, limits[name], multiline=multiline))
            elif name == "image":
                if value is not None and not isinstance(value, BadgeImage):
                    raise InvalidInput("Give the image as a PNG or SVG.", field="image")
                self.image = value
            elif name == "awarded_for":
                if isinstance(value, str | bytes) or not all(isinstance(v, UUID) for v in value):
                    raise InvalidInput("Give a list of event and course ids.", field=name)
                self.awarded_for = tuple(dict.fromkeys(value))
            else:
                raise InvalidInput("Unknown field.", field=name)
