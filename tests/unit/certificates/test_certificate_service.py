"""Issuing certificates on the memory adapters: failures that must not stop a job, stale and
repeated tasks, course certificates, and names no font can show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from cpd.adapters.mail.mailers import MemoryMailer
from cpd.adapters.memory.database import MemoryDatabase
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.certificates import CertificateSource
from cpd.domain.courses import EnrollmentStatus
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.ids import new_id
from cpd.domain.jobs import Job, JobStatus
from cpd.domain.pages import PageRequest
from cpd.domain.tasks import Task
from cpd.services.accounts.users import ProfileChanges
from cpd.services.certificates.issuing import queue_event_certificates
from cpd.services.certificates.tasks import DeliverCertificate, RenderCertificate
from cpd.services.events.attendance import AttendanceEntry
from cpd.settings import Settings
from tests.support.commands import new_course, new_event
from tests.unit.conftest import make_settings

START = datetime(2027, 6, 1, 9, tzinfo=UTC)
PAGE = PageRequest(limit=50, offset=0)


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@dataclass
class World:
    app: Container
    clock: Clock
    owner: Actor
    organization_id: UUID
    event_id: UUID
    people: list[Actor]

    @property
    def mail(self) -> list[Any]:
        assert isinstance(self.app.mailer, MemoryMailer)
        return [m for m in self.app.mailer.sent if "certificate" in m.subject.lower()]


async def person(app: Container, n: int, first: str = "P", last: str | None = None) -> Actor:
    user = await app.accounts.register(
        email=f"p{n}@example.org",
        password="a long passphrase",
        first_name=first,
        last_name=last or str(n),
    )
    return Actor(user.id)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async for built in world_on(make_settings()):
        yield built


async def world_on(settings: Settings) -> AsyncIterator[World]:
    """A completed one-session event all of whose registrants attended in full; the
    completion's own job is left queued (tests drain the outbox when they want it run)."""
    clock = Clock()
    app = build_container(settings, clock=clock)
    await app.startup(run_relay=False)
    owner = await person(app, 0)
    organization = await app.organizations.create(owner, name="Royal Society of Ethics")
    sessions = [{"title": "Day", "starts_at": START, "ends_at": START + timedelta(hours=2)}]
    event = await app.events.create(
        owner, new_event(organization.id, {"title": "Ethics", "format": "online"}, sessions)
    )
    await app.events.publish(owner, event.id)
    people = [
        await person(app, 1, "Łukasz", "Żółć"),
        await person(app, 2, "Ana", "Crash"),
        await person(app, 3, "李", "小龍"),
    ]
    for someone in people:
        await app.registrations.register(someone, event.id)
    clock.current = START + timedelta(hours=3)
    await app.attendance.record(
        owner,
        event.id,
        event.sessions[0].id,
        [AttendanceEntry(user_id=someone.user_id) for someone in people],
    )
    yield World(app, clock, owner, organization.id, event.id, people)
    await app.shutdown()


async def complete(world: World) -> None:
    await world.app.events.complete(world.owner, world.event_id)
    await world.app.relay.drain()


async def jobs(world: World) -> list[Job]:
    assert isinstance(world.app.database, MemoryDatabase)
    return list(world.app.database.state.jobs.values())


async def test_a_finished_or_vanished_job_does_nothing_more(world: World) -> None:
    await complete(world)
    (job,) = await jobs(world)
    mails = len(world.mail)
    assert (await world.app.certificates.run_job(job.id)).status is JobStatus.COMPLETED
    assert len(world.mail) == mails
    with pytest.raises(NotFound):
        await world.app.certificates.run_job(new_id())
    orphan = Job.queue(
        "event_certificates",
        organization_id=world.organization_id,
        subject_id=new_id(),
        now=world.clock.now(),
        created_by=None,
    )
    async with world.app.uow() as uow:
        await uow.jobs.add(orphan)
        await uow.commit()
    failed = await world.app.certificates.run_job(orphan.id)
    assert (failed.status, failed.errors) == (JobStatus.FAILED, ("The event no longer exists.",))


