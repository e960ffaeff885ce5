"""Stripe's webhook: verified, stored by event id, applied through the outbox."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, Request, post

from cpd.domain.errors import InvalidInput
from cpd.entrypoints.http.common import WebhookAck
from cpd.entrypoints.http.problems import documented
from cpd.services.registrations.booking import RegistrationService

log = structlog.get_logger("cpd.webhooks")


class StripeWebhookController(Controller):
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
