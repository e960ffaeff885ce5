"""Accounts in memory: users, organizations, memberships, invitations and tokens."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from cpd.adapters.memory.base import Tables, _page, _Repo
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.accounts import Member, Membership, Organization, Role, User
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.errors import Conflict
from cpd.domain.invitations import Invitation
from cpd.domain.pages import Page, PageRequest


class MemoryUserRepository(_Repo):
    async def get(self, user_id: UUID) -> User | None:
        return copy.deepcopy(self._state.users.get(user_id))

    async def get_many(self, user_ids: list[UUID]) -> list[User]:
        users = self._state.users
        return [copy.deepcopy(users[i]) for i in dict.fromkeys(user_ids) if i in users]

    async def get_by_email(self, email: str) -> User | None:
        found = next((u for u in self._state.users.values() if u.email == email), None)
        return copy.deepcopy(found)

    async def add(self, user: User) -> None:
        if await self.get_by_email(user.email) is not None:
            raise Conflict("An account with this email already exists.", field="email")
        self._state.users[user.id] = copy.deepcopy(user)

    async def save(self, user: User) -> None:
        self._state.users[user.id] = copy.deepcopy(user)


class MemoryOrganizationRepository(_Repo):
    async def get(self, organization_id: UUID) -> Organization | None:
        return copy.copy(self._state.organizations.get(organization_id))

    get_for_update = get  # the transaction already holds the database lock

    async def get_by_slug(self, slug: str) -> Organization | None:
        found = next((o for o in self._state.organizations.values() if o.slug == slug), None)
        return copy.copy(found)

    async def slug_exists(self, slug: str) -> bool:
        return await self.get_by_slug(slug) is not None

    async def add(self, organization: Organization) -> None:
        if await self.slug_exists(organization.slug):
            raise Conflict("This slug is taken.", field="slug")
        self._state.organizations[organization.id] = copy.copy(organization)

    async def save(self, organization: Organization) -> None:
        self._state.organizations[organization.id] = copy.copy(organization)

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Organization]:
        ids = {org for (org, user) in self._state.memberships if user == user_id}
        return _page(
            self._sorted(o for o in self._state.organizations.values() if o.id in ids), page
        )

    async def list_all(self, page: PageRequest) -> Page[Organization]:
        return _page(self._sorted(self._state.organizations.values()), page)

    @staticmethod
    def _sorted(organizations: Iterable[Organization]) -> list[Organization]:
        return [copy.copy(o) for o in sorted(organizations, key=lambda o: (o.name.lower(), o.id))]


class MemoryMembershipRepository(_Repo):
    async def get(self, organization_id: UUID, user_id: UUID) -> Membership | None:
        return copy.copy(self._state.memberships.get((organization_id, user_id)))

    async def add(self, membership: Membership) -> None:
        key = (membership.organization_id, membership.user_id)
        if key in self._state.memberships:
            raise Conflict("This user is already a member.", field="email")
        self._state.memberships[key] = copy.copy(membership)

    async def change_role(self, organization_id: UUID, user_id: UUID, role: Role) -> None:
        key = (organization_id, user_id)
        self._state.memberships[key] = replace(self._state.memberships[key], role=role)

    async def remove(self, organization_id: UUID, user_id: UUID) -> None:
        self._state.memberships.pop((organization_id, user_id), None)

    async def count_with_role(self, organization_id: UUID, role: Role) -> int:
        return sum(
            1
            for (org, _), m in self._state.memberships.items()
            if org == organization_id and m.role is role
        )

    async def list_members(self, organization_id: UUID, page: PageRequest) -> Page[Member]:
        users = self._state.users
        members = [
            Member(
                m.user_id,
                users[m.user_id].email,
                users[m.user_id].first_name,
                users[m.user_id].last_name,
                m.role,
                m.created_at,
            )
            for (org, _), m in self._state.memberships.items()
            if org == organization_id
        ]
        members.sort(key=lambda m: (m.last_name.lower(), m.first_name.lower(), m.user_id))
        return _page(members, page)


class MemoryRefreshTokenRepository(_Repo):
    async def add(self, record: RefreshTokenRecord) -> None:
        self._state.refresh_tokens[record.jti] = copy.copy(record)

    async def get(self, jti: str) -> RefreshTokenRecord | None:
        return copy.copy(self._state.refresh_tokens.get(jti))

    async def spend(self, jti: str, now: datetime) -> bool:
        record = self._state.refresh_tokens.get(jti)
        if record is None or record.used_at or record.revoked_at or record.expires_at <= now:
            return False
        self._state.refresh_tokens[jti] = replace(record, used_at=now)
        return True

    async def session_active(self, family_id: UUID, user_id: UUID) -> bool:
        return any(
            r.family_id == family_id and r.user_id == user_id and r.revoked_at is None
            for r in self._state.refresh_tokens.values()
        )

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        self._revoke(lambda r: r.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        self._revoke(lambda r: r.user_id == user_id, now)

    def _revoke(self, matches: Callable[[RefreshTokenRecord], bool], now: datetime) -> None:
        tokens = self._state.refresh_tokens
        for jti, record in list(tokens.items()):
            if matches(record) and record.revoked_at is None:
                tokens[jti] = replace(record, revoked_at=now)


class MemoryInvitationRepository(_Repo):
    async def add(self, invitation: Invitation) -> None:
        if any(i.token_hash == invitation.token_hash for i in self._state.invitations.values()):
            raise Conflict("This change clashes with existing data.")  # as SQL's unique index
        self._state.invitations[invitation.id] = copy.copy(invitation)

    async def save(self, invitation: Invitation) -> None:
        self._state.invitations[invitation.id] = copy.copy(invitation)

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None:
        found = self._state.invitations.get(invitation_id)
        return copy.copy(found) if found and found.organization_id == organization_id else None

    async def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        invitations = self._state.invitations.values()
        return copy.copy(next((i for i in invitations if i.token_hash == token_hash), None))

    async def open_for_email(self, organization_id: UUID, email: str) -> list[Invitation]:
        return [
            copy.copy(i)
            for i in self._state.invitations.values()
            if i.organization_id == organization_id
            and i.email == email
            and i.accepted_at is None
            and i.revoked_at is None
        ]

    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[Invitation]:
        mine = [i for i in self._state.invitations.values() if i.organization_id == organization_id]
        mine.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return _page([copy.copy(i) for i in mine], page)


class MemoryPasswordResetRepository(_Repo):
    async def add(self, token: PasswordResetToken) -> None:
        self._state.password_reset_tokens[token.token_hash] = token

    async def spend(self, token_hash: str, now: datetime) -> UUID | None:
        token = self._state.password_reset_tokens.get(token_hash)
        if token is None or token.used_at is not None or token.expires_at <= now:
            return None
        self._state.password_reset_tokens[token_hash] = replace(token, used_at=now)
        return token.user_id

    async def spend_all_for_user(self, user_id: UUID, now: datetime) -> None:
        resets = self._state.password_reset_tokens
        for token_hash, token in list(resets.items()):
            if token.user_id == user_id and token.used_at is None:
                resets[token_hash] = replace(token, used_at=now)


@dataclass
class AccountsTables(Tables):
    users: dict[UUID, User] = field(default_factory=dict)
    organizations: dict[UUID, Organization] = field(default_factory=dict)
    memberships: dict[tuple[UUID, UUID], Membership] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    password_reset_tokens: dict[str, PasswordResetToken] = field(default_factory=dict)


class MemoryAccounts:
    """Accounts' repositories, one base of ``MemoryUnitOfWork``."""

    users = RepositorySlot(MemoryUserRepository)
    organizations = RepositorySlot(MemoryOrganizationRepository)
    memberships = RepositorySlot(MemoryMembershipRepository)
    invitations = RepositorySlot(MemoryInvitationRepository)
    refresh_tokens = RepositorySlot(MemoryRefreshTokenRepository)
    password_resets = RepositorySlot(MemoryPasswordResetRepository)
