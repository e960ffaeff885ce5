"""Session meetings and their registrants: one contract for every persistence adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from cpd.domain.errors import Conflict
from cpd.domain.events import Event, EventStatus
from cpd.domain.meetings import Meeting, MeetingSpec, SessionMeeting, SessionRegistrant
from cpd.domain.registrations import Registration
from tests.contract.builders import (
    T0,
    Backend,
    given,
    make_event,
    make_organization,
    make_registration,
    make_user,
)


def claim_of(event: Event, index: int = 0, *, provider: str = "zoom") -> SessionMeeting:
    return SessionMeeting(
        session_id=event.sessions[index].id,
        event_id=event.id,
        provider=provider,
        claimed_at=T0 + timedelta(seconds=index),
    )


def created(claim: SessionMeeting, meeting_id: str, event: Event) -> SessionMeeting:
    spec = MeetingSpec.for_session(event, event.sessions[0])
    return claim.created(Meeting(meeting_id, f"https://zoom.example/j/{meeting_id}"), spec)


async def an_event(backend: Backend, sessions: int = 2, **kwargs: object) -> Event:
    organization = make_organization()
    event = make_event(organization, sessions=sessions, **kwargs)  # type: ignore[arg-type]
    await given(backend, organization, event)
    return event


async def a_registration(backend: Backend, event: Event) -> Registration:
    user = make_user()
    registration = make_registration(event, user)
    await given(backend, user, registration)
    return registration


async def claim(backend: Backend, meeting: SessionMeeting) -> bool:
    async with backend.uow() as uow:
        won = await uow.meetings.claim(meeting)
        await uow.commit()
    return won


async def save(backend: Backend, meeting: SessionMeeting) -> None:
    async with backend.uow() as uow:
        await uow.meetings.save(meeting)
        await uow.commit()


async def test_a_session_is_claimed_once_and_stored_as_given(backend: Backend) -> None:
    event = await an_event(backend)
    first = claim_of(event)
    assert await claim(backend, first) is True
    assert await claim(backend, replace(first, claimed_at=T0 + timedelta(hours=1))) is False
    async with backend.uow() as uow:
        assert await uow.meetings.get(first.session_id) == first  # the first claim stands
        # A lost claim leaves the transaction usable.
        assert await uow.meetings.claim(first) is False
        await uow.meetings.claim(claim_of(event, 1))
        await uow.commit()
    stored = created(first, "81234567890", event)
    await save(backend, replace(stored, attendance_synced_at=T0 + timedelta(days=40)))
    async with backend.uow() as uow:
        got = await uow.meetings.get(first.session_id)
        assert got is not None
        assert got.meeting_id == "81234567890"
        assert got.join_url == "https://zoom.example/j/81234567890"
        assert got.spec_digest == stored.spec_digest != ""
        assert got.attendance_synced_at == T0 + timedelta(days=40)
        assert await uow.meetings.by_meeting_id("zoom", "81234567890") == got
        assert await uow.meetings.by_meeting_id("fake", "81234567890") is None
        assert [m.session_id for m in await uow.meetings.for_event(event.id)] == [
            s.id for s in event.sessions
        ]


async def test_a_provider_meeting_id_belongs_to_one_session(backend: Backend) -> None:
    event = await an_event(backend)
    await save(backend, created(claim_of(event), "111", event))
    with pytest.raises(Conflict):
        await save(backend, created(claim_of(event, 1), "111", event))
    await save(backend, created(claim_of(event, 1, provider="fake"), "111", event))


async def test_a_meeting_needs_its_event(backend: Backend) -> None:
    event = await an_event(backend)
    with pytest.raises(Conflict):
        await claim(backend, replace(claim_of(event), event_id=uuid4()))


async def test_registrants_per_registration_and_session(backend: Backend) -> None:
    event = await an_event(backend)
    meetings = [created(claim_of(event, i), str(100 + i), event) for i in range(2)]
    for meeting in meetings:
        await save(backend, meeting)
    ada, bea = await a_registration(backend, event), await a_registration(backend, event)

    def registrant(registration: Registration, index: int, rid: str) -> SessionRegistrant:
        return SessionRegistrant(
            registration.id, event.sessions[index].id, rid, f"https://j/{rid}", T0
        )

    async with backend.uow() as uow:
        await uow.meetings.add_registrant(registrant(ada, 0, "a0"))
        await uow.meetings.add_registrant(registrant(ada, 1, "a1"))
        await uow.meetings.add_registrant(registrant(bea, 0, "b0"))
        await uow.meetings.add_registrant(registrant(ada, 0, "a0-again"))  # replaces
        await uow.commit()
    async with backend.uow() as uow:
        mine = await uow.meetings.registrants_for_registration(ada.id)
        morning = await uow.meetings.registrants_for_session(event.sessions[0].id)
    assert sorted(r.registrant_id for r in mine) == ["a0-again", "a1"]
    assert sorted(r.registrant_id for r in morning) == ["a0-again", "b0"]
    assert {r.join_url for r in mine} == {"https://j/a0-again", "https://j/a1"}

    with pytest.raises(Conflict):  # no meeting for an unknown session
        async with backend.uow() as uow:
            await uow.meetings.add_registrant(replace(registrant(ada, 0, "x"), session_id=uuid4()))

    async with backend.uow() as uow:  # the meeting's registrants go with it
        await uow.meetings.remove(event.sessions[0].id)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.meetings.get(event.sessions[0].id) is None
        assert await uow.meetings.registrants_for_session(event.sessions[0].id) == []
        assert [
            r.registrant_id for r in await uow.meetings.registrants_for_registration(ada.id)
        ] == ["a1"]


async def test_meetings_and_registrants_go_with_their_event(backend: Backend) -> None:
    event = await an_event(backend, status=EventStatus.DRAFT)
    await save(backend, created(claim_of(event), "555", event))
    registration = await a_registration(backend, event)
    async with backend.uow() as uow:
        await uow.meetings.add_registrant(
            SessionRegistrant(registration.id, event.sessions[0].id, "r", "https://j/r", T0)
        )
        await uow.events.delete(event.id)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.meetings.for_event(event.id) == []
        assert await uow.meetings.by_meeting_id("zoom", "555") is None
        assert await uow.meetings.registrants_for_registration(registration.id) == []


async def test_a_removed_sessions_meeting_stays_until_removed(backend: Backend) -> None:
    event = await an_event(backend)
    await save(backend, created(claim_of(event, 1), "777", event))
    async with backend.uow() as uow:
        loaded = await uow.events.get(event.id)
        assert loaded is not None
        loaded.sessions = loaded.sessions[:1]
        await uow.events.save(loaded)
        await uow.commit()
    async with backend.uow() as uow:
        kept = await uow.meetings.get(event.sessions[1].id)
    assert kept is not None  # the sync still needs its id
    assert kept.meeting_id == "777"


async def test_attendance_due_lists_ended_unsynced_meetings_oldest_first(
    backend: Backend,
) -> None:
    event = await an_event(backend, sessions=3)  # sessions a day apart from T0 + 30 days
    cancelled = await an_event(backend, sessions=1, status=EventStatus.CANCELLED)
    await save(backend, created(claim_of(event, 2), "3", event))
    await save(backend, created(claim_of(event, 0), "1", event))
    await save(backend, created(claim_of(cancelled, 0), "9", cancelled))
    await claim(backend, claim_of(event, 1))  # being created: no id yet
    after_all = event.sessions[2].ends_at + timedelta(minutes=1)

    async with backend.uow() as uow:
        due = await uow.meetings.attendance_due(after_all, 10)
        first_only = await uow.meetings.attendance_due(event.sessions[0].ends_at, 10)
        limited = await uow.meetings.attendance_due(after_all, 1)
    assert [m.meeting_id for m in due] == ["1", "3"]
    assert first_only == []  # not ended before the cut-off
    assert [m.meeting_id for m in limited] == ["1"]

    synced = replace(due[0], attendance_synced_at=after_all)
    await save(backend, synced)
    async with backend.uow() as uow:
        assert [m.meeting_id for m in await uow.meetings.attendance_due(after_all, 10)] == ["3"]
