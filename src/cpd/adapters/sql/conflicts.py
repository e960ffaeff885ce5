"""Unique-constraint clashes as the core names them: ``Conflict`` with the field at fault.

Its own module so every repository can map a clash where it happens (the unit of work in
``database.py`` and repositories that insert in a savepoint both use it).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from cpd.domain.errors import Conflict

_EVENT_SLUG = ("slug", "This organization already has an event with this slug.")
_COURSE_SLUG = ("slug", "This organization already has a course with this slug.")
_ENROLLED = (None, "You are already enrolled in this course.")
_REGISTERED = ("event_id", "You already have a registration for this event.")
_CHECK_IN_CODE = ("check_in_code", "This check-in code is already in use.")
# The memory adapter's ALREADY_CERTIFIED, word for word.
_CERTIFIED = ("user_id", "This person already has a certificate for this activity.")
# Only a race can hit it: saving a default first clears the organization's other default.
_DEFAULT_TEMPLATE = (
    "is_default",
    "Another template was made the default at the same time; try again.",
)

# Unique constraints and the field each protects: PostgreSQL names the constraint, SQLite the
# columns. Checked in order; no marker is a substring of another table's message.
_UNIQUE_FIELDS: dict[str, tuple[str | None, str]] = {
    "users.email": ("email", "An account with this email already exists."),
    "uq_users_email": ("email", "An account with this email already exists."),
    "organizations.slug": ("slug", "This slug is taken."),
    "uq_organizations_slug": ("slug", "This slug is taken."),
    "memberships.organization_id": ("email", "This user is already a member."),
    "pk_memberships": ("email", "This user is already a member."),
    "uq_events_organization_id_slug": _EVENT_SLUG,
    "events.organization_id, events.slug": _EVENT_SLUG,
    "uq_courses_organization_id_slug": _COURSE_SLUG,
    "courses.organization_id, courses.slug": _COURSE_SLUG,
    "uq_enrollments_course_id_user_id": _ENROLLED,
    "enrollments.course_id, enrollments.user_id": _ENROLLED,
    "uq_registrations_active_event_id_user_id": _REGISTERED,
    "registrations.event_id, registrations.user_id": _REGISTERED,
    "uq_registrations_check_in_code": _CHECK_IN_CODE,
    "registrations.check_in_code": _CHECK_IN_CODE,
    "uq_certificates_source_id_holder_id": _CERTIFIED,
    "certificates.source_id, certificates.holder_id": _CERTIFIED,
    "uq_certificate_templates_default_organization_id": _DEFAULT_TEMPLATE,
    "certificate_templates.organization_id": _DEFAULT_TEMPLATE,
}


def conflict_from(error: IntegrityError) -> Conflict:
    message = str(error.orig)
    for marker, (field, detail) in _UNIQUE_FIELDS.items():
        if marker in message:
            return Conflict(detail, field=field)
    return Conflict("This change clashes with existing data.")
