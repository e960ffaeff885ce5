"""Choosing a free slug, the same way for organizations, events and courses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cpd.domain.accounts import check_slug, slugify
from cpd.domain.errors import Conflict


async def free_slug(
    requested: str | None,
    *,
    derive_from: str,
    taken: Callable[[str], Awaitable[bool]],
    taken_message: str,
    fallback: str = "org",
) -> str:
    """A requested slug must be free (409 otherwise); a derived one gets ``-2``, ``-3``..."""
    if requested is not None:
        slug = check_slug(requested)
        if await taken(slug):
            raise Conflict(taken_message, field="slug")
        return slug
    base = slugify(derive_from, fallback=fallback)
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base[:54].rstrip('-')}-{n}"
        if not await taken(candidate):
            return candidate
    raise Conflict("Could not derive a free slug; give one.", field="slug")
