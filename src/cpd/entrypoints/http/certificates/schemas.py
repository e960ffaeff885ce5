"""Certificates over HTTP: certificates, their verification and jobs; and certificate
design (templates, badges), whose files travel as base64 text."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cpd.domain.certificate_design import (
    MAX_BADGE_IMAGE_BYTES,
    MAX_TEMPLATE_BYTES,
    Badge,
    CertificateTemplate,
)
from cpd.domain.certificates import (
    MAX_LOGO_BYTES,
    Certificate,
    CertificateSource,
    CertificateStatus,
)
from cpd.domain.credentials import CredentialUrls
from cpd.domain.jobs import Job, JobStatus
from cpd.entrypoints.http.common import Page, component
from cpd.entrypoints.http.jobs import job_url
from cpd.services.certificates.design import MAX_AWARDED_FOR
from cpd.services.certificates.issuing import CertificateService

Reason = Annotated[str, Meta(min_length=1, max_length=500, examples=["Issued in error"])]


class CertificateOut(Struct):
    id: UUID
    organization_id: UUID
    serial_number: str
    verification_code: str
    verification_url: str
    status: CertificateStatus
    version: int
    holder_id: UUID
    holder_name: str
    registration_number: str | None
    source: CertificateSource
    source_id: UUID
    title: str
    cpd_credits: Decimal
    credit_category: str | None
    starts_on: date | None
    ends_on: date | None
    completed_on: date | None
    issued_at: datetime
    issued_by: UUID | None
    override_reason: str | None
    revoked_at: datetime | None
    revoked_reason: str | None
    badge_ids: list[UUID]
    pdf_ready: bool
    download_url: str


class VerificationOut(Struct, omit_defaults=True):
    """Only what the certificate itself prints: no email, no account, nothing else."""

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


class IssueIn(Struct, forbid_unknown_fields=True):
    source: CertificateSource
    source_id: UUID
    user_id: UUID
    override_reason: Reason | None = None


class RevokeIn(Struct, forbid_unknown_fields=True):
    reason: Reason


class ReissueIn(Struct, forbid_unknown_fields=True):
    holder_name: Annotated[str, Meta(min_length=1, max_length=201, pattern=r"\S")] | None = None


class JobOut(Struct):
    id: UUID
    kind: str
    status: JobStatus
    subject_id: UUID
    total: int
    done: int
    failed: int
    percent: int
    errors: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str


def certificate_out(certificate: Certificate, service: CertificateService) -> CertificateOut:
    holder, activity = certificate.holder, certificate.activity
    return CertificateOut(
        id=certificate.id,
        organization_id=certificate.organization_id,
        serial_number=certificate.serial_number,
        verification_code=certificate.verification_code,
        verification_url=service.verification_url(certificate.verification_code),
        status=certificate.status,
        version=certificate.version,
        holder_id=holder.user_id,
        holder_name=holder.name,
        registration_number=holder.registration_number,
        source=activity.source,
        source_id=activity.source_id,
        title=activity.title,
        cpd_credits=activity.cpd_credits,
        credit_category=activity.credit_category,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        completed_on=activity.completed_on,
        issued_at=certificate.issued_at,
        issued_by=certificate.issued_by,
        override_reason=certificate.override_reason,
        revoked_at=certificate.revoked_at,
        revoked_reason=certificate.revoked_reason,
        badge_ids=list(certificate.badge_ids),
        pdf_ready=certificate.pdf_key is not None,
        download_url=f"/api/v1/certificates/{certificate.id}/download",
    )


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        subject_id=job.subject_id,
        total=job.total,
        done=job.done,
        failed=job.failed,
        percent=job.percent,
        errors=list(job.errors),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=job_url(job.id),
    )


# Design

TemplateName = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
TemplateSource = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TEMPLATE_BYTES,
        description="Typst source that defines `certificate(c)` (at most 512 KiB of UTF-8); "
        "it is compiled with sample data before it is saved.",
    ),
]
Signatory = Annotated[str, Meta(min_length=1, max_length=120)]
LogoType = Literal["image/png", "image/jpeg", "image/gif", "image/svg+xml"]
BadgeImageType = Literal["image/png", "image/svg+xml"]
BadgeName = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
BadgeDescription = Annotated[str, Meta(min_length=1, max_length=2000, pattern=r"\S")]
BadgeCriteria = Annotated[str, Meta(min_length=1, max_length=5000, pattern=r"\S")]
AwardedFor = Annotated[
    list[UUID],
    Meta(
        max_length=MAX_AWARDED_FOR,
        description="Events and courses of this organization whose certificates carry the badge",
    ),
]


# Files travel as base64 text: at most as long as the base64 of the largest file allowed.
LogoData = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=-(-MAX_LOGO_BYTES // 3) * 4,
        description="Base64 (standard alphabet, padded) of at most 1 MiB",
    ),
]
BadgeImageData = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=-(-MAX_BADGE_IMAGE_BYTES // 3) * 4,
        description="Base64 (standard alphabet, padded) of at most 512 KiB",
    ),
]


class LogoIn(Struct):
    media_type: LogoType
    data: LogoData


class BadgeImageIn(Struct):
    media_type: BadgeImageType
    data: BadgeImageData


class TemplateIn(Struct, forbid_unknown_fields=True):
    name: TemplateName
    source: TemplateSource
    logo: LogoIn | None = None
    signatory_name: Signatory | None = None
    signatory_title: Signatory | None = None
    is_default: bool = False


class TemplatePatch(Struct, forbid_unknown_fields=True):
    """Absent fields stay as they are; ``null`` removes the logo or a signatory line."""

    name: TemplateName | UnsetType = UNSET
    source: TemplateSource | UnsetType = UNSET
    logo: LogoIn | UnsetType | None = UNSET
    signatory_name: Signatory | UnsetType | None = UNSET
    signatory_title: Signatory | UnsetType | None = UNSET
    is_default: bool | UnsetType = UNSET


class ImageOut(Struct):
    media_type: str
    size: int


class TemplateOut(Struct):
    """A template without its source (``source_size`` bytes): GET it alone for the source."""

    id: UUID
    organization_id: UUID
    name: str
    source_size: int
    logo: ImageOut | None
    signatory_name: str | None
    signatory_title: str | None
    is_default: bool
    created_at: datetime
    updated_at: datetime


class TemplateDetailOut(TemplateOut):
    source: str


class BadgeIn(Struct, forbid_unknown_fields=True):
    name: BadgeName
    description: BadgeDescription
    criteria: BadgeCriteria
    image: BadgeImageIn | None = None
    awarded_for: AwardedFor = []


class BadgePatch(Struct, forbid_unknown_fields=True):
    """Absent fields stay as they are; ``image: null`` removes the image."""

    name: BadgeName | UnsetType = UNSET
    description: BadgeDescription | UnsetType = UNSET
    criteria: BadgeCriteria | UnsetType = UNSET
    image: BadgeImageIn | UnsetType | None = UNSET
    awarded_for: AwardedFor | UnsetType = UNSET


class BadgeOut(Struct):
    id: UUID
    organization_id: UUID
    name: str
    description: str
    criteria: str
    image: ImageOut | None
    image_url: str | None  # public, absolute: what Open Badges credentials name
    awarded_for: list[UUID]
    created_at: datetime
    updated_at: datetime


def template_out(template: CertificateTemplate) -> TemplateOut:
    return TemplateOut(**_template_fields(template))


def template_detail_out(template: CertificateTemplate) -> TemplateDetailOut:
    # check_template_source let only UTF-8 in
    return TemplateDetailOut(**_template_fields(template), source=template.source.decode())


def _template_fields(template: CertificateTemplate) -> dict[str, Any]:
    logo = template.logo
    return {
        "id": template.id,
        "organization_id": template.organization_id,
        "name": template.name,
        "source_size": len(template.source),
        "logo": None if logo is None else ImageOut(logo.mime, len(logo.data)),
        "signatory_name": template.signatory_name,
        "signatory_title": template.signatory_title,
        "is_default": template.is_default,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def badge_out(badge: Badge, public_base_url: str) -> BadgeOut:
    image = badge.image
    return BadgeOut(
        id=badge.id,
        organization_id=badge.organization_id,
        name=badge.name,
        description=badge.description,
        criteria=badge.criteria,
        image=None if image is None else ImageOut(image.mime, len(image.data)),
        image_url=None if image is None else CredentialUrls(public_base_url).badge_image(badge.id),
        awarded_for=list(badge.awarded_for),
        created_at=badge.created_at,
        updated_at=badge.updated_at,
    )


CertificatePage = Annotated[Page[CertificateOut], component("CertificatePage")]
BadgePage = Annotated[Page[BadgeOut], component("BadgePage")]
TemplatePage = Annotated[Page[TemplateOut], component("TemplatePage")]
