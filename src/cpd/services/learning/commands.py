"""What creating or changing a course asks for (``CourseService.create`` and ``update``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from cpd.domain.courses import CourseMode
from cpd.services.common.commands import UNSET, Maybe, Price, given_fields


@dataclass(frozen=True, slots=True)
class CourseFields:
    """A course's writable fields. UNSET ones are left out: the domain's default on create,
    unchanged on update. In the order the domain applies (and reports) them."""

    title: Maybe[str] = UNSET
    mode: Maybe[CourseMode] = UNSET
    slug: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    price: Maybe[Price] = UNSET
    cpd_credits: Maybe[Decimal] = UNSET
    credit_category: Maybe[str | None] = UNSET  # None: no category

    def given(self) -> dict[str, Any]:
        """The fields set, as the domain's setters take them."""
        return given_fields(self)


@dataclass(frozen=True, slots=True)
class NewCourse:
    """A draft course of an organization; without a slug, one is made from the title."""

    organization_id: UUID
    fields: CourseFields = field(default_factory=CourseFields)
