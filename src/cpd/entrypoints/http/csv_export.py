"""CSV exports of staff reports (attendance, registrations): one format for every export, safe
to open in a spreadsheet. Times are ISO 8601 in UTC (``2027-03-01T09:00:00Z``), booleans
``true``/``false``, money its amount in major units with its currency (``12.50 GBP``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from litestar import Request, Response

from cpd.domain.money import Money

CSV = "text/csv"  # Litestar adds the charset to text types


def wants_csv(request: Request[Any, Any, Any]) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def csv_response(rows: Sequence[object], columns: Sequence[str], filename: str) -> Response[bytes]:
    """``rows``: objects with the ``columns`` as attributes, or mappings with them as keys."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(_value(row, column)) for column in columns])
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _value(row: object, column: str) -> object:
    return row.get(column) if isinstance(row, Mapping) else getattr(row, column)


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        return value.display()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # spreadsheets run cells that start so as formulas: defuse them
    return str(value)
