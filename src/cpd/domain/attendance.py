"""Attendance per attendee per session, and the summary that decides certificate eligibility."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from uuid import UUID

from cpd.domain.accounts import normalise_email
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.events import Event, Session
from cpd.domain.ids import new_id
from cpd.domain.text import checked_text

# People queue at the door before a session starts: staff may check them in (and record their
# attendance) from this long before it, never earlier.
EARLY_CHECK_IN = timedelta(hours=1)


def check_in_opens(session: Session) -> datetime:
    return session.starts_at - EARLY_CHECK_IN


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
        """Minutes default to the whole session and may not exceed it; the check-in time
        follows ``checked_attendance``."""
        minutes, checked_in_at = checked_attendance(session, now, minutes_attended, checked_in_at)
        return cls(
            id=new_id(),
            event_id=session.event_id,
            session_id=session.id,
            user_id=user_id,
            minutes_attended=minutes,
            source=source,
            recorded_at=now,
            checked_in_at=checked_in_at,
            registration_id=registration_id,
        )


def checked_attendance(
    session: Session, now: datetime, minutes_attended: int | None, checked_in_at: datetime | None
) -> tuple[int, datetime | None]:
    """The minutes and check-in time to record, by the rules of time: nothing is recorded for
    a session whose check-in has not opened (``EARLY_CHECK_IN`` before it starts: 409); a
    check-in time lies between that opening and now (and not after the session ended). It
    defaults to now while the session is open, and is left unknown when recorded later."""
    opens = check_in_opens(session)
    if now < opens:
        raise Conflict(
            "This session has not started: attendance can be recorded from "
            f"{_minutes(EARLY_CHECK_IN)} minutes before it starts.",
            field="session_id",
        )
    minutes = session.scheduled_minutes if minutes_attended is None else minutes_attended
    if not 0 <= minutes <= session.scheduled_minutes:
        raise InvalidInput(
            f"Must be between 0 and the session's {session.scheduled_minutes} minutes.",
            field="minutes_attended",
        )
    if checked_in_at is None:
        return minutes, now if minutes and now < session.ends_at else None
    if checked_in_at.tzinfo is None:
        raise InvalidInput("Give a date-time with a UTC offset.", field="checked_in_at")
    if checked_in_at > now:
        raise InvalidInput("A check-in time cannot lie in the future.", field="checked_in_at")
    if checked_in_at < opens:
        raise InvalidInput(
            f"Check-in opens {_minutes(EARLY_CHECK_IN)} minutes before the session starts.",
            field="checked_in_at",
        )
    if checked_in_at >= session.ends_at:
        raise InvalidInput("A check-in must be before the session ends.", field="checked_in_at")
    return minutes, checked_in_at


def _minutes(span: timedelta) -> int:
    return int(span / timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class WalkInRecord:
    """Someone staff let in without a registration, known only by what staff typed: the
    platform's accounts are never looked up by this email, so nothing of theirs shows."""

    id: UUID
    event_id: UUID
    session_id: UUID
    email: str
    first_name: str
    last_name: str
    minutes_attended: int
    recorded_at: datetime
    checked_in_at: datetime | None = None

    @classmethod
    def record(
        cls,
        session: Session,
        *,
        email: str,
        first_name: str,
        last_name: str,
        now: datetime,
        minutes_attended: int | None = None,
        checked_in_at: datetime | None = None,
    ) -> WalkInRecord:
        minutes, checked_in_at = checked_attendance(session, now, minutes_attended, checked_in_at)
        try:
            email = normalise_email(email)
        except InvalidInput:
            raise InvalidInput("Enter a valid email address.", field="walk_in.email") from None
        return cls(
            id=new_id(),
            event_id=session.event_id,
            session_id=session.id,
            email=email,
            first_name=checked_text(first_name, "walk_in.first_name", 100, blank_ok=True),
            last_name=checked_text(last_name, "walk_in.last_name", 100, blank_ok=True),
            minutes_attended=minutes,
            recorded_at=now,
            checked_in_at=checked_in_at,
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


@dataclass(frozen=True, slots=True)
class WalkInSummary:
    """A walk-in's attendance, under the email and names staff gave (the latest typed)."""

    email: str
    first_name: str
    last_name: str
    sessions_attended: int
    minutes_attended: int
    scheduled_minutes: int
    percent: int
    threshold_percent: int
    threshold_met: bool


class _Attended(Protocol):
    @property
    def session_id(self) -> UUID: ...
    @property
    def minutes_attended(self) -> int: ...


R = TypeVar("R", bound=_Attended)
K = TypeVar("K", bound=Hashable)


def _minutes_by(
    event: Event, records: Iterable[R], key: Callable[[R], K]
) -> dict[K, dict[UUID, int]]:
    """Minutes per session per attendee; records of a removed session no longer count."""
    scheduled = {s.id: s.scheduled_minutes for s in event.sessions}
    found: dict[K, dict[UUID, int]] = {}
    for record in records:
        if record.session_id in scheduled:
            minutes = min(record.minutes_attended, scheduled[record.session_id])
            found.setdefault(key(record), {})[record.session_id] = minutes
    return found


def summarise(event: Event, records: Iterable[AttendanceRecord]) -> list[AttendanceSummary]:
    """One summary per attendee, in a stable order (by user id)."""
    by_user = _minutes_by(event, records, lambda r: r.user_id)
    return [
        summary_for(user_id, sessions, event.scheduled_minutes, event.attendance_threshold_percent)
        for user_id, sessions in sorted(by_user.items(), key=lambda item: str(item[0]))
    ]


def summarise_walk_ins(event: Event, records: Iterable[WalkInRecord]) -> list[WalkInSummary]:
    """One summary per walk-in email, in email order."""
    records = list(records)
    latest = {r.email: r for r in sorted(records, key=lambda r: r.recorded_at)}
    by_email = _minutes_by(event, records, lambda r: r.email)
    return [
        WalkInSummary(
            email=email,
            first_name=latest[email].first_name,
            last_name=latest[email].last_name,
            **_figures(sessions, event.scheduled_minutes, event.attendance_threshold_percent),
        )
        for email, sessions in sorted(by_email.items())
    ]


def summary_for(
    user_id: UUID, minutes_by_session: dict[UUID, int], scheduled: int, threshold: int
) -> AttendanceSummary:
    return AttendanceSummary(user_id=user_id, **_figures(minutes_by_session, scheduled, threshold))


def _figures(minutes_by_session: dict[UUID, int], scheduled: int, threshold: int) -> dict[str, Any]:
    attended = sum(minutes_by_session.values())
    percent = attendance_percent(attended, scheduled)
    return {
        "sessions_attended": sum(1 for m in minutes_by_session.values() if m > 0),
        "minutes_attended": attended,
        "scheduled_minutes": scheduled,
        "percent": percent,
        "threshold_percent": threshold,
        "threshold_met": scheduled > 0 and percent >= threshold,
    }
