"""Paginated results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from cpd.domain.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"Must be between 1 and {MAX_PAGE_SIZE}.", field="limit")
        if self.offset < 0:
            raise InvalidInput("Must not be negative.", field="offset")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
