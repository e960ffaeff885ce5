"""Shared bases of the SQL repositories: a connection, paging, the dialect's upsert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import (
    Row,
    Select,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from cpd.domain.pages import Page, PageRequest

T = TypeVar("T")


class _Repository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def _page(
        self, query: Select[Any], page: PageRequest, to_item: Callable[[Row[Any]], T]
    ) -> Page[T]:
        total_query = select(func.count()).select_from(query.order_by(None).subquery())
        total = (await self._db.execute(total_query)).scalar_one()
        rows = (await self._db.execute(query.limit(page.limit).offset(page.offset))).all()
        return Page([to_item(row) for row in rows], total, page.limit, page.offset)


def _dialect_insert(connection: AsyncConnection) -> Any:
    """The dialect's ``insert`` with ``on_conflict_do_update`` (both dialects spell it alike)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
