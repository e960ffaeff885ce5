"""Registrations over HTTP: bookings, payments, staff lists, and refund policies (tiers by
hours or days of notice before the start, a fee in minor units of the event's currency, no
tiers for no refunds)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from cpd.domain.errors import InvalidInput
from cpd.domain.money import MAX_AMOUNT, Money
from cpd.domain.payments import PaymentIntent
from cpd.domain.refunds import MAX_NOTICE_HOURS, MAX_TIERS, RefundPolicy, RefundTier
from cpd.domain.registrations import Attendee, Registration, RegistrationStatus
from cpd.entrypoints.http.common import Page, component
from cpd.services.registrations.booking import Cancellation, StaffRow


class RefundTierIn(Struct, forbid_unknown_fields=True):
    """Cancelling at least this long before the start refunds ``percent`` (give hours or
    days, not both)."""

    percent: Annotated[int, Meta(ge=0, le=100)]
    before_start_hours: Annotated[int, Meta(ge=0, le=MAX_NOTICE_HOURS)] | None = None
    before_start_days: Annotated[int, Meta(ge=0, le=MAX_NOTICE_HOURS // 24)] | None = None


class RefundPolicyIn(Struct, forbid_unknown_fields=True):
    """Tiers from the longest notice down; no tiers: no refunds."""

    tiers: Annotated[list[RefundTierIn], Meta(max_length=MAX_TIERS)]
    fee: Annotated[
        int, Meta(ge=0, le=MAX_AMOUNT, description="Minor units of the event's currency")
    ] = 0

    def to_domain(self) -> RefundPolicy:
        tiers = []
        for n, tier in enumerate(self.tiers):
            hours, days = tier.before_start_hours, tier.before_start_days
            if (hours is None) == (days is None):
                raise InvalidInput(
                    "Give before_start_hours or before_start_days.",
                    field=f"refund_policy.tiers.{n}",
                )
            tiers.append(RefundTier(hours if hours is not None else (days or 0) * 24, tier.percent))
        return RefundPolicy(tuple(tiers), self.fee)


class RefundTierOut(Struct):
    before_start_hours: int
    percent: int


class RefundPolicyOut(Struct):
    tiers: list[RefundTierOut]
    fee: int  # minor units of the event's currency
    refunds: bool  # False: no refunds at all

    @classmethod
    def of(cls, policy: RefundPolicy) -> RefundPolicyOut:
        return cls(
            [RefundTierOut(t.hours_before, t.percent) for t in policy.tiers],
            policy.fee,
            any(t.percent for t in policy.tiers),
        )


class AttendeeIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(max_length=254)]
    registration_number: Annotated[str, Meta(max_length=100)] | None = None


class RegistrationIn(Struct, forbid_unknown_fields=True):
    event_id: UUID
    seats: Annotated[int, Meta(ge=1, le=50)] = 1
    attendees: Annotated[list[AttendeeIn], Meta(max_length=50)] = []


class PayIn(Struct):
    card_token: Annotated[str, Meta(max_length=100, examples=["tok_visa"])]


class PaymentOut(Struct):
    provider: str
    client_secret: str | None
    checkout_url: str | None


class RefundOut(Struct):
    amount: Money
    status: str


class JoinUrlOut(Struct):
    session_id: UUID
    join_url: str


class RegistrationOut(Struct):
    id: UUID
    status: RegistrationStatus
    event_id: UUID
    seats: int
    amount_due: Money
    check_in_code: str
    attendees: list[Attendee]
    waitlist_position: int | None
    hold_expires_at: datetime | None
    offer_expires_at: datetime | None
    created_at: datetime
    payment: PaymentOut | None = None
    refund: RefundOut | None = None
    # Personal online-meeting links per session: only on GET /registrations/{id}, for the
    # registrant of a confirmed registration (empty until the meetings have registered them).
    join_urls: list[JoinUrlOut] | None = None
    # Only on GET /registrations/{id}: the policy that applies (the snapshot once paid) and
    # what cancelling now would refund (null once there is nothing to cancel).
    refund_policy: RefundPolicyOut | None = None
    refund_if_cancelled: Money | None = None

    @classmethod
    def of(
        cls,
        r: Registration,
        *,
        position: int | None = None,
        refund: RefundOut | None = None,
        payment: PaymentIntent | None = None,
    ) -> RegistrationOut:
        return cls(
            id=r.id,
            status=r.status,
            event_id=r.event_id,
            seats=r.seats,
            amount_due=r.amount_due,
            check_in_code=r.check_in_code,
            attendees=list(r.attendees),
            waitlist_position=position,
            hold_expires_at=r.hold_expires_at,
            offer_expires_at=r.offer_expires_at,
            created_at=r.created_at,
            payment=None
            if payment is None
            else PaymentOut(payment.provider, payment.client_secret, payment.checkout_url),
            refund=refund,
        )

    @classmethod
    def cancelled(cls, cancellation: Cancellation) -> RegistrationOut:
        registration = cancellation.registration
        refund = RefundOut(
            Money(cancellation.refund_due, registration.amount_due.currency),
            "pending" if cancellation.refund_due else "none",
        )
        return cls.of(registration, refund=refund)


class StaffRegistrationOut(Struct):
    id: UUID
    status: RegistrationStatus
    seats: int
    amount_due: Money
    paid: int
    refunded: int
    user_id: UUID
    email: str
    first_name: str
    last_name: str
    attendees: list[Attendee]
    created_at: datetime

    @classmethod
    def of(cls, row: StaffRow) -> StaffRegistrationOut:
        r, user = row.registration, row.registrant
        return cls(
            id=r.id,
            status=r.status,
            seats=r.seats,
            amount_due=r.amount_due,
            paid=r.paid,
            refunded=r.refunded,
            user_id=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            attendees=list(r.attendees),
            created_at=r.created_at,
        )


RegistrationPage = Annotated[Page[RegistrationOut], component("RegistrationPage")]
