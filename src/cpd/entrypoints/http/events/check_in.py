"""Check-in at the door: the registrant's QR code, and staff recording attendance by it."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from cpd.domain.accounts import Actor
from cpd.domain.attendance import AttendanceRecord
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.events.schemas import CheckInIn
from cpd.entrypoints.http.problems import documented
from cpd.ports.certificates import QrCodes
from cpd.services.events.attendance import AttendanceService

SVG = "image/svg+xml"


class CheckInController(Controller):
    """Listed with registrations in the API docs: a check-in is made with a registration."""

    path = "/"
    tags = ["registrations"]
    security = BEARER

    @get(
        "/registrations/{registration_id:uuid}/check-in.svg",
        summary="My check-in code as a QR code (SVG) to show at the door",
        description="The registrant's own, confirmed registrations only (anyone else: 404). "
        "It encodes check_in_code, which staff scan or type at POST /events/{id}/check-in.",
        media_type=SVG,
        responses={
            200: ResponseSpec(bytes, media_type=SVG, description="The QR code"),
            **documented(401, 404, 409),
        },
    )
    async def check_in_qr(
        self,
        registration_id: UUID,
        actor: Actor,
        attendance: AttendanceService,
        qr_codes: QrCodes,
    ) -> Response[bytes]:
        code = await attendance.check_in_code(actor, registration_id)
        return Response(
            qr_codes.svg(code, title=f"Check-in code {code}"),
            media_type=SVG,
            headers={
                "Cache-Control": "private, no-store",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )

    @post(
        "/events/{event_id:uuid}/check-in",
        status_code=200,
        summary="QR check-in: attendance for the session running now (staff)",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def check_in(
        self, event_id: UUID, data: CheckInIn, actor: Actor, attendance: AttendanceService
    ) -> AttendanceRecord:
        return await attendance.check_in(actor, event_id, data.code)
