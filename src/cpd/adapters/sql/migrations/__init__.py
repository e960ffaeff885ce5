"""Schema migrations, applied with ``cpd migrate`` (and automatically by the embedded default)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))  # absolute: works from any directory
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


MIGRATION_LOCK = 0x637064  # any constant: the advisory lock every migrating process takes


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade in one transaction. Several processes may start at once (server workers each
    auto-migrating): on PostgreSQL they queue on an advisory lock and the later ones find the
    schema current; SQLite's ``BEGIN IMMEDIATE`` serialises them already."""
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
