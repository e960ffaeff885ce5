"""Repositories: Core statements on the unit of work's connection, rows to dataclasses."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy import (
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cpd.adapters.catalog_documents import event_document
from cpd.adapters.sql import tables as t
from cpd.domain.accounts import Member, Membership, Organization, Role, User, UserProfile
from cpd.domain.attendance import AttendanceRecord, AttendanceSource, WalkInRecord
from cpd.domain.auth import PasswordResetToken, RefreshTokenRecord
from cpd.domain.courses import Course, CourseMode, CourseStatus, Enrollment, EnrollmentStatus
from cpd.domain.errors import NotFound
from cpd.domain.events import Event, EventFormat, EventStatus, SeatLedger, Session, Venue
from cpd.domain.idempotency import IDEMPOTENCY_KEY_NOT_FOUND, IdempotencyRecord
from cpd.domain.invitations import Invitation
from cpd.domain.meetings import SessionMeeting, SessionRegistrant
from cpd.domain.money import Money, canonical_credits
from cpd.domain.pages import Page, PageRequest
from cpd.domain.registrations import (
    ACTIVE,
    SEAT_HOLDING,
    Attendee,
    RefundPolicy,
    RefundTier,
    Registration,
    RegistrationStatus,
    Upcoming,
)

T = TypeVar("T")
_PROFILE_FIELDS = tuple(UserProfile.__dataclass_fields__)


class _Repository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def _page(
        self, query: Select[Any], page: PageRequest, to_item: Callable[[Row[Any]], T]
    ) -> Page[T]:
        total_query = select(func.count()).select_from(query.order_by(None).subquery())
        total = (await self._db.execute(total_query)).scalar_one()
        rows = (await self._db.execute(query.limit(page.limit).offset(page.offset))).all()
        return Page([to_item(row) for row in rows], total, page.limit, page.offset)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_superadmin": user.is_superadmin,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        **{name: getattr(user.profile, name) for name in _PROFILE_FIELDS},
    }


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        password_hash=row.password_hash,
        first_name=row.first_name,
        last_name=row.last_name,
        is_active=row.is_active,
        is_superadmin=row.is_superadmin,
        created_at=row.created_at,
        updated_at=row.updated_at,
        profile=UserProfile(**{name: getattr(row, name) for name in _PROFILE_FIELDS}),
    )


class SqlUserRepository(_Repository):
    async def get(self, user_id: UUID) -> User | None:
        row = (await self._db.execute(select(t.users).where(t.users.c.id == user_id))).first()
        return _user(row) if row else None

    async def get_many(self, user_ids: list[UUID]) -> list[User]:
        """The users that exist, in the order asked for (each once)."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return []
        rows = await self._db.execute(select(t.users).where(t.users.c.id.in_(wanted)))
        found = {row.id: _user(row) for row in rows}
        return [found[user_id] for user_id in wanted if user_id in found]

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._db.execute(select(t.users).where(t.users.c.email == email))).first()
        return _user(row) if row else None

    async def add(self, user: User) -> None:
        await self._db.execute(insert(t.users).values(_user_values(user)))

    async def save(self, user: User) -> None:
        values = _user_values(user)
        del values["id"], values["created_at"]
        await self._db.execute(update(t.users).where(t.users.c.id == user.id).values(values))


def _organization(row: Row[Any]) -> Organization:
    return Organization(**row._mapping)  # columns are named as the fields


class SqlOrganizationRepository(_Repository):
    _by_name = (func.lower(t.organizations.c.name), t.organizations.c.id)

    async def get(self, organization_id: UUID) -> Organization | None:
        return await self._get(organization_id, lock=False)

    async def get_for_update(self, organization_id: UUID) -> Organization | None:
        return await self._get(organization_id, lock=True)

    async def _get(self, organization_id: UUID, *, lock: bool) -> Organization | None:
        query = select(t.organizations).where(t.organizations.c.id == organization_id)
        if lock:
            query = query.with_for_update()
        row = (await self._db.execute(query)).first()
        return _organization(row) if row else None

    async def get_by_slug(self, slug: str) -> Organization | None:
        query = select(t.organizations).where(t.organizations.c.slug == slug)
        row = (await self._db.execute(query)).first()
        return _organization(row) if row else None

    async def slug_exists(self, slug: str) -> bool:
        query = select(t.organizations.c.id).where(t.organizations.c.slug == slug)
        return (await self._db.execute(query)).first() is not None

    async def add(self, organization: Organization) -> None:
        await self._db.execute(insert(t.organizations).values(asdict(organization)))

    async def save(self, organization: Organization) -> None:
        values = asdict(organization)
        del values["id"], values["created_at"]
        await self._db.execute(
            update(t.organizations).where(t.organizations.c.id == organization.id).values(values)
        )

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Organization]:
        query = (
            select(t.organizations)
            .join(t.memberships, t.memberships.c.organization_id == t.organizations.c.id)
            .where(t.memberships.c.user_id == user_id)
            .order_by(*self._by_name)
        )
        return await self._page(query, page, _organization)

    async def list_all(self, page: PageRequest) -> Page[Organization]:
        return await self._page(
            select(t.organizations).order_by(*self._by_name), page, _organization
        )


