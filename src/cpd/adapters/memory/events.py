"""Events in memory: events, courses, enrolments and attendance."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

from cpd.adapters.memory.base import _Repo
from cpd.domain.attendance import AttendanceRecord, WalkInRecord
from cpd.domain.courses import Course, Enrollment
from cpd.domain.errors import Conflict
from cpd.domain.events import Event, SeatLedger


class MemoryEventRepository(_Repo):
    async def get(self, event_id: UUID) -> Event | None:
        event = copy.deepcopy(self._state.events.get(event_id))
        if event is not None:  # in start order, as the SQL adapter reads them
            event.sessions.sort(key=lambda s: (s.starts_at, s.ends_at, s.id))
        return event

    get_for_update = get  # the transaction already holds the database lock

    async def lock_seats(self, event_id: UUID) -> SeatLedger | None:
        event = self._state.events.get(event_id)
        if event is None:
            return None
        return SeatLedger(event.status, event.capacity, self._state.seats_taken.get(event_id, 0))

    async def seats_taken(self, event_id: UUID) -> int:
        return self._state.seats_taken.get(event_id, 0)

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool:
        return any(
            e.organization_id == organization_id and e.slug == slug
            for e in self._state.events.values()
        )

    async def add(self, event: Event) -> None:
        self._check_slug(event)
        self._state.events[event.id] = copy.deepcopy(event)

    async def save(self, event: Event) -> None:
        self._check_slug(event)
        self._state.events[event.id] = copy.deepcopy(event)
        kept = {session.id for session in event.sessions}
        self._drop_attendance(lambda r: r.event_id == event.id and r.session_id not in kept)

    async def delete(self, event_id: UUID) -> None:
        self._state.events.pop(event_id, None)
        self._state.seats_taken.pop(event_id, None)
        self._drop_attendance(lambda r: r.event_id == event_id)
        registrations = self._state.registrations
        for registration_id in [k for k, r in registrations.items() if r.event_id == event_id]:
            del registrations[registration_id]
        certificates = self._state.certificates  # as ON DELETE SET NULL
        for certificate_id, certificate in list(certificates.items()):
            if certificate.registration_id is not None and (
                certificate.registration_id not in registrations
            ):
                certificates[certificate_id] = replace(certificate, registration_id=None)
        meetings = self._state.meetings  # as ON DELETE CASCADE, and their registrants
        for session_id in [k for k, m in meetings.items() if m.event_id == event_id]:
            del meetings[session_id]
        registrants = self._state.registrants
        for key in [k for k in registrants if k[0] not in registrations or k[1] not in meetings]:
            del registrants[key]

    async def record_seats_taken(self, event_id: UUID, seats: int) -> None:
        self._state.seats_taken[event_id] = seats

    def _check_slug(self, event: Event) -> None:
        """The unique (organization, slug) constraint of the SQL schema."""
        if any(
            e.organization_id == event.organization_id and e.slug == event.slug and e.id != event.id
            for e in self._state.events.values()
        ):
            raise Conflict("This organization already has an event with this slug.", field="slug")

    def _drop_attendance(self, matches: Callable[[AttendanceRecord | WalkInRecord], bool]) -> None:
        """What SQL's ON DELETE CASCADE does: attendance goes with its session or event."""
        attendance, walk_ins = self._state.attendance, self._state.walk_ins
        for key in [key for key, record in attendance.items() if matches(record)]:
            del attendance[key]
        for walk_in in [key for key, record in walk_ins.items() if matches(record)]:
            del walk_ins[walk_in]


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
        self._state.courses.pop(course_id, None)
        enrollments = self._state.enrollments
        for key in [key for key in enrollments if key[0] == course_id]:  # as ON DELETE CASCADE
            del enrollments[key]
        kept = {enrollment.id for enrollment in enrollments.values()}
        certificates = self._state.certificates  # as ON DELETE SET NULL
        for certificate_id, certificate in list(certificates.items()):
            if certificate.enrollment_id is not None and certificate.enrollment_id not in kept:
                certificates[certificate_id] = replace(certificate, enrollment_id=None)


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


class MemoryAttendanceRepository(_Repo):
    async def record(self, records: list[AttendanceRecord]) -> None:
        for record in records:
            if record.registration_id not in (None, *self._state.registrations):
                raise Conflict("This change clashes with existing data.")  # as SQL's foreign key
        for record in records:
            self._state.attendance[(record.session_id, record.user_id)] = record

    async def for_event(
        self, event_id: UUID, user_id: UUID | None = None
    ) -> list[AttendanceRecord]:
        return sorted(
            (
                r
                for r in self._state.attendance.values()
                if r.event_id == event_id and (user_id is None or r.user_id == user_id)
            ),
            key=lambda r: (r.user_id, r.session_id),
        )

    async def record_walk_ins(self, records: list[WalkInRecord]) -> None:
        for record in records:
            self._state.walk_ins[(record.session_id, record.email)] = record

    async def walk_ins_for_event(self, event_id: UUID) -> list[WalkInRecord]:
        return sorted(
            (r for r in self._state.walk_ins.values() if r.event_id == event_id),
            key=lambda r: (r.email, r.session_id),
        )

    async def count_for_event(self, event_id: UUID) -> int:
        return len(await self.for_event(event_id)) + len(await self.walk_ins_for_event(event_id))
