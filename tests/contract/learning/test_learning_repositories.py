"""Courses and enrolments: one contract for every adapter."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from cpd.domain.courses import CourseMode, CourseStatus, EnrollmentStatus
from cpd.domain.errors import Conflict
from cpd.domain.money import Money
from tests.contract.builders import (
    T0,
    Backend,
    given,
    make_course,
    make_enrollment,
    make_organization,
    make_user,
)


async def test_course_round_trips_saves_and_deletes(backend: Backend) -> None:
    organization = make_organization()
    course = make_course(
        organization,
        title="Prescribing Safely",
        description="Línea dos\nsecond line",
        mode=CourseMode.COHORT,
        price=Money(9_900, "GBP"),
        cpd_credits=Decimal("12.50"),
        credit_category="Pharmacology",
        status=CourseStatus.DRAFT,
    )
    await given(backend, organization, course)

    async with backend.uow() as uow:
        loaded = await uow.courses.get(course.id)
        assert loaded == course
        assert loaded is not None
        assert str(loaded.cpd_credits) == "12.5"
        assert loaded.mode is CourseMode.COHORT
        assert await uow.courses.slug_exists(organization.id, course.slug)
        assert not await uow.courses.slug_exists(organization.id, "nope")
        assert await uow.courses.get(uuid4()) is None
        loaded.update({"title": "Renamed", "credit_category": None}, now=T0 + timedelta(1))
        loaded.publish(now=T0 + timedelta(days=1))
        await uow.courses.save(loaded)
        await uow.commit()

    async with backend.uow() as uow:
        again = await uow.courses.get(course.id)
        assert again == loaded
        assert again is not None
        assert again.status is CourseStatus.PUBLISHED
        await uow.courses.delete(course.id)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.courses.get(course.id) is None


async def test_duplicate_course_slug_in_one_organization_is_a_conflict(backend: Backend) -> None:
    first, second = make_organization(), make_organization()
    await given(backend, first, second, make_course(first, slug="rx"))

    with pytest.raises(Conflict) as raised:
        await given(backend, make_course(first, slug="rx"))
    assert raised.value.field == "slug"

    await given(backend, make_course(second, slug="rx"))
    async with backend.uow() as uow:
        assert await uow.courses.slug_exists(second.id, "rx")


async def test_enrollments_add_get_count_and_duplicates(backend: Backend) -> None:
    organization, alice, bob = make_organization(), make_user(), make_user()
    course, other = make_course(organization), make_course(organization)
    enrolment = make_enrollment(course, alice, at=T0 + timedelta(microseconds=3))
    await given(backend, organization, alice, bob, course, other, enrolment)
    await given(backend, make_enrollment(course, bob), make_enrollment(other, alice))

    async with backend.uow() as uow:
        assert await uow.enrollments.get(course.id, alice.id) == enrolment
        loaded = await uow.enrollments.get(course.id, alice.id)
        assert loaded is not None
        assert loaded.status is EnrollmentStatus.ACTIVE
        assert await uow.enrollments.get(other.id, bob.id) is None
        assert await uow.enrollments.count_for_course(course.id) == 2
        assert await uow.enrollments.count_for_course(other.id) == 1
        assert await uow.enrollments.count_for_course(uuid4()) == 0

    with pytest.raises(Conflict):
        await given(backend, make_enrollment(course, alice))
    async with backend.uow() as uow:
        assert await uow.enrollments.get(course.id, alice.id) == enrolment

    async with backend.uow() as uow:  # a deleted course takes its enrolments with it
        await uow.courses.delete(course.id)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.enrollments.count_for_course(course.id) == 0
        assert await uow.enrollments.get(course.id, bob.id) is None
