"""What the catalog's ``q`` matches, in one place for every adapter.

A word is a run of ASCII letters and digits, or of non-ASCII characters; everything else
(spaces, ASCII punctuation) separates words, so "COVID-19" holds "covid" and "19". A query
matches when each of its words is a whole word of the searched text, ignoring case: "cardiology"
finds "Cardiology Update", "cardio" does not. PostgreSQL's stored ``events.search`` tsvector and
the SQLite GLOB patterns split words the same way (see ``cpd.adapters.sql.catalog``).

Whole words, not prefixes: PostgreSQL estimates how many events hold a word from its statistics
and plans accordingly (walk the start-time index for a common word, read the few matches of a
rare one), but it guesses a fixed 2 % for a prefix; a common prefix then took 7 ms instead of
0.4 (10,000 events). Case folding beyond ASCII depends on the backend (SQLite's ``lower`` and
PostgreSQL's under the C locale fold ASCII only), so "Über" may not find "über" there.
"""

from __future__ import annotations

import re

WORD = re.compile("[0-9a-z\u0080-\U0010ffff]+")


def search_words(query: str | None) -> list[str]:
    """The query's words, lowercased, each once, in order; empty when nothing is searchable."""
    if not query:
        return []
    return list(dict.fromkeys(WORD.findall(query.lower())))


def text_matches(words: list[str], *texts: str) -> bool:
    """True when every word is a word of ``texts``."""
    haystack = set(WORD.findall(" ".join(texts).lower()))
    return all(word in haystack for word in words)
