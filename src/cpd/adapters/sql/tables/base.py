"""The metadata every table is on, and the column and table helpers they share."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.base import convention
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Column,
    MetaData,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(naming_convention=convention)


def _timestamp(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def _json() -> Any:
    # advanced-alchemy 1.12's JsonB breaks on SQLAlchemy 2.1 (util.portable_instancemethod is
    # gone). Can go, for its JsonB, once an advanced-alchemy release imports it on SQLAlchemy 2.1.
    return JSON().with_variant(JSONB(), "postgresql")


Clash = tuple[str | None, str]  # the field at fault (None: the request as a whole), the message
CLASHES = "cpd_clashes"


def clashes(*rules: tuple[Clash, str, str]) -> dict[str, Any]:
    """``Table(info=...)``: what a unique clash on the table means to the core (``conflicts.py``),
    each with the marker of PostgreSQL's message (the constraint) and of SQLite's (its columns)."""
    return {CLASHES: {marker: clash for clash, *markers in rules for marker in markers}}
