"""What the core knows of payments: an intent to pay, and what a provider tells us happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from cpd.domain.money import Money


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """What the frontend needs to take the payment (a Stripe client secret, or a URL)."""

    provider: str
    reference: str  # the provider's id for the payment (e.g. a PaymentIntent id)
    client_secret: str | None = None
    checkout_url: str | None = None


class PaymentEventKind(StrEnum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified webhook: ``id`` is the provider's event id, unique, for exactly-once handling."""

    id: str
    kind: PaymentEventKind
    reference: str  # the payment it concerns
    registration_id: UUID | None
    amount: Money
    occurred_at: datetime
    # The provider's refund id, on events about one refund. A refund is counted once under
    # this id, whether its receipt or its event arrives first; events without one (a
    # charge's running total) only confirm.
    refund_reference: str | None = None


@dataclass(frozen=True, slots=True)
class RefundReceipt:
    provider: str
    reference: str  # the provider's refund id
    amount: Money
