"""Unique-constraint clashes as the core names them: ``Conflict`` with the field at fault.

Its own module so every repository can map a clash where it happens (the unit of work in
``database.py`` and repositories that insert in a savepoint both use it).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from cpd.adapters.sql.tables import metadata
from cpd.adapters.sql.tables.base import CLASHES, Clash
from cpd.domain.errors import Conflict

# Each table declares its unique clashes (``tables.base.clashes``). Checked in order; no marker
# is a substring of another table's message.
_UNIQUE_FIELDS: dict[str, Clash] = {
    marker: clash
    for table in metadata.tables.values()
    for marker, clash in table.info.get(CLASHES, {}).items()
}


def conflict_from(error: IntegrityError) -> Conflict:
    message = str(error.orig)
    for marker, (field, detail) in _UNIQUE_FIELDS.items():
        if marker in message:
            return Conflict(detail, field=field)
    return Conflict("This change clashes with existing data.")
