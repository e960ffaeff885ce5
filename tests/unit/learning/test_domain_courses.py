"""Courses in the catalog: fields, lifecycle and free enrolment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cpd.domain.courses import Course, CourseMode, CourseStatus, EnrollmentStatus
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.ids import new_id
from cpd.domain.money import Money
from tests.unit.fakes import START

ORG = new_id()
LATER = START + timedelta(hours=1)


def make_course(**details: Any) -> Course:
    return Course.create(
        organization_id=ORG,
        slug="safeguarding",
        now=START,
        details={"title": "Safeguarding Essentials"} | details,
    )


def in_status(status: CourseStatus, **details: Any) -> Course:
    course = make_course(**details)
    if status is CourseStatus.PUBLISHED:
        course.publish(now=START)
    elif status is CourseStatus.ARCHIVED:
        course.archive(now=START)
    return course


# --- create and update ------------------------------------------------------------------------


def test_a_new_course_is_a_free_self_paced_draft() -> None:
    course = make_course(title="  Safeguarding Essentials  ")
    assert (course.organization_id, course.slug, course.title) == (
        ORG,
        "safeguarding",
        "Safeguarding Essentials",
    )
    assert course.status is CourseStatus.DRAFT
    assert course.mode is CourseMode.SELF_PACED
    assert course.price == Money(0, "GBP")
    assert (course.cpd_credits, course.credit_category, course.description) == (
        Decimal("0"),
        None,
        "",
    )
    assert course.created_at == course.updated_at == START
    assert not course.is_public


def test_create_applies_every_writable_field() -> None:
    course = make_course(
        mode="cohort",
        price={"amount": 9900, "currency": "EUR"},
        cpd_credits="2.50",
        credit_category=" Ethics ",
        description="  Twelve weeks.  ",
    )
    assert course.mode is CourseMode.COHORT
    assert course.price == Money(9900, "EUR")
    assert str(course.cpd_credits) == "2.5"
    assert course.credit_category == "Ethics"
    assert course.description == "Twelve weeks."


def test_a_course_needs_a_title() -> None:
    with pytest.raises(InvalidInput) as caught:
        Course.create(organization_id=ORG, slug="untitled", now=START, details={})
    assert caught.value.field == "title"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"slug": "Not a slug"}, "slug"),
        ({"mode": "bootcamp"}, "mode"),
        ({"price": {"amount": -1, "currency": "GBP"}}, "price.amount"),
        ({"price": {"amount": 100, "currency": "Euro"}}, "price.currency"),
        ({"cpd_credits": "0.125"}, "cpd_credits"),
        ({"cpd_credits": "NaN"}, "cpd_credits"),
        ({"credit_category": ""}, "credit_category"),
        ({"credit_category": "x" * 101}, "credit_category"),
        ({"status": "published"}, "status"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_field_checks_its_value_and_names_itself(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as at_creation:
        make_course(**changes)
    assert at_creation.value.field == field
    course = make_course()
    with pytest.raises(InvalidInput) as caught:
        course.update(changes, now=LATER)
    assert caught.value.field == field
    assert course.status is CourseStatus.DRAFT


def test_a_description_may_be_blank() -> None:
    assert make_course(description=None).description == ""
    assert make_course(description="   ").description == ""


@pytest.mark.parametrize("description", ["x" * 20_001, 42])
def test_a_description_is_checked_like_an_events(description: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_course(description=description)
    assert caught.value.field == "description"


def test_update_changes_fields_and_the_update_time() -> None:
    course = make_course()
    course.update(
        {"title": "Safeguarding Advanced", "slug": "safeguarding-advanced", "mode": "cohort"},
        now=LATER,
    )
    assert (course.title, course.slug, course.mode) == (
        "Safeguarding Advanced",
        "safeguarding-advanced",
        CourseMode.COHORT,
    )
    assert course.updated_at == LATER


def test_a_published_course_can_still_be_edited() -> None:
    course = in_status(CourseStatus.PUBLISHED)
    course.update({"price": {"amount": 500, "currency": "GBP"}}, now=LATER)
    assert course.price == Money(500, "GBP")
    assert course.status is CourseStatus.PUBLISHED


def test_an_archived_course_cannot_be_edited() -> None:
    course = in_status(CourseStatus.ARCHIVED)
    with pytest.raises(Conflict):
        course.update({"title": "Revived"}, now=LATER)
    assert course.title == "Safeguarding Essentials"


# --- lifecycle --------------------------------------------------------------------------------


def test_a_draft_publishes() -> None:
    course = make_course()
    course.publish(now=LATER)
    assert course.status is CourseStatus.PUBLISHED
    assert course.is_public
    assert course.updated_at == LATER


@pytest.mark.parametrize("status", [CourseStatus.PUBLISHED, CourseStatus.ARCHIVED])
def test_only_a_draft_can_be_published(status: CourseStatus) -> None:
    course = in_status(status)
    with pytest.raises(Conflict):
        course.publish(now=LATER)
    assert course.status is status


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.PUBLISHED])
def test_drafts_and_published_courses_can_be_archived(status: CourseStatus) -> None:
    course = in_status(status)
    course.archive(now=LATER)
    assert course.status is CourseStatus.ARCHIVED
    assert not course.is_public
    assert course.updated_at == LATER


def test_an_archived_course_cannot_be_archived_again() -> None:
    with pytest.raises(Conflict, match="already archived"):
        in_status(CourseStatus.ARCHIVED).archive(now=LATER)


def test_only_a_draft_course_can_be_deleted() -> None:
    in_status(CourseStatus.DRAFT).ensure_deletable()
    for status in (CourseStatus.PUBLISHED, CourseStatus.ARCHIVED):
        with pytest.raises(Conflict, match="archive it instead") as caught:
            in_status(status).ensure_deletable()
        assert caught.value.field == "status"


# --- enrolment --------------------------------------------------------------------------------


def test_a_free_published_course_enrolls() -> None:
    course = in_status(CourseStatus.PUBLISHED)
    user = new_id()
    enrollment = course.enroll(user, now=LATER)
    assert (enrollment.course_id, enrollment.user_id, enrollment.enrolled_at) == (
        course.id,
        user,
        LATER,
    )
    assert enrollment.status is EnrollmentStatus.ACTIVE


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.ARCHIVED])
def test_only_a_published_course_enrolls(status: CourseStatus) -> None:
    with pytest.raises(Conflict, match="not open"):
        in_status(status).enroll(new_id(), now=LATER)


def test_a_paid_course_cannot_enroll_until_payments_exist() -> None:
    course = in_status(CourseStatus.PUBLISHED, price={"amount": 1, "currency": "GBP"})
    with pytest.raises(Conflict, match="paid") as caught:
        course.enroll(new_id(), now=LATER)
    assert caught.value.field == "price"
