"""Certificate design: an organization's certificate templates and badges (staff only).

A template is compiled with sample data before it is saved, so a Typst error comes back at
upload (400 naming ``source``, with its line) instead of when certificates are issued. The
compiles run outside any transaction: a slow template never holds a database connection.

Badge images are public (``badge_image``): Open Badges credentials name them as their
achievement's image, and anyone who holds a credential must be able to fetch it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from cpd.domain.accounts import Actor
from cpd.domain.certificate_design import Badge, BadgeImage, CertificateTemplate
from cpd.domain.certificates import CertificateFields, Logo, sample_fields
from cpd.domain.errors import Conflict, InvalidInput, NotFound, RateLimited
from cpd.domain.pages import Page, PageRequest
from cpd.ports.certificates import CertificateRenderer
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.access import require_staff

ORGANIZATION_NOT_FOUND = "Organization not found."
TEMPLATE_NOT_FOUND = "Certificate template not found."
BADGE_NOT_FOUND = "Badge not found."
MAX_AWARDED_FOR = 100
# What decides how a template's certificates look: a change to any of them is checked again.
_LOOKS = ("source", "logo", "signatory_name", "signatory_title")
CHECK_RETRY_SECONDS = 5  # a check takes milliseconds; this is the time to let a burst pass


class CheckSlots:
    """At most ``at_once`` template compiles for staff (upload checks, previews, logo and
    image checks) at a time in this process, ``per_organization`` of them for one
    organization; beyond that RateLimited at once: a queue would let one organization's slow
    templates hold everyone's uploads and the processes that compile them."""

    def __init__(self, *, at_once: int = 2, per_organization: int = 1) -> None:
        self._at_once = at_once
        self._per_organization = per_organization
        self._held: Counter[UUID] = Counter()

    @contextmanager
    def hold(self, organization_id: UUID) -> Iterator[None]:
        if self._held[organization_id] >= self._per_organization:
            raise RateLimited(
                "This organization's templates are already being compiled; try again shortly.",
                retry_after=CHECK_RETRY_SECONDS,
            )
        if self._held.total() >= self._at_once:
            raise RateLimited(
                "Too many templates are being compiled right now; try again shortly.",
                retry_after=CHECK_RETRY_SECONDS,
            )
        self._held[organization_id] += 1
        try:
            yield
        finally:
            self._held[organization_id] -= 1
            if not self._held[organization_id]:
                del self._held[organization_id]


def preview_fields(template: CertificateTemplate | None) -> CertificateFields:
    """Sample fields with the template's own logo and signatory: its certificates' look.
    ``None`` (the product default) prints the sample signatory and no logo."""
    if template is None:
        return sample_fields()
    return replace(
        sample_fields(),
        logo=template.logo,
        signatory_name=template.signatory_name,
        signatory_title=template.signatory_title,
    )


def sparse_fields(fields: CertificateFields) -> CertificateFields:
    """The same certificate with every optional text left out, for a course (one date): a
    template that assumes a registration number or an event's dates fails here."""
    return replace(
        fields,
        registration_number=None,
        credit_category=None,
        starts_on=None,
        ends_on=None,
        completed_on=date(2026, 4, 2),
    )


