"""Test data for the contract suite: a backend handle, a frozen clock and entity builders."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from cpd.adapters.memory.store import MemoryDatabase
from cpd.adapters.sql.database import SqlDatabase
from cpd.domain.accounts import Membership, Organization, Role, User, UserProfile
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.ports.persistence import OutboxStore, UnitOfWork

# Microseconds on purpose: they must survive the round trip through every backend.
T0 = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
_serial = itertools.count(1)


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Backend:
    name: str
    database: MemoryDatabase | SqlDatabase
    outbox_store: OutboxStore
    clock: FrozenClock

    def uow(self) -> UnitOfWork:
        return self.database.unit_of_work()


def make_user(
    email: str | None = None,
    *,
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    created_at: datetime = T0,
    profile: UserProfile | None = None,
) -> User:
    return User(
        id=uuid4(),
        email=email or f"user{next(_serial)}@example.org",
        password_hash="$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
        first_name=first_name,
        last_name=last_name,
        created_at=created_at,
        updated_at=created_at,
        profile=profile or UserProfile(),
    )


def make_organization(name: str = "Acme", slug: str | None = None) -> Organization:
    return Organization(
        id=uuid4(),
        name=name,
        slug=slug or f"org-{next(_serial)}",
        created_at=T0,
        updated_at=T0,
    )


def make_membership(
    organization: Organization, user: User, role: Role = Role.MEMBER, at: datetime = T0
) -> Membership:
    return Membership(organization.id, user.id, role, created_at=at)


def make_refresh_token(
    user: User,
    *,
    family_id: UUID | None = None,
    expires_at: datetime = T0 + timedelta(days=14),
    revoked_at: datetime | None = None,
) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        jti=uuid4().hex,
        user_id=user.id,
        family_id=family_id or uuid4(),
        issued_at=T0,
        expires_at=expires_at,
        revoked_at=revoked_at,
    )


def make_password_reset(
    user: User, *, expires_at: datetime = T0 + timedelta(hours=1)
) -> PasswordResetToken:
    return PasswordResetToken(
        token_hash=hashlib.sha256(uuid4().bytes).hexdigest(),
        user_id=user.id,
        created_at=T0,
        expires_at=expires_at,
    )


async def given_users(backend: Backend, *users: User) -> None:
    async with backend.uow() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()