def _membership(row: Row[Any]) -> Membership:
    return Membership(row.organization_id, row.user_id, Role(row.role), row.created_at)


class SqlMembershipRepository(_Repository):
    def _key(self, organization_id: UUID, user_id: UUID) -> tuple[Any, ...]:
        return (
            t.memberships.c.organization_id == organization_id,
            t.memberships.c.user_id == user_id,
        )

    async def get(self, organization_id: UUID, user_id: UUID) -> Membership | None:
        query = select(t.memberships).where(*self._key(organization_id, user_id))
        row = (await self._db.execute(query)).first()
        return _membership(row) if row else None

    async def add(self, membership: Membership) -> None:
        await self._db.execute(
            insert(t.memberships).values(
                organization_id=membership.organization_id,
                user_id=membership.user_id,
                role=membership.role.value,
                created_at=membership.created_at,
            )
        )

    async def change_role(self, organization_id: UUID, user_id: UUID, role: Role) -> None:
        await self._db.execute(
            update(t.memberships)
            .where(*self._key(organization_id, user_id))
            .values(role=role.value)
        )

    async def remove(self, organization_id: UUID, user_id: UUID) -> None:
        await self._db.execute(delete(t.memberships).where(*self._key(organization_id, user_id)))

    async def count_with_role(self, organization_id: UUID, role: Role) -> int:
        query = select(func.count()).where(
            t.memberships.c.organization_id == organization_id, t.memberships.c.role == role.value
        )
        return int((await self._db.execute(query)).scalar_one())

    async def list_members(self, organization_id: UUID, page: PageRequest) -> Page[Member]:
        u, m = t.users.c, t.memberships.c
        query = (
            select(u.id, u.email, u.first_name, u.last_name, m.role, m.created_at)
            .join(t.memberships, m.user_id == u.id)
            .where(m.organization_id == organization_id)
            .order_by(func.lower(u.last_name), func.lower(u.first_name), u.id)
        )
        return await self._page(
            query,
            page,
            lambda r: Member(r.id, r.email, r.first_name, r.last_name, Role(r.role), r.created_at),
        )


def _invitation(row: Row[Any]) -> Invitation:
    return Invitation(**(dict(row._mapping) | {"role": Role(row.role)}))


class SqlInvitationRepository(_Repository):
    async def add(self, invitation: Invitation) -> None:
        values = asdict(invitation) | {"role": invitation.role.value}
        await self._db.execute(insert(t.invitations).values(values))

    async def save(self, invitation: Invitation) -> None:
        c = t.invitations.c
        await self._db.execute(
            update(t.invitations)
            .where(c.id == invitation.id)
            .values(
                accepted_at=invitation.accepted_at,
                accepted_by=invitation.accepted_by,
                revoked_at=invitation.revoked_at,
            )
        )

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None:
        c = t.invitations.c
        return await self._one(c.organization_id == organization_id, c.id == invitation_id)

    async def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        return await self._one(t.invitations.c.token_hash == token_hash)

    async def _one(self, *conditions: Any) -> Invitation | None:
        row = (await self._db.execute(select(t.invitations).where(*conditions))).first()
        return _invitation(row) if row else None

    async def open_for_email(self, organization_id: UUID, email: str) -> list[Invitation]:
        c = t.invitations.c
        query = select(t.invitations).where(
            c.organization_id == organization_id,
            c.email == email,
            c.accepted_at.is_(None),
            c.revoked_at.is_(None),
        )
        return [_invitation(row) for row in await self._db.execute(query)]

    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[Invitation]:
        c = t.invitations.c
        query = (
            select(t.invitations)
            .where(c.organization_id == organization_id)
            .order_by(c.created_at.desc(), c.id.desc())
        )
        return await self._page(query, page, _invitation)


