"""Free text as the domain accepts it: a string, trimmed, within its limit, and free of the
characters that forge lines or hide what a reader sees.

Single-line text (names, titles, tags) refuses every control character; multi-line text
(descriptions, addresses, bios) also takes newlines and tabs, with CR LF and CR stored as LF.
Both refuse lone surrogates (not encodable as UTF-8), the Unicode line and paragraph
separators, the bidi embeddings, overrides and isolates (which reorder what follows them: the
"Trojan Source" trick), and the invisible zero-width space, word joiner and byte-order mark.
The zero-width joiner and non-joiner and the left-to-right and right-to-left marks stay: Persian,
Indic scripts, emoji sequences and mixed-direction text need them.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from cpd.domain.errors import InvalidInput

_HIDDEN = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\u200b\u2060\ufeff"  # zero-width space, word joiner, byte-order mark
)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, surrogates, separators
_MULTILINE_ALLOWED = frozenset("\n\t")


def checked_text(
    value: Any, field_name: str, limit: int, *, blank_ok: bool = False, multiline: bool = False
) -> str:
    """``value`` trimmed; InvalidInput naming ``field_name`` when it is not text, is blank
    (unless ``blank_ok``), is longer than ``limit`` characters or holds a character the module
    doc refuses (newlines and tabs are allowed when ``multiline``)."""
    if not isinstance(value, str):
        raise InvalidInput("Must be text.", field=field_name)
    text = value.strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text and not blank_ok:
        raise InvalidInput("Must not be blank.", field=field_name)
    if len(text) > limit:
        raise InvalidInput(f"Must be at most {limit} characters.", field=field_name)
    refused = next((c for c in text if _is_refused(c, multiline=multiline)), None)
    if refused is not None:
        what = "a line break" if refused in "\r\n" else f"the character U+{ord(refused):04X}"
        raise InvalidInput(f"Must not contain {what}.", field=field_name)
    return text


def displayable(value: str, *, multiline: bool = False) -> str:
    """``value`` with what ``checked_text`` refuses replaced by a space: text stored before
    the check (or from a provider) still renders into a header, a calendar or a PDF."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(" " if _is_refused(c, multiline=multiline) else c for c in value)


def _is_refused(char: str, *, multiline: bool) -> bool:
    if char.isprintable() and char not in _HIDDEN:  # fast path: most text is printable
        return False
    if multiline and char in _MULTILINE_ALLOWED:
        return False
    return char in _HIDDEN or unicodedata.category(char) in _REFUSED_CATEGORIES
