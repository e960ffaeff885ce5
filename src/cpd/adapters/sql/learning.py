"""Learning over SQL: courses and enrolments."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, func, insert, select, update

from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _Repository
from cpd.domain.courses import Course, CourseMode, CourseStatus, Enrollment, EnrollmentStatus
from cpd.domain.money import Money, canonical_credits


def _course_values(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "organization_id": course.organization_id,
        "title": course.title,
        "slug": course.slug,
        "description": course.description,
        "mode": course.mode.value,
        "price_amount": course.price.amount,
        "price_currency": course.price.currency,
        "cpd_credits": course.cpd_credits,
        "credit_category": course.credit_category,
        "status": course.status.value,
        "created_at": course.created_at,
        "updated_at": course.updated_at,
    }


def _course(row: Row[Any]) -> Course:
    return Course(
        id=row.id,
        organization_id=row.organization_id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        mode=CourseMode(row.mode),
        price=Money(row.price_amount, row.price_currency),
        cpd_credits=canonical_credits(row.cpd_credits),
        credit_category=row.credit_category,
        status=CourseStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlCourseRepository(_Repository):
    async def get(self, course_id: UUID) -> Course | None:
        row = (await self._db.execute(select(t.courses).where(t.courses.c.id == course_id))).first()
        return _course(row) if row else None

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool:
        c = t.courses.c
        query = select(c.id).where(c.organization_id == organization_id, c.slug == slug)
        return (await self._db.execute(query)).first() is not None

    async def add(self, course: Course) -> None:
        await self._db.execute(insert(t.courses).values(_course_values(course)))

    async def save(self, course: Course) -> None:
        values = _course_values(course)
        for fixed in ("id", "organization_id", "created_at"):
            del values[fixed]
        await self._db.execute(update(t.courses).where(t.courses.c.id == course.id).values(values))

    async def delete(self, course_id: UUID) -> None:
        await self._db.execute(delete(t.courses).where(t.courses.c.id == course_id))


def _enrollment(row: Row[Any]) -> Enrollment:
    return Enrollment(
        id=row.id,
        course_id=row.course_id,
        user_id=row.user_id,
        enrolled_at=row.enrolled_at,
        status=EnrollmentStatus(row.status),
    )


class SqlEnrollmentRepository(_Repository):
    async def get(self, course_id: UUID, user_id: UUID) -> Enrollment | None:
        c = t.enrollments.c
        query = select(t.enrollments).where(c.course_id == course_id, c.user_id == user_id)
        row = (await self._db.execute(query)).first()
        return _enrollment(row) if row else None

    async def add(self, enrollment: Enrollment) -> None:
        values = asdict(enrollment) | {"status": enrollment.status.value}
        await self._db.execute(insert(t.enrollments).values(values))

    async def count_for_course(self, course_id: UUID) -> int:
        query = select(func.count()).where(t.enrollments.c.course_id == course_id)
        return int((await self._db.execute(query)).scalar_one())


class SqlLearning:
    """Learning's repositories, one base of ``SqlUnitOfWork``."""

    courses = RepositorySlot(SqlCourseRepository)
    enrollments = RepositorySlot(SqlEnrollmentRepository)
