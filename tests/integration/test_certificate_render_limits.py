"""Every Typst compile of an organization's template is time- and memory-limited in a child
process that is killed at the limit: upload checks, renders, downloads and the bulk job.

Real Typst in real child processes, with deadlines of a second or two (hence integration).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from tests.support.clock import FakeClock
from tests.support.commands import new_event
from tests.support.settings import make_settings
from tests.unit.certificates.test_certificate_service import person

from cpd.adapters.documents.typst_certificates import ASSETS, TypstCertificateRenderer
from cpd.adapters.memory.database import MemoryDatabase
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.certificate_design import CertificateTemplate
from cpd.domain.certificates import sample_fields
from cpd.domain.errors import InvalidInput, Unavailable
from cpd.domain.jobs import JobStatus
from cpd.domain.pages import PageRequest
from cpd.services.events.attendance import AttendanceEntry

# 10^10 steps without a big array (``range(10^10)`` is an array: the memory cap stops it).
FOREVER = b"for i in range(100000) { for j in range(100000) { } }"
ONLY_FOR_CRASH = (
    b'#let certificate(c) = { if c.holder_name.contains("Crash") { ' + FOREVER + b" }\n"
    b"  [#c.holder_name] }"
)
HUNGRY = b'#let certificate(c) = { let s = "x" * 800000000; [#s.len()] }'
START = datetime(2027, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def renderer() -> Iterator[TypstCertificateRenderer]:
    quick = TypstCertificateRenderer(render_seconds=1.0, check_seconds=1.5, memory_mib=600)
    yield quick
    quick.close()


async def test_a_template_that_compiles_forever_is_stopped_and_refused(
    renderer: TypstCertificateRenderer,
) -> None:
    """An uploaded template is code: one that loops for minutes is stopped after the time
    limit (its child process killed), whatever sample it happens to loop on."""
    endless = b"#let certificate(c) = { " + FOREVER + b" }"
    started = time.monotonic()
    with pytest.raises(InvalidInput, match=r"took longer than 1\.5 s") as slow:
        await renderer.check_template(endless)
    assert slow.value.field == "source"
    assert time.monotonic() - started < 10
    only_without_a_number = (
        b"#let certificate(c) = { if c.registration_number == none { "
        + FOREVER
        + b" } else [#c.holder_name] }"
    )
    sparse = replace(sample_fields(), registration_number=None)
    await renderer.check_template(only_without_a_number)  # the full sample passes...
    with pytest.raises(InvalidInput, match="took longer"):  # ...the sparse one does not
        await renderer.check_template(
            only_without_a_number, [("", sample_fields()), ("a course", sparse)]
        )
    with pytest.raises(InvalidInput, match=r"panicked.*\(a course\)"):
        await renderer.check_template(
            b'#let certificate(c) = { if c.registration_number == none { panic("no") } }',
            [("", sample_fields()), ("a course", sparse)],
        )


async def test_a_render_that_loops_for_real_data_is_cut_off_and_the_next_renders(
    renderer: TypstCertificateRenderer,
) -> None:
    await renderer.check_template(ONLY_FOR_CRASH)  # the sample data passes the upload check
    crash = replace(sample_fields(), holder_name="Ana Crash")
    started = time.monotonic()
    with pytest.raises(InvalidInput, match=r"took longer than 1 s") as slow:
        await renderer.render(ONLY_FOR_CRASH, crash)
    assert slow.value.field == "source"
    assert time.monotonic() - started < 8
    many = [replace(sample_fields(), holder_name=name) for name in ("Ann", "Ana Crash", "Bo")]
    outcomes = await renderer.render_many(ONLY_FOR_CRASH, many)
    assert [type(outcome).__name__ for outcome in outcomes] == ["bytes", "InvalidInput", "bytes"]
    assert (await renderer.render(ONLY_FOR_CRASH, sample_fields())).startswith(b"%PDF")


async def test_a_memory_hungry_template_is_cut_off(renderer: TypstCertificateRenderer) -> None:
    with pytest.raises(InvalidInput, match=r"more than 600 MiB") as hungry:
        await renderer.check_template(HUNGRY)
    assert hungry.value.field == "source"
    with pytest.raises(InvalidInput, match=r"more than 600 MiB"):
        await renderer.render(HUNGRY, sample_fields())
    assert (await renderer.render(None, sample_fields())).startswith(b"%PDF")


@pytest.mark.parametrize(
    "source",
    [
        b'#let certificate(c) = read("missing.txt")',
        b'#let certificate(c) = image("logos/missing.png")',
        b'#import "nowhere.typ": *\n#let certificate(c) = []',
    ],
)
async def test_typst_errors_name_paths_relative_to_the_template(
    renderer: TypstCertificateRenderer, source: bytes
) -> None:
    with pytest.raises(InvalidInput) as error:
        await renderer.check_template(source)
    detail = error.value.detail
    assert "searched at " in detail
    assert str(ASSETS) not in detail
    assert str(Path.cwd()) not in detail
    assert " /" not in detail  # no absolute path of any kind
    assert "line 1" in detail or "line 2" in detail


async def test_renders_do_not_wait_for_python_s_default_thread_pool(
    renderer: TypstCertificateRenderer,
) -> None:
    """Password hashing runs in the default pool: renders must not be able to take it (and
    must not wait behind it either)."""
    loop = asyncio.get_running_loop()
    default = ThreadPoolExecutor(1)
    loop.set_default_executor(default)
    release = threading.Event()
    blocked = loop.run_in_executor(None, release.wait)
    try:
        pdf = await asyncio.wait_for(renderer.render(None, sample_fields()), 20)
        assert pdf.startswith(b"%PDF")
        await asyncio.wait_for(renderer.check_template(b"#let certificate(c) = [x]"), 20)
    finally:
        release.set()
        await blocked


@dataclass
class World:
    app: Container
    owner: Actor
    organization_id: UUID
    event_id: UUID
    people: list[Actor]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    """A completed event whose three registrants attended; render deadline 1 s."""
    clock = FakeClock(START - timedelta(days=30))
    app = build_container(make_settings(certificate_render_seconds=1.0), clock=clock)
    await app.startup(run_relay=False)
    owner = await person(app, 0)
    people = [await person(app, 1, "Ann", "Lee"), await person(app, 2, "Ana", "Crash")]
    people.append(await person(app, 3, "Bo", "Yu"))
    organization = await app.organizations.create(owner, name="Royal Society of Ethics")
    sessions = [{"title": "Day", "starts_at": START, "ends_at": START + timedelta(hours=2)}]
    event = await app.events.create(
        owner, new_event(organization.id, {"title": "Ethics", "format": "online"}, sessions)
    )
    await app.events.publish(owner, event.id)
    for someone in people:
        await app.registrations.register(someone, event.id)
    clock.advance(days=30, hours=3)
    entries = [AttendanceEntry(user_id=someone.user_id) for someone in people]
    await app.attendance.record(owner, event.id, event.sessions[0].id, entries)
    yield World(app, owner, organization.id, event.id, people)
    await app.shutdown()


async def test_the_job_records_the_looping_certificate_and_issues_the_rest(world: World) -> None:
    """A template that passed its upload check loops for one attendee only: that certificate
    is cut off at the deadline and recorded on the job, the others are issued; downloading it
    answers Unavailable instead of hanging."""
    template = CertificateTemplate.create(
        organization_id=world.organization_id,
        now=START,
        details={"name": "Trap", "source": ONLY_FOR_CRASH, "is_default": True},
    )
    async with world.app.uow() as uow:
        await uow.certificate_templates.add(template)
        await uow.commit()
    started = time.monotonic()
    await world.app.events.complete(world.owner, world.event_id)
    await world.app.relay.drain()
    assert time.monotonic() - started < 15
    assert isinstance(world.app.database, MemoryDatabase)
    (job,) = world.app.database.state.jobs.values()
    assert (job.status, job.total, job.done, job.failed) == (JobStatus.FAILED, 3, 2, 1)
    assert job.errors[0].startswith("RSOE-000002: The template took longer than 1 s")
    page = await world.app.certificates.for_event(
        world.owner, world.event_id, PageRequest(limit=10, offset=0)
    )
    assert [c.pdf_key is not None for c in page.items] == [True, False, True]

    crash = world.people[1]
    (certificate,) = (await world.app.certificates.mine(crash, PageRequest(10, 0))).items
    started = time.monotonic()
    with pytest.raises(Unavailable, match="took longer than 1 s") as unavailable:
        await world.app.certificates.download(crash, certificate.id)
    assert unavailable.value.retry_after > 0
    assert time.monotonic() - started < 8
    _, pdf = await world.app.certificates.download(world.people[0], page.items[0].id)
    assert pdf.startswith(b"%PDF")


def environ_of(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


async def test_compiling_children_get_no_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CPD_SECRET_KEY", "s3cret-" * 6)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-s3cret")
    renderer = TypstCertificateRenderer(processes=1)
    try:
        await renderer.render(None, sample_fields())
        (child,) = renderer._renders._children
        environ = environ_of(child.process.pid)
    finally:
        renderer.close()
    assert b"s3cret" not in environ
    assert b"RAYON_NUM_THREADS=1" in environ