def _refresh_token(row: Row[Any]) -> RefreshTokenRecord:
    return RefreshTokenRecord(**row._mapping)


class SqlRefreshTokenRepository(_Repository):
    async def add(self, record: RefreshTokenRecord) -> None:
        await self._db.execute(insert(t.refresh_tokens).values(asdict(record)))

    async def get(self, jti: str) -> RefreshTokenRecord | None:
        query = select(t.refresh_tokens).where(t.refresh_tokens.c.jti == jti)
        row = (await self._db.execute(query)).first()
        return _refresh_token(row) if row else None

    async def spend(self, jti: str, now: datetime) -> bool:
        c = t.refresh_tokens.c
        result = await self._db.execute(
            update(t.refresh_tokens)
            .where(c.jti == jti, c.used_at.is_(None), c.revoked_at.is_(None), c.expires_at > now)
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def session_active(self, family_id: UUID, user_id: UUID) -> bool:
        c = t.refresh_tokens.c
        live = (c.family_id == family_id, c.user_id == user_id, c.revoked_at.is_(None))
        query = select(c.jti).where(*live).limit(1)
        return (await self._db.execute(query)).first() is not None

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self._revoke(t.refresh_tokens.c.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        await self._revoke(t.refresh_tokens.c.user_id == user_id, now)

    async def _revoke(self, condition: Any, now: datetime) -> None:
        await self._db.execute(
            update(t.refresh_tokens)
            .where(condition, t.refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlPasswordResetRepository(_Repository):
    async def add(self, token: PasswordResetToken) -> None:
        await self._db.execute(insert(t.password_reset_tokens).values(asdict(token)))

    async def spend(self, token_hash: str, now: datetime) -> UUID | None:
        c = t.password_reset_tokens.c
        result = await self._db.execute(
            update(t.password_reset_tokens)
            .where(c.token_hash == token_hash, c.used_at.is_(None), c.expires_at > now)
            .values(used_at=now)
            .returning(c.user_id)
        )
        user_id: UUID | None = result.scalar_one_or_none()
        return user_id

    async def spend_all_for_user(self, user_id: UUID, now: datetime) -> None:
        c = t.password_reset_tokens.c
        await self._db.execute(
            update(t.password_reset_tokens)
            .where(c.user_id == user_id, c.used_at.is_(None))
            .values(used_at=now)
        )


# Events, sessions, courses, enrolments, attendance

_EVENT_COLUMNS = tuple(
    c for c in t.events.c if c.name not in {"seats_taken", "sessions_json", "view_json"}
)


def _sessions_json(sessions: list[Session]) -> str:
    """The catalog's copy of the sessions (``events.sessions_json``): in order, times in UTC."""
    ordered = sorted(sessions, key=lambda x: (x.starts_at, x.ends_at, x.id))
    return msgspec.json.encode(
        [(x.id, x.title, x.starts_at.astimezone(UTC), x.ends_at.astimezone(UTC)) for x in ordered]
    ).decode()


def _event_values(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "organization_id": event.organization_id,
        "title": event.title,
        "slug": event.slug,
        "summary": event.summary,
        "description": event.description,
        "format": event.format.value,
        "venue_name": event.venue.name if event.venue else None,
        "venue_address": event.venue.address if event.venue else None,
        "timezone": event.timezone,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "capacity": event.capacity,
        "price_amount": event.price.amount,
        "price_currency": event.price.currency,
        "cpd_credits": event.cpd_credits,
        "credit_category": event.credit_category,
        "tags": list(event.tags),
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "attendance_threshold_percent": event.attendance_threshold_percent,
        "status": event.status.value,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
        "sessions_json": _sessions_json(event.sessions),
        "view_json": event_document(event).decode(),
    }


def _venue_of(name: str | None, address: str | None) -> Venue | None:
    return None if name is None and address is None else Venue(name or "", address or "")


def _event(row: Row[Any], sessions: list[Session]) -> Event:
    return Event(
        id=row.id,
        organization_id=row.organization_id,
        title=row.title,
        slug=row.slug,
        summary=row.summary,
        description=row.description,
        format=EventFormat(row.format),
        venue=_venue_of(row.venue_name, row.venue_address),
        timezone=row.timezone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        price=Money(row.price_amount, row.price_currency),
        cpd_credits=canonical_credits(row.cpd_credits),
        credit_category=row.credit_category,
        tags=tuple(row.tags),
        registration_opens_at=row.registration_opens_at,
        registration_closes_at=row.registration_closes_at,
        attendance_threshold_percent=row.attendance_threshold_percent,
        status=EventStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        sessions=sessions,
    )


_SESSION_FIELDS = ("title", "starts_at", "ends_at", "room", "join_url")


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "event_id": session.event_id,
        **{name: getattr(session, name) for name in _SESSION_FIELDS},
    }


def _session(row: Row[Any]) -> Session:
    return Session(**row._mapping)  # columns are named as the fields


class SqlEventRepository(_Repository):
    async def get(self, event_id: UUID) -> Event | None:
        return await self._get(event_id, lock=False)

    async def get_for_update(self, event_id: UUID) -> Event | None:
        """``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises."""
        return await self._get(event_id, lock=True)

    async def lock_seats(self, event_id: UUID) -> SeatLedger | None:
        c = t.events.c
        query = select(c.status, c.capacity, c.seats_taken).where(c.id == event_id)
        row = (await self._db.execute(query.with_for_update())).first()
        return None if row is None else SeatLedger(EventStatus(row[0]), row[1], row[2])

    async def _get(self, event_id: UUID, *, lock: bool) -> Event | None:
        query = select(*_EVENT_COLUMNS).where(t.events.c.id == event_id)
        if lock:
            query = query.with_for_update()
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        return _event(row, await self._sessions(event_id))

    async def _sessions(self, event_id: UUID) -> list[Session]:
        s = t.event_sessions.c
        query = (
            select(t.event_sessions)
            .where(s.event_id == event_id)
            .order_by(s.starts_at, s.ends_at, s.id)
        )
        return [_session(row) for row in await self._db.execute(query)]

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool:
        c = t.events.c
        query = select(c.id).where(c.organization_id == organization_id, c.slug == slug)
        return (await self._db.execute(query)).first() is not None

    async def add(self, event: Event) -> None:
        await self._db.execute(insert(t.events).values(_event_values(event)))
        if event.sessions:
            await self._db.execute(
                insert(t.event_sessions), [_session_values(s) for s in event.sessions]
            )

    async def save(self, event: Event) -> None:
        values = _event_values(event)
        for fixed in ("id", "organization_id", "created_at"):
            del values[fixed]
        await self._db.execute(update(t.events).where(t.events.c.id == event.id).values(values))
        await self._sync_sessions(event)

    async def _sync_sessions(self, event: Event) -> None:
        """Make the stored sessions equal ``event.sessions``: delete, insert, update."""
        s = t.event_sessions.c
        stored = {
            row.id: row
            for row in await self._db.execute(
                select(t.event_sessions).where(s.event_id == event.id)
            )
        }
        wanted = {session.id: session for session in event.sessions}
        removed = [session_id for session_id in stored if session_id not in wanted]
        if removed:  # their attendance goes with them (ON DELETE CASCADE)
            await self._db.execute(delete(t.event_sessions).where(s.id.in_(removed)))
        added = [_session_values(x) for x in event.sessions if x.id not in stored]
        if added:
            await self._db.execute(insert(t.event_sessions), added)
        changed = [
            {"session_id": x.id, **{name: getattr(x, name) for name in _SESSION_FIELDS}}
            for x in event.sessions
            if x.id in stored and _session(stored[x.id]) != x
        ]
        if changed:
            await self._db.execute(
                update(t.event_sessions)
                .where(s.id == bindparam("session_id"))
                .values({name: bindparam(name) for name in _SESSION_FIELDS}),
                changed,
            )

    async def delete(self, event_id: UUID) -> None:
        await self._db.execute(delete(t.events).where(t.events.c.id == event_id))

    async def record_seats_taken(self, event_id: UUID, seats: int) -> None:
        """Only the count: the catalog splices seats into ``view_json`` when it reads."""
        await self._db.execute(
            update(t.events).where(t.events.c.id == event_id).values(seats_taken=seats)
        )


def _course_values(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "organization_id": course.organization_id,
        "title": course.title,
        "slug": course.slug,
        "description": course.description,
        "mode": course.mode.value,
        "price_amount": course.price.amount,
        "price_currency": course.price.currency,
        "cpd_credits": course.cpd_credits,
        "credit_category": course.credit_category,
        "status": course.status.value,
        "created_at": course.created_at,
        "updated_at": course.updated_at,
    }


def _course(row: Row[Any]) -> Course:
    return Course(
        id=row.id,
        organization_id=row.organization_id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        mode=CourseMode(row.mode),
        price=Money(row.price_amount, row.price_currency),
        cpd_credits=canonical_credits(row.cpd_credits),
        credit_category=row.credit_category,
        status=CourseStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlCourseRepository(_Repository):
    async def get(self, course_id: UUID) -> Course | None:
        row = (await self._db.execute(select(t.courses).where(t.courses.c.id == course_id))).first()
        return _course(row) if row else None

    async def slug_exists(self, organization_id: UUID, slug: str) -> bool:
        c = t.courses.c
        query = select(c.id).where(c.organization_id == organization_id, c.slug == slug)
        return (await self._db.execute(query)).first() is not None

    async def add(self, course: Course) -> None:
        await self._db.execute(insert(t.courses).values(_course_values(course)))

    async def save(self, course: Course) -> None:
        values = _course_values(course)
        for fixed in ("id", "organization_id", "created_at"):
            del values[fixed]
        await self._db.execute(update(t.courses).where(t.courses.c.id == course.id).values(values))

    async def delete(self, course_id: UUID) -> None:
        await self._db.execute(delete(t.courses).where(t.courses.c.id == course_id))


def _enrollment(row: Row[Any]) -> Enrollment:
    return Enrollment(
        id=row.id,
        course_id=row.course_id,
        user_id=row.user_id,
        enrolled_at=row.enrolled_at,
        status=EnrollmentStatus(row.status),
    )


class SqlEnrollmentRepository(_Repository):
    async def get(self, course_id: UUID, user_id: UUID) -> Enrollment | None:
        c = t.enrollments.c
        query = select(t.enrollments).where(c.course_id == course_id, c.user_id == user_id)
        row = (await self._db.execute(query)).first()
        return _enrollment(row) if row else None

    async def add(self, enrollment: Enrollment) -> None:
        values = asdict(enrollment) | {"status": enrollment.status.value}
        await self._db.execute(insert(t.enrollments).values(values))

    async def count_for_course(self, course_id: UUID) -> int:
        query = select(func.count()).where(t.enrollments.c.course_id == course_id)
        return int((await self._db.execute(query)).scalar_one())


def _attendance(row: Row[Any]) -> AttendanceRecord:
    return AttendanceRecord(
        id=row.id,
        event_id=row.event_id,
        session_id=row.session_id,
        user_id=row.user_id,
        minutes_attended=row.minutes_attended,
        source=AttendanceSource(row.source),
        recorded_at=row.recorded_at,
        checked_in_at=row.checked_in_at,
        registration_id=row.registration_id,
    )


class SqlAttendanceRepository(_Repository):
    async def record(self, records: list[AttendanceRecord]) -> None:
        """One upsert keyed by (session, attendee); within one call the last record wins."""
        latest = {(r.session_id, r.user_id): r for r in records}
        rows = [asdict(r) | {"source": r.source.value} for r in latest.values()]
        await self._upsert(t.attendance, "user_id", rows)

    async def record_walk_ins(self, records: list[WalkInRecord]) -> None:
        latest = {(r.session_id, r.email): r for r in records}
        await self._upsert(t.walk_ins, "email", [asdict(r) for r in latest.values()])

    async def _upsert(self, table: Any, attendee: str, rows: list[dict[str, Any]]) -> None:
        """Insert, or replace the row of the same (session, ``attendee``)."""
        if not rows:
            return
        insert_ = _dialect_insert(self._db)(table)
        key = {"session_id", attendee}
        replaced = {name: insert_.excluded[name] for name in rows[0] if name not in key}
        await self._db.execute(
            insert_.on_conflict_do_update(
                index_elements=[table.c.session_id, table.c[attendee]], set_=replaced
            ),
            rows,
        )

    async def walk_ins_for_event(self, event_id: UUID) -> list[WalkInRecord]:
        c = t.walk_ins.c
        query = select(t.walk_ins).where(c.event_id == event_id).order_by(c.email, c.session_id)
        return [WalkInRecord(**row._mapping) for row in await self._db.execute(query)]

    async def for_event(
        self, event_id: UUID, user_id: UUID | None = None
    ) -> list[AttendanceRecord]:
        c = t.attendance.c
        query = select(t.attendance).where(c.event_id == event_id)
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        query = query.order_by(c.user_id, c.session_id)
        return [_attendance(row) for row in await self._db.execute(query)]

    async def count_for_event(self, event_id: UUID) -> int:
        total = 0
        for table in (t.attendance, t.walk_ins):
            query = select(func.count()).where(table.c.event_id == event_id)
            total += int((await self._db.execute(query)).scalar_one())
        return total


def _registration_values(registration: Registration) -> dict[str, Any]:
    policy = registration.refund_policy
    return {
        "id": registration.id,
        "event_id": registration.event_id,
        "user_id": registration.user_id,
        "seats": registration.seats,
        "status": registration.status.value,
        "amount_due_amount": registration.amount_due.amount,
        "amount_due_currency": registration.amount_due.currency,
        "check_in_code": registration.check_in_code,
        "attendees": [asdict(attendee) for attendee in registration.attendees],
        "hold_expires_at": registration.hold_expires_at,
        "offer_expires_at": registration.offer_expires_at,
        "waitlisted_at": registration.waitlisted_at,
        "paid": registration.paid,
        "refunded": registration.refunded,
        # SQL NULL, not JSON null, while nothing is snapshotted.
        "refund_policy": null()
        if policy is None
        else [[tier.days_before, tier.percent] for tier in policy.tiers],
        "payment_reference": registration.payment_reference,
        "refund_references": list(registration.refund_references),
        "created_at": registration.created_at,
        "updated_at": registration.updated_at,
    }


def _registration(row: Row[Any]) -> Registration:
    return Registration(
        id=row.id,
        event_id=row.event_id,
        user_id=row.user_id,
        seats=row.seats,
        status=RegistrationStatus(row.status),
        amount_due=Money(row.amount_due_amount, row.amount_due_currency),
        created_at=row.created_at,
        updated_at=row.updated_at,
        check_in_code=row.check_in_code,
        attendees=tuple(Attendee(**attendee) for attendee in row.attendees),
        hold_expires_at=row.hold_expires_at,
        offer_expires_at=row.offer_expires_at,
        waitlisted_at=row.waitlisted_at,
        paid=row.paid,
        refunded=row.refunded,
        refund_policy=None
        if row.refund_policy is None
        else RefundPolicy(tuple(RefundTier(days, percent) for days, percent in row.refund_policy)),
        payment_reference=row.payment_reference,
        refund_references=tuple(row.refund_references),
    )


class SqlRegistrationRepository(_Repository):
    _c = t.registrations.c

    async def add(self, *registrations: Registration) -> None:
        if registrations:  # one statement for the lot (executemany)
            values = [_registration_values(r) for r in registrations]
            await self._db.execute(insert(t.registrations), values)

    async def get(self, registration_id: UUID) -> Registration | None:
        return await self._one(select(t.registrations).where(self._c.id == registration_id))

    async def save(self, registration: Registration) -> None:
        values = _registration_values(registration)
        for fixed in ("id", "event_id", "user_id", "created_at"):
            del values[fixed]
        await self._db.execute(
            update(t.registrations).where(self._c.id == registration.id).values(values)
        )

    async def active_for(self, event_id: UUID, user_id: UUID) -> Registration | None:
        c = self._c
        return await self._one(
            select(t.registrations).where(
                c.event_id == event_id, c.user_id == user_id, c.status.in_(sorted(ACTIVE))
            )
        )

    async def seats_held(self, event_id: UUID) -> int:
        c = self._c
        query = select(func.coalesce(func.sum(c.seats), 0)).where(
            c.event_id == event_id, c.status.in_(sorted(SEAT_HOLDING))
        )
        return int((await self._db.execute(query)).scalar_one())

    async def waitlist(self, event_id: UUID, limit: int | None = None) -> list[Registration]:
        c = self._c
        query = (
            select(t.registrations)
            .where(c.event_id == event_id, c.status == RegistrationStatus.WAITLISTED.value)
            .order_by(c.waitlisted_at, c.id)
            .limit(limit)
        )
        return [_registration(row) for row in await self._db.execute(query)]

    async def waitlist_tail(self, event_id: UUID) -> datetime | None:
        c = self._c
        query = select(func.max(c.waitlisted_at)).where(
            c.event_id == event_id, c.status == RegistrationStatus.WAITLISTED.value
        )
        tail: datetime | None = (await self._db.execute(query)).scalar_one()
        return tail

    async def waitlist_position(self, registration: Registration) -> int:
        c = self._c
        query = select(func.count()).where(
            c.event_id == registration.event_id,
            c.status == RegistrationStatus.WAITLISTED.value,
            c.waitlisted_at <= registration.waitlisted_at,
        )
        return int((await self._db.execute(query)).scalar_one())

    async def by_check_in_code(self, event_id: UUID, code: str) -> Registration | None:
        c = self._c
        return await self._one(
            select(t.registrations).where(c.event_id == event_id, c.check_in_code == code)
        )

    async def by_payment_reference(self, reference: str) -> Registration | None:
        return await self._one(
            select(t.registrations).where(self._c.payment_reference == reference)
        )

    async def confirmed_for(
        self, event_id: UUID, *, user_ids: Collection[UUID], ids: Collection[UUID]
    ) -> list[Registration]:
        c = self._c
        query = select(t.registrations).where(
            c.event_id == event_id,
            c.status == RegistrationStatus.CONFIRMED.value,
            or_(c.user_id.in_(list(user_ids)), c.id.in_(list(ids))),
        )
        return [_registration(row) for row in await self._db.execute(query)]

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[Registration]:
        c = self._c
        query = (
            select(t.registrations)
            .where(c.user_id == user_id)
            .order_by(c.created_at.desc(), c.id.desc())
        )
        return await self._page(query, page, _registration)

    async def list_for_event(
        self, event_id: UUID, statuses: frozenset[str] | None, page: PageRequest
    ) -> Page[Registration]:
        c = self._c
        query = select(t.registrations).where(c.event_id == event_id)
        if statuses is not None:
            query = query.where(c.status.in_(sorted(statuses)))
        return await self._page(query.order_by(c.created_at, c.id), page, _registration)

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """Earliest expiry first; one query per index (holds, offers), merged."""
        c = self._c
        found: list[tuple[datetime, UUID, UUID]] = []
        for status, expires_at in (
            (RegistrationStatus.PENDING_PAYMENT, c.hold_expires_at),
            (RegistrationStatus.OFFERED, c.offer_expires_at),
        ):
            query = (
                select(expires_at, c.id, c.event_id)
                .where(c.status == status.value, expires_at <= now)
                .order_by(expires_at, c.id)
                .limit(limit)
            )
            found.extend((row[0], row[1], row[2]) for row in await self._db.execute(query))
        found.sort(key=lambda item: (item[0], str(item[1])))
        return [(event_id, registration_id) for _, registration_id, event_id in found[:limit]]

    async def upcoming(self, start: datetime, end: datetime) -> list[Upcoming]:
        c, e = self._c, t.events.c
        query = (
            select(c.id, c.created_at, e.starts_at)
            .join(t.events, e.id == c.event_id)
            .where(
                e.status == EventStatus.PUBLISHED.value,
                e.starts_at >= start,
                e.starts_at < end,
                c.status == RegistrationStatus.CONFIRMED.value,
            )
            .order_by(e.starts_at, c.id)
        )
        return [Upcoming(*row) for row in await self._db.execute(query)]

    async def _one(self, query: Select[Any]) -> Registration | None:
        row = (await self._db.execute(query)).first()
        return _registration(row) if row else None


def _dialect_insert(connection: AsyncConnection) -> Any:
    """The dialect's ``insert`` with ``on_conflict_do_update`` (both dialects spell it alike)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


class SqlWebhookInbox(_Repository):
    async def accept(self, provider: str, event_id: str, received_at: datetime) -> bool:
        """A savepoint keeps a duplicate's key clash from aborting the surrounding work."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(
                    insert(t.webhook_events).values(
                        provider=provider, event_id=event_id, received_at=received_at
                    )
                )
        except IntegrityError:
            return False
        return True


def _meeting(row: Row[Any]) -> SessionMeeting:
    return SessionMeeting(**row._mapping)  # columns are named as the fields


def _registrant(row: Row[Any]) -> SessionRegistrant:
    return SessionRegistrant(**row._mapping)


class SqlMeetingRepository(_Repository):
    async def claim(self, meeting: SessionMeeting) -> bool:
        """A savepoint keeps a second claim's key clash from aborting the surrounding work."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(insert(t.session_meetings).values(asdict(meeting)))
        except IntegrityError:
            if await self.get(meeting.session_id) is None:
                raise  # not the primary key: a missing event, say
            return False
        return True

    async def save(self, meeting: SessionMeeting) -> None:
        values = asdict(meeting)
        statement = _dialect_insert(self._db)(t.session_meetings).values(values)
        del values["session_id"]
        await self._db.execute(
            statement.on_conflict_do_update(index_elements=["session_id"], set_=values)
        )

    async def remove(self, session_id: UUID) -> None:
        c = t.session_meetings.c
        await self._db.execute(delete(t.session_meetings).where(c.session_id == session_id))

    async def get(self, session_id: UUID) -> SessionMeeting | None:
        c = t.session_meetings.c
        row = (
            await self._db.execute(select(t.session_meetings).where(c.session_id == session_id))
        ).first()
        return _meeting(row) if row else None

    async def for_event(self, event_id: UUID) -> list[SessionMeeting]:
        c = t.session_meetings.c
        query = (
            select(t.session_meetings)
            .where(c.event_id == event_id)
            .order_by(c.claimed_at, c.session_id)
        )
        return [_meeting(row) for row in await self._db.execute(query)]

    async def by_meeting_id(self, provider: str, meeting_id: str) -> SessionMeeting | None:
        c = t.session_meetings.c
        query = select(t.session_meetings).where(c.provider == provider, c.meeting_id == meeting_id)
        row = (await self._db.execute(query)).first()
        return _meeting(row) if row else None

    async def attendance_due(self, ended_before: datetime, limit: int) -> list[SessionMeeting]:
        m, s, e = t.session_meetings.c, t.event_sessions.c, t.events.c
        query = (
            select(t.session_meetings)
            .join(t.event_sessions, s.id == m.session_id)
            .join(t.events, e.id == m.event_id)
            .where(
                m.attendance_synced_at.is_(None),
                m.meeting_id.is_not(None),
                s.ends_at < ended_before,
                e.status.in_([EventStatus.PUBLISHED.value, EventStatus.COMPLETED.value]),
            )
            .order_by(s.ends_at, m.session_id)
            .limit(limit)
        )
        return [_meeting(row) for row in await self._db.execute(query)]

    async def add_registrant(self, registrant: SessionRegistrant) -> None:
        values = asdict(registrant)
        statement = _dialect_insert(self._db)(t.meeting_registrants).values(values)
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=["registration_id", "session_id"],
                set_={k: values[k] for k in ("registrant_id", "join_url", "created_at")},
            )
        )

    async def registrants_for_session(self, session_id: UUID) -> list[SessionRegistrant]:
        c = t.meeting_registrants.c
        query = (
            select(t.meeting_registrants)
            .where(c.session_id == session_id)
            .order_by(c.created_at, c.registration_id)
        )
        return [_registrant(row) for row in await self._db.execute(query)]

    async def registrants_for_registration(self, registration_id: UUID) -> list[SessionRegistrant]:
        c = t.meeting_registrants.c
        query = (
            select(t.meeting_registrants)
            .where(c.registration_id == registration_id)
            .order_by(c.created_at, c.session_id)
        )
        return [_registrant(row) for row in await self._db.execute(query)]


class SqlIdempotencyStore(_Repository):
    async def find(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        c = t.idempotency_keys.c
        query = select(c.fingerprint, c.resource_id, c.response).where(
            c.user_id == user_id, c.key == key
        )
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        response = None if row.response is None else row.response.encode()
        return IdempotencyRecord(row.fingerprint, row.resource_id, response)

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, resource_id: UUID, at: datetime
    ) -> bool:
        """In a savepoint: PostgreSQL makes a second claimant wait on the primary key until the
        first commits (then it fails here) or rolls back (then it succeeds)."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(
                    insert(t.idempotency_keys).values(
                        user_id=user_id,
                        key=key,
                        fingerprint=fingerprint,
                        resource_id=resource_id,
                        created_at=at,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def answer(self, user_id: UUID, key: str, response: bytes) -> bytes:
        c = t.idempotency_keys.c
        mine = and_(c.user_id == user_id, c.key == key)
        # The first answer stays: a concurrent writer waits on the row and then matches nothing.
        await self._db.execute(
            update(t.idempotency_keys)
            .where(mine, c.response.is_(None))
            .values(response=response.decode())
        )
        stored = (await self._db.execute(select(c.response).where(mine))).scalar_one_or_none()
        if stored is None:
            raise NotFound(IDEMPOTENCY_KEY_NOT_FOUND)
        return str(stored).encode()
