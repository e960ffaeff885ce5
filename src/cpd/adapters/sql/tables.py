"""The schema. Core tables (not ORM classes): rows map straight to domain dataclasses."""

from __future__ import annotations

from advanced_alchemy.base import convention
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(naming_convention=convention)


def _timestamp(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTimeUTC(timezone=True), nullable=nullable)


users = Table(
    "users",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("is_superadmin", Boolean, nullable=False, server_default=text("false")),
    Column("professional_title", String(200)),
    Column("professional_body", String(200)),
    Column("registration_number", String(100)),
    Column("phone", String(50)),
    Column("timezone", String(64)),
    Column("bio", Text),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("slug", String(60), nullable=False, unique=True),
    Column("contact_email", String(254)),
    Column("logo_url", String(2000)),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

memberships = Table(
    "memberships",
    metadata,
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), nullable=False),
    _timestamp("created_at"),
    Index("ix_memberships_user_id", "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", GUID, nullable=False),
    _timestamp("issued_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    Index("ix_refresh_tokens_family_id", "family_id"),
    Index("ix_refresh_tokens_user_id", "user_id"),
)

password_reset_tokens = Table(
    "password_reset_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
    Index("ix_password_reset_tokens_user_id", "user_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("name", String(100), nullable=False),
    # advanced-alchemy 1.12's JsonB breaks on SQLAlchemy 2.1 (util.portable_instancemethod is gone).
    Column("payload", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("abandoned", Boolean, nullable=False, server_default=text("false")),
    Column("last_error", Text),
    _timestamp("created_at"),
    _timestamp("available_at"),
    _timestamp("dispatched_at", nullable=True),
    # The relay's only query: undispatched tasks by due time. Partial, so it stays small.
    Index(
        "ix_outbox_due",
        "available_at",
        postgresql_where=text("dispatched_at IS NULL AND NOT abandoned"),
        sqlite_where=text("dispatched_at IS NULL AND NOT abandoned"),
    ),
)
