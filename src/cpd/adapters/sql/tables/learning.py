"""Learning: courses and enrolments."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import (
    CHAR,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cpd.adapters.sql.tables.base import _timestamp, clashes, metadata

__all__ = ["courses", "enrollments"]  # what ``tables`` re-exports

_SLUG = ("slug", "This organization already has a course with this slug.")

courses = Table(
    "courses",
    metadata,
    Column("id", GUID, primary_key=True),
    Column(
        "organization_id",
        GUID,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title", String(200), nullable=False),
    Column("slug", String(60), nullable=False),
    Column("description", Text, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("price_amount", Integer, nullable=False),
    Column("price_currency", CHAR(3), nullable=False),
    Column("cpd_credits", Numeric(7, 2), nullable=False),
    Column("credit_category", String(100)),
    Column("status", String(20), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    UniqueConstraint("organization_id", "slug", name="uq_courses_organization_id_slug"),
    info=clashes(
        (_SLUG, "uq_courses_organization_id_slug", "courses.organization_id, courses.slug")
    ),
)

_ENROLLED = (None, "You are already enrolled in this course.")

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", GUID, primary_key=True),
    Column("course_id", GUID, ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", GUID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _timestamp("enrolled_at"),
    Column("status", String(20), nullable=False),
    UniqueConstraint("course_id", "user_id", name="uq_enrollments_course_id_user_id"),
    Index("ix_enrollments_user_id", "user_id"),
    info=clashes(
        (
            _ENROLLED,
            "uq_enrollments_course_id_user_id",
            "enrollments.course_id, enrollments.user_id",
        )
    ),
)