class CertificateDesignService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        renderer: CertificateRenderer,
        checks: CheckSlots | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._renderer = renderer
        self.checks = checks or CheckSlots()

    # -- Templates -----------------------------------------------------------------------------

    async def create_template(
        self, actor: Actor, organization_id: UUID, details: dict[str, Any]
    ) -> CertificateTemplate:
        """Save a template once it compiles with sample data (and draws its logo). With
        ``is_default`` it becomes the organization's default and the previous one stops being."""
        async with self._uow() as uow:  # who may, before any compiling
            await _staff(uow, actor, organization_id)
        template = CertificateTemplate.create(
            organization_id=organization_id, now=self._clock.now(), details=details
        )
        await self._check(template, new_logo=template.logo is not None)
        async with self._uow() as uow:
            await _staff(uow, actor, organization_id)
            await uow.certificate_templates.add(template)
            await uow.commit()
        return template

    async def templates(
        self, actor: Actor, organization_id: UUID, page: PageRequest
    ) -> Page[CertificateTemplate]:
        """The organization's templates by name."""
        async with self._uow() as uow:
            await _staff(uow, actor, organization_id)
            return await uow.certificate_templates.list_for_organization(organization_id, page)

    async def template(
        self, actor: Actor, organization_id: UUID, template_id: UUID
    ) -> CertificateTemplate:
        async with self._uow() as uow:
            return await _template(uow, actor, organization_id, template_id)

    async def update_template(
        self, actor: Actor, organization_id: UUID, template_id: UUID, changes: dict[str, Any]
    ) -> CertificateTemplate:
        """Change a template; a new source, logo or signatory is checked as at upload."""
        async with self._uow() as uow:
            checked = await _template(uow, actor, organization_id, template_id)
        before = _looks(checked)
        checked.update(changes, now=self._clock.now())
        new_logo = changes.get("logo") is not None
        if _looks(checked) != before:
            await self._check(checked, new_logo=new_logo)
        async with self._uow() as uow:
            template = await _template(uow, actor, organization_id, template_id)
            template.update(changes, now=self._clock.now())
            if _looks(template) != _looks(checked):  # changed by someone else meanwhile
                await self._check(template, new_logo=new_logo)
            await uow.certificate_templates.save(template)
            await uow.commit()
        return template

    async def delete_template(self, actor: Actor, organization_id: UUID, template_id: UUID) -> None:
        """Delete a template, even one that issued certificates were made with: they keep
        their stored PDFs, lose the link (the foreign key sets it NULL) and, when rendered
        again (a re-issue), use the product default template."""
        async with self._uow() as uow:
            await _template(uow, actor, organization_id, template_id)
            await uow.certificate_templates.delete(template_id)
            await uow.commit()

    async def preview(self, actor: Actor, organization_id: UUID, template_id: UUID | None) -> bytes:
        """The template (``None``: the product default) as a one-page PDF of sample data with
        its logo and signatory."""
        async with self._uow() as uow:
            if template_id is None:
                await _staff(uow, actor, organization_id)
                template = None
            else:
                template = await _template(uow, actor, organization_id, template_id)
        source = None if template is None else template.source
        with self.checks.hold(organization_id):
            return await self._renderer.render(source, preview_fields(template))

    async def _check(self, template: CertificateTemplate, *, new_logo: bool) -> None:
        """Compile as certificates will be: the port's sample check (every field), then with
        the template's logo and signatory, then with the optional fields left out."""
        looks = preview_fields(template)
        with self.checks.hold(template.organization_id):
            if new_logo and template.logo is not None:
                await self._renderer.check_logo(template.logo)
            await self._renderer.check_template(
                template.source,
                [
                    ("", sample_fields()),
                    ("", looks),
                    (
                        "with a certificate for a course that has no registration number or "
                        "credit category",
                        sparse_fields(looks),
                    ),
                ],
            )

    # -- Badges --------------------------------------------------------------------------------

    async def create_badge(
        self, actor: Actor, organization_id: UUID, details: dict[str, Any]
    ) -> Badge:
        """A badge; ``awarded_for`` must list events or courses of this organization, and an
        image must be a readable PNG or SVG."""
        await self._check_image(actor, organization_id, details)
        async with self._uow() as uow:
            await _staff(uow, actor, organization_id)
            await _check_awarded_for(uow, organization_id, details)
            badge = Badge.create(
                organization_id=organization_id, now=self._clock.now(), details=details
            )
            await uow.badges.add(badge)
            await uow.commit()
        return badge

    async def badges(self, actor: Actor, organization_id: UUID, page: PageRequest) -> Page[Badge]:
        async with self._uow() as uow:
            await _staff(uow, actor, organization_id)
            return await uow.badges.list_for_organization(organization_id, page)

    async def badge(self, actor: Actor, organization_id: UUID, badge_id: UUID) -> Badge:
        async with self._uow() as uow:
            return await _badge(uow, actor, organization_id, badge_id)

    async def update_badge(
        self, actor: Actor, organization_id: UUID, badge_id: UUID, changes: dict[str, Any]
    ) -> Badge:
        await self._check_image(actor, organization_id, changes)
        async with self._uow() as uow:
            badge = await _badge(uow, actor, organization_id, badge_id)
            await _check_awarded_for(uow, organization_id, changes)
            badge.update(changes, now=self._clock.now())
            await uow.badges.save(badge)
            await uow.commit()
        return badge

    async def delete_badge(self, actor: Actor, organization_id: UUID, badge_id: UUID) -> None:
        """Only a badge never awarded: issued credentials name it (and its image) for good."""
        async with self._uow() as uow:
            await _badge(uow, actor, organization_id, badge_id)
            if await uow.certificates.badge_awarded(organization_id, badge_id):
                raise Conflict(
                    "This badge was awarded with certificates whose credentials name it, so it "
                    "stays; to stop awarding it, empty its awarded_for.",
                    field="badge_id",
                )
            await uow.badges.delete(badge_id)
            await uow.commit()

    async def _check_image(
        self, actor: Actor, organization_id: UUID, details: dict[str, Any]
    ) -> None:
        """Decode a new badge image as the renderer decodes logos (outside any transaction,
        for staff only): a broken one would show broken in every wallet that displays it."""
        image = details.get("image")
        if not isinstance(image, BadgeImage):
            return
        async with self._uow() as uow:
            await _staff(uow, actor, organization_id)
        try:
            with self.checks.hold(organization_id):
                await self._renderer.check_logo(Logo(image.data, image.mime))
        except InvalidInput as error:
            raise InvalidInput(error.detail.replace("logo", "image"), field="image") from None

    async def badge_image(self, badge_id: UUID) -> tuple[bytes, str]:
        """(bytes, media type) of a badge's image, for anyone: nothing else of the badge."""
        async with self._uow() as uow:
            badge = await uow.badges.get(badge_id)
        if badge is None or badge.image is None:
            raise NotFound("This badge has no image.")
        return badge.image.data, badge.image.mime


