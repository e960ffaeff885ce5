"""Query plans of the catalog list as the reader really runs it (EXPLAIN ANALYZE).

It borrows the reader's private statement cache so the plans are of the exact SQL served,
not of a hand-written copy. Diagnostic code: it may need updating when the reader changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]

from cpd.adapters.sql import catalog as sql_catalog
from cpd.adapters.sql.database import SqlDatabase, create_engine
from cpd.domain.catalog import EventFilters
from cpd.domain.pages import PageRequest

CASES = {
    "list": EventFilters(),
    "q=ethics": EventFilters(q="ethics"),
    "starts_after=2028-01-01": EventFilters(starts_after=datetime(2028, 1, 1, tzinfo=UTC)),
    "tag=law": EventFilters(tag="law"),
    "organization=institute-07": EventFilters(organization_slug="institute-07"),
}


async def print_plans(url: str) -> None:
    db = SqlDatabase(create_engine(url), lambda: datetime.now(UTC))
    reader = sql_catalog.SqlCatalogReader(db)
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for label, filters in CASES.items():
            for kind in ("events_json", "count_events"):
                if kind == "events_json":
                    await reader.events_json(filters, PageRequest(limit=20))
                else:
                    await reader.count_events(filters)
                key, params = reader._event_filters(filters)
                assert key is not None  # these filters match something
                statement = reader._statements[(kind, *key)]
                text = statement.text.replace(sql_catalog._LIMIT, "20")
                text = text.replace(sql_catalog._OFFSET, "0")
                if sql_catalog._TSQUERY in params:
                    text = text.replace(sql_catalog._TSQUERY, f"'{params[sql_catalog._TSQUERY]}'")
                args = [params.get(n, statement.fixed.get(n)) for n in statement.names]
                plan = await connection.fetch(
                    "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + text, *args
                )
                print(f"\n=== {label}: {kind}")
                print("\n".join(row[0] for row in plan))
    finally:
        await connection.close()
        await db.dispose()
