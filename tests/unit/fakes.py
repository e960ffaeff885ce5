"""Test doubles that stop at the ports: a clock the test moves by hand, and account helpers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from cpd.adapters.mail.mailers import MemoryMailer
from cpd.adapters.memory.catalog import MemoryCatalogReader
from cpd.adapters.memory.database import MemoryDatabase
from cpd.adapters.memory.outbox import MemoryOutboxStore
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor, Organization, Role, User
from cpd.domain.auth import AttemptPolicy
from cpd.domain.catalog import CourseFilters, EventFilters
from cpd.domain.invitations import InvitationView
from cpd.domain.messaging import ORGANIZATION_INVITATION, EmailMessage
from cpd.domain.money import Money
from cpd.domain.registrations import Registration
from cpd.ports.platform import Cache, OutboxStore
from cpd.services.accounts.organizations import OrganizationService
from cpd.services.events.attendance import AttendanceService
from cpd.services.events.catalog import CatalogService
from cpd.services.events.lifecycle import EventService
from cpd.services.learning.courses import CourseService
from tests.support.clock import FakeClock
from tests.support.settings import make_settings

PASSWORD = "correct horse battery"
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def register(
    app: Container,
    email: str = "alice@example.com",
    *,
    password: str = PASSWORD,
    first_name: str = "Alice",
    last_name: str = "Smith",
) -> User:
    user = await app.accounts.register(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    assert user is not None, f"{email} had an account already"
    return user


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, is_superadmin=user.is_superadmin)


async def invitation_token(outbox: OutboxStore, invitation: InvitationView) -> str:
    """The token of ``invitation``'s link, read from the outbox task as the mail carries it."""
    for record in await outbox.records(None, 500):
        payload = record.task.payload
        if payload.get("template") == ORGANIZATION_INVITATION and payload.get("related_id") == str(
            invitation.id
        ):
            assert payload["to"] == invitation.email
            return str(payload["context"]["link"]).split("token=", 1)[1]
    raise AssertionError(f"no invitation was emailed to {invitation.email}")


async def join(
    organizations: OrganizationService,
    outbox: OutboxStore,
    admin: Actor,
    organization_id: UUID,
    member: User,
    role: Role,
) -> None:
    """``member`` joins as members do: invited by ``admin``, accepting the emailed link."""
    sent = await organizations.invite(admin, organization_id, email=member.email, role=role)
    token = await invitation_token(outbox, sent)
    await organizations.accept_invitation(actor_of(member), token)


def sent_mail(app: Container) -> list[EmailMessage]:
    assert isinstance(app.mailer, MemoryMailer)
    return app.mailer.sent


def reset_mail(app: Container) -> list[EmailMessage]:
    """The password reset emails sent (accounts also get a welcome email)."""
    return [m for m in sent_mail(app) if m.subject.startswith("Reset your")]


def reset_token_from(message: EmailMessage) -> str:
    match = re.search(r"https?://\S+/reset-password\?token=([A-Za-z0-9_\-]+)", message.text)
    assert match, f"no reset link in {message.text!r}"
    return match.group(1)


async def eventually(condition: Callable[[], bool], within: float = 1.0) -> None:
    """Wait until ``condition()`` holds (work done by a background task), or fail."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling state we do not own
            await asyncio.sleep(0.005)


# --- events, courses, attendance: services wired by hand on the memory adapters ---------------
#
# These build the services straight from the memory adapters (not through ``build_container``),
# so the catalog tests do not depend on how the composition root wires them.

NOT_A_HASH = "$argon2id$unit-tests-do-not-log-in"


def session_spec(
    day: int = 7, hour: int = 9, minutes: int = 60, *, title: str | None = None
) -> dict[str, Any]:
    """A session ``day`` days after ``START`` at ``hour`` o'clock UTC, ``minutes`` long."""
    starts = START.replace(hour=hour) + timedelta(days=day)
    return {
        "title": title or f"Day {day} at {hour}",
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=minutes),
    }


def event_details(**overrides: Any) -> dict[str, Any]:
    """Writable fields of a publishable in-person event (it still needs a session)."""
    return {
        "title": "Clinical Governance Day",
        "summary": "A day on governance",
        "format": "in_person",
        "venue": {"name": "Guild Hall", "address": "1 High Street, York"},
        "timezone": "Europe/London",
        "price": {"amount": 0, "currency": "GBP"},
        "cpd_credits": "6",
        "tags": ["governance"],
    } | overrides


class CountingCatalogReader:
    """A real memory catalog reader that counts the (expensive) count queries it answers."""

    def __init__(self, inner: MemoryCatalogReader) -> None:
        self._inner = inner
        self.event_counts = 0
        self.course_counts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def count_events(self, filters: EventFilters) -> int:
        self.event_counts += 1
        return await self._inner.count_events(filters)

    async def count_courses(self, filters: CourseFilters) -> int:
        self.course_counts += 1
        return await self._inner.count_courses(filters)


