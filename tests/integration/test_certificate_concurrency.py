"""Certificates issued concurrently, on PostgreSQL and on the embedded SQLite: serials stay
unique and gapless, nobody is certified twice, and revoke/re-issue serialise.

Each scenario runs use cases at once with ``asyncio.gather``; each call holds its own pooled
connection, so the database decides who waits (as with ``test_pg_concurrency.py``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.clock import FakeClock
from tests.support.commands import new_event
from tests.support.settings import make_settings, sqlite_url

from cpd.adapters.mail.mailers import MemoryMailer
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.certificates import CertificateSource, CertificateStatus
from cpd.domain.errors import Conflict
from cpd.domain.pages import PageRequest
from cpd.services.events.attendance import AttendanceEntry

PEOPLE = 12
ALL = PageRequest(limit=200, offset=0)


@dataclass
class Scene:
    app: Container
    owner: Actor
    event_id: object
    people: list[Actor]


async def completed_event(app: Container, clock: FakeClock, *, attended: int) -> Scene:
    """A completed event with ``PEOPLE`` confirmed registrants, the first ``attended`` of whom
    attended in full. Completing it queued a job, which is left in the outbox."""
    owner_user = await app.accounts.register(
        email="owner@example.org", password="a sound passphrase", first_name="O", last_name="W"
    )
    owner = Actor(owner_user.id)
    organization = await app.organizations.create(owner, name="Royal Society of Ethics")
    starts = clock.now() + timedelta(days=1)
    sessions = [{"title": "Day", "starts_at": starts, "ends_at": starts + timedelta(hours=2)}]
    event = await app.events.create(
        owner, new_event(organization.id, {"title": "Ethics", "format": "online"}, sessions)
    )
    await app.events.publish(owner, event.id)
    people = []
    for n in range(PEOPLE):
        user = await app.accounts.register(
            email=f"p{n}@example.org",
            password="a sound passphrase",
            first_name="P",
            last_name=str(n),
        )
        people.append(Actor(user.id))
        await app.registrations.register(people[-1], event.id)
    clock.advance(days=2)
    if attended:
        await app.attendance.record(
            owner,
            event.id,
            event.sessions[0].id,
            [AttendanceEntry(user_id=p.user_id) for p in people[:attended]],
        )
    await app.events.complete(owner, event.id)
    return Scene(app, owner, event.id, people)


async def serials(scene: Scene) -> list[str]:
    page = await scene.app.certificates.for_event(scene.owner, scene.event_id, ALL)  # type: ignore[arg-type]
    return sorted(c.serial_number for c in page.items)


def expected(count: int) -> list[str]:
    return [f"RSOE-{n:06d}" for n in range(1, count + 1)]


async def concurrent_manual_issues(app: Container, clock: FakeClock) -> None:
    """Staff issue everyone's certificate at once: each gets one, serials 1..n, no gaps."""
    scene = await completed_event(app, clock, attended=0)
    issued = await asyncio.gather(
        *(
            app.certificates.issue(
                scene.owner,
                CertificateSource.EVENT,
                scene.event_id,  # type: ignore[arg-type]
                person.user_id,
                override_reason="Attended the recording",
            )
            for person in scene.people
        )
    )
    assert len({c.verification_code for c in issued}) == PEOPLE
    assert await serials(scene) == expected(PEOPLE)


async def competing_jobs(app: Container, clock: FakeClock) -> None:
    """The completion's job and two staff runs at once: everyone certified and emailed once."""
    scene = await completed_event(app, clock, attended=PEOPLE)
    jobs = [await app.certificates.issue_for_event(scene.owner, scene.event_id) for _ in range(2)]  # type: ignore[arg-type]
    await asyncio.gather(app.relay.drain(), *(app.certificates.run_job(j.id) for j in jobs))
    await app.relay.drain()
    assert await serials(scene) == expected(PEOPLE)
    assert isinstance(app.mailer, MemoryMailer)
    certified = [m.to for m in app.mailer.sent if "certificate" in m.subject.lower()]
    assert sorted(certified) == sorted(f"p{n}@example.org" for n in range(PEOPLE))


async def revoke_against_reissue(app: Container, clock: FakeClock) -> None:
    """Revoking and re-issuing one certificate at once: they serialise on its row, so it ends
    revoked, re-issued at most once, and a re-issue after the revocation is refused."""
    scene = await completed_event(app, clock, attended=1)
    await app.relay.drain()
    (certificate,) = (await app.certificates.mine(scene.people[0], ALL)).items
    outcomes = await asyncio.gather(
        app.certificates.revoke(scene.owner, certificate.id, "Issued in error"),
        app.certificates.reissue(scene.owner, certificate.id, holder_name="P Zero"),
        return_exceptions=True,
    )
    assert not isinstance(outcomes[0], BaseException), outcomes[0]
    final = await app.certificates.get(scene.owner, certificate.id)
    assert final.status is CertificateStatus.REVOKED
    if isinstance(outcomes[1], BaseException):
        assert isinstance(outcomes[1], Conflict)
        assert final.version == 1
    else:
        assert final.version == 2


SCENARIOS = [concurrent_manual_issues, competing_jobs, revoke_against_reissue]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _started(url: str, clock: FakeClock) -> Container:
    app = build_container(make_settings(persistence="sql", database_url=url), clock=clock)
    await app.startup(run_relay=False)
    return app


@pytest.fixture
async def pg_app(postgres_database: str, clock: FakeClock) -> AsyncIterator[Container]:
    app = await _started(postgres_database, clock)
    yield app
    await app.shutdown()


@pytest.fixture
async def sqlite_app(
    tmp_path: Path, sqlite_template: Path, clock: FakeClock
) -> AsyncIterator[Container]:
    path = tmp_path / "cpd.sqlite"
    shutil.copyfile(sqlite_template, path)
    app = await _started(sqlite_url(path), clock)
    yield app
    await app.shutdown()


@pytest.mark.postgres
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_on_postgresql(pg_app: Container, clock: FakeClock, scenario: object) -> None:
    await scenario(pg_app, clock)  # type: ignore[operator]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_on_sqlite(sqlite_app: Container, clock: FakeClock, scenario: object) -> None:
    await scenario(sqlite_app, clock)  # type: ignore[operator]
