"""Who may run an organization's events and courses: shared by the event, course and
attendance use cases so every one of them draws the tenant line in the same place."""

from __future__ import annotations

from uuid import UUID

from cpd.domain.accounts import Actor, Membership, can_manage_events
from cpd.domain.errors import NotFound, PermissionDenied
from cpd.ports.unit_of_work import UnitOfWork


async def require_staff(
    uow: UnitOfWork, actor: Actor, organization_id: UUID, *, not_found: str
) -> Membership | None:
    """Staff pass; members of the organization get 403; everyone else 404 (``not_found``)."""
    membership = await uow.memberships.get(organization_id, actor.user_id)
    if can_manage_events(actor, membership):
        return membership
    if membership is None:
        raise NotFound(not_found)
    raise PermissionDenied("Only org_admin and org_staff may do this.")


async def require_approved(uow: UnitOfWork, organization_id: UUID) -> None:
    """Publishing (and so registrations and payments) waits for the platform's approval."""
    organization = await uow.organizations.get(organization_id)
    if organization is None:  # an event or course always has its organization (foreign key)
        raise NotFound("Organization not found.")
    organization.ensure_approved()


async def is_staff(uow: UnitOfWork, actor: Actor | None, organization_id: UUID) -> bool:
    if actor is None:
        return False
    return can_manage_events(actor, await uow.memberships.get(organization_id, actor.user_id))
