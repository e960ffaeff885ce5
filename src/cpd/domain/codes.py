"""Codes people read out and type back (certificate verification, event check-in): Crockford's
base32, digits and letters without I, L, O and U (no look-alikes, no accidental words)."""

from __future__ import annotations

import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def random_symbols(length: int) -> str:
    """``length`` symbols from ``secrets``: 5 bits each."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(length))


def typed_symbols(typed: str) -> str:
    """What a person typed, in canonical symbols: any case, dashes and spaces dropped, O for 0
    and I or L for 1 (the caller checks the length and the alphabet)."""
    return "".join(typed.split()).replace("-", "").upper().translate(_CONFUSABLES)


def grouped(symbols: str, groups: tuple[int, ...]) -> str:
    parts, start = [], 0
    for size in groups:
        parts.append(symbols[start : start + size])
        start += size
    return "-".join(parts)
