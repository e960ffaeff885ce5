"""A unit of work over plain dicts.

Transactions are serialised by one lock (like SQLite's ``BEGIN IMMEDIATE``) and rolled back by
restoring the dicts snapshotted at the start, so the memory adapter obeys the same contract as
the SQL one. Entities are copied in and out: a caller's mutation is invisible until ``save``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self, TypeVar
from uuid import UUID

from cpd.adapters.staged_outbox import StagedOutbox
from cpd.domain.accounts import Member, Membership, Organization, Role, User
from cpd.domain.attendance import AttendanceRecord, WalkInRecord
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.certificates import Badge, Certificate, CertificateTemplate
from cpd.domain.courses import Course, Enrollment
from cpd.domain.credentials import SigningKey
from cpd.domain.errors import Conflict, NotFound
from cpd.domain.events import Event, EventStatus, SeatLedger
from cpd.domain.idempotency import IDEMPOTENCY_KEY_NOT_FOUND, IdempotencyRecord
from cpd.domain.invitations import Invitation
from cpd.domain.jobs import Job
from cpd.domain.meetings import SessionMeeting, SessionRegistrant
from cpd.domain.messaging import (
    Communication,
    CommunicationStatus,
    Notification,
    NotificationPreferences,
)
from cpd.domain.pages import Page, PageRequest
from cpd.domain.registrations import Registration, RegistrationStatus, Upcoming
from cpd.domain.tasks import ClaimedTask, Task, TaskRecord, TaskState

T = TypeVar("T")


@dataclass(slots=True)
class OutboxRow:
    task: Task
    created_at: datetime
    available_at: datetime
    attempts: int = 0
    dispatched_at: datetime | None = None
    completed_at: datetime | None = None
    running_until: datetime | None = None
    last_error: str | None = None
    abandoned: bool = False

    @property
    def record(self) -> TaskRecord:
        return TaskRecord(
            task=self.task,
            state=TaskState.of(
                abandoned=self.abandoned,
                dispatched_at=self.dispatched_at,
                completed_at=self.completed_at,
            ),
            attempts=self.attempts,
            created_at=self.created_at,
            available_at=self.available_at,
            dispatched_at=self.dispatched_at,
            completed_at=self.completed_at,
            last_error=self.last_error,
        )


@dataclass
class MemoryState:
    users: dict[UUID, User] = field(default_factory=dict)
    organizations: dict[UUID, Organization] = field(default_factory=dict)
    memberships: dict[tuple[UUID, UUID], Membership] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    password_resets: dict[str, PasswordResetToken] = field(default_factory=dict)
    outbox: dict[UUID, OutboxRow] = field(default_factory=dict)
    events: dict[UUID, Event] = field(default_factory=dict)
    courses: dict[UUID, Course] = field(default_factory=dict)
    enrollments: dict[tuple[UUID, UUID], Enrollment] = field(default_factory=dict)
    attendance: dict[tuple[UUID, UUID], AttendanceRecord] = field(default_factory=dict)
    walk_ins: dict[tuple[UUID, str], WalkInRecord] = field(default_factory=dict)
    registrations: dict[UUID, Registration] = field(default_factory=dict)
    seats_taken: dict[UUID, int] = field(default_factory=dict)
    webhooks: dict[tuple[str, str], datetime] = field(default_factory=dict)
    idempotency: dict[tuple[UUID, str], IdempotencyRecord] = field(default_factory=dict)
    communications: dict[UUID, Communication] = field(default_factory=dict)
    notifications: dict[UUID, Notification] = field(default_factory=dict)
    notification_preferences: dict[UUID, NotificationPreferences] = field(default_factory=dict)
    meetings: dict[UUID, SessionMeeting] = field(default_factory=dict)  # by session id
    registrants: dict[tuple[UUID, UUID], SessionRegistrant] = field(default_factory=dict)
    certificates: dict[UUID, Certificate] = field(default_factory=dict)
    certificate_sequences: dict[UUID, int] = field(default_factory=dict)  # by organization
    certificate_templates: dict[UUID, CertificateTemplate] = field(default_factory=dict)
    badges: dict[UUID, Badge] = field(default_factory=dict)
    signing_keys: dict[UUID, list[SigningKey]] = field(default_factory=dict)  # by organization
    jobs: dict[UUID, Job] = field(default_factory=dict)

    def snapshot(self) -> MemoryState:
        return MemoryState(**{name: dict(table) for name, table in vars(self).items()})


def _page(items: list[T], page: PageRequest) -> Page[T]:
    return Page(
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        limit=page.limit,
        offset=page.offset,
    )


class MemoryDatabase:
    """Shared state plus the lock that serialises transactions over it."""

    def __init__(
        self, clock: Callable[[], datetime], after_commit: Callable[[], None] | None = None
    ) -> None:
        self.state = MemoryState()
        self.lock = asyncio.Lock()
        self.now = clock
        self.after_commit = after_commit

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    async def ping(self) -> None:
        return None


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> MemoryState:
        return self._uow.db.state


class MemoryUserRepository(_Repo):
    async def get(self, user_id: UUID) -> User | None:
        return copy.deepcopy(self._state.users.get(user_id))

    async def get_many(self, user_ids: list[UUID]) -> list[User]:
        users = self._state.users
        return [copy.deepcopy(users[i]) for i in dict.fromkeys(user_ids) if i in users]

    async def get_by_email(self, email: str) -> User | None:
        found = next((u for u in self._state.users.values() if u.email == email), None)
        return copy.deepcopy(found)

    async def add(self, user: User) -> None:
        if await self.get_by_email(user.email) is not None:
            raise Conflict("An account with this email already exists.", field="email")
        self._state.users[user.id] = copy.deepcopy(user)

    async def save(self, user: User) -> None:
        self._state.users[user.id] = copy.deepcopy(user)


class MemoryOrganizationRepository(_Repo):
    async def get(self, organization_id: UUID) -> Organization | None:
        return copy.copy(self._state.organizations.get(organization_id))

    get_for_update = get  # the transaction already holds the database lock

    async def get_by_slug(self, slug: str) -> Organization | None:
        found = next((o for o in self._state.organizations.values() if o.slug == slug), None)
        return copy.copy(found)

    async def slug_exists(self, slug: str) -> bool:
        return await self.get_by_slug(slug) is not None

    async def add(self, organization: Organization) -> None:
        if await self.slug_exists(organization.slug):
            raise Conflict("This slug is taken.", field="slug")
        self._state.organizations[organization.id] = copy.copy(organization)

    async def save(self, organization: Organization) -> None:
        self._state.organizations[organization.id] = copy.copy(organization)

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Organization]:
        ids = {org for (org, user) in self._state.memberships if user == user_id}
        return _page(
            self._sorted(o for o in self._state.organizations.values() if o.id in ids), page
        )

    async def list_all(self, page: PageRequest) -> Page[Organization]:
        return _page(self._sorted(self._state.organizations.values()), page)

    @staticmethod
    def _sorted(organizations: Iterable[Organization]) -> list[Organization]:
        return [copy.copy(o) for o in sorted(organizations, key=lambda o: (o.name.lower(), o.id))]


class MemoryMembershipRepository(_Repo):
    async def get(self, organization_id: UUID, user_id: UUID) -> Membership | None:
        return copy.copy(self._state.memberships.get((organization_id, user_id)))

    async def add(self, membership: Membership) -> None:
        key = (membership.organization_id, membership.user_id)
        if key in self._state.memberships:
            raise Conflict("This user is already a member.", field="email")
        self._state.memberships[key] = copy.copy(membership)

    async def change_role(self, organization_id: UUID, user_id: UUID, role: Role) -> None:
        key = (organization_id, user_id)
        self._state.memberships[key] = replace(self._state.memberships[key], role=role)

    async def remove(self, organization_id: UUID, user_id: UUID) -> None:
        self._state.memberships.pop((organization_id, user_id), None)

    async def count_with_role(self, organization_id: UUID, role: Role) -> int:
        return sum(
            1
            for (org, _), m in self._state.memberships.items()
            if org == organization_id and m.role is role
        )

    async def list_members(self, organization_id: UUID, page: PageRequest) -> Page[Member]:
        users = self._state.users
        members = [
            Member(
                m.user_id,
                users[m.user_id].email,
                users[m.user_id].first_name,
                users[m.user_id].last_name,
                m.role,
                m.created_at,
            )
            for (org, _), m in self._state.memberships.items()
            if org == organization_id
        ]
        members.sort(key=lambda m: (m.last_name.lower(), m.first_name.lower(), m.user_id))
        return _page(members, page)


class MemoryRefreshTokenRepository(_Repo):
    async def add(self, record: RefreshTokenRecord) -> None:
        self._state.refresh_tokens[record.jti] = copy.copy(record)

    async def get(self, jti: str) -> RefreshTokenRecord | None:
        return copy.copy(self._state.refresh_tokens.get(jti))

    async def spend(self, jti: str, now: datetime) -> bool:
        record = self._state.refresh_tokens.get(jti)
        if record is None or record.used_at or record.revoked_at or record.expires_at <= now:
            return False
        self._state.refresh_tokens[jti] = replace(record, used_at=now)
        return True

    async def session_active(self, family_id: UUID, user_id: UUID) -> bool:
        return any(
            r.family_id == family_id and r.user_id == user_id and r.revoked_at is None
            for r in self._state.refresh_tokens.values()
        )

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        self._revoke(lambda r: r.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        self._revoke(lambda r: r.user_id == user_id, now)

    def _revoke(self, matches: Callable[[RefreshTokenRecord], bool], now: datetime) -> None:
        tokens = self._state.refresh_tokens
        for jti, record in list(tokens.items()):
            if matches(record) and record.revoked_at is None:
                tokens[jti] = replace(record, revoked_at=now)


class MemoryInvitationRepository(_Repo):
    async def add(self, invitation: Invitation) -> None:
        if any(i.token_hash == invitation.token_hash for i in self._state.invitations.values()):
            raise Conflict("This change clashes with existing data.")  # as SQL's unique index
        self._state.invitations[invitation.id] = copy.copy(invitation)

    async def save(self, invitation: Invitation) -> None:
        self._state.invitations[invitation.id] = copy.copy(invitation)

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None:
        found = self._state.invitations.get(invitation_id)
        return copy.copy(found) if found and found.organization_id == organization_id else None

    async def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        invitations = self._state.invitations.values()
        return copy.copy(next((i for i in invitations if i.token_hash == token_hash), None))

    async def open_for_email(self, organization_id: UUID, email: str) -> list[Invitation]:
        return [
            copy.copy(i)
            for i in self._state.invitations.values()
            if i.organization_id == organization_id
            and i.email == email
            and i.accepted_at is None
            and i.revoked_at is None
        ]

    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[Invitation]:
        mine = [i for i in self._state.invitations.values() if i.organization_id == organization_id]
        mine.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return _page([copy.copy(i) for i in mine], page)


class MemoryPasswordResetRepository(_Repo):
    async def add(self, token: PasswordResetToken) -> None:
        self._state.password_resets[token.token_hash] = token

    async def spend(self, token_hash: str, now: datetime) -> UUID | None:
        token = self._state.password_resets.get(token_hash)
        if token is None or token.used_at is not None or token.expires_at <= now:
            return None
        self._state.password_resets[token_hash] = replace(token, used_at=now)
        return token.user_id

    async def spend_all_for_user(self, user_id: UUID, now: datetime) -> None:
        resets = self._state.password_resets
        for token_hash, token in list(resets.items()):
            if token.user_id == user_id and token.used_at is None:
                resets[token_hash] = replace(token, used_at=now)


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


class MemoryRegistrationRepository(_Repo):
    async def add(self, *registrations: Registration) -> None:
        for registration in registrations:
            self._one_active(registration)
            self._state.registrations[registration.id] = copy.deepcopy(registration)

    def _one_active(self, registration: Registration) -> None:
        """As SQL's partial unique index: one active registration per person per event."""
        if registration.is_active and any(
            r.id != registration.id
            and r.event_id == registration.event_id
            and r.user_id == registration.user_id
            and r.is_active
            for r in self._state.registrations.values()
        ):
            raise Conflict("You already have a registration for this event.", field="event_id")

    async def get(self, registration_id: UUID) -> Registration | None:
        return copy.deepcopy(self._state.registrations.get(registration_id))

    async def save(self, registration: Registration) -> None:
        self._one_active(registration)
        self._state.registrations[registration.id] = copy.deepcopy(registration)

    def _of_event(self, event_id: UUID) -> list[Registration]:
        return [r for r in self._state.registrations.values() if r.event_id == event_id]

    async def active_for(self, event_id: UUID, user_id: UUID) -> Registration | None:
        found = next(
            (r for r in self._of_event(event_id) if r.user_id == user_id and r.is_active), None
        )
        return copy.deepcopy(found)

    async def seats_held(self, event_id: UUID) -> int:
        return sum(r.seats for r in self._of_event(event_id) if r.holds_seats)

    async def waitlist(self, event_id: UUID, limit: int | None = None) -> list[Registration]:
        waiting = [r for r in self._of_event(event_id) if r.status == "waitlisted"]
        waiting.sort(key=lambda r: (r.waitlisted_at or r.created_at, str(r.id)))
        return copy.deepcopy(waiting[:limit])

    async def waitlist_tail(self, event_id: UUID) -> datetime | None:
        times = [
            r.waitlisted_at
            for r in self._of_event(event_id)
            if r.status == "waitlisted" and r.waitlisted_at
        ]
        return max(times, default=None)

    async def waitlist_position(self, registration: Registration) -> int:
        mine = registration.waitlisted_at
        return sum(
            1
            for r in self._of_event(registration.event_id)
            if r.status == "waitlisted" and r.waitlisted_at and mine and r.waitlisted_at <= mine
        )

    async def by_check_in_code(self, event_id: UUID, code: str) -> Registration | None:
        found = next((r for r in self._of_event(event_id) if r.check_in_code == code), None)
        return copy.deepcopy(found)

    async def by_payment_reference(self, reference: str) -> Registration | None:
        found = (r for r in self._state.registrations.values() if r.payment_reference == reference)
        return copy.deepcopy(next(found, None))

    async def confirmed_for(
        self, event_id: UUID, *, user_ids: Collection[UUID], ids: Collection[UUID]
    ) -> list[Registration]:
        return copy.deepcopy(
            [
                r
                for r in self._of_event(event_id)
                if r.status is RegistrationStatus.CONFIRMED
                and (r.user_id in user_ids or r.id in ids)
            ]
        )

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Registration]:
        mine = [r for r in self._state.registrations.values() if r.user_id == user_id]
        mine.sort(key=lambda r: (r.created_at, str(r.id)), reverse=True)
        return _page(copy.deepcopy(mine), page)

    async def list_for_event(
        self, event_id: UUID, statuses: frozenset[str] | None, page: PageRequest
    ) -> Page[Registration]:
        found = [r for r in self._of_event(event_id) if statuses is None or r.status in statuses]
        found.sort(key=lambda r: (r.created_at, str(r.id)))
        return _page(copy.deepcopy(found), page)

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        due = [
            (r.event_id, r.id)
            for r in self._state.registrations.values()
            if (r.status == "pending_payment" and r.hold_expires_at and r.hold_expires_at <= now)
            or (r.status == "offered" and r.offer_expires_at and r.offer_expires_at <= now)
        ]
        return due[:limit]

    async def upcoming(self, start: datetime, end: datetime) -> list[Upcoming]:
        found = []
        for r in self._state.registrations.values():
            event = self._state.events.get(r.event_id)
            if (
                r.status is RegistrationStatus.CONFIRMED
                and event is not None
                and event.status is EventStatus.PUBLISHED
                and event.starts_at is not None
                and start <= event.starts_at < end
            ):
                found.append(Upcoming(r.id, r.created_at, event.starts_at))
        return sorted(found, key=lambda u: (u.event_starts_at, str(u.registration_id)))


