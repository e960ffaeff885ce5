"""Cacheable public responses: anonymous catalog reads are served from the shared cache and
marked cacheable for browsers and CDNs; any change to the catalog clears the cache.

An entry is the media type, a newline, then the body. ``public_response`` fills the cache
(through the router); the front door (``front.py``) answers hits before routing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import Request, Response

from cpd.ports.platform import Cache

ICS = "text/calendar"  # Litestar adds the charset to text types

SERVER_TTL_SECONDS = 300  # an upper bound: a change clears the cache at once
CLIENT_MAX_AGE_SECONDS = 30  # what browsers and shared caches may reuse without asking
PUBLIC = f"public, max-age={CLIENT_MAX_AGE_SECONDS}"
PRIVATE = "private, no-store"
JSON = "application/json"
_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def response_cache_key(path: str, query_string: bytes) -> str:
    """The same request in any parameter order, with or without a trailing slash, is one key."""
    query = urlencode(sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)))
    return f"http:{path.rstrip('/')}?{query}"


def split_cached(entry: bytes) -> tuple[bytes, bytes]:
    media_type, _, body = entry.partition(b"\n")
    return media_type, body


def cached_headers(media_type: bytes, length: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", media_type),
        (b"content-length", str(length).encode()),
        (b"cache-control", PUBLIC.encode()),
        (b"vary", b"Authorization"),
    ]


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
            headers={"Cache-Control": PRIVATE, "Vary": "Authorization"},
        )
    # What Litestar sends for it, kept with the entry for the front door to send on a hit.
    full_type = f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type

    async def entry() -> bytes:
        return full_type.encode() + b"\n" + await build()

    key = response_cache_key(request.scope["path"], request.scope.get("query_string", b""))
    _, body = split_cached(await cache.get_or_build(key, entry, SERVER_TTL_SECONDS))
    return Response(
        body, media_type=media_type, headers={"Cache-Control": PUBLIC, "Vary": "Authorization"}
    )
