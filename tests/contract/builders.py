"""Test data for the contract suite: a backend handle, a frozen clock and entity builders."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from cpd.adapters.memory.database import MemoryDatabase
from cpd.adapters.sql.database import SqlDatabase
from cpd.domain.accounts import Membership, Organization, Role, User, UserProfile
from cpd.domain.attendance import AttendanceRecord, AttendanceSource
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.courses import Course, CourseMode, CourseStatus, Enrollment
from cpd.domain.events import Event, EventFormat, EventStatus, Session, Venue
from cpd.domain.money import Money, canonical_credits
from cpd.domain.refunds import RefundPolicy
from cpd.domain.registrations import (
    Attendee,
    Registration,
    RegistrationStatus,
)
from cpd.ports.events import CatalogReader
from cpd.ports.platform import OutboxStore
from cpd.ports.unit_of_work import UnitOfWork

# Microseconds on purpose: they must survive the round trip through every backend.
T0 = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
_serial = itertools.count(1)


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Backend:
    name: str
    database: MemoryDatabase | SqlDatabase
    outbox_store: OutboxStore
    clock: FrozenClock
    catalog: CatalogReader

    def uow(self) -> UnitOfWork:
        return self.database.unit_of_work()

    @property
    def is_sql(self) -> bool:
        return self.name != "memory"


def make_user(
    email: str | None = None,
    *,
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    created_at: datetime = T0,
    profile: UserProfile | None = None,
) -> User:
    return User(
        id=uuid4(),
        email=email or f"user{next(_serial)}@example.org",
        password_hash="$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
        first_name=first_name,
        last_name=last_name,
        created_at=created_at,
        updated_at=created_at,
        profile=profile or UserProfile(),
    )


def make_organization(name: str = "Acme", slug: str | None = None) -> Organization:
    return Organization(
        id=uuid4(),
        name=name,
        slug=slug or f"org-{next(_serial)}",
        created_at=T0,
        updated_at=T0,
    )


def make_membership(
    organization: Organization, user: User, role: Role = Role.MEMBER, at: datetime = T0
) -> Membership:
    return Membership(organization.id, user.id, role, created_at=at)


def make_refresh_token(
    user: User,
    *,
    family_id: UUID | None = None,
    expires_at: datetime = T0 + timedelta(days=14),
    revoked_at: datetime | None = None,
) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        jti=uuid4().hex,
        user_id=user.id,
        family_id=family_id or uuid4(),
        issued_at=T0,
        expires_at=expires_at,
        revoked_at=revoked_at,
    )


def make_password_reset(
    user: User, *, expires_at: datetime = T0 + timedelta(hours=1)
) -> PasswordResetToken:
    return PasswordResetToken(
        token_hash=hashlib.sha256(uuid4().bytes).hexdigest(),
        user_id=user.id,
        created_at=T0,
        expires_at=expires_at,
    )


async def given_users(backend: Backend, *users: User) -> None:
    async with backend.uow() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


def make_session(
    event_id: UUID,
    starts_at: datetime,
    *,
    minutes: int = 90,
    title: str | None = None,
    room: str | None = None,
    join_url: str | None = None,
) -> Session:
    return Session(
        id=uuid4(),
        event_id=event_id,
        title=title or f"Session {next(_serial)}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        room=room,
        join_url=join_url,
    )


def make_event(
    organization: Organization,
    *,
    title: str = "Advanced Life Support",
    slug: str | None = None,
    starts_at: datetime | None = T0 + timedelta(days=30),
    sessions: int = 1,
    status: EventStatus = EventStatus.PUBLISHED,
    event_format: EventFormat = EventFormat.ONLINE,
    venue: Venue | None = None,
    summary: str = "",
    description: str = "",
    capacity: int | None = None,
    price: Money | None = None,
    cpd_credits: Decimal = Decimal("1.5"),
    credit_category: str | None = None,
    tags: tuple[str, ...] = (),
    timezone: str = "Europe/London",
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    attendance_threshold_percent: int = 75,
) -> Event:
    """An event with ``sessions`` one-hour-and-a-half sessions a day apart from ``starts_at``.

    ``starts_at=None`` (or ``sessions=0``) gives an undated event.
    """
    event_id = uuid4()
    schedule = (
        [make_session(event_id, starts_at + timedelta(days=n)) for n in range(sessions)]
        if starts_at is not None
        else []
    )
    return Event(
        id=event_id,
        organization_id=organization.id,
        title=title,
        slug=slug or f"event-{next(_serial)}",
        format=event_format,
        timezone=timezone,
        price=price or Money(0, "GBP"),
        created_at=T0,
        updated_at=T0,
        summary=summary,
        description=description,
        venue=venue,
        starts_at=schedule[0].starts_at if schedule else None,
        ends_at=schedule[-1].ends_at if schedule else None,
        capacity=capacity,
        cpd_credits=canonical_credits(cpd_credits),  # as the domain stores them
        credit_category=credit_category,
        tags=tags,
        registration_opens_at=registration_opens_at,
        registration_closes_at=registration_closes_at,
        attendance_threshold_percent=attendance_threshold_percent,
        status=status,
        sessions=schedule,
    )


def make_course(
    organization: Organization,
    *,
    title: str = "Prescribing Safely",
    slug: str | None = None,
    description: str = "",
    mode: CourseMode = CourseMode.SELF_PACED,
    price: Money | None = None,
    cpd_credits: Decimal = Decimal("3"),
    credit_category: str | None = None,
    status: CourseStatus = CourseStatus.PUBLISHED,
) -> Course:
    return Course(
        id=uuid4(),
        organization_id=organization.id,
        title=title,
        slug=slug or f"course-{next(_serial)}",
        mode=mode,
        price=price or Money(0, "GBP"),
        created_at=T0,
        updated_at=T0,
        description=description,
        cpd_credits=canonical_credits(cpd_credits),
        credit_category=credit_category,
        status=status,
    )


def make_enrollment(course: Course, user: User, at: datetime = T0) -> Enrollment:
    return Enrollment(id=uuid4(), course_id=course.id, user_id=user.id, enrolled_at=at)


def make_attendance(
    session: Session,
    user: User,
    *,
    minutes: int = 60,
    source: AttendanceSource = AttendanceSource.STAFF,
    at: datetime = T0,
    checked_in_at: datetime | None = None,
    registration_id: UUID | None = None,
) -> AttendanceRecord:
    return AttendanceRecord(
        id=uuid4(),
        event_id=session.event_id,
        session_id=session.id,
        user_id=user.id,
        minutes_attended=minutes,
        source=source,
        recorded_at=at,
        checked_in_at=checked_in_at,
        registration_id=registration_id,
    )


def make_registration(
    event: Event,
    user: User,
    *,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    seats: int = 1,
    at: datetime = T0,
    amount_due: Money | None = None,
    attendees: tuple[Attendee, ...] = (),
    hold_expires_at: datetime | None = None,
    offer_expires_at: datetime | None = None,
    waitlisted_at: datetime | None = None,
    paid: int = 0,
    refunded: int = 0,
    refund_policy: RefundPolicy | None = None,
) -> Registration:
    """A registration stored as it is, whatever the state machine would say (for repositories).

    Waitlisted registrations get ``waitlisted_at=at`` unless given one.
    """
    if waitlisted_at is None and status is RegistrationStatus.WAITLISTED:
        waitlisted_at = at
    return Registration(
        id=uuid4(),
        event_id=event.id,
        user_id=user.id,
        seats=seats,
        status=status,
        amount_due=amount_due or Money(0, "GBP"),
        created_at=at,
        updated_at=at,
        attendees=attendees,
        hold_expires_at=hold_expires_at,
        offer_expires_at=offer_expires_at,
        waitlisted_at=waitlisted_at,
        paid=paid,
        refunded=refunded,
        refund_policy=refund_policy,
    )


async def given(
    backend: Backend,
    *entities: User | Organization | Event | Course | Enrollment | Registration,
) -> None:
    """Add the entities in one committed unit of work, in the order given."""
    async with backend.uow() as uow:
        for entity in entities:
            if isinstance(entity, User):
                await uow.users.add(entity)
            elif isinstance(entity, Organization):
                await uow.organizations.add(entity)
            elif isinstance(entity, Event):
                await uow.events.add(entity)
            elif isinstance(entity, Course):
                await uow.courses.add(entity)
            elif isinstance(entity, Registration):
                await uow.registrations.add(entity)
            else:
                await uow.enrollments.add(entity)
        await uow.commit()