class MemoryWebhookInbox(_Repo):
    async def accept(self, provider: str, event_id: str, received_at: datetime) -> bool:
        if (provider, event_id) in self._state.webhooks:
            return False
        self._state.webhooks[provider, event_id] = received_at
        return True


class MemoryMeetingRepository(_Repo):
    async def claim(self, meeting: SessionMeeting) -> bool:
        if meeting.session_id in self._state.meetings:
            return False
        self._check_keys(meeting)
        self._state.meetings[meeting.session_id] = meeting
        return True

    async def save(self, meeting: SessionMeeting) -> None:
        self._check_keys(meeting)
        self._state.meetings[meeting.session_id] = meeting

    def _check_keys(self, meeting: SessionMeeting) -> None:
        """The SQL schema's foreign key to events and unique (provider, meeting id)."""
        if meeting.event_id not in self._state.events:
            raise Conflict("This change clashes with existing data.")
        if meeting.meeting_id is not None and any(
            m.provider == meeting.provider
            and m.meeting_id == meeting.meeting_id
            and m.session_id != meeting.session_id
            for m in self._state.meetings.values()
        ):
            raise Conflict("This change clashes with existing data.")

    async def remove(self, session_id: UUID) -> None:
        self._state.meetings.pop(session_id, None)
        registrants = self._state.registrants
        for key in [k for k in registrants if k[1] == session_id]:
            del registrants[key]

    async def get(self, session_id: UUID) -> SessionMeeting | None:
        return self._state.meetings.get(session_id)

    async def for_event(self, event_id: UUID) -> list[SessionMeeting]:
        found = [m for m in self._state.meetings.values() if m.event_id == event_id]
        return sorted(found, key=lambda m: (m.claimed_at, m.session_id))

    async def by_meeting_id(self, provider: str, meeting_id: str) -> SessionMeeting | None:
        return next(
            (
                m
                for m in self._state.meetings.values()
                if m.provider == provider and m.meeting_id == meeting_id
            ),
            None,
        )

    async def attendance_due(self, ended_before: datetime, limit: int) -> list[SessionMeeting]:
        due: list[tuple[datetime, SessionMeeting]] = []
        for meeting in self._state.meetings.values():
            event = self._state.events.get(meeting.event_id)
            if (
                meeting.meeting_id is None
                or meeting.attendance_synced_at is not None
                or event is None
                or event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED)
            ):
                continue
            session = next((s for s in event.sessions if s.id == meeting.session_id), None)
            if session is not None and session.ends_at < ended_before:
                due.append((session.ends_at, meeting))
        due.sort(key=lambda pair: (pair[0], pair[1].session_id))
        return [meeting for _, meeting in due[:limit]]

    async def add_registrant(self, registrant: SessionRegistrant) -> None:
        if (
            registrant.registration_id not in self._state.registrations
            or registrant.session_id not in self._state.meetings
        ):
            raise Conflict("This change clashes with existing data.")  # as SQL's foreign keys
        self._state.registrants[registrant.registration_id, registrant.session_id] = registrant

    async def registrants_for_session(self, session_id: UUID) -> list[SessionRegistrant]:
        found = [r for r in self._state.registrants.values() if r.session_id == session_id]
        return sorted(found, key=lambda r: (r.created_at, r.registration_id))

    async def registrants_for_registration(self, registration_id: UUID) -> list[SessionRegistrant]:
        found = [
            r for r in self._state.registrants.values() if r.registration_id == registration_id
        ]
        return sorted(found, key=lambda r: (r.created_at, r.session_id))


