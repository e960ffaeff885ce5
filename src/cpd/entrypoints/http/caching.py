"""Cacheable public responses: anonymous catalog reads are served from the shared cache and
marked cacheable for browsers and CDNs; any change to the catalog clears the cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import Request, Response

from cpd.ports.services import Cache

SERVER_TTL_SECONDS = 300  # an upper bound: a change clears the cache at once
CLIENT_MAX_AGE_SECONDS = 30  # what browsers and shared caches may reuse without asking
JSON = "application/json"
_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


async def public_response(
    request: Request[Any, Any, Any],
    cache: Cache | None,
    build: Callable[[], Awaitable[bytes]],
    *,
    media_type: str = JSON,
) -> Response[Any]:
    """``build`` makes the body; anonymous callers share it through ``cache`` (None: off)."""
    if cache is None or "authorization" in request.headers:  # staff may see drafts
        return Response(
            await build(),
            media_type=media_type,
            headers={"Cache-Control": "private, no-store", "Vary": "Authorization"},
        )
    query = urlencode(sorted(parse_qsl(request.url.query, keep_blank_values=True)))
    key = f"http:{request.url.path.rstrip('/')}?{query}"
    body = await cache.get_or_build(key, build, SERVER_TTL_SECONDS)
    return Response(
        body,
        media_type=media_type,
        headers={
            "Cache-Control": f"public, max-age={CLIENT_MAX_AGE_SECONDS}",
            "Vary": "Authorization",
        },
    )
