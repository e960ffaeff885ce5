"""Accounts: users, organizations, memberships, invitations, refresh and reset tokens."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)

from cpd.adapters.sql.tables.base import _json, _timestamp, clashes, metadata

__all__ = [
    "invitations",
    "memberships",
    "organizations",
    "password_reset_tokens",
    "refresh_tokens",
    "users",
]  # what ``tables`` re-exports

_EMAIL_TAKEN = ("email", "An account with this email already exists.")

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
    info=clashes((_EMAIL_TAKEN, "uq_users_email", "users.email")),
)

_SLUG_TAKEN = ("slug", "This slug is taken.")

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
    _timestamp("approved_at", nullable=True),  # None: awaiting a superadmin's approval
    Column("refund_policy", _json(), nullable=False),  # RefundPolicy.as_json()
    info=clashes((_SLUG_TAKEN, "uq_organizations_slug", "organizations.slug")),
)

_MEMBER = ("email", "This user is already a member.")

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
    info=clashes((_MEMBER, "pk_memberships", "memberships.organization_id")),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id", GUID, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("email", String(254), nullable=False),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", GUID, ForeignKey("users.id", ondelete="SET NULL")),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("accepted_at", nullable=True),
    Column("accepted_by", GUID, ForeignKey("users.id", ondelete="SET NULL")),
    _timestamp("revoked_at", nullable=True),
    Index("ix_invitations_organization_id_email", "organization_id", "email"),
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
