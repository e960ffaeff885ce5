"""The catalog's read side: rows straight into views, no ORM, outside any write transaction.

The public list's hot path; the figures behind each choice are in bench/README.md ("Figures
behind the code's choices"). Per request it does as little as it can:

- Statements are SQLAlchemy Core, built once per *shape* of filter (which filters are present,
  never their values) and kept. SQLite runs them through SQLAlchemy; on PostgreSQL each is
  compiled once to SQL text and run on a small asyncpg pool of the reader's own, in autocommit,
  because SQLAlchemy's pool and result layers cost more per page than PostgreSQL's query.
- One query per page: each event's sessions come with its row, from ``events.sessions_json``
  (the repository's copy of ``event_sessions``), decoded by msgspec into typed tuples.
- Reads never take SQLite's write lock (``cpd_read_only``: a deferred ``BEGIN``).
- ``q``, LIMIT, OFFSET and start bounds go into PostgreSQL's SQL as literals, not parameters:
  a prepared statement's generic plan cannot know whether a word is rare or common, how many
  rows LIMIT wants, nor how far into the start index a bound lies. The query's alphabet is
  letters, digits and non-ASCII characters (``catalog_search.WORD``), the numbers are ints and
  the bounds ISO datetimes, so none can break out of its place. ``q`` matches whole words
  (why: see ``cpd.adapters.catalog_search``).

Indexes (``tables/events.py``, migration 0002): the list walks ``ix_events_published_starts_at``
in order and stops after a page; an organization's list walks
``ix_events_published_organization_id_starts_at``; ``q`` uses the GIN index on the stored
tsvector ``events.search`` (PostgreSQL), ``tag`` the GIN ``jsonb_path_ops`` index on ``tags``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    ColumnElement,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from cpd.adapters.catalog_documents import listed_event
from cpd.adapters.catalog_search import search_words
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.catalog_rows import COURSE_COLUMNS, EVENT_COLUMNS, course_view, event_view
from cpd.adapters.sql.database import READ_ONLY, SqlDatabase
from cpd.domain.catalog import (
    CourseFilters,
    CourseView,
    EventFilters,
    EventView,
)
from cpd.domain.pages import PageRequest

e, o, c = t.events.c, t.organizations.c, t.courses.c

# A word between word boundaries, for SQLite's GLOB and PostgreSQL's ``~`` (courses): a boundary
# is an ASCII character that is not a letter or digit, as in ``cpd.adapters.catalog_search``.
# The searched text is wrapped in spaces, so words at its very start and end match too.
_GLOB_BOUNDARY = "[^0-9a-z\u0080-\U0010ffff]"
_REGEX_BOUNDARY = "[^0-9a-z\\u0080-\\U0010FFFF]"


def _glob_word(word: str) -> str:
    return f"*{_GLOB_BOUNDARY}{word}{_GLOB_BOUNDARY}*"


def _regex_word(word: str) -> str:
    return f"{_REGEX_BOUNDARY}{word}{_REGEX_BOUNDARY}"


def _padded(text: Any) -> Any:
    return literal(" ") + func.lower(text) + literal(" ")


# Placeholders that PostgreSQL statements carry instead of parameters (see ``_rows``).
_TSQUERY, _LIMIT, _OFFSET = "__cpd_tsquery__", "__cpd_limit__", "__cpd_offset__"
# Start bounds are literals on PostgreSQL too (the module's docstring says why).
_STARTS = {"starts_after": "__cpd_starts_after__", "starts_before": "__cpd_starts_before__"}

# A dead pooled connection (the server restarted, a proxy dropped it): reads retry once.
_DISCONNECTED = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
)
# SQLAlchemy's own asyncpg options, not asyncpg.connect's.
_SQLALCHEMY_ONLY = {
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
    "async_creator_fn",
}

Key = tuple[Any, ...]
Rows = Sequence[Sequence[Any]]


# -- SQL pieces -------------------------------------------------------------------------------


def _statuses(column: Any, statuses: tuple[str, ...]) -> ColumnElement[bool]:
    """Statuses as SQL literals, not parameters: PostgreSQL can then prove that a query implies
    the partial indexes' ``status = 'published'`` under a generic (prepared) plan too."""
    literals: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in statuses]
    if len(literals) == 1:
        return column == literals[0]  # type: ignore[no-any-return]
    return column.in_(literals)  # type: ignore[no-any-return]


