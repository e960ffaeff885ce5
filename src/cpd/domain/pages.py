"""Paginated results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from cpd.domain.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 200
# Far past any real list, and well inside the 64-bit OFFSET the databases take.
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"Must be between 1 and {MAX_PAGE_SIZE}.", field="limit")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidInput(f"Must be between 0 and {MAX_OFFSET}.", field="offset")

    def of(self, items: list[T]) -> Page[T]:
        """This page of a list already in memory (a report computed over the whole event)."""
        return Page(
            items[self.offset : self.offset + self.limit], len(items), self.limit, self.offset
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
