"""Sign-up, sign-in, token refresh, sign-out and password reset."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from cpd.domain.accounts import Actor
from cpd.entrypoints.http.problems import documented
from cpd.entrypoints.http.schemas import (
    LoginIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserOut,
    present,
)
from cpd.services.accounts import AccountService

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/register", summary="Create an account", responses=documented(400, 409))
    async def register(self, data: RegisterIn, accounts: AccountService) -> UserOut:
        user = await accounts.register(
            email=data.email,
            password=data.password,
            first_name=data.first_name,
            last_name=data.last_name,
        )
        return present(user, UserOut)

    @post(
        "/login",
        status_code=200,
        summary="Exchange email and password for tokens",
        responses=documented(400, 401, 429),
    )
    async def login(
        self, data: LoginIn, accounts: AccountService, request: Request[Any, Any, Any]
    ) -> TokenPairOut:
        client = request.client.host if request.client else "unknown"
        pair = await accounts.login(email=data.email, password=data.password, client=client)
        return TokenPairOut.of(pair)

    @post(
        "/refresh",
        status_code=200,
        summary="Rotate a refresh token for a new pair",
        responses=documented(400, 401),
    )
    async def refresh(self, data: RefreshIn, accounts: AccountService) -> TokenPairOut:
        return TokenPairOut.of(await accounts.refresh(data.refresh_token))

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        security=BEARER,
        summary="End a session",
        responses=documented(400, 401),
    )
    async def logout(self, data: RefreshIn, accounts: AccountService, actor: Actor) -> None:
        await accounts.logout(actor, data.refresh_token)

    @post(
        "/password-reset",
        status_code=HTTP_202_ACCEPTED,
        summary="Email a reset link (answers 202 whether or not the account exists)",
        responses=documented(400),
    )
    async def request_password_reset(self, data: PasswordResetIn, accounts: AccountService) -> None:
        await accounts.request_password_reset(data.email)

    @post(
        "/password-reset/confirm",
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a new password with a reset token",
        responses=documented(400),
    )
    async def confirm_password_reset(
        self, data: PasswordResetConfirmIn, accounts: AccountService
    ) -> None:
        await accounts.confirm_password_reset(token=data.token, new_password=data.new_password)
