"""Registrations: book seats, see them, cancel, accept a waitlist offer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from msgspec import Meta, Struct

from cpd.adapters.payments.offline import OfflineGateway
from cpd.domain.accounts import Actor
from cpd.domain.errors import Conflict, NotFound
from cpd.domain.money import Money
from cpd.domain.pages import PageRequest
from cpd.domain.payments import PaymentEventKind, PaymentIntent
from cpd.domain.registrations import Attendee, Registration, RegistrationStatus
from cpd.entrypoints.http.controllers.auth import BEARER
from cpd.entrypoints.http.dependencies import container_of
from cpd.entrypoints.http.problems import documented
from cpd.services.registrations import RegistrationService


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


class RegistrationPage(Struct):
    items: list[RegistrationOut]
    total: int
    limit: int
    offset: int


class RegistrationsController(Controller):
    path = "/registrations"
    tags = ["registrations"]
    security = BEARER

    @post(
        "/",
        summary="Register for a published event: confirmed, held for payment, or waitlisted",
        responses=documented(400, 401, 404, 409),
    )
    async def register(
        self, data: RegistrationIn, actor: Actor, registrations: RegistrationService
    ) -> RegistrationOut:
        attendees = tuple(Attendee(a.name, a.email, a.registration_number) for a in data.attendees)
        booking = await registrations.book(
            actor, data.event_id, seats=data.seats, attendees=attendees
        )
        return RegistrationOut.of(
            booking.registration,
            position=await registrations.waitlist_position(booking.registration),
            payment=booking.payment,
        )

    @get("/", summary="My registrations, newest first", responses=documented(400, 401))
    async def mine(
        self, actor: Actor, registrations: RegistrationService, page: PageRequest
    ) -> RegistrationPage:
        found = await registrations.mine(actor, page)
        items = [
            RegistrationOut.of(r, position=await registrations.waitlist_position(r))
            for r in found.items
        ]
        return RegistrationPage(items, found.total, found.limit, found.offset)

    @get(
        "/{registration_id:uuid}", summary="One of my registrations", responses=documented(401, 404)
    )
    async def get_one(
        self, registration_id: UUID, actor: Actor, registrations: RegistrationService
    ) -> RegistrationOut:
        registration = await registrations.get(actor, registration_id)
        return RegistrationOut.of(
            registration, position=await registrations.waitlist_position(registration)
        )

    @post(
        "/{registration_id:uuid}/cancel",
        status_code=200,
        summary="Cancel; a paid registration is refunded as its policy says",
        responses=documented(401, 404, 409),
    )
    async def cancel(
        self, registration_id: UUID, actor: Actor, registrations: RegistrationService
    ) -> RegistrationOut:
        cancellation = await registrations.cancel(actor, registration_id)
        registration = cancellation.registration
        refund = RefundOut(
            Money(cancellation.refund_due, registration.amount_due.currency),
            "pending" if cancellation.refund_due else "none",
        )
        return RegistrationOut.of(registration, refund=refund)

    @post(
        "/{registration_id:uuid}/accept-offer",
        status_code=200,
        summary="Take the seats a waitlist offer holds for you",
        responses=documented(401, 404, 409),
    )
    async def accept_offer(
        self, registration_id: UUID, actor: Actor, registrations: RegistrationService
    ) -> RegistrationOut:
        return RegistrationOut.of(await registrations.accept_offer(actor, registration_id))

    @post(
        "/{registration_id:uuid}/payment",
        status_code=200,
        summary="The payment due on a held registration (client secret or checkout URL)",
        responses=documented(401, 404, 409),
    )
    async def payment(
        self, registration_id: UUID, actor: Actor, registrations: RegistrationService
    ) -> RegistrationOut:
        booking = await registrations.payment(actor, registration_id)
        return RegistrationOut.of(booking.registration, payment=booking.payment)

    @post(
        "/{registration_id:uuid}/pay",
        status_code=200,
        summary="Pay with a test card token (offline payments: the embedded mode and demos)",
        responses=documented(400, 401, 404, 409),
    )
    async def pay(
        self,
        request: Request[Any, Any, Any],
        registration_id: UUID,
        data: PayIn,
        actor: Actor,
        registrations: RegistrationService,
    ) -> RegistrationOut:
        gateway = container_of(request.app.state).payments
        if not isinstance(gateway, OfflineGateway):
            raise NotFound("Pay through the payment provider; offline payment is switched off.")
        booking = await registrations.payment(actor, registration_id)
        if booking.payment is None:
            raise Conflict("No payment is due on this registration.")
        event = await gateway.pay(booking.payment.reference, data.card_token)
        await registrations.apply_payment_event(event)
        if event.kind is PaymentEventKind.PAYMENT_FAILED:
            raise Conflict("The card was declined.", field="card_token")
        return RegistrationOut.of(await registrations.get(actor, registration_id))
