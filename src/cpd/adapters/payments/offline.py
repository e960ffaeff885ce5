"""An offline PaymentGateway for the embedded mode and demos: no keys, no network.

``start_payment`` opens a payment in memory; ``pay`` takes a Stripe-style test token and
returns the event a webhook would have brought (``POST /registrations/{id}/pay`` hands it to
the same code as a verified webhook). Refunds never exceed what was paid and are idempotent
by key. State lives in this process only: one gateway per process, lost on restart, which is
what a demo needs and no more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID, uuid4

from cpd.adapters.system import SystemClock
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentEventKind, PaymentIntent, RefundReceipt
from cpd.domain.registrations import Registration
from cpd.ports.services import Clock

SUCCEEDING_TOKENS = frozenset({"tok_visa", "pm_card_visa"})
DECLINING_TOKENS = frozenset({"tok_chargeDeclined", "pm_card_chargeDeclined"})


@dataclass(slots=True)
class _Payment:
    registration_id: UUID
    amount: Money
    paid: bool = False
    refunded: int = 0


@dataclass(frozen=True, slots=True)
class _KeyedRefund:
    reference: str
    amount: Money
    receipt: RefundReceipt


class OfflineGateway:
    name = "offline"

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._payments: dict[str, _Payment] = {}
        self._starts: dict[str, tuple[UUID, PaymentIntent]] = {}
        self._refunds: dict[str, _KeyedRefund] = {}

    async def start_payment(
        self, registration: Registration, *, idempotency_key: str
    ) -> PaymentIntent:
        due = registration.amount_due
        if due.amount <= 0:
            raise InvalidInput("A free registration needs no payment.", field="amount_due")
        started = self._starts.get(idempotency_key)
        if started is not None:
            registration_id, intent = started
            if registration_id != registration.id:
                raise Conflict(
                    "This idempotency key was already used for another registration.",
                    field="idempotency_key",
                )
            return intent
        intent = PaymentIntent(provider=self.name, reference=f"off_{uuid4().hex}")
        self._payments[intent.reference] = _Payment(registration.id, due)
        self._starts[idempotency_key] = (registration.id, intent)
        return intent

    async def pay(self, reference: str, card_token: str) -> PaymentEvent:
        """Pay with a test token: ``tok_visa`` / ``pm_card_visa`` succeed, ``tok_chargeDeclined``
        is declined (the payment stays open for another try); anything else is invalid."""
        payment = self._payment(reference)
        if card_token in SUCCEEDING_TOKENS:
            kind = PaymentEventKind.PAYMENT_SUCCEEDED
        elif card_token in DECLINING_TOKENS:
            kind = PaymentEventKind.PAYMENT_FAILED
        else:
            raise InvalidInput(
                "Use a test card token: tok_visa (succeeds) or tok_chargeDeclined (declined).",
                field="card_token",
            )
        if payment.paid:
            raise Conflict("This payment has already been made.", field="reference")
        payment.paid = kind is PaymentEventKind.PAYMENT_SUCCEEDED
        return PaymentEvent(
            id=f"evt_off_{uuid4().hex}",
            kind=kind,
            reference=reference,
            registration_id=payment.registration_id,
            amount=payment.amount,
            occurred_at=self._clock.now(),
        )

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> RefundReceipt:
        keyed = self._refunds.get(idempotency_key)
        if keyed is not None:
            if (keyed.reference, keyed.amount) != (reference, amount):
                raise Conflict(
                    "This idempotency key was already used for a different refund.",
                    field="idempotency_key",
                )
            return keyed.receipt
        payment = self._payment(reference)
        if amount.currency != payment.amount.currency:
            raise InvalidInput(
                f"Refund in {payment.amount.currency}, the payment's currency.", field="amount"
            )
        if amount.amount <= 0:
            raise InvalidInput("A refund must be positive.", field="amount")
        if not payment.paid:
            raise Conflict("Nothing has been paid to refund.", field="reference")
        if amount.amount > payment.amount.amount - payment.refunded:
            raise Conflict(
                "A refund cannot exceed what was paid and not yet refunded.", field="amount"
            )
        payment.refunded += amount.amount
        receipt = RefundReceipt(self.name, reference=f"re_off_{uuid4().hex}", amount=amount)
        self._refunds[idempotency_key] = _KeyedRefund(reference, amount, receipt)
        return receipt

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        raise InvalidInput("The offline gateway sends no webhooks.")

    def _payment(self, reference: str) -> _Payment:
        payment = self._payments.get(reference)
        if payment is None:
            raise NotFound("No such offline payment.", field="reference")
        return payment
