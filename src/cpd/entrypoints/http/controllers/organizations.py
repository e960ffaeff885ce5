"""Organizations (tenants) and their members."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from cpd.domain.accounts import Actor
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.controllers.auth import BEARER
from cpd.entrypoints.http.problems import documented
from cpd.entrypoints.http.schemas import (
    MemberIn,
    MemberOut,
    MemberPage,
    MemberPatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    given,
    present,
    set_fields,
)
from cpd.services.organizations import OrganizationChanges, OrganizationService


class OrganizationsController(Controller):
    path = "/organizations"
    tags = ["organizations"]
    security = BEARER

    @post(
        "/",
        summary="Create an organization; the caller becomes its org_admin",
        responses=documented(400, 401, 409),
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
        return present(await organizations.list_visible(actor, page), OrganizationPage)

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
        return present(await organizations.list_members(actor, organization_id, page), MemberPage)

    @post(
        "/{organization_id:uuid}/members",
        summary="Add an existing user (org_admin)",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def add_member(
        self,
        organization_id: UUID,
        data: MemberIn,
        actor: Actor,
        organizations: OrganizationService,
    ) -> MemberOut:
        member = await organizations.add_member(
            actor, organization_id, email=data.email, role=data.role
        )
        return present(member, MemberOut)

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
