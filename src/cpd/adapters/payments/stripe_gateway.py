"""The PaymentGateway port on Stripe: PaymentIntents, refunds and signed webhooks.

Every mutating call sends the caller's idempotency key, so a retry never charges or refunds
twice. Stripe's errors become domain errors (``InvalidInput``, ``Conflict``, ``NotFound``)
when the request itself is at fault, and ``PaymentProviderUnavailable`` when retrying later
may succeed.

Webhooks: ``parse_webhook`` raises ``InvalidInput(field="stripe-signature")`` when the
signature does not verify (forged, tampered, wrong secret, missing header) or its timestamp is
more than five minutes from now on either side (Stripe's library checks only the past side),
``InvalidInput(field="payload")`` for a signed body that is not a JSON object (``1e400``
included), ``InvalidInput(field="data.object")`` for an event it cannot read (a field missing,
an amount that is not a whole number within ``MAX_AMOUNT``, an absurd ``created``), and
``InvalidInput(field="type")`` for an event type or refund status it does not map. The webhook
route answers the first three with 400 (Stripe shows the delivery as failed and retries it:
an operator sees it) and acknowledges the last with 200, doing nothing with it.

Refund events: the reference is the PaymentIntent id. ``refund.updated`` (status succeeded,
failed or canceled) and ``refund.failed`` carry that one refund's amount; ``charge.refunded``
carries the charge's *total* refunded so far (Stripe's ``amount_refunded``: the charge's refund
list is not expanded in webhooks). Stripe may report one refund through several of these events:
``refund.*`` events carry the refund's id as ``refund_reference`` (the id ``RefundReceipt``
carries too), so a consumer counts each refund once under it; ``charge.refunded`` names no
refund and only confirms. ``refund.created`` is deliberately not mapped (it would
report most card refunds a second time). Suggested subscription: ``payment_intent.succeeded``,
``payment_intent.payment_failed``, ``charge.refunded``, ``refund.updated``, ``refund.failed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn
from uuid import UUID

import stripe

from cpd.adapters.json_payloads import NotJson, decode_json_object
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentEventKind, PaymentIntent, RefundReceipt
from cpd.domain.registrations import Registration
from cpd.ports.registrations import PaymentProviderUnavailable

SIGNATURE_HEADER = "stripe-signature"
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's own default, applied to both sides of now
# Stripe error codes that mean "the payment's state does not allow this", not "bad value".
_CONFLICT_CODES = frozenset(
    {
        "amount_too_large",
        "charge_already_refunded",
        "charge_disputed",
        "charge_not_refundable",
        "payment_intent_unexpected_state",
        "refund_disputed_payment",
    }
)


class StripeGateway:
    name = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = 2,
        timeout_seconds: float = 30,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("A Stripe API key is required.")
        if not webhook_secret:
            raise ValueError("A Stripe webhook signing secret is required.")
        self._webhook_secret = webhook_secret
        self._wall_clock = wall_clock
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool (on shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe 16.1

    # -- payments ---------------------------------------------------------------------------

    async def start_payment(
        self, registration: Registration, *, idempotency_key: str
    ) -> PaymentIntent:
        due = registration.amount_due
        if due.amount <= 0:
            raise InvalidInput("A free registration needs no payment.", field="amount_due")
        try:
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": due.amount,
                    "currency": due.currency.lower(),
                    "automatic_payment_methods": {"enabled": True},
                    "metadata": {
                        "registration_id": str(registration.id),
                        "event_id": str(registration.event_id),
                    },
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            _raise_mapped(error)
        return PaymentIntent(
            provider=self.name, reference=intent.id, client_secret=intent.client_secret
        )

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> RefundReceipt:
        if amount.amount <= 0:
            raise InvalidInput("A refund must be positive.", field="amount")
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": amount.amount},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            _raise_mapped(error)
        return RefundReceipt(
            provider=self.name,
            reference=refund.id,
            amount=Money(refund.amount, refund.currency.upper()),
        )

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        signature = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER), None
        )
        if not signature:
            raise InvalidInput("The Stripe-Signature header is missing.", field=SIGNATURE_HEADER)
        try:
            # tolerance=None: the library would check only the past side; both are checked below.
            stripe.WebhookSignature.verify_header(payload, signature, self._webhook_secret, None)
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            raise InvalidInput(
                "The webhook signature does not verify.", field=SIGNATURE_HEADER
            ) from None
        if abs(self._wall_clock() - _signed_at(signature)) > WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidInput(
                "The webhook timestamp is too old or too new.", field=SIGNATURE_HEADER
            )
        try:
            event = decode_json_object(payload)
        except NotJson as error:
            raise InvalidInput(f"The webhook payload is {error}.", field="payload") from None
        return _read_event(event)


def _signed_at(signature: str) -> int:
    """The ``t=`` of a header that has verified (so it holds exactly one valid one)."""
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    return int(stamps[0])


def _read_event(event: dict[str, Any]) -> PaymentEvent:
    """A verified Stripe event as the core sees it."""
    try:
        event_type = str(event["type"])
        obj: dict[str, Any] = event["data"]["object"]
        occurred_at = datetime.fromtimestamp(_whole(event["created"]), UTC)
        event_id = str(event["id"])
        kind, reference, amount, refund_reference = _classify(event_type, obj)
        money = Money.checked(amount, str(obj["currency"]).upper())
    except (KeyError, TypeError, ValueError, OverflowError, OSError, InvalidInput) as error:
        if isinstance(error, InvalidInput) and error.field == "type":
            raise
        raise InvalidInput(
            "The webhook event lacks a field this integration reads.", field="data.object"
        ) from None
    return PaymentEvent(
        id=event_id,
        kind=kind,
        reference=reference,
        registration_id=_registration_id(obj),
        amount=money,
        occurred_at=occurred_at,
        refund_reference=refund_reference,
    )


def _classify(
    event_type: str, obj: dict[str, Any]
) -> tuple[PaymentEventKind, str, int, str | None]:
    """The kind, the payment intent it concerns, the amount in minor units, and the refund
    it is about (refund events only)."""
    if event_type == "payment_intent.succeeded":
        received = obj.get("amount_received") or obj["amount"]
        return PaymentEventKind.PAYMENT_SUCCEEDED, str(obj["id"]), _whole(received), None
    if event_type == "payment_intent.payment_failed":
        return PaymentEventKind.PAYMENT_FAILED, str(obj["id"]), _whole(obj["amount"]), None
    if event_type == "charge.refunded":
        return (
            PaymentEventKind.REFUND_SUCCEEDED,
            _payment_intent_id(obj),
            _whole(obj["amount_refunded"]),
            None,
        )
    if event_type in {"refund.created", "refund.updated", "refund.failed"}:
        status = obj.get("status")
        if event_type == "refund.failed" or status in {"failed", "canceled"}:
            kind = PaymentEventKind.REFUND_FAILED
        elif status == "succeeded" and event_type == "refund.updated":
            kind = PaymentEventKind.REFUND_SUCCEEDED
        else:
            raise InvalidInput(
                f"Unhandled Stripe event {event_type} with refund status {status}.", field="type"
            )
        return kind, _payment_intent_id(obj), _whole(obj["amount"]), str(obj["id"])
    raise InvalidInput(f"Unhandled Stripe event type {event_type}.", field="type")


def _whole(value: Any) -> int:
    """A JSON integer as is: ``int()`` would truncate 12.9 to 12 or take "12"."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not a whole number")
    return value


