"""Certificate design: an organization's certificate templates (Typst) and badges, for its
staff; badge images are public (Open Badges achievements point at them)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED

from cpd.domain.accounts import Actor
from cpd.domain.certificate_design import (
    BadgeImage,
)
from cpd.domain.certificates import Logo
from cpd.domain.errors import InvalidInput
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.certificates.schemas import (
    BadgeImageIn,
    BadgeIn,
    BadgeOut,
    BadgePage,
    BadgePatch,
    LogoIn,
    TemplateDetailOut,
    TemplateIn,
    TemplateOut,
    TemplatePage,
    TemplatePatch,
    badge_out,
    template_detail_out,
    template_out,
)
from cpd.entrypoints.http.common import Page, set_fields
from cpd.entrypoints.http.dependencies import container_of
from cpd.entrypoints.http.problems import documented
from cpd.services.certificates.design import (
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
        found = await certificate_design.templates(actor, organization_id, page)
        return Page.of(found, template_out)

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
        return Page.of(found, lambda badge: badge_out(badge, base_url))

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
