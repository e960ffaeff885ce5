"""What the memory repositories share: tables, SQL's foreign keys, paging, a repository base.

Each context declares its tables (dicts named as its SQL tables) in a ``Tables`` dataclass, and
the foreign keys its tables hold as SQL declares them; ``MemoryState`` inherits every context's
tables, and ``delete_rows`` does what SQL's ``ON DELETE`` does, across contexts, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from uuid import UUID

from cpd.domain.errors import Conflict
from cpd.domain.pages import Page, PageRequest

if TYPE_CHECKING:
    from cpd.adapters.memory.database import MemoryDatabase, MemoryState

T = TypeVar("T")


class OnDelete(Enum):
    """SQL's ``ondelete``, and ``RESTRICT`` for none (NO ACTION)."""

    CASCADE = "CASCADE"
    SET_NULL = "SET NULL"
    RESTRICT = "RESTRICT"


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """``table.column`` refers to ``parent.parent_column``, as in the SQL schema; rows are
    domain objects whose attributes are named as the columns."""

    table: str
    column: str
    parent: str
    on_delete: OnDelete
    parent_column: str = "id"


@dataclass(frozen=True, slots=True)
class Embedded:
    """A SQL table kept inside its parent's rows (``events.sessions``): as if ``table.column``
    referred to the parent ``ON DELETE CASCADE``, its rows go with their parent's."""

    table: str
    column: str
    parent: str
    attribute: str


Keys = tuple[ForeignKey | Embedded, ...]


@dataclass
class Tables:
    """A context's tables; its foreign keys are declared with the tables that hold them."""

    FOREIGN_KEYS: ClassVar[Keys] = ()

    def snapshot(self) -> Self:
        return type(self)(**{name: dict(table) for name, table in vars(self).items()})

    @classmethod
    @cache
    def foreign_keys(cls) -> Keys:
        """Every context's keys, gathered from the bases (``MemoryState``'s are all of them)."""
        declared = (vars(base).get("FOREIGN_KEYS", ()) for base in reversed(cls.__mro__))
        return tuple(dict.fromkeys(key for keys in declared for key in keys))


def delete_rows(state: Tables, table: str, keys: Iterable[Hashable]) -> None:
    """Delete rows of ``table`` by their dict keys, with what SQL's ``ON DELETE`` does."""
    rows: dict[Hashable, Any] = getattr(state, table)
    rows_deleted(state, table, [rows.pop(key) for key in list(keys) if key in rows])


def rows_deleted(state: Tables, table: str, removed: Collection[Any]) -> None:
    """Apply the foreign keys into ``table`` once ``removed`` (its rows) are gone."""
    if not removed:
        return
    for key in type(state).foreign_keys():
        if key.parent != table:
            continue
        if isinstance(key, Embedded):
            rows_deleted(
                state, key.table, [x for row in removed for x in getattr(row, key.attribute)]
            )
            continue
        gone = {getattr(row, key.parent_column) for row in removed}
        children: dict[Hashable, Any] = getattr(state, key.table)
        hit = [k for k, row in children.items() if getattr(row, key.column) in gone]
        if not hit:
            continue
        if key.on_delete is OnDelete.RESTRICT:  # the unit of work rolls back, as SQL's would
            raise Conflict("This change clashes with existing data.")
        if key.on_delete is OnDelete.CASCADE:
            delete_rows(state, key.table, hit)
        else:
            for k in hit:
                children[k] = replace(children[k], **{key.column: None})


def _page(items: list[T], page: PageRequest) -> Page[T]:
    return Page(
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        limit=page.limit,
        offset=page.offset,
    )


class _Repo:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    @property
    def _state(self) -> MemoryState:
        return self._db.state  # replaced when a transaction rolls back: read it each time


def _newest_first(items: list[T], key: Callable[[T], tuple[datetime, UUID]]) -> list[T]:
    return sorted(items, key=lambda item: (key(item)[0], str(key(item)[1])), reverse=True)
