"""Courses over HTTP: request bodies; courses answer as the domain's ``CourseView``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cpd.domain.catalog import CourseView
from cpd.domain.courses import CourseMode
from cpd.entrypoints.http.common import (
    Credits,
    MoneyIn,
    Page,
    Slug,
    Title,
    component,
    maybe,
    maybe_as,
    or_unset,
)
from cpd.services.learning.commands import CourseFields, NewCourse


class CourseIn(Struct, forbid_unknown_fields=True):
    organization_id: UUID
    title: Title
    mode: CourseMode = CourseMode.SELF_PACED
    slug: Slug | None = None
    description: Annotated[str, Meta(max_length=20_000)] = ""
    price: MoneyIn | None = None
    cpd_credits: Credits = Decimal("0")
    credit_category: Annotated[str, Meta(max_length=100)] | None = None

    def command(self) -> NewCourse:
        """Every field, defaults included (only a missing price is left out: free)."""
        fields = CourseFields(
            title=self.title,
            mode=self.mode,
            slug=or_unset(self.slug),
            description=self.description,
            price=or_unset(None if self.price is None else self.price.price()),
            cpd_credits=self.cpd_credits,
            credit_category=self.credit_category,
        )
        return NewCourse(self.organization_id, fields)


class CoursePatch(Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    mode: CourseMode | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=20_000)] | UnsetType = UNSET
    price: MoneyIn | UnsetType = UNSET
    cpd_credits: Credits | UnsetType = UNSET
    credit_category: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET

    def command(self) -> CourseFields:
        return CourseFields(
            title=maybe(self.title),
            slug=maybe(self.slug),
            mode=maybe(self.mode),
            description=maybe(self.description),
            price=maybe_as(self.price, MoneyIn.price),
            cpd_credits=maybe(self.cpd_credits),
            credit_category=maybe(self.credit_category),
        )


CoursePage = Annotated[Page[CourseView], component("CoursePage")]
