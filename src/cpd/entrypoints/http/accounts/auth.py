"""Sign-up, sign-in, token refresh, sign-out and password reset."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.datastructures import Cookie
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from cpd.domain.accounts import Actor
from cpd.entrypoints.http.accounts.schemas import (
    LoginIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
)
from cpd.entrypoints.http.dependencies import container_of
from cpd.entrypoints.http.problems import documented
from cpd.services.accounts.users import KNOWN_DEVICE_SECONDS, AccountService

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]
DEVICE_COOKIE = "cpd_device"


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=HTTP_202_ACCEPTED,
        summary="Create an account (answers 202 whether or not the email has one)",
        description="A new address gets a welcome email and can sign in at once; an address "
        "that already has an account gets an email saying so, and nothing changes.",
        responses=documented(400, 429),
    )
    async def register(self, data: RegisterIn, accounts: AccountService, client_ip: str) -> None:
        await accounts.register(
            email=data.email,
            password=data.password,
            first_name=data.first_name,
            last_name=data.last_name,
            client=client_ip,
        )

    @post(
        "/login",
        status_code=200,
        summary="Exchange email and password for tokens",
        responses=documented(400, 401, 429),
    )
    async def login(
        self,
        data: LoginIn,
        accounts: AccountService,
        request: Request[Any, Any, Any],
        client_ip: str,
    ) -> Response[TokenPairOut]:
        """Also sets the ``cpd_device`` cookie: a later sign-in that sends it back is never
        slowed down by other people's failures at this account or address."""
        pair = await accounts.login(
            email=data.email,
            password=data.password,
            client=client_ip,
            device=request.cookies.get(DEVICE_COOKIE),
        )
        cookies = []
        if pair.device:
            secure = container_of(request.app.state).settings.public_base_url.startswith("https:")
            cookies.append(
                Cookie(
                    key=DEVICE_COOKIE,
                    value=pair.device,
                    path="/api",
                    max_age=KNOWN_DEVICE_SECONDS,
                    httponly=True,
                    secure=secure,
                    samesite="strict",
                )
            )
        return Response(TokenPairOut.of(pair), cookies=cookies)

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
        responses=documented(400, 429),
    )
    async def request_password_reset(
        self, data: PasswordResetIn, accounts: AccountService, client_ip: str
    ) -> None:
        await accounts.request_password_reset(data.email, client=client_ip)

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
