"""outbox: when each task finished, who runs it now, and the request that caused it (the worker)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default) works on SQLite without copying the table.
    op.add_column("outbox", sa.Column("completed_at", DateTimeUTC(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column("outbox", sa.Column("running_until", DateTimeUTC(timezone=True), nullable=True))
    # Tasks relayed before there was a worker ran as they were dispatched.
    op.execute("UPDATE outbox SET completed_at = dispatched_at WHERE dispatched_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("running_until")
        batch.drop_column("request_id")
        batch.drop_column("completed_at")
