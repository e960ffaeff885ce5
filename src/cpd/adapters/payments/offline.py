"""An offline PaymentGateway for the embedded mode and demos: no keys, no network.

``start_payment`` opens a payment in its ledger; ``pay`` takes a Stripe-style test token and
returns the event a webhook would have brought (``POST /registrations/{id}/pay`` hands it to
the same code as a verified webhook). Refunds never exceed what was paid and are idempotent
by key. The ledger is the database with SQL persistence (``SqlOfflineLedger``), so every
server process and container sees the same payments; in memory with memory persistence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol
from uuid import UUID, uuid4

from cpd.adapters.system import SystemClock
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentEventKind, PaymentIntent, RefundReceipt
from cpd.domain.registrations import Registration
from cpd.ports.platform import Clock

SUCCEEDING_TOKENS = frozenset({"tok_visa", "pm_card_visa"})
DECLINING_TOKENS = frozenset({"tok_chargeDeclined", "pm_card_chargeDeclined"})


@dataclass(frozen=True, slots=True)
class OfflinePayment:
    reference: str
    registration_id: UUID
    amount: Money
    paid: bool = False
    refunded: int = 0


@dataclass(frozen=True, slots=True)
class KeyedRefund:
    reference: str
    amount: Money
    receipt_reference: str


class OfflineLedger(Protocol):
    """Where the gateway keeps its payments; each change is one atomic step, so two
    processes paying or refunding at once cannot both succeed past a limit."""

    async def open(self, start_key: str, payment: OfflinePayment) -> OfflinePayment:
        """Record ``payment`` under ``start_key``, or return the one already recorded there."""
        ...

    async def find(self, reference: str) -> OfflinePayment | None: ...
    async def settle(self, reference: str) -> bool:
        """Mark it paid; False if it was paid already."""
        ...

    async def keyed_refund(self, idempotency_key: str) -> KeyedRefund | None: ...
    async def add_refund(self, idempotency_key: str, refund: KeyedRefund) -> KeyedRefund | None:
        """Refund if what is paid and not yet refunded covers it, recording it under the key;
        the refund already under the key if another got there first; None if it exceeds."""
        ...


class MemoryOfflineLedger:
    """The ledger of one process (memory persistence: nothing else is shared either)."""

    def __init__(self) -> None:
        self._payments: dict[str, OfflinePayment] = {}
        self._starts: dict[str, str] = {}
        self._refunds: dict[str, KeyedRefund] = {}
        self._lock = asyncio.Lock()

    async def open(self, start_key: str, payment: OfflinePayment) -> OfflinePayment:
        async with self._lock:
            if start_key in self._starts:
                return self._payments[self._starts[start_key]]
            self._starts[start_key] = payment.reference
            self._payments[payment.reference] = payment
            return payment

    async def find(self, reference: str) -> OfflinePayment | None:
        return self._payments.get(reference)

    async def settle(self, reference: str) -> bool:
        async with self._lock:
            payment = self._payments[reference]
            if payment.paid:
                return False
            self._payments[reference] = replace(payment, paid=True)
            return True

    async def keyed_refund(self, idempotency_key: str) -> KeyedRefund | None:
        return self._refunds.get(idempotency_key)

    async def add_refund(self, idempotency_key: str, refund: KeyedRefund) -> KeyedRefund | None:
        async with self._lock:
            if idempotency_key in self._refunds:
                return self._refunds[idempotency_key]
            payment = self._payments[refund.reference]
            if not payment.paid or payment.refunded + refund.amount.amount > payment.amount.amount:
                return None
            self._payments[refund.reference] = replace(
                payment, refunded=payment.refunded + refund.amount.amount
            )
            self._refunds[idempotency_key] = refund
            return refund


class OfflineGateway:
    name = "offline"

    def __init__(self, ledger: OfflineLedger | None = None, clock: Clock | None = None) -> None:
        self._ledger = ledger or MemoryOfflineLedger()
        self._clock = clock or SystemClock()

    async def start_payment(
        self, registration: Registration, *, idempotency_key: str
    ) -> PaymentIntent:
        due = registration.amount_due
        if due.amount <= 0:
            raise InvalidInput("A free registration needs no payment.", field="amount_due")
        opened = await self._ledger.open(
            idempotency_key, OfflinePayment(f"off_{uuid4().hex}", registration.id, due)
        )
        if opened.registration_id != registration.id:
            raise Conflict(
                "This idempotency key was already used for another registration.",
                field="idempotency_key",
            )
        return PaymentIntent(provider=self.name, reference=opened.reference)

    async def pay(self, reference: str, card_token: str) -> PaymentEvent:
        """Pay with a test token: ``tok_visa`` / ``pm_card_visa`` succeed, ``tok_chargeDeclined``
        is declined (the payment stays open for another try); anything else is invalid."""
        payment = await self._payment(reference)
        if card_token in SUCCEEDING_TOKENS:
            kind = PaymentEventKind.PAYMENT_SUCCEEDED
        elif card_token in DECLINING_TOKENS:
            kind = PaymentEventKind.PAYMENT_FAILED
        else:
            raise InvalidInput(
                "Use a test card token: tok_visa (succeeds) or tok_chargeDeclined (declined).",
                field="card_token",
            )
        if payment.paid or (
            kind is PaymentEventKind.PAYMENT_SUCCEEDED and not await self._ledger.settle(reference)
        ):
            raise Conflict("This payment has already been made.", field="reference")
        return PaymentEvent(
            id=f"evt_off_{uuid4().hex}",
            kind=kind,
            reference=reference,
            registration_id=payment.registration_id,
            amount=payment.amount,
            occurred_at=self._clock.now(),
        )

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> RefundReceipt:
        keyed = await self._ledger.keyed_refund(idempotency_key)
        if keyed is None:
            payment = await self._payment(reference)
            if amount.currency != payment.amount.currency:
                raise InvalidInput(
                    f"Refund in {payment.amount.currency}, the payment's currency.", field="amount"
                )
            if amount.amount <= 0:
                raise InvalidInput("A refund must be positive.", field="amount")
            if not payment.paid:
                raise Conflict("Nothing has been paid to refund.", field="reference")
            keyed = await self._ledger.add_refund(
                idempotency_key, KeyedRefund(reference, amount, f"re_off_{uuid4().hex}")
            )
            if keyed is None:
                raise Conflict(
                    "A refund cannot exceed what was paid and not yet refunded.", field="amount"
                )
        if (keyed.reference, keyed.amount) != (reference, amount):
            raise Conflict(
                "This idempotency key was already used for a different refund.",
                field="idempotency_key",
            )
        return RefundReceipt(self.name, reference=keyed.receipt_reference, amount=amount)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        raise InvalidInput("The offline gateway sends no webhooks.")

    async def _payment(self, reference: str) -> OfflinePayment:
        payment = await self._ledger.find(reference)
        if payment is None:
            raise NotFound("No such offline payment.", field="reference")
        return payment
