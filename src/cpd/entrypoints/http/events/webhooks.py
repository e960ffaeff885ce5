"""Zoom's webhook (meetings): verified, stored by event id, applied through the outbox."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, Request, post

from cpd.domain.errors import InvalidInput
from cpd.entrypoints.http.common import WebhookAck
from cpd.entrypoints.http.events.schemas import ZoomChallenge
from cpd.entrypoints.http.problems import documented
from cpd.services.events.meetings import MeetingService

log = structlog.get_logger("cpd.webhooks")


class ZoomWebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

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
