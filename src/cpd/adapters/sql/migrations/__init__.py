"""Schema migrations, applied with ``cpd migrate`` (and automatically by the embedded default)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Raised here, and re-exported: the CLI and its tests catch it by this module's name.
from cpd.ports.platform import SchemaBehind

HERE = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))  # absolute: works from any directory
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The code's latest revision (read from the scripts once per process)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


async def current_revision(connection: AsyncConnection) -> str | None:
    """The database's revision; None when it was never migrated. One indexed read, cheap
    enough for every readiness check."""
    try:
        async with connection.begin_nested():  # a missing table must not spoil the transaction
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return found.scalar()
    except DBAPIError:
        return None


def check_revision(current: str | None) -> None:
    """Raise SchemaBehind unless the database is at the code's head. A revision this code
    does not know (a newer release migrated first, as in a rolling deploy) passes."""
    head = head_revision()
    if current == head or (current is not None and current not in known_revisions()):
        return
    raise SchemaBehind(
        f"the database schema is at revision {current or 'none (never migrated)'}, this code "
        f"needs {head}: run `cpd migrate`"
    )


MIGRATION_LOCK = 0x637064  # any constant: the advisory lock every migrating process takes


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade in one transaction. Several processes may start at once (a server and a
    worker, or several containers): on PostgreSQL they queue on an advisory lock and the later
    ones find the schema current; SQLite's ``BEGIN IMMEDIATE`` serialises them already."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def make_revision(engine: AsyncEngine, message: str) -> None:
    """Autogenerate a revision from the difference between the database and ``tables.py``."""
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )
