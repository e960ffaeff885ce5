"""Links the domain stores and later shows to people: absolute http(s) URLs only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cpd.domain.errors import InvalidInput
from cpd.domain.text import checked_text

MAX_URL_LENGTH = 2000
_SCHEMES = frozenset({"http", "https"})


def checked_url(value: Any, field_name: str, limit: int = MAX_URL_LENGTH) -> str:
    """``value`` as an absolute ``http``/``https`` URL with a host; InvalidInput naming
    ``field_name`` otherwise (``javascript:``, ``data:``, ``file:``, relative paths...)."""
    text = checked_text(value, field_name, limit)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError:  # an unbalanced "[" in the host, a port that is not a number
        raise InvalidInput("Must be an http or https URL.", field=field_name) from None
    if parts.scheme.lower() not in _SCHEMES or not host or any(c.isspace() for c in text):
        raise InvalidInput("Must be an http or https URL.", field=field_name)
    return text
