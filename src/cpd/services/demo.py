"""Demo data for a first look: one organization with an admin and a member."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from cpd.domain.accounts import Membership, Organization, Role, User
from cpd.ports.persistence import UnitOfWorkFactory
from cpd.ports.services import Clock, PasswordHasher

DEMO_SLUG = "demo-institute"
DEMO_USERS = (
    ("admin@demo.cpd.local", "Ada", "Admin", Role.ORG_ADMIN),
    ("staff@demo.cpd.local", "Sam", "Staff", Role.ORG_STAFF),
    ("member@demo.cpd.local", "Mo", "Member", Role.MEMBER),
)


@dataclass(frozen=True, slots=True)
class DemoCredential:
    email: str
    password: str
    role: Role


async def seed_demo(
    uow: UnitOfWorkFactory, *, hasher: PasswordHasher, clock: Clock
) -> tuple[Organization, list[DemoCredential]]:
    """Create the demo organization and users, or reset their passwords if they exist."""
    now = clock.now()
    credentials = [
        DemoCredential(email, secrets.token_urlsafe(12), role) for email, *_, role in DEMO_USERS
    ]
    hashes = await asyncio.gather(
        *(asyncio.to_thread(hasher.hash, c.password) for c in credentials)
    )
    async with uow() as tx:
        organization = await tx.organizations.get_by_slug(DEMO_SLUG)
        if organization is None:
            organization = Organization.create(name="Demo Institute", slug=DEMO_SLUG, now=now)
            await tx.organizations.add(organization)
        for (email, first, last, role), password_hash in zip(DEMO_USERS, hashes, strict=True):
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
            else:
                user.change_password_hash(password_hash, now=now)
                await tx.users.save(user)
            if await tx.memberships.get(organization.id, user.id) is None:
                await tx.memberships.add(Membership(organization.id, user.id, role, created_at=now))
        await tx.commit()
    return organization, credentials
