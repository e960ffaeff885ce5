"""Provider webhooks (Stripe, Zoom): verified, stored by event id, applied through the outbox."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, Request, post
from msgspec import Struct

from cpd.domain.errors import InvalidInput
from cpd.entrypoints.http.problems import documented
from cpd.services.events.meetings import MeetingService
from cpd.services.registrations.booking import RegistrationService

log = structlog.get_logger("cpd.webhooks")


class WebhookAck(Struct):
    received: bool
    duplicate: bool = False
    ignored: bool = False


class ZoomChallenge(Struct):
    """The answer to Zoom's ``endpoint.url_validation``."""

    plainToken: str  # Zoom's field names
    encryptedToken: str


class WebhooksController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/stripe",
        status_code=200,
        summary="Stripe events (signature-checked)",
        responses=documented(400),
    )
    async def stripe(
        self, request: Request[Any, Any, Any], registrations: RegistrationService
    ) -> WebhookAck:
        body = await request.body()
        try:
            fresh = await registrations.receive_webhook(body, dict(request.headers))
        except InvalidInput as error:
            if error.field == "type":  # a verified event we do not act on: acknowledge it
                return WebhookAck(received=True, ignored=True)
            log.warning("webhook refused", provider="stripe", reason=error.detail)
            raise
        return WebhookAck(received=True, duplicate=not fresh)

    @post(
        "/zoom",
        status_code=200,
        summary="Zoom events and URL validation (x-zm-signature checked)",
        responses=documented(400),
    )
    async def zoom(
        self, request: Request[Any, Any, Any], meetings: MeetingService
    ) -> WebhookAck | ZoomChallenge:
        body = await request.body()
        try:
            receipt = await meetings.receive_webhook(body, dict(request.headers))
        except InvalidInput as error:
            if error.field == "event":  # verified, but a kind we do not act on
                return WebhookAck(received=True, ignored=True)
            log.warning("webhook refused", provider="zoom", reason=error.detail)
            raise
        if receipt.challenge is not None:
            return ZoomChallenge(
                plainToken=receipt.challenge["plainToken"],
                encryptedToken=receipt.challenge["encryptedToken"],
            )
        return WebhookAck(received=True, duplicate=not receipt.fresh)
