"""events.completed_at, completed_by, completion_override_reason: when and by whom an event was
completed, and why staff completed it before its last session ended (the record of that
override). Events completed before these columns existed keep null.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("completed_at", DateTimeUTC(timezone=True), nullable=True))
    op.add_column("events", sa.Column("completed_by", GUID(length=16), nullable=True))
    op.add_column(
        "events", sa.Column("completion_override_reason", sa.String(length=500), nullable=True)
    )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of ``events`` would drop
    # the table, and its ON DELETE CASCADE would take sessions and registrations with it.
    for column in ("completion_override_reason", "completed_by", "completed_at"):
        op.drop_column("events", column)
