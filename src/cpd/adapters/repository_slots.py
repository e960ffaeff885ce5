"""A unit of work's repositories, declared once in their context's holder class.

``users = RepositorySlot(SqlUserRepository)`` in ``SqlAccounts``: the unit of work that has
``SqlAccounts`` among its bases gets a ``users`` attribute, built on first use from what the
adapter's repositories take (a connection, the memory database). A context then registers its
repositories in its own module and joins the unit of work with one base-class line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, Self, TypeVar, overload

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)
R = TypeVar("R")


class RepositorySource(Protocol[S_co]):
    """A unit of work: what its repositories are built from, for the current transaction."""

    def repository_source(self) -> S_co: ...


class RepositorySlot(Generic[S, R]):
    """A repository attribute of a unit of work: built once per transaction, on first use."""

    __slots__ = ("_build", "_key")

    def __init__(self, build: Callable[[S], R]) -> None:
        self._build = build
        self._key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._key = f"_repository_{name}"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: RepositorySource[S], owner: type | None = None) -> R: ...
    def __get__(self, obj: RepositorySource[S] | None, owner: type | None = None) -> Self | R:
        if obj is None:
            return self
        source = obj.repository_source()
        built: tuple[S, R] | None = vars(obj).get(self._key)
        if built is None or built[0] is not source:  # a new transaction: a new connection
            built = vars(obj)[self._key] = (source, self._build(source))
        return built[1]
