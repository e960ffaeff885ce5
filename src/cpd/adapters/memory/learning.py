"""Learning in memory: courses and enrolments."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import ClassVar
from uuid import UUID

from cpd.adapters.memory.base import ForeignKey, Keys, OnDelete, Tables, _Repo, delete_rows
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.courses import Course, Enrollment
from cpd.domain.errors import Conflict


class MemoryCourseRepository(_Repo):
    async def get(self, course_id: UUID) -> Course | None:
        return copy.copy(self._state.courses.get(course_id))

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool:
        return any(
            c.organization_id == organization_id and c.slug == slug
            for c in self._state.courses.values()
        )

    async def add(self, course: Course) -> None:
        self._check_slug(course)
        self._state.courses[course.id] = copy.copy(course)

    async def save(self, course: Course) -> None:
        self._check_slug(course)
        self._state.courses[course.id] = copy.copy(course)

    def _check_slug(self, course: Course) -> None:
        if any(
            c.organization_id == course.organization_id
            and c.slug == course.slug
            and c.id != course.id
            for c in self._state.courses.values()
        ):
            raise Conflict("This organization already has a course with this slug.", field="slug")

    async def delete(self, course_id: UUID) -> None:
        delete_rows(self._state, "courses", [course_id])


class MemoryEnrollmentRepository(_Repo):
    async def get(self, course_id: UUID, user_id: UUID) -> Enrollment | None:
        return self._state.enrollments.get((course_id, user_id))

    async def add(self, enrollment: Enrollment) -> None:
        key = (enrollment.course_id, enrollment.user_id)
        if key in self._state.enrollments:
            raise Conflict("You are already enrolled in this course.")
        self._state.enrollments[key] = enrollment

    async def count_for_course(self, course_id: UUID) -> int:
        return sum(1 for (course, _) in self._state.enrollments if course == course_id)


@dataclass
class LearningTables(Tables):
    FOREIGN_KEYS: ClassVar[Keys] = (
        ForeignKey("enrollments", "course_id", "courses", OnDelete.CASCADE),
    )

    courses: dict[UUID, Course] = field(default_factory=dict)
    enrollments: dict[tuple[UUID, UUID], Enrollment] = field(default_factory=dict)


class MemoryLearning:
    """Learning's repositories, one base of ``MemoryUnitOfWork``."""

    courses = RepositorySlot(MemoryCourseRepository)
    enrollments = RepositorySlot(MemoryEnrollmentRepository)
