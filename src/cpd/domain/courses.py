"""Courses in the catalog, and enrolments in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from cpd.domain.accounts import check_slug
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.ids import new_id
from cpd.domain.money import Money, cpd_credits
from cpd.domain.text import checked_text


class CourseMode(StrEnum):
    SELF_PACED = "self_paced"
    COHORT = "cohort"


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


@dataclass(slots=True)
class Course:
    id: UUID
    organization_id: UUID
    title: str
    slug: str
    mode: CourseMode
    price: Money
    created_at: datetime
    updated_at: datetime
    description: str = ""
    cpd_credits: Decimal = Decimal("0")
    credit_category: str | None = None
    status: CourseStatus = CourseStatus.DRAFT

    @classmethod
    def create(
        cls, *, organization_id: UUID, slug: str, now: datetime, details: dict[str, Any]
    ) -> Course:
        course = cls(
            id=new_id(),
            organization_id=organization_id,
            title="",
            slug=check_slug(slug),
            mode=CourseMode.SELF_PACED,
            price=Money(0, "GBP"),
            created_at=now,
            updated_at=now,
        )
        course._apply(details)
        if not course.title:
            raise InvalidInput("Must not be blank.", field="title")
        return course

    def update(self, changes: dict[str, Any], *, now: datetime) -> None:
        if self.status is CourseStatus.ARCHIVED:
            raise Conflict("An archived course can no longer be changed.")
        self._apply(changes)
        self.updated_at = now

    def publish(self, *, now: datetime) -> None:
        if self.status is not CourseStatus.DRAFT:
            raise Conflict(f"Only a draft can be published; this course is {self.status}.")
        self.status = CourseStatus.PUBLISHED
        self.updated_at = now

    def archive(self, *, now: datetime) -> None:
        if self.status is CourseStatus.ARCHIVED:
            raise Conflict("This course is already archived.")
        self.status = CourseStatus.ARCHIVED
        self.updated_at = now

    def ensure_deletable(self) -> None:
        if self.status is not CourseStatus.DRAFT:
            raise Conflict(
                f"A {self.status} course cannot be deleted; archive it instead.", field="status"
            )

    def enroll(self, user_id: UUID, *, now: datetime) -> Enrollment:
        if self.status is not CourseStatus.PUBLISHED:
            raise Conflict("This course is not open for enrolment.")
        if not self.price.is_free:
            raise Conflict(
                "This course is paid; enrolment with payment is not available yet.", field="price"
            )
        return Enrollment(id=new_id(), course_id=self.id, user_id=user_id, enrolled_at=now)

    @property
    def is_public(self) -> bool:
        return self.status is CourseStatus.PUBLISHED

    def _apply(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if name == "title":
                self.title = checked_text(value, "title", 200)
            elif name == "slug":
                self.slug = check_slug(value)
            elif name == "description":
                self.description = checked_text(
                    value or "", "description", 20_000, blank_ok=True, multiline=True
                )
            elif name == "mode":
                self.mode = _mode(value)
            elif name == "price":
                self.price = Money.parse(value)
            elif name == "cpd_credits":
                self.cpd_credits = cpd_credits(value)
            elif name == "credit_category":
                self.credit_category = None if value is None else checked_text(value, name, 100)
            else:
                raise InvalidInput("Unknown field.", field=name)


@dataclass(frozen=True, slots=True)
class Enrollment:
    id: UUID
    course_id: UUID
    user_id: UUID
    enrolled_at: datetime
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE


def _mode(value: Any) -> CourseMode:
    try:
        return CourseMode(value)
    except ValueError:
        raise InvalidInput("Must be self_paced or cohort.", field="mode") from None
