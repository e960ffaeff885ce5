"""The unit of work and its repositories: one transaction, committed once by a use case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from cpd.domain.accounts import Member, Membership, Organization, Role, User
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.pages import Page, PageRequest
from cpd.domain.tasks import ClaimedTask, Task


class UserRepository(Protocol):
    async def get(self, user_id: UUID) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None:
        """``email`` must already be normalised."""
        ...
    async def add(self, user: User) -> None: ...
    async def save(self, user: User) -> None: ...


class OrganizationRepository(Protocol):
    async def get(self, organization_id: UUID) -> Organization | None: ...
    async def get_for_update(self, organization_id: UUID) -> Organization | None:
        """Load and lock the row until commit, so membership changes of one organization serialise."""
        ...
    async def slug_exists(self, slug: str) -> bool: ...
    async def add(self, organization: Organization) -> None: ...
    async def save(self, organization: Organization) -> None: ...
    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Organization]: ...
    async def list_all(self, page: PageRequest) -> Page[Organization]: ...


class MembershipRepository(Protocol):
    async def get(self, organization_id: UUID, user_id: UUID) -> Membership | None: ...
    async def add(self, membership: Membership) -> None: ...
    async def change_role(self, organization_id: UUID, user_id: UUID, role: Role) -> None: ...
    async def remove(self, organization_id: UUID, user_id: UUID) -> None: ...
    async def count_with_role(self, organization_id: UUID, role: Role) -> int: ...
    async def list_members(self, organization_id: UUID, page: PageRequest) -> Page[Member]: ...


class RefreshTokenRepository(Protocol):
    async def add(self, record: RefreshTokenRecord) -> None: ...
    async def get(self, jti: str) -> RefreshTokenRecord | None: ...
    async def spend(self, jti: str, now: datetime) -> bool:
        """Mark the token used if it is still live; False if it was spent, revoked or expired.

        Atomic, so two concurrent refreshes with one token cannot both succeed.
        """
        ...
    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...
    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None: ...


class PasswordResetRepository(Protocol):
    async def add(self, token: PasswordResetToken) -> None: ...
    async def spend(self, token_hash: str, now: datetime) -> UUID | None:
        """Atomically use a live token and return its user id, or None."""
        ...


class Outbox(Protocol):
    def add(self, task: Task) -> None:
        """Record a task to run after, and only if, this transaction commits."""
        ...


class UnitOfWork(Protocol):
    users: UserRepository
    organizations: OrganizationRepository
    memberships: MembershipRepository
    refresh_tokens: RefreshTokenRepository
    password_resets: PasswordResetRepository
    outbox: Outbox

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...
    async def commit(self) -> None:
        """Make the changes durable; unique-constraint clashes surface as ``Conflict``."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class OutboxStore(Protocol):
    """The relay's side of the outbox: claim due tasks, then record how handing them on went."""

    async def claim_due(self, now: datetime, limit: int, lease_seconds: int) -> list[ClaimedTask]:
        """Lease up to ``limit`` due tasks so no other relay takes them until the lease ends."""
        ...
    async def mark_dispatched(self, task_id: UUID, now: datetime) -> None: ...
    async def mark_failed(self, task_id: UUID, error: str, retry_at: datetime | None) -> None:
        """``retry_at`` None gives up on the task for good (it stays for an operator to see)."""
        ...
    async def pending_count(self) -> int: ...


class HealthProbe(Protocol):
    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...
