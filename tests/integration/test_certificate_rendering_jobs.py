"""Issuing certificates with the real Typst renderer: a template that breaks on one name, and
a name no font can show (moved from the unit suite, which renders with the fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.support.settings import make_settings
from tests.unit.certificates.test_certificate_service import (
    PAGE,
    START,
    World,
    complete,
    jobs,
    world_on,
)

from cpd.domain.certificate_design import CertificateTemplate
from cpd.domain.jobs import JobStatus


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async for built in world_on(make_settings(certificate_renderer="typst")):
        yield built


async def test_a_certificate_that_cannot_render_fails_alone(world: World) -> None:
    """A template that breaks on one name: that certificate is reported on the job with its
    serial, the others are rendered and emailed."""
    source = b"""#let certificate(c) = {
  if c.holder_name.contains("Crash") { panic("this template cannot print " + c.holder_name) }
  [#c.holder_name]
}"""
    template = CertificateTemplate.create(
        organization_id=world.organization_id,
        now=world.clock.now(),
        details={"name": "Fragile", "source": source, "is_default": True},
    )
    async with world.app.uow() as uow:
        await uow.certificate_templates.add(template)
        await uow.commit()
    await complete(world)
    (job,) = await jobs(world)
    assert (job.status, job.total, job.done, job.failed) == (JobStatus.FAILED, 3, 2, 1)
    assert job.errors[0].startswith("RSOE-000002: ")
    assert "cannot print Ana Crash" in job.errors[0]
    assert sorted(m.to for m in world.mail) == ["p1@example.org", "p3@example.org"]
    page = await world.app.certificates.for_event(world.owner, world.event_id, PAGE)
    assert [c.pdf_key is not None for c in page.items] == [True, False, True]

    # Fix the template and run the job again: only the one left over is rendered.
    async with world.app.uow() as uow:
        template.update({"source": b"#let certificate(c) = [#c.holder_name]"}, now=START)
        await uow.certificate_templates.save(template)
        await uow.commit()
    again = await world.app.certificates.issue_for_event(world.owner, world.event_id)
    await world.app.relay.drain()
    rerun = next(j for j in await jobs(world) if j.id == again.id)
    assert (rerun.status, rerun.total, rerun.done) == (JobStatus.COMPLETED, 1, 1)
    assert sorted(m.to for m in world.mail)[1] == "p2@example.org"


async def test_a_name_no_font_has_is_still_certified(world: World) -> None:
    await complete(world)
    page = await world.app.certificates.mine(world.people[2], PAGE)
    (certificate,) = page.items
    assert certificate.holder.name == "李 小龍"
    _, pdf = await world.app.certificates.download(world.people[2], certificate.id)
    assert pdf.startswith(b"%PDF")
