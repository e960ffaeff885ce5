"""Accounts over SQL: users, organizations, memberships, invitations and tokens."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Row,
    delete,
    func,
    insert,
    select,
    update,
)

from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _Repository
from cpd.domain.accounts import Member, Membership, Organization, Role, User, UserProfile
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.invitations import Invitation
from cpd.domain.pages import Page, PageRequest
from cpd.domain.refunds import RefundPolicy

_PROFILE_FIELDS = tuple(UserProfile.__dataclass_fields__)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_superadmin": user.is_superadmin,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        **{name: getattr(user.profile, name) for name in _PROFILE_FIELDS},
    }


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        password_hash=row.password_hash,
        first_name=row.first_name,
        last_name=row.last_name,
        is_active=row.is_active,
        is_superadmin=row.is_superadmin,
        created_at=row.created_at,
        updated_at=row.updated_at,
        profile=UserProfile(**{name: getattr(row, name) for name in _PROFILE_FIELDS}),
    )


class SqlUserRepository(_Repository):
    async def get(self, user_id: UUID) -> User | None:
        row = (await self._db.execute(select(t.users).where(t.users.c.id == user_id))).first()
        return _user(row) if row else None

    async def get_many(self, user_ids: list[UUID]) -> list[User]:
        """The users that exist, in the order asked for (each once)."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return []
        rows = await self._db.execute(select(t.users).where(t.users.c.id.in_(wanted)))
        found = {row.id: _user(row) for row in rows}
        return [found[user_id] for user_id in wanted if user_id in found]

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._db.execute(select(t.users).where(t.users.c.email == email))).first()
        return _user(row) if row else None

    async def add(self, user: User) -> None:
        await self._db.execute(insert(t.users).values(_user_values(user)))

    async def save(self, user: User) -> None:
        values = _user_values(user)
        del values["id"], values["created_at"]
        await self._db.execute(update(t.users).where(t.users.c.id == user.id).values(values))


def _organization(row: Row[Any]) -> Organization:
    fields = dict(row._mapping)  # columns are named as the fields
    return Organization(
        **fields | {"refund_policy": RefundPolicy.from_json(fields["refund_policy"])}
    )


def _organization_values(organization: Organization) -> dict[str, Any]:
    return asdict(organization) | {"refund_policy": organization.refund_policy.as_json()}


class SqlOrganizationRepository(_Repository):
    _by_name = (func.lower(t.organizations.c.name), t.organizations.c.id)

    async def get(self, organization_id: UUID) -> Organization | None:
        return await self._get(organization_id, lock=False)

    async def get_for_update(self, organization_id: UUID) -> Organization | None:
        return await self._get(organization_id, lock=True)

    async def _get(self, organization_id: UUID, *, lock: bool) -> Organization | None:
        query = select(t.organizations).where(t.organizations.c.id == organization_id)
        if lock:
            query = query.with_for_update()
        row = (await self._db.execute(query)).first()
        return _organization(row) if row else None

    async def get_by_slug(self, slug: str) -> Organization | None:
        query = select(t.organizations).where(t.organizations.c.slug == slug)
        row = (await self._db.execute(query)).first()
        return _organization(row) if row else None

    async def slug_exists(self, slug: str) -> bool:
        query = select(t.organizations.c.id).where(t.organizations.c.slug == slug)
        return (await self._db.execute(query)).first() is not None

    async def add(self, organization: Organization) -> None:
        await self._db.execute(insert(t.organizations).values(_organization_values(organization)))

    async def save(self, organization: Organization) -> None:
        values = _organization_values(organization)
        del values["id"], values["created_at"]
        await self._db.execute(
            update(t.organizations).where(t.organizations.c.id == organization.id).values(values)
        )

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Organization]:
        query = (
            select(t.organizations)
            .join(t.memberships, t.memberships.c.organization_id == t.organizations.c.id)
            .where(t.memberships.c.user_id == user_id)
            .order_by(*self._by_name)
        )
        return await self._page(query, page, _organization)

    async def list_all(self, page: PageRequest) -> Page[Organization]:
        return await self._page(
            select(t.organizations).order_by(*self._by_name), page, _organization
        )


def _membership(row: Row[Any]) -> Membership:
    return Membership(row.organization_id, row.user_id, Role(row.role), row.created_at)


class SqlMembershipRepository(_Repository):
    def _key(self, organization_id: UUID, user_id: UUID) -> tuple[Any, ...]:
        return (
            t.memberships.c.organization_id == organization_id,
            t.memberships.c.user_id == user_id,
        )

    async def get(self, organization_id: UUID, user_id: UUID) -> Membership | None:
        query = select(t.memberships).where(*self._key(organization_id, user_id))
        row = (await self._db.execute(query)).first()
        return _membership(row) if row else None

    async def add(self, membership: Membership) -> None:
        await self._db.execute(
            insert(t.memberships).values(
                organization_id=membership.organization_id,
                user_id=membership.user_id,
                role=membership.role.value,
                created_at=membership.created_at,
            )
        )

    async def change_role(self, organization_id: UUID, user_id: UUID, role: Role) -> None:
        await self._db.execute(
            update(t.memberships)
            .where(*self._key(organization_id, user_id))
            .values(role=role.value)
        )

    async def remove(self, organization_id: UUID, user_id: UUID) -> None:
        await self._db.execute(delete(t.memberships).where(*self._key(organization_id, user_id)))

    async def count_with_role(self, organization_id: UUID, role: Role) -> int:
        query = select(func.count()).where(
            t.memberships.c.organization_id == organization_id, t.memberships.c.role == role.value
        )
        return int((await self._db.execute(query)).scalar_one())

    async def list_members(self, organization_id: UUID, page: PageRequest) -> Page[Member]:
        u, m = t.users.c, t.memberships.c
        query = (
            select(u.id, u.email, u.first_name, u.last_name, m.role, m.created_at)
            .join(t.memberships, m.user_id == u.id)
            .where(m.organization_id == organization_id)
            .order_by(func.lower(u.last_name), func.lower(u.first_name), u.id)
        )
        return await self._page(
            query,
            page,
            lambda r: Member(r.id, r.email, r.first_name, r.last_name, Role(r.role), r.created_at),
        )


