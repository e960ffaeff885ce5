"""certificates, certificate_sequences, certificate_templates, badges, signing_keys and jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IS_DEFAULT = sa.text("is_default")


def _guid(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, GUID(length=16), nullable=nullable)


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _organization_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=f"fk_{table}_organization_id_organizations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "certificate_templates",
        _guid("id", nullable=False),
        _guid("organization_id", nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("logo_data", sa.LargeBinary(), nullable=True),
        sa.Column("logo_mime", sa.String(length=50), nullable=True),
        sa.Column("signatory_name", sa.String(length=120), nullable=True),
        sa.Column("signatory_title", sa.String(length=120), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _organization_fk("certificate_templates"),
        sa.PrimaryKeyConstraint("id", name="pk_certificate_templates"),
    )
    op.create_index(
        "ix_certificate_templates_organization_id", "certificate_templates", ["organization_id"]
    )
    op.create_index(
        "uq_certificate_templates_default_organization_id",
        "certificate_templates",
        ["organization_id"],
        unique=True,
        postgresql_where=IS_DEFAULT,
        sqlite_where=IS_DEFAULT,
    )
    op.create_table(
        "badges",
        _guid("id", nullable=False),
        _guid("organization_id", nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("image_data", sa.LargeBinary(), nullable=True),
        sa.Column("image_mime", sa.String(length=50), nullable=True),
        sa.Column("awarded_for", _json(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _organization_fk("badges"),
        sa.PrimaryKeyConstraint("id", name="pk_badges"),
    )
    op.create_index("ix_badges_organization_id", "badges", ["organization_id"])
    op.create_table(
        "certificate_sequences",
        _guid("organization_id", nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        _organization_fk("certificate_sequences"),
        sa.PrimaryKeyConstraint("organization_id", name="pk_certificate_sequences"),
    )
    op.create_table(
        "certificates",
        _guid("id", nullable=False),
        _guid("organization_id", nullable=False),
        _guid("holder_id", nullable=False),
        sa.Column("holder_name", sa.String(length=201), nullable=False),
        sa.Column("registration_number", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        _guid("source_id", nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("cpd_credits", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("credit_category", sa.String(length=100), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("serial_number", sa.String(length=40), nullable=False),
        sa.Column("verification_code", sa.String(length=32), nullable=False),
        _utc("issued_at"),
        _guid("registration_id"),
        _guid("enrollment_id"),
        _guid("template_id"),
        sa.Column("badge_ids", _json(), nullable=False),
        _guid("issued_by"),
        sa.Column("override_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        _utc("revoked_at", nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.Column("pdf_key", sa.String(length=500), nullable=True),
        _utc("updated_at", nullable=True),
        _organization_fk("certificates"),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["users.id"], name="fk_certificates_holder_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name="fk_certificates_registration_id_registrations",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name="fk_certificates_enrollment_id_enrollments",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["certificate_templates.id"],
            name="fk_certificates_template_id_certificate_templates",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"],
            ["users.id"],
            name="fk_certificates_issued_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_certificates"),
        sa.UniqueConstraint("source_id", "holder_id", name="uq_certificates_source_id_holder_id"),
        sa.UniqueConstraint(
            "organization_id", "sequence", name="uq_certificates_organization_id_sequence"
        ),
        sa.UniqueConstraint("verification_code", name="uq_certificates_verification_code"),
    )
    op.create_index(
        "ix_certificates_holder_id_issued_at", "certificates", ["holder_id", "issued_at"]
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=1000), nullable=False),
        _guid("organization_id", nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("public_jwk", _json(), nullable=False),
        sa.Column("private_material", sa.LargeBinary(), nullable=False),
        _utc("created_at"),
        _organization_fk("signing_keys"),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_index("ix_signing_keys_organization_id", "signing_keys", ["organization_id"])
    op.create_table(
        "jobs",
        _guid("id", nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        _guid("organization_id", nullable=False),
        _guid("subject_id", nullable=False),
        _guid("created_by"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors", _json(), nullable=False),
        _utc("created_at"),
        _utc("started_at", nullable=True),
        _utc("finished_at", nullable=True),
        _organization_fk("jobs"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_jobs_created_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_index("ix_signing_keys_organization_id", table_name="signing_keys")
    op.drop_table("signing_keys")
    op.drop_index("ix_certificates_holder_id_issued_at", table_name="certificates")
    op.drop_table("certificates")
    op.drop_table("certificate_sequences")
    op.drop_index("ix_badges_organization_id", table_name="badges")
    op.drop_table("badges")
    op.drop_index(
        "uq_certificate_templates_default_organization_id", table_name="certificate_templates"
    )
    op.drop_index("ix_certificate_templates_organization_id", table_name="certificate_templates")
    op.drop_table("certificate_templates")
