"""Attendance per attendee per session, and the summary that decides certificate eligibility."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from cpd.domain.errors import InvalidInput
from cpd.domain.events import Event, Session
from cpd.domain.ids import new_id


class AttendanceSource(StrEnum):
    STAFF = "staff"
    SELF_CHECK_IN = "self_check_in"
    ZOOM = "zoom"


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    """Who attended one session, and for how long.

    ``user_id`` identifies the attendee. ``registration_id`` is empty until registrations exist;
    they fill it in, so attendance then belongs to a registration without a schema rewrite.
    """

    id: UUID
    event_id: UUID
    session_id: UUID
    user_id: UUID
    minutes_attended: int
    source: AttendanceSource
    recorded_at: datetime
    checked_in_at: datetime | None = None
    registration_id: UUID | None = None

    @classmethod
    def record(
        cls,
        session: Session,
        user_id: UUID,
        *,
        source: AttendanceSource,
        now: datetime,
        minutes_attended: int | None = None,
        checked_in_at: datetime | None = None,
        registration_id: UUID | None = None,
    ) -> AttendanceRecord:
        """Minutes default to the whole session and may not exceed it."""
        minutes = session.scheduled_minutes if minutes_attended is None else minutes_attended
        if not 0 <= minutes <= session.scheduled_minutes:
            raise InvalidInput(
                f"Must be between 0 and the session's {session.scheduled_minutes} minutes.",
                field="minutes_attended",
            )
        if checked_in_at is not None and checked_in_at.tzinfo is None:
            raise InvalidInput("Give a date-time with a UTC offset.", field="checked_in_at")
        return cls(
            id=new_id(),
            event_id=session.event_id,
            session_id=session.id,
            user_id=user_id,
            minutes_attended=minutes,
            source=source,
            recorded_at=now,
            checked_in_at=checked_in_at or (now if minutes else None),
            registration_id=registration_id,
        )


def attendance_percent(attended_minutes: int, scheduled_minutes: int) -> int:
    """Whole percent of scheduled time attended: 0..100, never above, monotone in minutes."""
    if scheduled_minutes <= 0 or attended_minutes <= 0:
        return 0
    return min(100, attended_minutes * 100 // scheduled_minutes)


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    user_id: UUID
    sessions_attended: int
    minutes_attended: int
    scheduled_minutes: int
    percent: int
    threshold_percent: int
    threshold_met: bool


def summarise(event: Event, records: Iterable[AttendanceRecord]) -> list[AttendanceSummary]:
    """One summary per attendee, in a stable order (by user id)."""
    scheduled = {s.id: s.scheduled_minutes for s in event.sessions}
    total = sum(scheduled.values())
    by_user: dict[UUID, dict[UUID, int]] = {}
    for record in records:
        if record.session_id in scheduled:  # records of a removed session no longer count
            minutes = min(record.minutes_attended, scheduled[record.session_id])
            by_user.setdefault(record.user_id, {})[record.session_id] = minutes
    return [
        summary_for(user_id, sessions, total, event.attendance_threshold_percent)
        for user_id, sessions in sorted(by_user.items(), key=lambda item: str(item[0]))
    ]


def summary_for(
    user_id: UUID, minutes_by_session: dict[UUID, int], scheduled: int, threshold: int
) -> AttendanceSummary:
    attended = sum(minutes_by_session.values())
    percent = attendance_percent(attended, scheduled)
    return AttendanceSummary(
        user_id=user_id,
        sessions_attended=sum(1 for m in minutes_by_session.values() if m > 0),
        minutes_attended=attended,
        scheduled_minutes=scheduled,
        percent=percent,
        threshold_percent=threshold,
        threshold_met=scheduled > 0 and percent >= threshold,
    )
