"""Certificate design: an organization's certificate templates (Typst) and badges, for its
staff; badge images are public (Open Badges achievements point at them)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED
from msgspec import UNSET, Meta, Struct, UnsetType

from cpd.domain.accounts import Actor
from cpd.domain.certificate_design import (
    MAX_BADGE_IMAGE_BYTES,
    MAX_TEMPLATE_BYTES,
    Badge,
    BadgeImage,
    CertificateTemplate,
)
from cpd.domain.certificates import MAX_LOGO_BYTES, Logo
from cpd.domain.credentials import CredentialUrls
from cpd.domain.errors import InvalidInput
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.dependencies import container_of
from cpd.entrypoints.http.problems import documented
from cpd.entrypoints.http.schemas import set_fields
from cpd.services.certificates.design import (
    MAX_AWARDED_FOR,
    CertificateDesignService,
)

PDF = "application/pdf"
PREVIEW_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Disposition": 'inline; filename="certificate-preview.pdf"',
}
# Badge images are fetched by wallets and verifiers: cacheable, revalidated by ETag after five
# minutes (an image can be replaced under the same address). An SVG is a document that could
# carry script: served sandboxed, with no sniffing, it can only ever be a picture.
IMAGE_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}

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


class BadgePage(Struct):
    items: list[BadgeOut]
    total: int
    limit: int
    offset: int


class TemplatePage(Struct):
    items: list[TemplateOut]
    total: int
    limit: int
    offset: int


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


def _template_details(fields: dict[str, Any]) -> dict[str, Any]:
    logo = fields.get("logo")
    if isinstance(logo, LogoIn):
        fields["logo"] = Logo(decode_base64(logo.data, "logo.data"), logo.media_type)
    return fields


def _badge_details(fields: dict[str, Any]) -> dict[str, Any]:
    image = fields.get("image")
    if isinstance(image, BadgeImageIn):
        fields["image"] = BadgeImage(decode_base64(image.data, "image.data"), image.media_type)
    return fields


def decode_base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise InvalidInput(
            "This is not base64 (standard alphabet, padded, no line breaks).", field=field
        ) from None


def _base_url(request: Request[Any, Any, Any]) -> str:
    return container_of(request.app.state).settings.public_base_url


def _pdf(pdf: bytes) -> Response[bytes]:
    return Response(pdf, media_type=PDF, headers=PREVIEW_HEADERS)


class CertificateTemplatesController(Controller):
    path = "/organizations/{organization_id:uuid}/certificate-templates"
    tags = ["certificate design"]
    security = BEARER

    @get(
        "/",
        summary="The organization's certificate templates by name, without their source "
        "(org_admin, org_staff)",
        responses=documented(401, 403, 404),
    )
    async def list_templates(
        self,
        organization_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
        page: PageRequest,
    ) -> TemplatePage:
        found = await certificate_design.templates(actor, organization_id)
        shown = found[page.offset : page.offset + page.limit]
        return TemplatePage([template_out(t) for t in shown], len(found), page.limit, page.offset)

    @post(
        "/",
        summary="Upload a template: its Typst source is compiled with sample data (and its "
        "logo drawn) first; a Typst error answers 400 naming `source`, with the line",
        responses=documented(400, 401, 403, 404, 429),
    )
    async def create_template(
        self,
        organization_id: UUID,
        data: TemplateIn,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> TemplateOut:
        details = _template_details(set_fields(data))
        return template_out(
            await certificate_design.create_template(actor, organization_id, details)
        )

    @get(
        "/default/preview",
        media_type=PDF,
        summary="The product's default template as a PDF of sample data",
        responses=documented(401, 403, 404, 429),
    )
    async def preview_default(
        self, organization_id: UUID, actor: Actor, certificate_design: CertificateDesignService
    ) -> Response[bytes]:
        return _pdf(await certificate_design.preview(actor, organization_id, None))

    @get(
        "/{template_id:uuid}",
        summary="One template, with its Typst source",
        responses=documented(401, 403, 404),
    )
    async def get_template(
        self,
        organization_id: UUID,
        template_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> TemplateDetailOut:
        found = await certificate_design.template(actor, organization_id, template_id)
        return template_detail_out(found)

    @patch(
        "/{template_id:uuid}",
        summary="Change a template (a new source or logo is checked as at upload)",
        responses=documented(400, 401, 403, 404, 429),
    )
    async def update_template(
        self,
        organization_id: UUID,
        template_id: UUID,
        data: TemplatePatch,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> TemplateOut:
        changes = _template_details(set_fields(data))
        return template_out(
            await certificate_design.update_template(actor, organization_id, template_id, changes)
        )

    @delete(
        "/{template_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a template; certificates made with it keep their PDFs and use the "
        "product default when rendered again",
        responses=documented(401, 403, 404),
    )
    async def delete_template(
        self,
        organization_id: UUID,
        template_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> None:
        await certificate_design.delete_template(actor, organization_id, template_id)

    @get(
        "/{template_id:uuid}/preview",
        media_type=PDF,
        summary="The template as a PDF of sample data with its logo and signatory",
        responses=documented(400, 401, 403, 404, 429),
    )
    async def preview_template(
        self,
        organization_id: UUID,
        template_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> Response[bytes]:
        return _pdf(await certificate_design.preview(actor, organization_id, template_id))


class BadgesController(Controller):
    path = "/organizations/{organization_id:uuid}/badges"
    tags = ["certificate design"]
    security = BEARER

    @get(
        "/",
        summary="The organization's badges by name (org_admin, org_staff)",
        responses=documented(400, 401, 403, 404),
    )
    async def list_badges(
        self,
        request: Request[Any, Any, Any],
        organization_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
        page: PageRequest,
    ) -> BadgePage:
        found = await certificate_design.badges(actor, organization_id, page)
        base_url = _base_url(request)
        items = [badge_out(b, base_url) for b in found.items]
        return BadgePage(items, found.total, found.limit, found.offset)

    @post(
        "/",
        summary="Create a badge (PNG or SVG image; awarded for events and courses of this "
        "organization)",
        responses=documented(400, 401, 403, 404, 429),
    )
    async def create_badge(
        self,
        request: Request[Any, Any, Any],
        organization_id: UUID,
        data: BadgeIn,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> BadgeOut:
        details = _badge_details(set_fields(data))
        badge = await certificate_design.create_badge(actor, organization_id, details)
        return badge_out(badge, _base_url(request))

    @get("/{badge_id:uuid}", summary="One badge", responses=documented(401, 403, 404))
    async def get_badge(
        self,
        request: Request[Any, Any, Any],
        organization_id: UUID,
        badge_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> BadgeOut:
        badge = await certificate_design.badge(actor, organization_id, badge_id)
        return badge_out(badge, _base_url(request))

    @patch(
        "/{badge_id:uuid}",
        summary="Change a badge",
        responses=documented(400, 401, 403, 404, 429),
    )
    async def update_badge(
        self,
        request: Request[Any, Any, Any],
        organization_id: UUID,
        badge_id: UUID,
        data: BadgePatch,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> BadgeOut:
        changes = _badge_details(set_fields(data))
        badge = await certificate_design.update_badge(actor, organization_id, badge_id, changes)
        return badge_out(badge, _base_url(request))

    @delete(
        "/{badge_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a badge",
        responses=documented(401, 403, 404),
    )
    async def delete_badge(
        self,
        organization_id: UUID,
        badge_id: UUID,
        actor: Actor,
        certificate_design: CertificateDesignService,
    ) -> None:
        await certificate_design.delete_badge(actor, organization_id, badge_id)


class BadgeImagesController(Controller):
    path = "/badges"
    tags = ["certificate design"]

    @get(
        "/{badge_id:uuid}/image",
        media_type="image/*",  # PNG or SVG, as uploaded (the response names which)
        summary="A badge's image (public: Open Badges credentials point here)",
        responses=documented(404),
    )
    async def badge_image(
        self,
        request: Request[Any, Any, Any],
        badge_id: UUID,
        certificate_design: CertificateDesignService,
    ) -> Response[bytes]:
        data, media_type = await certificate_design.badge_image(badge_id)
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        headers = IMAGE_HEADERS | {"ETag": etag}
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(data, media_type=media_type, headers=headers)
