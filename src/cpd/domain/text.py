"""Free text as the domain accepts it: a string, trimmed, within its limit."""

from __future__ import annotations

from typing import Any

from cpd.domain.errors import InvalidInput


def checked_text(value: Any, field_name: str, limit: int, *, blank_ok: bool = False) -> str:
    """``value`` trimmed; InvalidInput naming ``field_name`` when it is not text, is blank
    (unless ``blank_ok``) or is longer than ``limit`` characters."""
    if not isinstance(value, str):
        raise InvalidInput("Must be text.", field=field_name)
    text = value.strip()
    if not text and not blank_ok:
        raise InvalidInput("Must not be blank.", field=field_name)
    if len(text) > limit:
        raise InvalidInput(f"Must be at most {limit} characters.", field=field_name)
    return text
