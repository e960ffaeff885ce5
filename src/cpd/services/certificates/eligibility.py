"""Who has earned a certificate, and what it prints of the activity and the person: the
rules issuing, bulk jobs and staff overrides share."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from cpd.domain.accounts import User
from cpd.domain.attendance import summarise
from cpd.domain.certificates import (
    Activity,
    CertificateSource,
    Holder,
)
from cpd.domain.courses import Course
from cpd.domain.events import Event, EventStatus
from cpd.domain.registrations import RegistrationStatus
from cpd.ports.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Whether a person has earned the certificate, and if not, why (for staff overrides)."""

    eligible: bool
    reason: str = ""


def event_activity(event: Event) -> Activity:
    """An event as a certificate prints it: dates in the event's own time zone."""
    zone = ZoneInfo(event.timezone)
    starts = event.starts_at.astimezone(zone).date() if event.starts_at else None
    ends = event.ends_at.astimezone(zone).date() if event.ends_at else None
    return Activity(
        source=CertificateSource.EVENT,
        source_id=event.id,
        title=event.title,
        cpd_credits=event.cpd_credits,
        credit_category=event.credit_category,
        starts_on=starts or event.created_at.date(),
        ends_on=ends if ends != starts else None,
    )


def course_activity(course: Course, completed_on: date) -> Activity:
    return Activity(
        source=CertificateSource.COURSE,
        source_id=course.id,
        title=course.title,
        cpd_credits=course.cpd_credits,
        credit_category=course.credit_category,
        completed_on=completed_on,
    )


def holder_of(user: User) -> Holder:
    """The name printed is the person's name on their account, as they last gave it."""
    return Holder(
        user_id=user.id,
        name=f"{user.first_name} {user.last_name}",
        registration_number=user.profile.registration_number,
    )


async def event_eligibility(uow: UnitOfWork, event: Event, user_id: UUID) -> Eligibility:
    if event.status is not EventStatus.COMPLETED:
        return Eligibility(False, f"The event is {event.status}, not completed.")
    registration = await uow.registrations.active_for(event.id, user_id)
    if registration is None or registration.status is not RegistrationStatus.CONFIRMED:
        return Eligibility(False, "This person has no confirmed registration for the event.")
    summaries = summarise(event, await uow.attendance.for_event(event.id, user_id))
    if not summaries or not summaries[0].threshold_met:
        percent = summaries[0].percent if summaries else 0
        return Eligibility(
            False,
            f"Attended {percent}% of the event; the threshold is "
            f"{event.attendance_threshold_percent}%.",
        )
    return Eligibility(True)


async def eligible_without_certificate(
    uow: UnitOfWork, event: Event
) -> list[tuple[UUID, UUID | None]]:
    """(person, registration) of everyone who earned a certificate and has none yet: confirmed
    registrants whose attendance met the event's threshold."""
    if event.status is not EventStatus.COMPLETED:
        return []
    summaries = summarise(event, await uow.attendance.for_event(event.id))
    met = {summary.user_id for summary in summaries if summary.threshold_met}
    have = await uow.certificates.holders(event.id)
    confirmed = await uow.registrations.confirmed_for(event.id, user_ids=met - have, ids=())
    return [(r.user_id, r.id) for r in sorted(confirmed, key=lambda r: r.created_at)]
