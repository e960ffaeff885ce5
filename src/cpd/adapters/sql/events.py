"""Events over SQL: events with their sessions, and attendance (meetings: meetings.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import (
    Row,
    bindparam,
    delete,
    func,
    insert,
    null,
    select,
    update,
)

from cpd.adapters.catalog_documents import event_document
from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _dialect_insert, _Repository
from cpd.adapters.sql.meetings import SqlMeetingRepository
from cpd.domain.attendance import AttendanceRecord, AttendanceSource, WalkInRecord
from cpd.domain.events import Event, EventFormat, EventStatus, SeatLedger, Session, Venue
from cpd.domain.money import Money, canonical_credits
from cpd.domain.refunds import RefundPolicy

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
        "completed_at": event.completed_at,
        "completed_by": event.completed_by,
        "completion_override_reason": event.completion_override_reason,
        "sessions_json": _sessions_json(event.sessions),
        "view_json": event_document(event).decode(),
        # SQL NULL, not JSON null, while the organization's policy applies.
        "refund_policy": null() if event.refund_policy is None else event.refund_policy.as_json(),
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
        refund_policy=None
        if row.refund_policy is None
        else RefundPolicy.from_json(row.refund_policy),
        created_at=row.created_at,
        updated_at=row.updated_at,
        sessions=sessions,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        completion_override_reason=row.completion_override_reason,
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

    async def seats_taken(self, event_id: UUID) -> int:
        query = select(t.events.c.seats_taken).where(t.events.c.id == event_id)
        return int((await self._db.execute(query)).scalar() or 0)

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


class SqlEvents:
    """Events' repositories, one base of ``SqlUnitOfWork``."""

    events = RepositorySlot(SqlEventRepository)
    attendance = RepositorySlot(SqlAttendanceRepository)
    meetings = RepositorySlot(SqlMeetingRepository)
