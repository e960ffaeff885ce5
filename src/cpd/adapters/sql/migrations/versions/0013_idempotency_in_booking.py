"""idempotency_keys: claimed with the booking (resource_id), the answer stored after it

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _idempotency_keys(*, claimed: bool) -> sa.Table:
    """The table as 0005 made it (and 0013, with ``claimed``). SQLite alters a table by copying
    it, and reflection would see GUIDs and UTC timestamps only by their affinity; the copy is
    made from this instead."""
    return sa.Table(
        "idempotency_keys",
        sa.MetaData(),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        *([sa.Column("resource_id", GUID(length=16), nullable=True)] if claimed else []),
        sa.Column("response", sa.Text(), nullable=claimed),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_idempotency_keys_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
    )


def upgrade() -> None:
    with op.batch_alter_table(
        "idempotency_keys", copy_from=_idempotency_keys(claimed=False)
    ) as batch:
        batch.add_column(sa.Column("resource_id", GUID(length=16), nullable=True))
        batch.alter_column("response", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # The old schema needs an answer: a key whose answer was never stored cannot stay.
    op.execute("DELETE FROM idempotency_keys WHERE response IS NULL")
    with op.batch_alter_table(
        "idempotency_keys", copy_from=_idempotency_keys(claimed=True)
    ) as batch:
        batch.alter_column("response", existing_type=sa.Text(), nullable=False)
        batch.drop_column("resource_id")
