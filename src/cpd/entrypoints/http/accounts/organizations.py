"""Organizations (tenants), their members, and the invitations members join by."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from cpd.domain.accounts import Actor
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.accounts.schemas import (
    AcceptInvitationIn,
    InvitationIn,
    InvitationOut,
    InvitationPage,
    JoinedOut,
    MemberOut,
    MemberPage,
    MemberPatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
)
from cpd.entrypoints.http.common import Page, given, present, set_fields
from cpd.entrypoints.http.problems import documented
from cpd.entrypoints.http.registrations.schemas import RefundPolicyIn, RefundPolicyOut
from cpd.services.accounts.organizations import OrganizationChanges, OrganizationService


class OrganizationsController(Controller):
    path = "/organizations"
    tags = ["organizations"]
    security = BEARER

    @post(
        "/",
        summary="Create an organization; the caller becomes its org_admin",
        description=(
            "Under CPD_ORGANIZATION_SIGNUP=approval it starts as `pending_approval`: it can "
            "prepare drafts and templates, and publishes once a superadmin approves it; under "
            "`closed` only superadmins create organizations (403 for others)."
        ),
        responses=documented(400, 401, 403, 409),
    )
    async def create(
        self, data: OrganizationIn, actor: Actor, organizations: OrganizationService
    ) -> OrganizationOut:
        organization = await organizations.create(
            actor,
            name=data.name,
            slug=data.slug,
            contact_email=data.contact_email,
            logo_url=data.logo_url,
        )
        return present(organization, OrganizationOut)

    @get("/", summary="My organizations (a superadmin sees all)", responses=documented(400, 401))
    async def list_mine(
        self, actor: Actor, organizations: OrganizationService, page: PageRequest
    ) -> OrganizationPage:
        return present(await organizations.list_visible(actor, page), Page[OrganizationOut])

    @get(
        "/{organization_id:uuid}",
        summary="One organization I belong to",
        responses=documented(401, 404),
    )
    async def get_one(
        self, organization_id: UUID, actor: Actor, organizations: OrganizationService
    ) -> OrganizationOut:
        return present(await organizations.get(actor, organization_id), OrganizationOut)

    @patch(
        "/{organization_id:uuid}",
        summary="Change an organization (org_admin)",
        responses=documented(400, 401, 403, 404),
    )
    async def update(
        self,
        organization_id: UUID,
        data: OrganizationPatch,
        actor: Actor,
        organizations: OrganizationService,
    ) -> OrganizationOut:
        sent = set_fields(data)
        changes = OrganizationChanges(
            name=given(data.name),
            contact_email=given(data.contact_email),
            logo_url=given(data.logo_url),
            clear=frozenset(name for name, value in sent.items() if value is None),
        )
        return present(await organizations.update(actor, organization_id, changes), OrganizationOut)

    @get(
        "/{organization_id:uuid}/refund-policy",
        summary="The refund policy of its events, unless an event overrides it (staff)",
        responses=documented(401, 403, 404),
    )
    async def refund_policy(
        self, organization_id: UUID, actor: Actor, organizations: OrganizationService
    ) -> RefundPolicyOut:
        return RefundPolicyOut.of(await organizations.refund_policy(actor, organization_id))

    @put(
        "/{organization_id:uuid}/refund-policy",
        summary="Set the refund policy for payments from now on (org_admin)",
        responses=documented(400, 401, 403, 404),
    )
    async def set_refund_policy(
        self,
        organization_id: UUID,
        data: RefundPolicyIn,
        actor: Actor,
        organizations: OrganizationService,
    ) -> RefundPolicyOut:
        policy = await organizations.set_refund_policy(actor, organization_id, data.to_domain())
        return RefundPolicyOut.of(policy)

    @post(
        "/{organization_id:uuid}/approve",
        status_code=200,
        summary="Approve an organization: it may then publish and take payments (superadmin)",
        responses=documented(401, 403, 404),
    )
    async def approve(
        self, organization_id: UUID, actor: Actor, organizations: OrganizationService
    ) -> OrganizationOut:
        return present(await organizations.approve(actor, organization_id), OrganizationOut)

    @get(
        "/{organization_id:uuid}/members",
        summary="Members (org_admin, org_staff)",
        responses=documented(400, 401, 403, 404),
    )
    async def list_members(
        self,
        organization_id: UUID,
        actor: Actor,
        organizations: OrganizationService,
        page: PageRequest,
    ) -> MemberPage:
        found = await organizations.list_members(actor, organization_id, page)
        return present(found, Page[MemberOut])

    @post(
        "/{organization_id:uuid}/invitations",
        status_code=HTTP_202_ACCEPTED,
        summary="Invite someone by email to join with a role (org_admin)",
        description=(
            "Emails a link, valid for 7 days, that the account of that address accepts with "
            "`POST /invitations/accept`; nothing changes until then. The answer is the same "
            "for any address (no account is looked up). Inviting an address again withdraws "
            "its earlier invitations."
        ),
        responses=documented(400, 401, 403, 404),
    )
    async def invite(
        self,
        organization_id: UUID,
        data: InvitationIn,
        actor: Actor,
        organizations: OrganizationService,
    ) -> InvitationOut:
        invitation = await organizations.invite(
            actor, organization_id, email=data.email, role=data.role
        )
        return present(invitation, InvitationOut)

    @get(
        "/{organization_id:uuid}/invitations",
        summary="Invitations, newest first, with their status (org_admin)",
        responses=documented(400, 401, 403, 404),
    )
    async def list_invitations(
        self,
        organization_id: UUID,
        actor: Actor,
        organizations: OrganizationService,
        page: PageRequest,
    ) -> InvitationPage:
        found = await organizations.invitations(actor, organization_id, page)
        return present(found, Page[InvitationOut])

    @delete(
        "/{organization_id:uuid}/invitations/{invitation_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Withdraw an invitation: its link stops working (org_admin)",
        responses=documented(401, 403, 404, 409),
    )
    async def revoke_invitation(
        self,
        organization_id: UUID,
        invitation_id: UUID,
        actor: Actor,
        organizations: OrganizationService,
    ) -> None:
        await organizations.revoke_invitation(actor, organization_id, invitation_id)

    @patch(
        "/{organization_id:uuid}/members/{user_id:uuid}",
        summary="Change a role (org_admin)",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def change_role(
        self,
        organization_id: UUID,
        user_id: UUID,
        data: MemberPatch,
        actor: Actor,
        organizations: OrganizationService,
    ) -> MemberOut:
        member = await organizations.change_role(actor, organization_id, user_id, data.role)
        return present(member, MemberOut)

    @delete(
        "/{organization_id:uuid}/members/{user_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a member (org_admin), or leave (yourself)",
        responses=documented(401, 403, 404, 409),
    )
    async def remove_member(
        self,
        organization_id: UUID,
        user_id: UUID,
        actor: Actor,
        organizations: OrganizationService,
    ) -> None:
        await organizations.remove_member(actor, organization_id, user_id)


class InvitationsController(Controller):
    path = "/invitations"
    tags = ["organizations"]
    security = BEARER

    @post(
        "/accept",
        status_code=200,
        summary="Accept an invitation: join its organization with its role",
        description=(
            "Signed in with the account of the invited address (register one with it first "
            "if needed); another account gets 403. The token is the `token` of the emailed "
            "link; an unknown, expired, withdrawn or used one answers 400 (field `token`)."
        ),
        responses=documented(400, 401, 403, 409),
    )
    async def accept(
        self, data: AcceptInvitationIn, actor: Actor, organizations: OrganizationService
    ) -> JoinedOut:
        joined = await organizations.accept_invitation(actor, data.token)
        return JoinedOut(
            organization=present(joined.organization, OrganizationOut),
            role=joined.membership.role,
            joined_at=joined.membership.created_at,
        )
