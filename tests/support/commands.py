"""Typed create commands from the loose fields tests and benchmarks write."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from cpd.services.events.commands import EventFields, NewEvent, SessionDetails
from cpd.services.learning.commands import CourseFields, NewCourse


def new_event(
    organization_id: UUID,
    details: dict[str, Any],
    sessions: list[dict[str, Any]] | None = None,
) -> NewEvent:
    """The create command from the loose fields tests write: the values reach the domain as
    given (strings for enums, dicts for a venue or price), so its parsing is what is tested."""
    specs = None if sessions is None else tuple(SessionDetails(**s) for s in sessions)
    return NewEvent(organization_id, EventFields(**details), specs)


def new_course(organization_id: UUID, details: dict[str, Any]) -> NewCourse:
    """As ``new_event``, for a course."""
    return NewCourse(organization_id, CourseFields(**details))
