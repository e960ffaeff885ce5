"""Certificates: templates, badges, sequences, certificates and signing keys."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from cpd.adapters.sql.tables.base import _json, _timestamp, clashes, metadata

__all__ = [
    "badges",
    "certificate_sequences",
    "certificate_templates",
    "certificates",
    "signing_keys",
]  # what ``tables`` re-exports

# Certificates: the organization's designs and badges, the certificates issued with them, and the
# keys that sign their credentials.

# Only a race can hit it: saving a default first clears the organization's other default.
_DEFAULT_TEMPLATE = (
    "is_default",
    "Another template was made the default at the same time; try again.",
)

certificate_templates = Table(
    "certificate_templates",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(200), nullable=False),
    Column("source", LargeBinary, nullable=False),  # UTF-8 Typst source, at most 512 KiB
    Column("logo_data", LargeBinary),
    Column("logo_mime", String(50)),
    Column("signatory_name", String(120)),
    Column("signatory_title", String(120)),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Index("ix_certificate_templates_organization_id", "organization_id"),
    # At most one default per organization; ``save`` clears the old one first.
    Index(
        "uq_certificate_templates_default_organization_id",
        "organization_id",
        unique=True,
        postgresql_where=text("is_default"),
        sqlite_where=text("is_default"),
    ),
    info=clashes(
        (
            _DEFAULT_TEMPLATE,
            "uq_certificate_templates_default_organization_id",
            "certificate_templates.organization_id",
        )
    ),
)

badges = Table(
    "badges",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("image_data", LargeBinary),
    Column("image_mime", String(50)),
    # ["<event or course id>", ...]: the activities whose certificates come with the badge.
    Column("awarded_for", _json(), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Index("ix_badges_organization_id", "organization_id"),
)

# One row per organization: the last certificate number handed out, taken by one upsert so
# concurrent issuers get disjoint ranges and a rolled-back range is handed out again.
certificate_sequences = Table(
    "certificate_sequences",
    metadata,
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("last_sequence", Integer, nullable=False),
)

# A certificate with its ``Holder`` and ``Activity`` flattened into columns. ``source_id`` is an
# event or a course (``source`` says which), so it has no foreign key.
# The memory adapter's ALREADY_CERTIFIED, word for word.
_CERTIFIED = ("user_id", "This person already has a certificate for this activity.")

certificates = Table(
    "certificates",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # No cascade: deleting a person must not silently delete their certificates (a revoked one
    # would drop out of the status list and verify as valid again).
    Column("holder_id", GUID, ForeignKey("users.id"), nullable=False),
    Column("holder_name", String(201), nullable=False),
    Column("registration_number", String(100)),
    Column("source", String(10), nullable=False),
    Column("source_id", GUID, nullable=False),
    Column("title", String(200), nullable=False),
    Column("cpd_credits", Numeric(6, 2), nullable=False),
    Column("credit_category", String(100)),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("completed_on", Date),
    Column("sequence", Integer, nullable=False),
    Column("serial_number", String(40), nullable=False),
    Column("verification_code", String(32), nullable=False, unique=True),
    _timestamp("issued_at"),
    Column("registration_id", GUID, ForeignKey("registrations.id", ondelete="SET NULL")),
    Column("enrollment_id", GUID, ForeignKey("enrollments.id", ondelete="SET NULL")),
    Column("template_id", GUID, ForeignKey("certificate_templates.id", ondelete="SET NULL")),
    Column("badge_ids", _json(), nullable=False),  # ["<badge id>", ...]
    Column("issued_by", GUID, ForeignKey("users.id", ondelete="SET NULL")),  # NULL: automatic
    Column("override_reason", String(500)),
    Column("version", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    _timestamp("revoked_at", nullable=True),
    Column("revoked_reason", String(500)),
    Column("pdf_key", String(500)),
    _timestamp("updated_at", nullable=True),
    # One per person per activity, ever (a revoked one included). Also serves the per-activity
    # reads (holders, unrendered, list_for_activity), which all lead with source_id.
    UniqueConstraint("source_id", "holder_id", name="uq_certificates_source_id_holder_id"),
    # The organization's numbering (serials, status-list positions); also its revoked list.
    UniqueConstraint(
        "organization_id", "sequence", name="uq_certificates_organization_id_sequence"
    ),
    # A person's certificates, newest first.
    Index("ix_certificates_holder_id_issued_at", "holder_id", "issued_at"),
    info=clashes(
        (
            _CERTIFIED,
            "uq_certificates_source_id_holder_id",
            "certificates.source_id, certificates.holder_id",
        )
    ),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(1000), primary_key=True),  # "<JWKS URL>#<RFC 7638 thumbprint>"
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("algorithm", String(20), nullable=False),
    Column("public_jwk", _json(), nullable=False),
    Column("private_material", LargeBinary, nullable=False),  # wrapped by the adapter
    _timestamp("created_at"),
    Index("ix_signing_keys_organization_id", "organization_id"),
)
