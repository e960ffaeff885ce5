"""Registrations: book seats, see them, cancel, accept a waitlist offer."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from cpd.domain.accounts import Actor
from cpd.domain.money import Money
from cpd.domain.pages import MAX_PAGE_SIZE, PageRequest
from cpd.domain.registrations import Attendee, RegistrationStatus
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.common import Page
from cpd.entrypoints.http.csv_export import csv_response, wants_csv
from cpd.entrypoints.http.problems import documented
from cpd.entrypoints.http.registrations.schemas import (
    JoinUrlOut,
    PayIn,
    RefundPolicyOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    StaffRegistrationOut,
)
from cpd.services.events.meetings import MeetingService
from cpd.services.registrations.booking import Booking, RegistrationService, StaffRow

SVG = "image/svg+xml"


class RegistrationsController(Controller):
    path = "/registrations"
    tags = ["registrations"]
    security = BEARER

    @post(
        "/",
        summary="Register for a published event: confirmed, held for payment, or waitlisted. "
        "With an Idempotency-Key header, a retry returns the first response.",
        status_code=201,
        responses={
            201: ResponseSpec(RegistrationOut, description="The registration"),
            **documented(400, 401, 404, 409),
        },
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: RegistrationIn,
        actor: Actor,
        registrations: RegistrationService,
    ) -> Response[Any]:
        attendees = tuple(Attendee(a.name, a.email, a.registration_number) for a in data.attendees)

        def answer(booking: Booking) -> bytes:
            out = RegistrationOut.of(
                booking.registration, position=booking.waitlist_position, payment=booking.payment
            )
            return msgspec.json.encode(out)

        key = request.headers.get("idempotency-key")
        if key is None:
            booking = await registrations.book(
                actor, data.event_id, seats=data.seats, attendees=attendees
            )
            body = answer(booking)
        else:
            body = await registrations.book_once(
                actor, data.event_id, key=key, answer=answer, seats=data.seats, attendees=attendees
            )
        return Response(body, status_code=201, media_type="application/json")

    @get("/", summary="My registrations, newest first", responses=documented(400, 401))
    async def mine(
        self, actor: Actor, registrations: RegistrationService, page: PageRequest
    ) -> RegistrationPage:
        found = await registrations.mine(actor, page)
        positions = await registrations.waitlist_positions(found.items)
        return Page.of(found, lambda r: RegistrationOut.of(r, position=positions.get(r.id)))

    @get(
        "/{registration_id:uuid}", summary="One of my registrations", responses=documented(401, 404)
    )
    async def get_one(
        self,
        registration_id: UUID,
        actor: Actor,
        registrations: RegistrationService,
        meetings: MeetingService,
    ) -> RegistrationOut:
        registration = await registrations.get(actor, registration_id)
        out = RegistrationOut.of(
            registration, position=await registrations.waitlist_position(registration)
        )
        links = await meetings.join_links(actor, registration)
        out.join_urls = [JoinUrlOut(link.session_id, link.join_url) for link in links]
        terms = await registrations.refund_terms(registration)
        out.refund_policy = RefundPolicyOut.of(terms.policy)
        if terms.refund_if_cancelled is not None:
            currency = registration.amount_due.currency
            out.refund_if_cancelled = Money(terms.refund_if_cancelled, currency)
        return out

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
        return RegistrationOut.cancelled(cancellation)

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
        registration_id: UUID,
        data: PayIn,
        actor: Actor,
        registrations: RegistrationService,
    ) -> RegistrationOut:
        paid = await registrations.pay_with_test_card(actor, registration_id, data.card_token)
        return RegistrationOut.of(paid)


_CSV_COLUMNS = (
    "id",
    "status",
    "seats",
    "email",
    "first_name",
    "last_name",
    "amount_due",
    "paid",
    "refunded",
    "created_at",
)


def _csv_row(row: StaffRow) -> dict[str, object]:
    """Money with its currency: ``paid`` and ``refunded`` are in the amount due's."""
    out = StaffRegistrationOut.of(row)
    currency = out.amount_due.currency
    return {
        column: getattr(out, column)
        for column in _CSV_COLUMNS
        if column not in ("paid", "refunded")
    } | {"paid": Money(out.paid, currency), "refunded": Money(out.refunded, currency)}


async def _all_for_event(
    registrations: RegistrationService,
    actor: Actor,
    event_id: UUID,
    statuses: frozenset[str] | None,
) -> list[StaffRow]:
    rows: list[StaffRow] = []
    while True:
        found = await registrations.for_event(
            actor, event_id, statuses, PageRequest(MAX_PAGE_SIZE, len(rows))
        )
        rows += found.items
        if not found.items or len(rows) >= found.total:
            return rows


class EventRegistrationsController(Controller):
    """Staff views of one event's registrations."""

    path = "/events"
    tags = ["registrations"]
    security = BEARER

    @get(
        "/{event_id:uuid}/registrations",
        responses=documented(400, 401, 403, 404),
        summary="Registrations of an event (staff); CSV with 'Accept: text/csv'",
    )
    async def list_for_event(
        self,
        request: Request[Any, Any, Any],
        event_id: UUID,
        actor: Actor,
        registrations: RegistrationService,
        page: PageRequest,
        status: list[RegistrationStatus] | None = None,
    ) -> Response[Any]:
        """The CSV holds every registration that matches; JSON is paged like every list."""
        statuses = frozenset(s.value for s in status) if status else None
        if wants_csv(request):
            every = await _all_for_event(registrations, actor, event_id, statuses)
            return csv_response(
                [_csv_row(row) for row in every], _CSV_COLUMNS, f"registrations-{event_id}.csv"
            )
        found = await registrations.for_event(actor, event_id, statuses, page)
        return Response(Page.of(found, StaffRegistrationOut.of))

    @post(
        "/{event_id:uuid}/registrations/{registration_id:uuid}/cancel",
        status_code=200,
        summary="Cancel a registration for the organizer (full refund)",
        responses=documented(401, 403, 404, 409),
    )
    async def cancel_for_organizer(
        self,
        event_id: UUID,
        registration_id: UUID,
        actor: Actor,
        registrations: RegistrationService,
    ) -> RegistrationOut:
        cancellation = await registrations.cancel_for_organizer(actor, event_id, registration_id)
        return RegistrationOut.cancelled(cancellation)
