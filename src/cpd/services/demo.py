"""Demo data for a first look: an organization with admin, staff and member logins, two
published events and a free course, so the catalog has something to show."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cpd.domain.accounts import Membership, Organization, Role, User
from cpd.domain.courses import Course
from cpd.domain.events import Event
from cpd.ports.accounts import PasswordHasher
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWorkFactory

DEMO_SLUG = "demo-institute"
DEMO_USERS = (
    ("admin@demo.cpd.local", "Ada", "Admin", Role.ORG_ADMIN),
    ("staff@demo.cpd.local", "Sam", "Staff", Role.ORG_STAFF),
    ("member@demo.cpd.local", "Mo", "Member", Role.MEMBER),
)


@dataclass(frozen=True, slots=True)
class DemoCredential:
    email: str
    password: str | None  # None: the user existed and kept the password they had
    role: Role
    created: bool = True


async def seed_demo(
    uow: UnitOfWorkFactory,
    *,
    hasher: PasswordHasher,
    clock: Clock,
    reset_passwords: bool = False,
) -> tuple[Organization, list[DemoCredential]]:
    """Create the demo organization and users. Users who exist keep their password (someone
    may have changed it and be using it) unless ``reset_passwords``."""
    now = clock.now()
    credentials = [
        DemoCredential(email, secrets.token_urlsafe(12), role) for email, *_, role in DEMO_USERS
    ]
    hashes = await asyncio.gather(*(hasher.hash(c.password or "") for c in credentials))
    async with uow() as tx:
        organization = await tx.organizations.get_by_slug(DEMO_SLUG)
        if organization is None:
            organization = Organization.create(
                name="Demo Institute", slug=DEMO_SLUG, now=now, approved=True
            )
            await tx.organizations.add(organization)
        elif organization.approved_at is None:  # its events are published below
            organization.approve(now=now)
            await tx.organizations.save(organization)
        for n, ((email, first, last, role), password_hash) in enumerate(
            zip(DEMO_USERS, hashes, strict=True)
        ):
            user = await tx.users.get_by_email(email)
            if user is None:
                user = User.register(
                    email=email,
                    password_hash=password_hash,
                    first_name=first,
                    last_name=last,
                    now=now,
                )
                await tx.users.add(user)
            elif reset_passwords:
                user.change_password_hash(password_hash, now=now)
                await tx.users.save(user)
                await tx.password_resets.spend_all_for_user(user.id, now)
                credentials[n] = DemoCredential(email, credentials[n].password, role, created=False)
            else:
                credentials[n] = DemoCredential(email, None, role, created=False)
            if await tx.memberships.get(organization.id, user.id) is None:
                await tx.memberships.add(Membership(organization.id, user.id, role, created_at=now))
        for event in _demo_events(organization, now):
            if not await tx.events.slug_exists(organization.id, event.slug):
                await tx.events.add(event)
        course = _demo_course(organization, now)
        if not await tx.courses.slug_exists(organization.id, course.slug):
            await tx.courses.add(course)
        await tx.commit()
    return organization, credentials


def _demo_events(organization: Organization, now: datetime) -> list[Event]:
    start = (now + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    hall = {"name": "Demo Institute Hall", "address": "1 Example Street, London"}
    specs = [
        ("ethics-in-practice", "Ethics in practice", "in_person", hall, 0, [3, 3]),
        ("data-protection-update", "Data protection update", "online", None, 2500, [2]),
    ]
    events = []
    for slug, title, event_format, venue, price, hours in specs:
        sessions = [
            {
                "title": f"Part {n + 1}",
                "starts_at": start + timedelta(days=n),
                "ends_at": start + timedelta(days=n, hours=length),
            }
            for n, length in enumerate(hours)
        ]
        event = Event.create(
            organization_id=organization.id,
            slug=slug,
            now=now,
            details={
                "title": title,
                "summary": f"A demo event: {title.lower()}.",
                "format": event_format,
                "venue": venue,
                "timezone": "Europe/London",
                "capacity": 40,
                "price": {"amount": price, "currency": "GBP"},
                "cpd_credits": sum(hours),
                "tags": ["demo", slug.split("-")[0]],
            },
            sessions=sessions,
        )
        event.publish(now=now)
        events.append(event)
    return events


def _demo_course(organization: Organization, now: datetime) -> Course:
    course = Course.create(
        organization_id=organization.id,
        slug="reflective-practice",
        now=now,
        details={
            "title": "Reflective practice",
            "description": "A free self-paced demo course.",
            "cpd_credits": 2,
        },
    )
    course.publish(now=now)
    return course
