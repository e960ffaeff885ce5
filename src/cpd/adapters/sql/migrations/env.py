"""Alembic environment: runs on the connection that ``cpd.adapters.sql.migrate`` passes in."""

from typing import Any

from advanced_alchemy.types import GUID
from alembic import context

from cpd.adapters.sql.tables import include_in_autogenerate, metadata


def compare_type(migration: Any, inspected: Any, declared: Any, *_: Any) -> bool | None:
    """SQLite reflects GUID's BINARY(16) as NUMERIC(16): not a change worth a migration."""
    if migration.dialect.name == "sqlite" and isinstance(declared.type, GUID):
        return False
    return None  # alembic's own comparison


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `cpd migrate`, which supplies the connection.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=compare_type,
    include_object=include_in_autogenerate,  # PostgreSQL-only DDL is not drift
)
with context.begin_transaction():
    context.run_migrations()
