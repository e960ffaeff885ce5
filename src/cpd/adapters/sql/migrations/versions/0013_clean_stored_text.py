"""Text stored before the domain refused control, bidi-override and invisible characters is
cleaned to what it accepts now: entities check their text when they load, so a session title
with a line break or an attendee name with a zero-width space would otherwise make its event
or registration unloadable.

Each refused character becomes a space (``displayable``), the value is trimmed, and a required
value left blank becomes "-". A session's join link or an organization's logo link that is not
an http(s) URL (``javascript:`` was accepted) is removed. Nothing else changes; the downgrade
keeps the cleaned text.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op
from sqlalchemy.dialects import postgresql

from cpd.domain.errors import InvalidInput
from cpd.domain.text import displayable
from cpd.domain.urls import checked_url

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> {column: (multi-line, required: a value that is there may not be blank)}
_COLUMNS: dict[str, dict[str, tuple[bool, bool]]] = {
    "users": {
        "first_name": (False, True),
        "last_name": (False, True),
        "professional_title": (False, False),
        "professional_body": (False, False),
        "registration_number": (False, False),
        "phone": (False, False),
        "bio": (True, False),
    },
    "organizations": {"name": (False, True)},
    "events": {
        "title": (False, True),
        "venue_name": (False, True),  # a venue, when there is one, has both
        "venue_address": (True, True),
    },
    "event_sessions": {"title": (False, True), "room": (False, False)},
    "courses": {"title": (False, True)},
}
# Links shown to people: one that is not http(s) (``javascript:`` was accepted) is dropped.
_LINKS = {"event_sessions": "join_url", "organizations": "logo_url"}
_ATTENDEE_FIELDS = ("name", "email", "registration_number")
_BATCH = 1000


def _clean(value: str | None, *, multiline: bool, required: bool) -> str | None:
    if value is None:
        return None
    cleaned = displayable(value, multiline=multiline).strip()
    return cleaned or ("-" if required else "")


def _link_or_none(value: str) -> str | None:
    try:
        return checked_url(value, "link")
    except InvalidInput:
        return None


def _table(name: str, *columns: str, json: bool = False) -> sa.TableClause:
    kind: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql") if json else sa.Text()
    return sa.table(name, sa.column("id", GUID(length=16)), *(sa.column(c, kind) for c in columns))


def _rows(bind: sa.Connection, table: sa.TableClause, *columns: str) -> Iterator[sa.Row[Any]]:
    """Every row's id and ``columns``, a page at a time (keyset on the id)."""
    last: Any = None
    while True:
        query = sa.select(table.c.id, *(table.c[c] for c in columns)).order_by(table.c.id)
        if last is not None:
            query = query.where(table.c.id > last)
        page = bind.execute(query.limit(_BATCH)).all()
        yield from page
        if len(page) < _BATCH:
            return
        last = page[-1].id


def upgrade() -> None:
    bind = op.get_bind()
    for name, columns in _COLUMNS.items():
        table = _table(name, *columns)
        for row in _rows(bind, table, *columns):
            changes = {
                column: cleaned
                for column, (multiline, required) in columns.items()
                if (value := getattr(row, column)) is not None
                and (cleaned := _clean(value, multiline=multiline, required=required)) != value
            }
            if changes:
                bind.execute(sa.update(table).where(table.c.id == row.id).values(**changes))
    for name, column in _LINKS.items():
        table = _table(name, column)
        for row in _rows(bind, table, column):
            value = getattr(row, column)
            if value is not None and (link := _link_or_none(value)) != value:
                bind.execute(sa.update(table).where(table.c.id == row.id).values({column: link}))
    registrations = _table("registrations", "attendees", json=True)
    for row in _rows(bind, registrations, "attendees"):
        attendees = row.attendees or []
        tidy = [
            {
                **attendee,
                **{
                    field: _clean(
                        attendee[field], multiline=False, required=field != "registration_number"
                    )
                    for field in _ATTENDEE_FIELDS
                    if attendee.get(field) is not None
                },
            }
            for attendee in attendees
        ]
        if tidy != attendees:
            bind.execute(
                sa.update(registrations).where(registrations.c.id == row.id).values(attendees=tidy)
            )


def downgrade() -> None:
    """The cleaned text stays: the characters it had are what made rows unloadable."""
