"""Certificate design below HTTP: when templates are compiled, how logos are checked, and the
rules the API's schemas repeat from the domain."""

from __future__ import annotations

import asyncio
import struct
import typing
import zlib
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import pytest

from cpd.bootstrap import Container
from cpd.domain.accounts import Actor, Organization, Role
from cpd.domain.certificate_design import BADGE_IMAGE_TYPES, CertificateTemplate
from cpd.domain.certificates import LOGO_TYPES, CertificateFields, Logo, sample_fields
from cpd.domain.errors import InvalidInput, NotFound, PermissionDenied, RateLimited
from cpd.domain.ids import new_id
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.certificates.schemas import BadgeImageType, LogoType
from cpd.services.certificates.design import CertificateDesignService, preview_fields
from tests.unit.fakes import actor_of, join, register

SOURCE = b"#let certificate(c) = [#c.holder_name]"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def png(width: int = 8, height: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    rows = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()


@dataclass
class RecordingRenderer:
    """The renderer port, recording what was compiled; ``refuse`` makes every check fail."""

    calls: list[str] = field(default_factory=list)
    refuse: bool = False
    gate: asyncio.Event | None = None  # set: checks wait for it, announcing themselves
    entered: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    async def render(self, template: bytes | None, fields: CertificateFields) -> bytes:
        self.calls.append("render")
        return b"%PDF"

    async def render_many(
        self, template: bytes | None, many: Sequence[CertificateFields]
    ) -> list[bytes]:
        return [await self.render(template, one) for one in many]

    async def check_template(
        self, source: bytes, samples: Sequence[tuple[str, CertificateFields]] = ()
    ) -> None:
        self.calls.append(f"check_template x{len(samples) or 1}")
        if self.gate is not None:
            self.entered.put_nowait(source)
            await self.gate.wait()
        if self.refuse:
            raise InvalidInput("line 1, column 1: nope", field="source")

    async def check_logo(self, logo: Logo) -> None:
        self.calls.append("check_logo")


@dataclass
class Studio:
    service: CertificateDesignService
    renderer: RecordingRenderer
    org: Organization
    admin: Actor
    member: Actor
    root: Actor


@pytest.fixture
async def studio(container: Container) -> Studio:
    admin = actor_of(await register(container, "admin@example.com"))
    member_user = await register(container, "member@example.com")
    member = actor_of(member_user)
    root = await container.accounts.create_superuser(
        email="root@example.com", password="root password!", first_name="Root", last_name="Rook"
    )
    org = await container.organizations.create(admin, name="Acme Training")
    await join(
        container.organizations, container.outbox_store, admin, org.id, member_user, Role.MEMBER
    )
    renderer = RecordingRenderer()
    service = CertificateDesignService(container.uow, clock=container.clock, renderer=renderer)
    return Studio(service, renderer, org, admin, member, actor_of(root))


async def test_a_template_is_saved_only_once_it_compiled(studio: Studio) -> None:
    studio.renderer.refuse = True
    with pytest.raises(InvalidInput):
        await studio.service.create_template(
            studio.admin, studio.org.id, {"name": "T", "source": SOURCE}
        )
    assert (await studio.service.templates(studio.admin, studio.org.id, PageRequest())).items == []

    studio.renderer.refuse = False
    studio.renderer.calls.clear()
    logo = Logo(PNG, "image/png")
    template = await studio.service.create_template(
        studio.admin, studio.org.id, {"name": "T", "source": SOURCE, "logo": logo}
    )
    # the logo, then one check of: the sample data, its own logo and signatory, the optional
    # fields left out
    assert studio.renderer.calls == ["check_logo", "check_template x3"]

    studio.renderer.calls.clear()
    await studio.service.update_template(
        studio.admin, studio.org.id, template.id, {"name": "Renamed", "is_default": True}
    )
    assert studio.renderer.calls == []  # nothing printed changed: nothing to compile
    await studio.service.update_template(
        studio.admin, studio.org.id, template.id, {"signatory_name": "Dr Who"}
    )
    assert studio.renderer.calls == ["check_template x3"]  # the logo was checked before


async def test_members_may_not_and_a_missing_organization_is_not_found(studio: Studio) -> None:
    with pytest.raises(PermissionDenied):
        await studio.service.templates(studio.member, studio.org.id, PageRequest())
    with pytest.raises(PermissionDenied):
        await studio.service.badges(studio.member, studio.org.id, PageRequest())
    # A superadmin passes the staff rule everywhere, but not into an organization that is not
    with pytest.raises(NotFound, match="Organization"):
        await studio.service.create_badge(
            studio.root, new_id(), {"name": "B", "description": "D", "criteria": "C"}
        )
    assert (await studio.service.templates(studio.root, studio.org.id, PageRequest())).items == []


@pytest.mark.parametrize("awarded_for", ["not a list", [str(new_id())], [new_id()]])
async def test_awarded_for_must_name_the_organization_s_events_or_courses(
    studio: Studio, awarded_for: object
) -> None:
    details = {"name": "B", "description": "D", "criteria": "C", "awarded_for": awarded_for}
    with pytest.raises(InvalidInput) as error:
        await studio.service.create_badge(studio.admin, studio.org.id, details)
    assert error.value.field == "awarded_for"


def test_previews_print_the_template_s_own_logo_and_signatory() -> None:
    assert preview_fields(None) == sample_fields()
    logo = Logo(PNG, "image/png")
    template = CertificateTemplate.create(
        organization_id=new_id(),
        now=NOW,
        details={"name": "T", "source": SOURCE, "logo": logo, "signatory_name": "Dr Who"},
    )
    looks = preview_fields(template)
    assert (looks.logo, looks.signatory_name, looks.signatory_title) == (logo, "Dr Who", None)
    assert looks.holder_name == sample_fields().holder_name


def test_the_api_offers_the_image_types_the_domain_accepts() -> None:
    assert set(typing.get_args(LogoType)) == LOGO_TYPES
    assert set(typing.get_args(BadgeImageType)) == BADGE_IMAGE_TYPES


async def test_template_checks_are_capped_per_organization_and_in_all(
    studio: Studio, container: Container
) -> None:
    """One check at a time per organization and two in all (the defaults): a check held open
    makes the next one of its organization, or a third anywhere, answer RateLimited at once
    instead of queueing behind it."""
    studio.renderer.gate = gate = asyncio.Event()
    other_admin = actor_of(await register(container, "other@example.com"))
    other = await container.organizations.create(other_admin, name="Other Training")
    third_admin = actor_of(await register(container, "third@example.com"))
    third = await container.organizations.create(third_admin, name="Third Training")

    def upload(admin: Actor, org_id: UUID, name: str) -> Awaitable[object]:
        details = {"name": name, "source": SOURCE}
        return asyncio.wait_for(studio.service.create_template(admin, org_id, details), 5)

    first = asyncio.ensure_future(upload(studio.admin, studio.org.id, "First"))
    await asyncio.wait_for(studio.renderer.entered.get(), 5)
    with pytest.raises(RateLimited) as busy:
        await upload(studio.admin, studio.org.id, "Second")
    assert busy.value.retry_after > 0
    with pytest.raises(RateLimited):  # a preview compiles the template too
        await asyncio.wait_for(studio.service.preview(studio.admin, studio.org.id, None), 5)
    elsewhere = asyncio.ensure_future(upload(other_admin, other.id, "Elsewhere"))
    await asyncio.wait_for(studio.renderer.entered.get(), 5)
    with pytest.raises(RateLimited, match="Too many templates"):
        await upload(third_admin, third.id, "Third")

    gate.set()
    await first
    await elsewhere
    await upload(studio.admin, studio.org.id, "Now it may")
    await upload(third_admin, third.id, "And so may this")
    found = await studio.service.templates(studio.admin, studio.org.id, PageRequest())
    names = [t.name for t in found.items]
    assert names == ["First", "Now it may"]