def _organization_by_slug() -> Any:
    """The id of the organization with the slug (NULL, so nothing matches, when unknown)."""
    return select(o.id).where(o.slug == bindparam("organization_slug")).scalar_subquery()


class _Sql(NamedTuple):
    """A statement compiled for asyncpg: its text, its parameters' names in ``$n`` order and
    the values of those fixed in the statement (such as the 0 of ``price_amount = 0``)."""

    text: str
    names: tuple[str, ...]
    fixed: dict[str, Any]


class SqlCatalogReader:
    def __init__(self, db: SqlDatabase) -> None:
        self._engine: AsyncEngine = db.engine.execution_options(**{READ_ONLY: True})
        self._postgres = db.engine.dialect.name == "postgresql"
        self._statements: dict[Key, Any] = {}
        self._pool: Any = None  # asyncpg.Pool, opened on first use (it needs the running loop)
        self._pool_lock = asyncio.Lock()
        self._pool_size: int = getattr(db.engine.pool, "size", lambda: 10)()  # as the main pool
        if self._postgres:
            db.on_dispose(self.close)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    # -- events ----------------------------------------------------------------------------

    async def events(self, filters: EventFilters, page: PageRequest) -> list[EventView]:
        key, params = self._event_filters(filters)
        if key is None:
            return []
        params["limit"], params["offset"] = page.limit, page.offset
        return await self._events(("events", *key), lambda: self._event_page(key), params)

    async def events_json(self, filters: EventFilters, page: PageRequest) -> bytes:
        key, params = self._event_filters(filters)
        if key is None:
            return b"[]"
        params["limit"], params["offset"] = page.limit, page.offset
        rows = await self._rows(
            ("events_json", *key),
            lambda: self._paged(
                select(e.view_json, e.organization_id, o.name, o.slug, e.capacity, e.seats_taken)
                .join_from(t.events, t.organizations, o.id == e.organization_id)
                .where(*self._event_where(key))
                .order_by(e.starts_at.asc().nulls_last(), e.id)
            ),
            params,
        )
        items = [
            listed_event(row[0].encode(), (row[1], row[2], row[3]), row[4], row[5]) for row in rows
        ]
        return b"[" + b",".join(items) + b"]"

    async def count_events(self, filters: EventFilters) -> int:
        key, params = self._event_filters(filters)
        if key is None:
            return 0
        return await self._count(
            ("count_events", *key),
            lambda: select(func.count()).select_from(t.events).where(*self._event_where(key)),
            params,
        )

    async def event(self, event_id: UUID) -> EventView | None:
        found = await self._events(
            ("event",), lambda: self._one_event(e.id == bindparam("id")), {"id": event_id}
        )
        return found[0] if found else None

    async def event_by_slug(self, organization_slug: str, event_slug: str) -> EventView | None:
        found = await self._events(
            ("event_by_slug",),
            lambda: self._one_event(
                e.organization_id == _organization_by_slug(), e.slug == bindparam("event_slug")
            ),
            {"organization_slug": organization_slug, "event_slug": event_slug},
        )
        return found[0] if found else None

    def _event_filters(self, filters: EventFilters) -> tuple[Key | None, dict[str, Any]]:
        """The statement's key and the parameters for ``filters``; key None: nothing matches."""
        params: dict[str, Any] = {}
        if not filters.statuses:
            return None, params
        if filters.organization_id is not None:
            params["organization_id"] = filters.organization_id
        if filters.organization_slug is not None:
            params["organization_slug"] = filters.organization_slug
        if filters.format is not None:
            params["format"] = filters.format.value
        if filters.tag is not None:
            tag = filters.tag.lower()
            params["tag"] = json.dumps([tag]) if self._postgres else tag
        words = search_words(filters.q)
        if words and self._postgres:
            params[_TSQUERY] = " & ".join(words)
        elif words:
            params.update({f"q{i}": _glob_word(word) for i, word in enumerate(words)})
        if filters.starts_after is not None:
            params["starts_after"] = filters.starts_after
        if filters.starts_before is not None:
            params["starts_before"] = filters.starts_before
        statuses = tuple(sorted({status.value for status in filters.statuses}))
        return (statuses, tuple(sorted(params)), filters.has_capacity, filters.free), params

    def _event_where(self, key: Key) -> list[ColumnElement[bool]]:
        statuses, names, has_capacity, free = key
        where = [_statuses(e.status, statuses)]
        if "organization_id" in names:
            where.append(e.organization_id == bindparam("organization_id"))
        if "organization_slug" in names:
            where.append(e.organization_id == _organization_by_slug())
        if "format" in names:
            where.append(e.format == bindparam("format"))
        if "tag" in names and self._postgres:
            where.append(e.tags.op("@>")(bindparam("tag", type_=JSONB)))
        elif "tag" in names:
            tags = func.json_each(e.tags).table_valued("value")
            where.append(
                select(literal(1))
                .select_from(tags)
                .where(tags.c.value == bindparam("tag"))
                .exists()
            )
        if _TSQUERY in names:
            tsquery = func.to_tsquery(
                literal_column("'simple'::regconfig"), literal_column(_TSQUERY)
            )
            where.append(literal_column("events.search").op("@@")(tsquery))
        glob = [name for name in names if name.startswith("q")]
        if glob:
            tags_text = type_coerce(e.tags, String)  # the JSON text: its quotes split words
            haystack = _padded(e.title + " " + e.summary + " " + tags_text)
            where.extend(haystack.op("GLOB")(bindparam(name)) for name in glob)
        for name, compare in (("starts_after", "__ge__"), ("starts_before", "__lt__")):
            if name in names:
                bound = (
                    literal_column(_STARTS[name])
                    if self._postgres
                    else bindparam(name, type_=e.starts_at.type)
                )
                where.append(getattr(e.starts_at, compare)(bound))
        if has_capacity is True:
            where.append(or_(e.capacity.is_(None), e.seats_taken < e.capacity))
        elif has_capacity is False:
            where.append(e.seats_taken >= e.capacity)
        if free is True:
            where.append(e.price_amount == 0)
        elif free is False:
            where.append(e.price_amount > 0)
        return where

    def _event_page(self, key: Key) -> Any:
        return self._paged(
            select(*EVENT_COLUMNS)
            .join_from(t.events, t.organizations, o.id == e.organization_id)
            .where(*self._event_where(key))
            .order_by(e.starts_at.asc().nulls_last(), e.id)
        )

    @staticmethod
    def _one_event(*where: ColumnElement[bool]) -> Any:
        return (
            select(*EVENT_COLUMNS)
            .join_from(t.events, t.organizations, o.id == e.organization_id)
            .where(*where)
        )

    async def _events(
        self, key: Key, build: Callable[[], Any], params: dict[str, Any]
    ) -> list[EventView]:
        return [event_view(row) for row in await self._rows(key, build, params)]

    # -- courses ---------------------------------------------------------------------------

    async def courses(self, filters: CourseFilters, page: PageRequest) -> list[CourseView]:
        key, params = self._course_filters(filters)
        if key is None:
            return []
        params["limit"], params["offset"] = page.limit, page.offset
        rows = await self._rows(
            ("courses", *key),
            lambda: self._paged(
                select(*COURSE_COLUMNS)
                .join_from(t.courses, t.organizations, o.id == c.organization_id)
                .where(*self._course_where(key))
                .order_by(func.lower(c.title), c.id)
            ),
            params,
        )
        return [course_view(row) for row in rows]

    async def count_courses(self, filters: CourseFilters) -> int:
        key, params = self._course_filters(filters)
        if key is None:
            return 0
        return await self._count(
            ("count_courses", *key),
            lambda: select(func.count()).select_from(t.courses).where(*self._course_where(key)),
            params,
        )

    async def course(self, course_id: UUID) -> CourseView | None:
        rows = await self._rows(
            ("course",),
            lambda: (
                select(*COURSE_COLUMNS)
                .join_from(t.courses, t.organizations, o.id == c.organization_id)
                .where(c.id == bindparam("id"))
            ),
            {"id": course_id},
        )
        return course_view(rows[0]) if rows else None

    def _course_filters(self, filters: CourseFilters) -> tuple[Key | None, dict[str, Any]]:
        params: dict[str, Any] = {}
        if not filters.statuses:
            return None, params
        if filters.organization_id is not None:
            params["organization_id"] = filters.organization_id
        if filters.organization_slug is not None:
            params["organization_slug"] = filters.organization_slug
        if filters.mode is not None:
            params["mode"] = filters.mode.value
        for i, word in enumerate(search_words(filters.q)):
            params[f"q{i}"] = _regex_word(word) if self._postgres else _glob_word(word)
        statuses = tuple(sorted({status.value for status in filters.statuses}))
        return (statuses, tuple(sorted(params)), filters.free), params

    def _course_where(self, key: Key) -> list[ColumnElement[bool]]:
        statuses, names, free = key
        where = [_statuses(c.status, statuses)]
        if "organization_id" in names:
            where.append(c.organization_id == bindparam("organization_id"))
        if "organization_slug" in names:
            where.append(c.organization_id == _organization_by_slug())
        if "mode" in names:
            where.append(c.mode == bindparam("mode"))
        words = [name for name in names if name.startswith("q")]
        if words:  # courses are few: a scan, with the words matched as for events
            haystack = _padded(c.title + " " + c.description)
            operator = "~" if self._postgres else "GLOB"
            where.extend(haystack.op(operator)(bindparam(name)) for name in words)
        if free is True:
            where.append(c.price_amount == 0)
        elif free is False:
            where.append(c.price_amount > 0)
        return where

    # -- running statements ----------------------------------------------------------------

    def _paged(self, query: Any) -> Any:
        """LIMIT and OFFSET: parameters on SQLite; literals on PostgreSQL, where a generic plan
        with an unknown LIMIT assumes a tenth of the table is wanted and sorts instead of
        walking the index."""
        if self._postgres:
            return query.limit(literal_column(_LIMIT)).offset(literal_column(_OFFSET))
        return query.limit(bindparam("limit")).offset(bindparam("offset"))

    def _statement(self, key: Key, build: Callable[[], Any]) -> Any:
        statement = self._statements.get(key)
        if statement is None:
            statement = build()
            if self._postgres:
                compiled = statement.compile(dialect=self._engine.dialect)
                statement = _Sql(
                    str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)
                )
            self._statements[key] = statement
        return statement

    async def _rows(self, key: Key, build: Callable[[], Any], params: dict[str, Any]) -> Rows:
        statement = self._statement(key, build)
        if not self._postgres:
            async with self._engine.connect() as connection:
                return (await connection.execute(statement, params)).all()
        text = statement.text
        if "limit" in params:  # whole numbers, checked by PageRequest
            text = text.replace(_LIMIT, str(int(params["limit"])), 1)
            text = text.replace(_OFFSET, str(int(params["offset"])), 1)
        if _TSQUERY in params:  # letters, digits, ":*" and " & " only: quoting is a formality
            text = text.replace(_TSQUERY, "'" + params[_TSQUERY].replace("'", "''") + "'", 1)
        for name, placeholder in _STARTS.items():
            if name in params:  # a datetime's own ISO text: digits, '-', ':', '.', '+', 'T'
                moment: datetime = params[name]
                text = text.replace(placeholder, f"'{moment.isoformat()}'::timestamptz", 1)
        args = [params[n] if n in params else statement.fixed[n] for n in statement.names]
        pool = self._pool or await self._open_pool()
        for attempt in (1, 2):
            try:
                async with pool.acquire() as connection:
                    return await connection.fetch(text, *args)  # type: ignore[no-any-return]
            except _DISCONNECTED:  # the server dropped a pooled connection: once more, anew
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _count(self, key: Key, build: Callable[[], Any], params: dict[str, Any]) -> int:
        rows = await self._rows(key, build, params)
        return int(rows[0][0])

    async def _open_pool(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                _, options = self._engine.dialect.create_connect_args(self._engine.url)
                for name in _SQLALCHEMY_ONLY:
                    options.pop(name, None)
                self._pool = await asyncpg.create_pool(
                    min_size=1, max_size=self._pool_size, reset=_no_reset, **options
                )
        return self._pool


async def _no_reset(_: Any) -> None:
    """asyncpg resets a released connection with a round trip (RESET ALL, UNLISTEN, ...);
    catalog reads change no session state, so there is nothing to reset."""
