"""Organizations (tenants) and who belongs to them: members join by accepting an emailed
invitation, never by being added."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from cpd.domain.accounts import (
    Actor,
    Member,
    Membership,
    Organization,
    OrganizationSignup,
    Role,
    can_manage_members,
    can_manage_organization,
    can_view_members,
    can_view_organization,
    ensure_an_admin_remains,
    normalise_email,
)
from cpd.domain.auth import AttemptPolicy
from cpd.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from cpd.domain.invitations import INVALID_LINK, Invitation, InvitationView
from cpd.domain.pages import MAX_PAGE_SIZE, Page, PageRequest
from cpd.domain.refunds import RefundPolicy
from cpd.ports.platform import AttemptThrottle, Cache, Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.common.slugs import free_slug
from cpd.services.messaging.emails import invitation_email, send_email_task

ORGANIZATION_NOT_FOUND = "Organization not found."
MEMBER_NOT_FOUND = "Member not found."
INVITATION_NOT_FOUND = "Invitation not found."


@dataclass(frozen=True, slots=True)
class Joined:
    """What accepting an invitation made: a membership of this organization."""

    organization: Organization
    membership: Membership


@dataclass(frozen=True, slots=True)
class OrganizationChanges:
    name: str | None = None
    contact_email: str | None = None
    logo_url: str | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class InvitationLimits:
    """How fast invitations may go out: ``per_organization`` from one organization, and
    ``per_recipient`` to one address from all organizations together, so an admin can neither
    mail the world nor bury one person in invitations."""

    per_organization: AttemptPolicy
    per_recipient: AttemptPolicy


class OrganizationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        public_base_url: str,
        catalog_cache: Cache | None = None,
        signup: OrganizationSignup = OrganizationSignup.OPEN,
        throttle: AttemptThrottle,
        invitation_limits: InvitationLimits,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._public_base_url = public_base_url.rstrip("/")
        self._catalog_cache = catalog_cache  # event pages show the organization's name
        self._signup = signup
        self._throttle = throttle
        self._invitation_limits = invitation_limits

    async def create(
        self,
        actor: Actor,
        *,
        name: str,
        slug: str | None = None,
        contact_email: str | None = None,
        logo_url: str | None = None,
    ) -> Organization:
        """Create an organization whose creator becomes its first org_admin. How signup is
        set decides who may, and whether it may publish before a superadmin approves it."""
        if self._signup is OrganizationSignup.CLOSED and not actor.is_superadmin:
            raise PermissionDenied("Only the platform's administrators create organizations.")
        approved = self._signup is OrganizationSignup.OPEN or actor.is_superadmin
        now = self._clock.now()
        async with self._uow() as uow:
            chosen = await free_slug(
                slug,
                derive_from=name,
                taken=uow.organizations.slug_exists,
                taken_message="This slug is taken.",
            )
            organization = Organization.create(
                name=name,
                slug=chosen,
                now=now,
                approved=approved,
                contact_email=contact_email,
                logo_url=logo_url,
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

    async def refund_policy(self, actor: Actor, organization_id: UUID) -> RefundPolicy:
        """Its events' refund policy unless one overrides it: for its org_admins and staff."""
        async with self._uow() as uow:
            organization, membership = await _visible(uow, actor, organization_id)
        if not can_view_members(actor, membership):
            raise PermissionDenied("Only the organization's staff may see its refund policy.")
        return organization.refund_policy

    async def set_refund_policy(
        self, actor: Actor, organization_id: UUID, policy: RefundPolicy
    ) -> RefundPolicy:
        """Applies to payments from now on; registrations paid already keep theirs."""
        async with self._uow() as uow:
            organization, membership = await _visible(uow, actor, organization_id, lock=True)
            if not can_manage_organization(actor, membership):
                raise PermissionDenied("Only an org_admin may change the refund policy.")
            organization.set_refund_policy(policy, now=self._clock.now())
            await uow.organizations.save(organization)
            await uow.commit()
        return organization.refund_policy

    async def approve(self, actor: Actor, organization_id: UUID) -> Organization:
        """A superadmin lets an organization publish and take payments."""
        async with self._uow() as uow:
            organization, _ = await _visible(uow, actor, organization_id, lock=True)
            if not actor.is_superadmin:
                raise PermissionDenied("Only the platform's administrators approve organizations.")
            return await self._approve(uow, organization)

    async def approve_as_operator(self, reference: str) -> Organization:
        """The CLI's approval (whoever runs it operates the platform): by id or slug."""
        async with self._uow() as uow:
            organization = await _by_reference(uow, reference)
            return await self._approve(uow, organization)

    async def all_for_operator(self, *, pending_only: bool = False) -> list[Organization]:
        """Every organization, for the CLI (optionally only those awaiting approval)."""
        found: list[Organization] = []
        async with self._uow() as uow:
            while True:
                page = await uow.organizations.list_all(PageRequest(MAX_PAGE_SIZE, len(found)))
                found += page.items
                if not page.items or len(found) >= page.total:
                    break
        return [o for o in found if o.approved_at is None or not pending_only]

    async def _approve(self, uow: UnitOfWork, organization: Organization) -> Organization:
        organization.approve(now=self._clock.now())
        await uow.organizations.save(organization)
        await uow.commit()
        return organization

    async def list_members(
        self, actor: Actor, organization_id: UUID, page: PageRequest
    ) -> Page[Member]:
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id)
            if not can_view_members(actor, membership):
                raise PermissionDenied("Only org_admin and org_staff may list members.")
            return await uow.memberships.list_members(organization_id, page)

    async def invite(
        self, actor: Actor, organization_id: UUID, *, email: str, role: Role
    ) -> InvitationView:
        """Email a link that makes whoever holds ``email``'s account a member with ``role``
        once they accept it. Accounts are not looked up: the answer is the same for any
        address. A new invitation to the same address withdraws the earlier ones."""
        email = normalise_email(email)
        now = self._clock.now()
        secret = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            organization, membership = await _visible(uow, actor, organization_id, lock=True)
            _require_member_manager(actor, membership)
            await self._admit_invitation(organization_id, email)
            for earlier in await uow.invitations.open_for_email(organization_id, email):
                earlier.revoke(now=now)
                await uow.invitations.save(earlier)
            invitation = Invitation.issue(
                organization_id=organization_id,
                email=email,
                role=role,
                token_hash=_digest(secret),
                invited_by=actor.user_id,
                now=now,
            )
            await uow.invitations.add(invitation)
            link = f"{self._public_base_url}/invitations/accept?token={secret}"
            uow.outbox.add(send_email_task(invitation_email(invitation, organization, link)))
            await uow.commit()
        return InvitationView.of(invitation, now)

    async def _admit_invitation(self, organization_id: UUID, email: str) -> None:
        limits = self._invitation_limits
        wait = await self._throttle.attempt(
            (f"invite-from:{organization_id}", limits.per_organization),
            (f"invite-to:{_digest(email)}", limits.per_recipient),
        )
        if wait:
            raise RateLimited("Too many invitations; try again later.", retry_after=wait)

    async def invitations(
        self, actor: Actor, organization_id: UUID, page: PageRequest
    ) -> Page[InvitationView]:
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id)
            _require_member_manager(actor, membership)
            found = await uow.invitations.list_for_organization(organization_id, page)
        now = self._clock.now()
        return Page(
            [InvitationView.of(i, now) for i in found.items], found.total, page.limit, page.offset
        )

    async def revoke_invitation(
        self, actor: Actor, organization_id: UUID, invitation_id: UUID
    ) -> None:
        async with self._uow() as uow:
            _, membership = await _visible(uow, actor, organization_id, lock=True)
            _require_member_manager(actor, membership)
            invitation = await uow.invitations.get(organization_id, invitation_id)
            if invitation is None:
                raise NotFound(INVITATION_NOT_FOUND)
            invitation.revoke(now=self._clock.now())
            await uow.invitations.save(invitation)
            await uow.commit()

    async def accept_invitation(self, actor: Actor, token: str) -> Joined:
        """The signed-in account of the invited address joins with the invited role."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.invitations.get_by_token_hash(_digest(token))
            if found is None:
                raise InvalidInput(INVALID_LINK, field="token")
            # Under the organization's lock, as revoking is: a withdrawn link cannot win a race.
            organization = await uow.organizations.get_for_update(found.organization_id)
            invitation = await uow.invitations.get_by_token_hash(_digest(token))
            user = await uow.users.get(actor.user_id)
            if organization is None or invitation is None or user is None:
                raise InvalidInput(INVALID_LINK, field="token")
            membership = invitation.accept(user, now=now)
            if await uow.memberships.get(organization.id, user.id) is not None:
                raise Conflict("You are already a member of this organization.")
            await uow.memberships.add(membership)
            await uow.invitations.save(invitation)
            await uow.commit()
        return Joined(organization, membership)

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


async def _by_reference(uow: UnitOfWork, reference: str) -> Organization:
    try:
        found = await uow.organizations.get_for_update(UUID(reference))
    except ValueError:
        found = await uow.organizations.get_by_slug(reference.strip().lower())
    if found is None:
        raise NotFound(ORGANIZATION_NOT_FOUND)
    return found


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_member_manager(actor: Actor, membership: Membership | None) -> None:
    if not can_manage_members(actor, membership):
        raise PermissionDenied("Only an org_admin may manage members.")


async def _target_membership(uow: UnitOfWork, organization_id: UUID, user_id: UUID) -> Membership:
    target = await uow.memberships.get(organization_id, user_id)
    if target is None:
        raise NotFound(MEMBER_NOT_FOUND)
    return target
