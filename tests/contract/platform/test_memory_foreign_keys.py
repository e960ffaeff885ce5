"""The memory adapter's declared foreign keys are the SQL schema's: same columns, same
``ON DELETE``, and none missing into a table memory deletes from; ``delete_rows`` applies them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

import pytest

from cpd.adapters.memory.base import (
    Embedded,
    ForeignKey,
    Keys,
    OnDelete,
    Tables,
    delete_rows,
)
from cpd.adapters.memory.database import MemoryState
from cpd.adapters.sql.tables import metadata
from cpd.domain.errors import Conflict

KEYS = MemoryState.foreign_keys()
MEMORY_TABLES = {f.name for f in fields(MemoryState)}
EMBEDDED = {key.table for key in KEYS if isinstance(key, Embedded)}
Link = tuple[str, str, str, str, OnDelete]  # table, column, parent, parent column, on delete


def _on_delete(ondelete: str | None) -> OnDelete:
    return OnDelete.RESTRICT if ondelete in (None, "NO ACTION") else OnDelete(ondelete.upper())


def _sql_links_into(parent: str) -> set[Link]:
    return {
        (table.name, fk.parent.name, parent, fk.column.name, _on_delete(fk.ondelete))
        for table in metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == parent
    }


def _memory_link(key: ForeignKey | Embedded) -> Link:
    if isinstance(key, Embedded):
        return (key.table, key.column, key.parent, "id", OnDelete.CASCADE)
    return (key.table, key.column, key.parent, key.parent_column, key.on_delete)


def test_every_key_names_memory_tables() -> None:
    for key in KEYS:
        assert key.parent in MEMORY_TABLES | EMBEDDED, key
        assert key.table in (EMBEDDED if isinstance(key, Embedded) else MEMORY_TABLES), key


def test_every_declared_key_is_the_schemas() -> None:
    for key in KEYS:
        assert _memory_link(key) in _sql_links_into(key.parent), key


def test_no_schema_key_into_a_table_memory_deletes_from_is_missing() -> None:
    declared = {_memory_link(key) for key in KEYS}
    for parent in {key.parent for key in KEYS}:
        assert _sql_links_into(parent) <= declared, parent


def test_a_key_is_declared_once() -> None:
    assert len({_memory_link(key) for key in KEYS}) == len(KEYS)


@dataclass(frozen=True)
class _Row:
    id: int
    parent_id: int | None = None


@dataclass
class _Parents(Tables):
    parents: dict[int, _Row] = field(default_factory=dict)


@dataclass
class _Children(Tables):
    FOREIGN_KEYS: ClassVar[Keys] = (
        ForeignKey("cascaded", "parent_id", "parents", OnDelete.CASCADE),
        ForeignKey("nulled", "parent_id", "parents", OnDelete.SET_NULL),
        ForeignKey("restricted", "parent_id", "cascaded", OnDelete.RESTRICT),
    )

    cascaded: dict[int, _Row] = field(default_factory=dict)
    nulled: dict[int, _Row] = field(default_factory=dict)
    restricted: dict[int, _Row] = field(default_factory=dict)


@dataclass
class _State(_Parents, _Children):
    pass


def test_delete_rows_cascades_sets_null_and_restricts() -> None:
    state = _State(
        parents={1: _Row(1), 2: _Row(2)},
        cascaded={10: _Row(10, 1), 20: _Row(20, 2)},
        nulled={30: _Row(30, 1)},
        restricted={40: _Row(40, 20)},
    )
    delete_rows(state, "parents", [1, 99])
    assert state.parents == {2: _Row(2)}
    assert state.cascaded == {20: _Row(20, 2)}
    assert state.nulled == {30: _Row(30, None)}

    with pytest.raises(Conflict):  # a row of ``restricted`` still refers to cascaded 20
        delete_rows(state, "parents", [2])
