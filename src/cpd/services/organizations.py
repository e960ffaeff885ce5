"""Organizations (tenants) and who belongs to them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from cpd.domain.accounts import (
    Actor,
    Member,
    Membership,
    Organization,
    Role,
    can_manage_members,
    can_manage_organization,
    can_view_members,
    can_view_organization,
    ensure_an_admin_remains,
    normalise_email,
)
from cpd.domain.errors import Conflict, NotFound, PermissionDenied
from cpd.domain.pages import Page, PageRequest
from cpd.ports.persistence import UnitOfWork, UnitOfWorkFactory
from cpd.ports.services import Cache, Clock
from cpd.services.slugs import free_slug

ORGANIZATION_NOT_FOUND = "Organization not found."
MEMBER_NOT_FOUND = "Member not found."


@dataclass(frozen=True, slots=True)
class OrganizationChanges:
    name: str | None = None
    contact_email: str | None = None
    logo_url: str | None = None
    clear: frozenset[str] = frozenset()


class OrganizationService:
    def __init__(
        self, uow: UnitOfWorkFactory, *, clock: Clock, catalog_cache: Cache | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog_cache = catalog_cache  # event pages show the organization's name

    async def create(
        self,
        actor: Actor,
        *,
        name: str,
        slug: str | None = None,
        contact_email: str | None = None,
        logo_url: str | None = None,
    ) -> Organization:
        """Create an organization whose creator becomes its first org_admin."""
        now = self._clock.now()
        async with self._uow() as uow:
            chosen = await free_slug(
                slug,
                derive_from=name,
                taken=uow.organizations.slug_exists,
                taken_message="This slug is taken.",
            )
            organization = Organization.create(
                name=name, slug=chosen, now=now, contact_email=contact_email, logo_url=logo_url
            )
            await uow.organizations.add(organization)
            await uow.memberships.add(
                Membership(organization.id, actor.user_id, Role.ORG_ADMIN, created_at=now)
            )
            await uow.commit()
        return organization

    async def list_visible(self, actor: Actor, page: PageRequest) -> Page[Organization]:
        """The caller's organizations; a superadmin sees every one."""
        async with self._uow() as uow:
            if actor.is_superadmin:
                return await uow.organizations.list_all(page)
            return await uow.organizations.list_for_user(actor.user_id, page)

    async def get(self, actor: Actor, organization_id: UUID) -> Organization:
        async with self._uow() as uow:
            organization, _ = await _visible(uow, actor, organization_id)
        return organization

    async def update(
        self, actor: Actor, organization_id: UUID, changes: OrganizationChanges
    ) -> Organization:
        async with self._uow() as uow:
            organization, membership = await _visible(uow, actor, organization_id)
            if not can_manage_organization(actor, membership):
                raise PermissionDenied("Only an org_admin may change the organization.")
            organization.update(
                now=self._clock.now(),
                name=changes.name,
                contact_email=changes.contact_email,
                logo_url=changes.logo_url,
                clear=changes.clear,
            )
            await uow.organizations.save(organization)
            await uow.commit()
        if self._catalog_cache is not None:
            await self._catalog_cache.clear()
        return organization

    async def list_members(
        self, actor: Actor, organization_id: UUID, page: PageRequest
    ) -> Page[Member]:
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id)
            if not can_view_members(actor, membership):
                raise PermissionDenied("Only org_admin and org_staff may list members.")
            return await uow.memberships.list_members(organization_id, page)

    async def add_member(
        self, actor: Actor, organization_id: UUID, *, email: str, role: Role
    ) -> Member:
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id, lock=True)
            _require_member_manager(actor, membership)
            user = await uow.users.get_by_email(normalise_email(email))
            if user is None:
                raise NotFound(
                    "No account uses this email; ask them to sign up first.", field="email"
                )
            if await uow.memberships.get(organization_id, user.id) is not None:
                raise Conflict("This user is already a member.", field="email")
            now = self._clock.now()
            await uow.memberships.add(Membership(organization_id, user.id, role, created_at=now))
            await uow.commit()
        return Member(user.id, user.email, user.first_name, user.last_name, role, joined_at=now)

    async def change_role(
        self, actor: Actor, organization_id: UUID, user_id: UUID, role: Role
    ) -> Member:
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id, lock=True)
            _require_member_manager(actor, membership)
            target = await _target_membership(uow, organization_id, user_id)
            admins = await uow.memberships.count_with_role(organization_id, Role.ORG_ADMIN)
            ensure_an_admin_remains(target, role, admins)
            await uow.memberships.change_role(organization_id, user_id, role)
            user = await uow.users.get(user_id)
            await uow.commit()
        if user is None:  # a membership always has its user (foreign key)
            raise NotFound(MEMBER_NOT_FOUND)
        return Member(user.id, user.email, user.first_name, user.last_name, role, target.created_at)

    async def remove_member(self, actor: Actor, organization_id: UUID, user_id: UUID) -> None:
        """An org_admin removes anyone; any member may remove themselves (leave)."""
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id, lock=True)
            if user_id != actor.user_id:
                _require_member_manager(actor, membership)
            target = await _target_membership(uow, organization_id, user_id)
            admins = await uow.memberships.count_with_role(organization_id, Role.ORG_ADMIN)
            ensure_an_admin_remains(target, None, admins)
            await uow.memberships.remove(organization_id, user_id)
            await uow.commit()


async def _visible(
    uow: UnitOfWork, actor: Actor, organization_id: UUID, *, lock: bool = False
) -> tuple[Organization, Membership | None]:
    """Load an organization the caller may see; any other answers NotFound, never 403."""
    repo = uow.organizations
    organization = await (repo.get_for_update if lock else repo.get)(organization_id)
    membership = await uow.memberships.get(organization_id, actor.user_id)
    if organization is None or not can_view_organization(actor, membership):
        raise NotFound(ORGANIZATION_NOT_FOUND)
    return organization, membership


def _require_member_manager(actor: Actor, membership: Membership | None) -> None:
    if not can_manage_members(actor, membership):
        raise PermissionDenied("Only an org_admin may manage members.")


async def _target_membership(uow: UnitOfWork, organization_id: UUID, user_id: UUID) -> Membership:
    target = await uow.memberships.get(organization_id, user_id)
    if target is None:
        raise NotFound(MEMBER_NOT_FOUND)
    return target
