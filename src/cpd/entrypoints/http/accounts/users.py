"""The caller's own account."""

from __future__ import annotations

from litestar import Controller, get, patch

from cpd.domain.accounts import Actor
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.accounts.schemas import MeOut, MePatch
from cpd.entrypoints.http.common import given, present, set_fields
from cpd.entrypoints.http.problems import documented
from cpd.services.accounts.users import AccountService, ProfileChanges


class UsersController(Controller):
    path = "/users"
    tags = ["users"]
    security = BEARER

    @get("/me", summary="My account and profile", responses=documented(401))
    async def me(self, actor: Actor, accounts: AccountService) -> MeOut:
        return present(await accounts.get_me(actor), MeOut)

    @patch("/me", summary="Change my names or profile fields", responses=documented(400, 401))
    async def update_me(self, data: MePatch, actor: Actor, accounts: AccountService) -> MeOut:
        profile = given(data.profile)
        changes = ProfileChanges(
            first_name=given(data.first_name),
            last_name=given(data.last_name),
            profile=set_fields(profile) if profile else None,
        )
        return present(await accounts.update_me(actor, changes), MeOut)