async def test_stale_and_repeated_tasks_change_nothing(world: World) -> None:
    await complete(world)
    certificate = (await world.app.certificates.mine(world.people[0], PAGE)).items[0]
    mails = len(world.mail)
    stale = {"certificate_id": str(certificate.id), "version": 0}
    await world.app.certificates.render_task(Task(RenderCertificate.NAME, stale | {"email": True}))
    await world.app.certificates.deliver_task(Task(DeliverCertificate.NAME, stale))
    current = {"certificate_id": str(certificate.id), "version": 1}
    await world.app.certificates.deliver_task(Task(DeliverCertificate.NAME, current))  # sent before
    assert len(world.mail) == mails
    await world.app.certificates.revoke(world.owner, certificate.id, "Wrong person")
    await world.app.certificates.render_task(
        Task(RenderCertificate.NAME, current | {"email": True})
    )
    await world.app.relay.drain()
    assert len(world.mail) == mails  # nothing is emailed for a revoked certificate
    gone = {"certificate_id": str(new_id()), "version": 1}
    await world.app.certificates.render_task(Task(RenderCertificate.NAME, gone))
    await world.app.certificates.deliver_task(Task(DeliverCertificate.NAME, gone))


async def test_the_events_own_completion_and_a_second_job_never_double_issue(
    world: World,
) -> None:
    await world.app.events.complete(world.owner, world.event_id)  # queues one job
    async with world.app.uow() as uow:
        event = await uow.events.get(world.event_id)
        assert event is not None
        await queue_event_certificates(uow, event, now=world.clock.now(), created_by=None)
        await uow.commit()
    await world.app.relay.drain()
    page = await world.app.certificates.for_event(world.owner, world.event_id, PAGE)
    assert [c.serial_number for c in page.items] == ["RSOE-000001", "RSOE-000002", "RSOE-000003"]
    assert sorted(m.to for m in world.mail) == [f"p{n}@example.org" for n in (1, 2, 3)]


async def test_course_certificates_need_a_completed_enrollment(world: World) -> None:
    app, owner, learner = world.app, world.owner, world.people[0]
    course = await app.courses.create(
        owner, new_course(world.organization_id, {"title": "Consent", "cpd_credits": "1.5"})
    )
    await app.courses.publish(owner, course.id)
    await app.courses.enroll(learner, course.id)
    with pytest.raises(Conflict) as refused:
        await app.certificates.issue(owner, CertificateSource.COURSE, course.id, learner.user_id)
    assert refused.value.field == "override_reason"
    assert "not completed" in refused.value.detail

    assert isinstance(app.database, MemoryDatabase)  # no completion use case yet (learning)
    enrollments = app.database.state.enrollments
    key = (course.id, learner.user_id)
    enrollments[key] = replace(enrollments[key], status=EnrollmentStatus.COMPLETED)
    issued = await app.certificates.issue(
        owner, CertificateSource.COURSE, course.id, learner.user_id
    )
    assert (issued.activity.completed_on, issued.override_reason) == (
        world.clock.now().date(),
        None,
    )
    assert issued.enrollment_id is not None
    await app.relay.drain()
    assert [m.to for m in world.mail] == ["p1@example.org"]

    with pytest.raises(NotFound):
        await app.certificates.issue(owner, CertificateSource.COURSE, new_id(), learner.user_id)
    with pytest.raises(InvalidInput) as nobody:
        await app.certificates.issue(
            owner, CertificateSource.EVENT, world.event_id, new_id(), override_reason="x"
        )
    assert nobody.value.field == "user_id"


async def test_reissuing_takes_the_current_name_and_title(world: World) -> None:
    await complete(world)
    app, holder = world.app, world.people[0]
    certificate = (await app.certificates.mine(holder, PAGE)).items[0]
    await app.accounts.update_me(holder, ProfileChanges(first_name="Lukasz"))
    again = await app.certificates.reissue(world.owner, certificate.id)
    assert (again.holder.name, again.version) == ("Lukasz Żółć", 2)
    await app.relay.drain()
    assert [m.to for m in world.mail].count("p1@example.org") == 2
    with pytest.raises(NotFound):
        await app.certificates.get(world.people[1], certificate.id)
