"""Refund policies an organization sets and an event may override: organizations.refund_policy
(every organization starts with the policy that was fixed in code, so nothing changes for
them), events.refund_policy (NULL: the organization's applies). A registration's snapshot
moves from ``[[days, percent]]`` to the policy's stored form, tiers in hours and a fee.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STANDARD = {
    "tiers": [
        {"before_start_hours": 336, "percent": 100},
        {"before_start_hours": 48, "percent": 50},
    ],
    "fee": 0,
}


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _snapshots() -> sa.TableClause:
    return sa.table(
        "registrations", sa.column("id", GUID(length=16)), sa.column("refund_policy", _json())
    )


def _convert(change: Any) -> None:
    connection = op.get_bind()
    registrations = _snapshots()
    rows = connection.execute(
        sa.select(registrations.c.id, registrations.c.refund_policy).where(
            registrations.c.refund_policy.is_not(None)
        )
    ).all()
    for row in rows:
        value = row.refund_policy
        if isinstance(value, str):
            value = json.loads(value)
        connection.execute(
            registrations.update()
            .where(registrations.c.id == row.id)
            .values(refund_policy=change(value))
        )


def _to_hours(old: Any) -> Any:
    if isinstance(old, dict):
        return old  # already in the new form
    tiers = sorted(old, key=lambda tier: tier[0], reverse=True)
    return {
        "tiers": [{"before_start_hours": days * 24, "percent": percent} for days, percent in tiers],
        "fee": 0,
    }


def _to_days(new: Any) -> Any:
    if not isinstance(new, dict):
        return new
    return [[tier["before_start_hours"] // 24, tier["percent"]] for tier in new["tiers"]]


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("refund_policy", _json(), nullable=False, server_default=json.dumps(STANDARD)),
    )
    op.add_column("events", sa.Column("refund_policy", _json(), nullable=True))
    _convert(_to_hours)


def downgrade() -> None:
    _convert(_to_days)
    # Not a batch copy on SQLite: dropping the old organizations table there would cascade
    # to its events (SQLite drops a plain column in place since 3.35).
    op.drop_column("events", "refund_policy")
    op.drop_column("organizations", "refund_policy")
