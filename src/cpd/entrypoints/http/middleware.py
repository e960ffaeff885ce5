"""Request ids and the request log: one line per request, the id echoed in a header."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

log = structlog.get_logger("cpd.http")
REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"")
        request_id = (incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex.encode()).decode()
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        http_scope: HTTPScope = scope
        try:
            await app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=http_scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()

    return middleware


# Clients ask for ``/events/{id}.ics`` and ``/organizations/{slug}/events.ics``; the router
# cannot tell ``{id}.ics`` from ``{id}`` in one path segment, so these map onto real routes.
_CALENDAR_ALIASES = (
    (re.compile(r"^(/api(?:/v1)?/events/[0-9a-fA-F-]{36})\.ics/?$"), r"\1/calendar.ics"),
    (re.compile(r"^(/api(?:/v1)?/organizations/[^/]+)/events\.ics/?$"), r"\1/calendar.ics"),
)


def rewrite_calendar_alias(scope: Scope) -> None:
    path = scope["path"]
    if not path.endswith((".ics", ".ics/")):
        return
    for pattern, target in _CALENDAR_ALIASES:
        rewritten = pattern.sub(target, path)
        if rewritten != path:
            scope["path"] = rewritten
            scope["raw_path"] = rewritten.encode()
            return
