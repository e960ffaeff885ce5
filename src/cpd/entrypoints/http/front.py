"""The ASGI front door, in front of Litestar's router.

Per request, before routing: a request id (kept from a safe ``X-Request-ID`` or made), bound
to every log line and echoed in the response; the security headers (``security_headers.py``);
the unversioned ``/api/...`` prefix and the calendar aliases mapped onto real routes; one
charset in every content type (``single_charset``); and anonymous catalog reads answered
straight from the shared response cache. A cached answer never reaches the router, which is
what lets it run near the speed of a bare ASGI app. One log line per request.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from cpd.entrypoints.http.caching import cached_headers, response_cache_key, split_cached
from cpd.entrypoints.http.security_headers import SecurityHeaders
from cpd.ports.platform import Cache

log = structlog.get_logger("cpd.http")
REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")
# Anonymous GETs under these prefixes may be in the response cache; nothing else is looked up.
_CACHEABLE = re.compile(r"^/api/v1/(?:events|courses|organizations/[^/]+/(?:events|calendar))")
# ``/api/...`` serves the current version for clients written against it. Rewriting it here,
# rather than mounting every controller twice, halves what Litestar builds at start-up.
_UNVERSIONED = re.compile(r"^/api(?=/)(?!/v1(?:/|$))")

# Clients ask for ``/events/{id}.ics`` and ``/organizations/{slug}/events.ics``; the router
# cannot tell ``{id}.ics`` from ``{id}`` in one path segment, so these map onto real routes.
_CALENDAR_ALIASES = (
    (re.compile(r"^(/api/v1/events/[0-9a-fA-F-]{36})\.ics/?$"), r"\1/calendar.ics"),
    (re.compile(r"^(/api/v1/organizations/[^/]+)/events\.ics/?$"), r"\1/calendar.ics"),
)


def single_charset(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Litestar appends ``; charset=utf-8`` to any ``text/`` media type, even one that already
    names its charset; a second charset parameter makes the header ambiguous, so drop it."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"content-type" and value.lower().count(b"charset=") > 1:
            parts = [part.strip() for part in value.split(b";")]
            charsets = [part for part in parts if part.lower().startswith(b"charset=")]
            kept = [part for part in parts if part not in charsets] + charsets[:1]
            headers = [*headers[:index], (name, b"; ".join(kept)), *headers[index + 1 :]]
            break
    return headers


def rewrite_aliases(scope: Any) -> None:
    path, unversioned = _UNVERSIONED.subn("/api/v1", scope["path"], count=1)
    if unversioned and "raw_path" in scope:
        scope["raw_path"] = b"/api/v1" + scope["raw_path"][len(b"/api") :]
    if path.endswith((".ics", ".ics/")):
        for pattern, target in _CALENDAR_ALIASES:
            path, found = pattern.subn(target, path)
            if found:
                scope["raw_path"] = path.encode()
                break
    scope["path"] = path


async def front_door(
    app: ASGIApp,
    response_cache: Cache | None,
    security: SecurityHeaders,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    headers = scope["headers"]
    incoming = b""
    anonymous = True
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            incoming = value
        elif name == b"authorization":
            anonymous = False
    request_id = incoming.decode() if _SAFE_ID.match(incoming) else uuid.uuid4().hex
    scope.setdefault("state", {})["request_id"] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    rewrite_aliases(scope)
    started = time.perf_counter()
    status = 500
    try:
        path = scope["path"]
        if (
            response_cache is not None
            and anonymous
            and scope.get("method") == "GET"
            and _CACHEABLE.match(path)
        ):
            key = response_cache_key(path, scope.get("query_string", b""))
            hit = await response_cache.peek(key)
            if hit is not None:
                media_type, body = split_cached(hit)
                status = 200
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": security.added_to(
                        path,
                        [
                            *cached_headers(media_type, len(body)),
                            (REQUEST_ID_HEADER, request_id.encode()),
                        ],
                    ),
                }
                await send(start)
                finish: HTTPResponseBodyEvent = {
                    "type": "http.response.body",
                    "body": body,
                    "more_body": False,
                }
                await send(finish)
                return

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = single_charset(
                    [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
                )
                message = {**message, "headers": security.added_to(path, headers)}
            await send(message)

        await app(scope, receive, send_with_id)
    finally:
        log.info(
            "request",
            method=scope.get("method"),
            path=scope["path"],
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        structlog.contextvars.clear_contextvars()