def _looks(template: CertificateTemplate) -> tuple[object, ...]:
    return tuple(getattr(template, name) for name in _LOOKS)


async def _staff(uow: UnitOfWork, actor: Actor, organization_id: UUID) -> None:
    """Staff of the organization pass, members get 403, anyone else 404."""
    membership = await require_staff(uow, actor, organization_id, not_found=ORGANIZATION_NOT_FOUND)
    # A superadmin passes without a membership: the organization must still exist.
    if membership is None and await uow.organizations.get(organization_id) is None:
        raise NotFound(ORGANIZATION_NOT_FOUND)


async def _template(
    uow: UnitOfWork, actor: Actor, organization_id: UUID, template_id: UUID
) -> CertificateTemplate:
    await _staff(uow, actor, organization_id)
    template = await uow.certificate_templates.get(template_id)
    if template is None or template.organization_id != organization_id:  # another tenant's
        raise NotFound(TEMPLATE_NOT_FOUND)
    return template


async def _badge(uow: UnitOfWork, actor: Actor, organization_id: UUID, badge_id: UUID) -> Badge:
    await _staff(uow, actor, organization_id)
    badge = await uow.badges.get(badge_id)
    if badge is None or badge.organization_id != organization_id:  # another tenant's
        raise NotFound(BADGE_NOT_FOUND)
    return badge


async def _check_awarded_for(
    uow: UnitOfWork, organization_id: UUID, details: dict[str, Any]
) -> None:
    """``awarded_for`` (when given) names events and courses of this organization only; one
    of another organization is refused like one that does not exist (it tells nothing)."""
    if "awarded_for" not in details:
        return
    ids = details["awarded_for"]
    if not isinstance(ids, Sequence) or isinstance(ids, str | bytes):
        raise InvalidInput("Give a list of event and course ids.", field="awarded_for")
    if len(ids) > MAX_AWARDED_FOR:
        raise InvalidInput(
            f"A badge is awarded for at most {MAX_AWARDED_FOR} events and courses.",
            field="awarded_for",
        )
    if not all(isinstance(source_id, UUID) for source_id in ids):
        raise InvalidInput("Give a list of event and course ids.", field="awarded_for")
    for source_id in dict.fromkeys(ids):
        if await _owner(uow, source_id) != organization_id:
            raise InvalidInput(
                f"{source_id} is not an event or course of this organization.",
                field="awarded_for",
            )


async def _owner(uow: UnitOfWork, source_id: UUID) -> UUID | None:
    event = await uow.events.get(source_id)
    if event is not None:
        return event.organization_id
    course = await uow.courses.get(source_id)
    return None if course is None else course.organization_id