def _payment_intent_id(obj: dict[str, Any]) -> str:
    """The payment intent a charge or refund belongs to (an id, or an expanded object)."""
    intent = obj["payment_intent"]
    if isinstance(intent, dict):
        intent = intent["id"]
    if not isinstance(intent, str) or not intent:
        raise KeyError("payment_intent")
    return intent


def _registration_id(obj: dict[str, Any]) -> UUID | None:
    metadata = obj.get("metadata")
    raw = metadata.get("registration_id") if isinstance(metadata, dict) else None
    try:
        return UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _raise_mapped(error: stripe.StripeError) -> NoReturn:
    """Stripe's error as a domain error, or PaymentProviderUnavailable when worth retrying."""
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.CardError):
        raise Conflict(f"The card was declined: {message}", field="card") from error
    if isinstance(error, stripe.IdempotencyError):
        raise Conflict(
            "This idempotency key was already used for a different request.",
            field="idempotency_key",
        ) from error
    if isinstance(error, stripe.InvalidRequestError):
        if error.code == "resource_missing":
            raise NotFound(
                f"Stripe does not know this object: {message}", field=error.param
            ) from error
        if error.code in _CONFLICT_CODES:
            raise Conflict(message, field=error.param) from error
        raise InvalidInput(message, field=error.param) from error
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        raise PaymentProviderUnavailable(
            f"Stripe rejected the API key ({type(error).__name__}); check the configuration."
        ) from error
    # APIConnectionError, APIError (5xx), RateLimitError and anything newer: retry later.
    raise PaymentProviderUnavailable(f"Stripe is unavailable: {message}") from error