def _invitation(row: Row[Any]) -> Invitation:
    return Invitation(**(dict(row._mapping) | {"role": Role(row.role)}))


class SqlInvitationRepository(_Repository):
    async def add(self, invitation: Invitation) -> None:
        values = asdict(invitation) | {"role": invitation.role.value}
        await self._db.execute(insert(t.invitations).values(values))

    async def save(self, invitation: Invitation) -> None:
        c = t.invitations.c
        await self._db.execute(
            update(t.invitations)
            .where(c.id == invitation.id)
            .values(
                accepted_at=invitation.accepted_at,
                accepted_by=invitation.accepted_by,
                revoked_at=invitation.revoked_at,
            )
        )

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None:
        c = t.invitations.c
        return await self._one(c.organization_id == organization_id, c.id == invitation_id)

    async def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        return await self._one(t.invitations.c.token_hash == token_hash)

    async def _one(self, *conditions: Any) -> Invitation | None:
        row = (await self._db.execute(select(t.invitations).where(*conditions))).first()
        return _invitation(row) if row else None

    async def open_for_email(self, organization_id: UUID, email: str) -> list[Invitation]:
        c = t.invitations.c
        query = select(t.invitations).where(
            c.organization_id == organization_id,
            c.email == email,
            c.accepted_at.is_(None),
            c.revoked_at.is_(None),
        )
        return [_invitation(row) for row in await self._db.execute(query)]

    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[Invitation]:
        c = t.invitations.c
        query = (
            select(t.invitations)
            .where(c.organization_id == organization_id)
            .order_by(c.created_at.desc(), c.id.desc())
        )
        return await self._page(query, page, _invitation)


def _refresh_token(row: Row[Any]) -> RefreshTokenRecord:
    return RefreshTokenRecord(**row._mapping)


class SqlRefreshTokenRepository(_Repository):
    async def add(self, record: RefreshTokenRecord) -> None:
        await self._db.execute(insert(t.refresh_tokens).values(asdict(record)))

    async def get(self, jti: str) -> RefreshTokenRecord | None:
        query = select(t.refresh_tokens).where(t.refresh_tokens.c.jti == jti)
        row = (await self._db.execute(query)).first()
        return _refresh_token(row) if row else None

    async def spend(self, jti: str, now: datetime) -> bool:
        c = t.refresh_tokens.c
        result = await self._db.execute(
            update(t.refresh_tokens)
            .where(c.jti == jti, c.used_at.is_(None), c.revoked_at.is_(None), c.expires_at > now)
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def session_active(self, family_id: UUID, user_id: UUID) -> bool:
        c = t.refresh_tokens.c
        live = (c.family_id == family_id, c.user_id == user_id, c.revoked_at.is_(None))
        query = select(c.jti).where(*live).limit(1)
        return (await self._db.execute(query)).first() is not None

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self._revoke(t.refresh_tokens.c.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        await self._revoke(t.refresh_tokens.c.user_id == user_id, now)

    async def _revoke(self, condition: Any, now: datetime) -> None:
        await self._db.execute(
            update(t.refresh_tokens)
            .where(condition, t.refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlPasswordResetRepository(_Repository):
    async def add(self, token: PasswordResetToken) -> None:
        await self._db.execute(insert(t.password_reset_tokens).values(asdict(token)))

    async def spend(self, token_hash: str, now: datetime) -> UUID | None:
        c = t.password_reset_tokens.c
        result = await self._db.execute(
            update(t.password_reset_tokens)
            .where(c.token_hash == token_hash, c.used_at.is_(None), c.expires_at > now)
            .values(used_at=now)
            .returning(c.user_id)
        )
        user_id: UUID | None = result.scalar_one_or_none()
        return user_id

    async def spend_all_for_user(self, user_id: UUID, now: datetime) -> None:
        c = t.password_reset_tokens.c
        await self._db.execute(
            update(t.password_reset_tokens)
            .where(c.user_id == user_id, c.used_at.is_(None))
            .values(used_at=now)
        )


class SqlAccounts:
    """Accounts' repositories, one base of ``SqlUnitOfWork``."""

    users = RepositorySlot(SqlUserRepository)
    organizations = RepositorySlot(SqlOrganizationRepository)
    memberships = RepositorySlot(SqlMembershipRepository)
    invitations = RepositorySlot(SqlInvitationRepository)
    refresh_tokens = RepositorySlot(SqlRefreshTokenRepository)
    password_resets = RepositorySlot(SqlPasswordResetRepository)
