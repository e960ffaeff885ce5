"""The metadata every table is on, and the column helpers they share."""

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
