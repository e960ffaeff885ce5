"""outbox.relay_claims: how often the relay handed a task on, apart from ``attempts``, which
now counts the runs of its handler (on the worker, where SAQ retries, as well as in-process)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("relay_claims", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute("UPDATE outbox SET relay_claims = attempts")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("relay_claims")
