"""The registrations context's tasks: registrants' emails and reminders, refunds, and the
payment provider's verified news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Self
from uuid import UUID

from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentEventKind
from cpd.domain.tasks import JSONObject, TaskData


@dataclass(frozen=True, slots=True)
class RegistrationEmail(TaskData):
    NAME: ClassVar[str] = "registration_email"
    registration_id: UUID
    kind: str  # what happened: a registration status, or "offer_expired" and the like
    refund: int | None = None  # minor units, when the news comes with money back


@dataclass(frozen=True, slots=True)
class EventReminder(TaskData):
    NAME: ClassVar[str] = "event_reminder"
    registration_id: UUID
    hours_before: int


@dataclass(frozen=True, slots=True)
class RefundPayment(TaskData):
    NAME: ClassVar[str] = "refund_payment"
    registration_id: UUID
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class ApplyPaymentEvent(TaskData):
    NAME: ClassVar[str] = "apply_payment_event"
    event: PaymentEvent

    def to_payload(self) -> JSONObject:
        event = self.event
        return {
            "id": event.id,
            "kind": event.kind.value,
            "reference": event.reference,
            "registration_id": str(event.registration_id) if event.registration_id else None,
            "amount": event.amount.amount,
            "currency": event.amount.currency,
            "occurred_at": event.occurred_at.isoformat(),
            "refund_reference": event.refund_reference,
        }

    @classmethod
    def from_payload(cls, payload: JSONObject) -> Self:
        registration_id = payload["registration_id"]
        refund = payload.get("refund_reference")
        return cls(
            PaymentEvent(
                id=str(payload["id"]),
                kind=PaymentEventKind(str(payload["kind"])),
                reference=str(payload["reference"]),
                registration_id=UUID(str(registration_id)) if registration_id else None,
                amount=Money(int(str(payload["amount"])), str(payload["currency"])),
                occurred_at=datetime.fromisoformat(str(payload["occurred_at"])),
                refund_reference=str(refund) if refund else None,
            )
        )
