"""The memory adapter's declared foreign keys are the SQL schema's: same columns, same
``ON DELETE``, and none missing into a table memory deletes from."""

from __future__ import annotations

from dataclasses import fields

from cpd.adapters.memory.base import Embedded, ForeignKey, OnDelete
from cpd.adapters.memory.database import MemoryState
from cpd.adapters.sql.tables import metadata

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