class MemoryIdempotencyStore(_Repo):
    async def find(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        return self._state.idempotency.get((user_id, key))

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, resource_id: UUID, at: datetime
    ) -> bool:
        if (user_id, key) in self._state.idempotency:
            return False
        self._state.idempotency[user_id, key] = IdempotencyRecord(fingerprint, resource_id, None)
        return True

    async def answer(self, user_id: UUID, key: str, response: bytes) -> bytes:
        record = self._state.idempotency.get((user_id, key))
        if record is None:
            raise NotFound(IDEMPOTENCY_KEY_NOT_FOUND)
        if record.response is None:
            record = replace(record, response=response)
            self._state.idempotency[user_id, key] = record
        assert record.response is not None
        return record.response


def _newest_first(items: list[T], key: Callable[[T], tuple[datetime, UUID]]) -> list[T]:
    return sorted(items, key=lambda item: (key(item)[0], str(key(item)[1])), reverse=True)


class MemoryCommunicationLog(_Repo):
    async def get(self, communication_id: UUID) -> Communication | None:
        return copy.copy(self._state.communications.get(communication_id))

    async def record(self, communication: Communication) -> None:
        self._state.communications[communication.id] = copy.copy(communication)

    async def list_for_organization(
        self, organization_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        return self._list(lambda c: c.organization_id == organization_id, status, page)

    async def list_for_user(
        self, user_id: UUID, status: CommunicationStatus | None, page: PageRequest
    ) -> Page[Communication]:
        return self._list(lambda c: c.user_id == user_id, status, page)

    def _list(
        self,
        owned: Callable[[Communication], bool],
        status: CommunicationStatus | None,
        page: PageRequest,
    ) -> Page[Communication]:
        found = [
            copy.copy(c)
            for c in self._state.communications.values()
            if owned(c) and (status is None or c.status is status)
        ]
        return _page(_newest_first(found, lambda c: (c.created_at, c.id)), page)


class MemoryNotificationRepository(_Repo):
    async def add(self, notification: Notification) -> bool:
        if notification.id in self._state.notifications:
            return False
        self._state.notifications[notification.id] = copy.copy(notification)
        return True

    async def get(self, notification_id: UUID) -> Notification | None:
        return copy.copy(self._state.notifications.get(notification_id))

    async def list_for_user(
        self, user_id: UUID, *, unread_only: bool, page: PageRequest
    ) -> Page[Notification]:
        found = [
            copy.copy(n)
            for n in self._state.notifications.values()
            if n.user_id == user_id and not (unread_only and n.is_read)
        ]
        return _page(_newest_first(found, lambda n: (n.created_at, n.id)), page)

    async def unread_count(self, user_id: UUID) -> int:
        return sum(
            1 for n in self._state.notifications.values() if n.user_id == user_id and not n.is_read
        )

    async def mark_read(self, notification_id: UUID, now: datetime) -> None:
        found = self._state.notifications.get(notification_id)
        if found is not None and not found.is_read:
            self._state.notifications[notification_id] = replace(found, read_at=now)

    async def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        notifications = self._state.notifications
        unread = [k for k, n in notifications.items() if n.user_id == user_id and not n.is_read]
        for key in unread:
            notifications[key] = replace(notifications[key], read_at=now)
        return len(unread)


class MemoryNotificationPreferencesRepository(_Repo):
    async def get(self, user_id: UUID) -> NotificationPreferences | None:
        return copy.copy(self._state.notification_preferences.get(user_id))

    async def save(self, preferences: NotificationPreferences) -> None:
        self._state.notification_preferences[preferences.user_id] = copy.copy(preferences)


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


from cpd.adapters.memory.certificates import (  # noqa: E402 - they build on _Repo above
    MemoryBadgeRepository,
    MemoryCertificateRepository,
    MemoryCertificateTemplateRepository,
    MemoryJobRepository,
    MemorySigningKeyRepository,
)


class MemoryUnitOfWork:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.users = MemoryUserRepository(self)
        self.organizations = MemoryOrganizationRepository(self)
        self.memberships = MemoryMembershipRepository(self)
        self.invitations = MemoryInvitationRepository(self)
        self.refresh_tokens = MemoryRefreshTokenRepository(self)
        self.password_resets = MemoryPasswordResetRepository(self)
        self.events = MemoryEventRepository(self)
        self.courses = MemoryCourseRepository(self)
        self.enrollments = MemoryEnrollmentRepository(self)
        self.attendance = MemoryAttendanceRepository(self)
        self.registrations = MemoryRegistrationRepository(self)
        self.webhooks = MemoryWebhookInbox(self)
        self.idempotency = MemoryIdempotencyStore(self)
        self.communications = MemoryCommunicationLog(self)
        self.notifications = MemoryNotificationRepository(self)
        self.notification_preferences = MemoryNotificationPreferencesRepository(self)
        self.meetings = MemoryMeetingRepository(self)
        self.certificates = MemoryCertificateRepository(self)
        self.certificate_templates = MemoryCertificateTemplateRepository(self)
        self.badges = MemoryBadgeRepository(self)
        self.signing_keys = MemorySigningKeyRepository(self)
        self.jobs = MemoryJobRepository(self)
        self.outbox = StagedOutbox()
        self._snapshot: MemoryState | None = None

    async def __aenter__(self) -> Self:
        await self.db.lock.acquire()
        self._snapshot = self.db.state.snapshot()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._snapshot is not None:  # not committed: put everything back
                self.db.state = self._snapshot
        finally:
            self._snapshot = None
            self.db.lock.release()

    async def commit(self) -> None:
        now = self.db.now()
        for task in self.outbox.staged:  # a deterministic id already queued is not again
            self.db.state.outbox.setdefault(
                task.id, OutboxRow(task, created_at=now, available_at=now)
            )
        had_tasks = bool(self.outbox.staged)
        self.outbox.staged = []
        self._snapshot = self.db.state.snapshot()  # later changes in this block roll back to here
        if had_tasks and self.db.after_commit:
            self.db.after_commit()


class MemoryOutboxStore:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def claim_due(self, now: datetime, limit: int, lease_seconds: int) -> list[ClaimedTask]:
        async with self._db.lock:
            due = sorted(
                (
                    row
                    for row in self._db.state.outbox.values()
                    if row.dispatched_at is None and not row.abandoned and row.available_at <= now
                ),
                key=lambda row: row.created_at,
            )[:limit]
            for row in due:
                row.attempts += 1
                row.available_at = now + timedelta(seconds=lease_seconds)
            return [ClaimedTask(row.task, row.attempts, row.created_at) for row in due]

    async def mark_dispatched(self, task_ids: Collection[UUID], now: datetime) -> None:
        async with self._db.lock:
            for task_id in task_ids:
                self._db.state.outbox[task_id].dispatched_at = now

    async def mark_failed(self, task_id: UUID, error: str, retry_at: datetime | None) -> None:
        async with self._db.lock:
            row = self._db.state.outbox[task_id]
            row.last_error = error
            if retry_at is None:
                row.abandoned = True
            else:
                row.available_at = retry_at

    async def mark_completed(self, task_id: UUID, now: datetime) -> None:
        async with self._db.lock:
            row = self._db.state.outbox[task_id]
            row.dispatched_at = row.dispatched_at or now
            row.completed_at = now
            row.running_until = None
            row.abandoned = False

    async def is_completed(self, task_id: UUID) -> bool:
        row = self._db.state.outbox.get(task_id)
        return row is not None and row.completed_at is not None

    async def begin_run(self, task_id: UUID, now: datetime, until: datetime) -> bool:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is None or row.completed_at is not None:
                return False
            if row.running_until is not None and row.running_until > now:
                return False
            row.running_until = until
            return True

    async def extend_run(self, task_id: UUID, until: datetime) -> None:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is not None and row.running_until is not None:
                row.running_until = until

    async def end_run(self, task_id: UUID) -> None:
        async with self._db.lock:
            if (row := self._db.state.outbox.get(task_id)) is not None:
                row.running_until = None

    async def pending_count(self) -> int:
        return sum(
            1
            for row in self._db.state.outbox.values()
            if row.dispatched_at is None and not row.abandoned
        )

    async def known(self, task_ids: Collection[UUID]) -> set[UUID]:
        return {task_id for task_id in task_ids if task_id in self._db.state.outbox}

    async def records(self, state: TaskState | None, limit: int) -> list[TaskRecord]:
        rows = sorted(self._db.state.outbox.values(), key=lambda r: r.created_at, reverse=True)
        return [r.record for r in rows if state is None or r.record.state is state][:limit]

    async def counts(self) -> dict[TaskState, int]:
        counted = dict.fromkeys(TaskState, 0)
        for row in self._db.state.outbox.values():
            counted[row.record.state] += 1
        return counted

    async def retry(self, task_id: UUID, now: datetime) -> bool:
        async with self._db.lock:
            row = self._db.state.outbox.get(task_id)
            if row is None or row.record.state is not TaskState.FAILED:
                return False
            row.abandoned, row.attempts, row.available_at = False, 0, now
            row.dispatched_at = None
            return True