SITE_URL = "https://cpd.example"
UNLIMITED = AttemptPolicy(1_000_000, first_delay=1, max_delay=1, memory=1)


@dataclass
class CatalogWorld:
    """One in-memory database with the event, course, attendance and catalog services on it,
    sharing one catalog cache, and a clock that moves only when the test says so."""

    clock: FakeClock
    db: MemoryDatabase
    cache: Cache
    reader: CountingCatalogReader
    organizations: OrganizationService
    events: EventService
    courses: CourseService
    attendance: AttendanceService
    catalog: CatalogService

    @classmethod
    def build(cls, clock: FakeClock | None = None) -> CatalogWorld:
        """The composition root's services; only the catalog is rebuilt, on a counting reader."""
        clock = clock or FakeClock(START)
        settings = make_settings(certificate_renderer="fake", public_base_url=SITE_URL)
        app = build_container(settings, clock=clock)
        assert isinstance(app.database, MemoryDatabase)
        reader = CountingCatalogReader(MemoryCatalogReader(app.database))
        return cls(
            clock=clock,
            db=app.database,
            cache=app.catalog_cache,
            reader=reader,
            organizations=app.organizations,
            events=app.events,
            courses=app.courses,
            attendance=app.attendance,
            catalog=CatalogService(reader, app.uow, cache=app.catalog_cache),
        )

    async def user(
        self,
        email: str,
        *,
        first_name: str = "Pat",
        last_name: str = "Lee",
        superadmin: bool = False,
    ) -> User:
        """An account stored directly (no password hashing: these tests never log in)."""
        user = User.register(
            email=email,
            password_hash=NOT_A_HASH,
            first_name=first_name,
            last_name=last_name,
            now=self.clock.now(),
            is_superadmin=superadmin,
        )
        async with self.db.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def registered(self, user: User, event_id: UUID) -> Registration:
        """A free, confirmed registration stored directly (booking is not under test here)."""
        async with self.db.unit_of_work() as uow:
            event = await uow.events.get(event_id)
            assert event is not None
            registration = Registration.open(
                event_id=event_id,
                user_id=user.id,
                seats=1,
                seats_free=None,
                waitlist_waiting=False,
                unit_price=Money(0, event.price.currency),
                now=self.clock.now(),
            )
            await uow.registrations.add(registration)
            await uow.commit()
        return registration

    async def probe_cache(self) -> None:
        """Put a marker in the catalog cache; ``cache_was_cleared`` tells if it is gone."""

        async def marker() -> bytes:
            return b"cached"

        assert await self.cache.get_or_build("probe", marker, 3600) == b"cached"
        assert not await self.cache_was_cleared()

    async def cache_was_cleared(self) -> bool:
        """True when the marker had to be built again (and so puts it back)."""
        rebuilt = False

        async def again() -> bytes:
            nonlocal rebuilt
            rebuilt = True
            return b"cached"

        await self.cache.get_or_build("probe", again, 3600)
        return rebuilt


@dataclass
class Tenants:
    """Organization A with one user per role, an outsider, a superadmin, and organization B
    run by its own admin (the other tenant)."""

    org: Organization
    admin: Actor
    staff: Actor
    member: Actor
    outsider: Actor
    superadmin: Actor
    other_org: Organization
    other_admin: Actor

    @classmethod
    async def build(cls, world: CatalogWorld) -> Tenants:
        admin = await world.user("admin@a.example", first_name="Ada", last_name="Adams")
        staff = await world.user("staff@a.example", first_name="Sam", last_name="Stone")
        member = await world.user("member@a.example", first_name="Mo", last_name="Moss")
        outsider = await world.user("outsider@example.com", first_name="Olu", last_name="Owen")
        root = await world.user("root@example.com", superadmin=True)
        other_admin = await world.user("admin@b.example", first_name="Bea", last_name="Brown")
        orgs = world.organizations
        org = await orgs.create(actor_of(admin), name="Acme Training")
        outbox = MemoryOutboxStore(world.db)
        await join(orgs, outbox, actor_of(admin), org.id, staff, Role.ORG_STAFF)
        await join(orgs, outbox, actor_of(admin), org.id, member, Role.MEMBER)
        other_org = await orgs.create(actor_of(other_admin), name="Beta Academy")
        return cls(
            org=org,
            admin=actor_of(admin),
            staff=actor_of(staff),
            member=actor_of(member),
            outsider=actor_of(outsider),
            superadmin=actor_of(root),
            other_org=other_org,
            other_admin=actor_of(other_admin),
        )
