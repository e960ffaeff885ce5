"""MeetingService on the real wiring (memory) with a clock the test moves: the periodic
attendance sync, and a provider failure that must not leave a claim behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cpd.adapters.meetings.fake import FakeVideoMeetings
from cpd.bootstrap import Container, build_container
from cpd.domain.events import Event
from cpd.domain.meetings import Meeting, MeetingSpec, Participant, SessionMeeting
from cpd.domain.registrations import Registration
from cpd.domain.tasks import Task
from cpd.entrypoints.scheduler import periodic_jobs
from cpd.services.events.tasks import AddMeetingRegistrants
from tests.contract.builders import (
    T0,
    FrozenClock,
    make_event,
    make_organization,
    make_registration,
    make_user,
)
from tests.unit.conftest import make_settings


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def app(clock: FrozenClock) -> Container:
    return build_container(make_settings(), clock=clock)


async def given_online_event(app: Container) -> tuple[Event, Registration, str]:
    organization = make_organization()
    event = make_event(organization, sessions=2)
    user = make_user()
    registration = make_registration(event, user)
    async with app.uow() as uow:
        await uow.organizations.add(organization)
        await uow.users.add(user)
        await uow.events.add(event)
        await uow.registrations.add(registration)
        await uow.commit()
    await app.meetings.sync_event(event.id)
    await app.meetings.add_registrants(
        Task(AddMeetingRegistrants.NAME, {"registration_id": str(registration.id)})
    )
    return event, registration, user.email


async def meetings_in_session_order(app: Container, event: Event) -> list[SessionMeeting]:
    async with app.uow() as uow:
        by_session = {m.session_id: m for m in await uow.meetings.for_event(event.id)}
    return [by_session[s.id] for s in event.sessions]


async def test_the_periodic_job_syncs_meetings_that_ended_a_while_ago(
    app: Container, clock: FrozenClock
) -> None:
    event, registration, email = await given_online_event(app)
    video = app.video_meetings
    assert isinstance(video, FakeVideoMeetings)
    first, second = await meetings_in_session_order(app, event)
    async with app.uow() as uow:
        [registrant] = await uow.meetings.registrants_for_session(event.sessions[0].id)
    assert first.meeting_id is not None
    assert second.meeting_id is not None
    start = event.sessions[0].starts_at
    video.record_participant(
        first.meeting_id,
        Participant(start, start + timedelta(minutes=50), registrant_id=registrant.registrant_id),
    )
    video.record_participant(
        second.meeting_id, Participant(event.sessions[1].starts_at, None, email=email)
    )

    assert "zoom_attendance_sync" in periodic_jobs(app)
    sweep = periodic_jobs(app)["zoom_attendance_sync"][1]
    clock.current = event.sessions[0].ends_at + timedelta(minutes=10)  # report not ready yet
    assert await app.meetings.sync_due_attendance() == 0
    clock.current = event.sessions[0].ends_at + timedelta(minutes=16)
    await sweep()
    async with app.uow() as uow:
        [record] = await uow.attendance.for_event(event.id)
        synced = await uow.meetings.get(first.session_id)
    assert (record.session_id, record.registration_id) == (first.session_id, registration.id)
    assert record.minutes_attended == 50
    assert synced is not None
    assert synced.attendance_synced_at == clock.current
    assert await app.meetings.sync_due_attendance() == 0  # synced once

    clock.current = event.sessions[1].ends_at + timedelta(minutes=20)
    assert await app.meetings.sync_due_attendance() == 1  # matched by email, open stay capped
    async with app.uow() as uow:
        minutes = {
            r.session_id: r.minutes_attended for r in await uow.attendance.for_event(event.id)
        }
    assert minutes[second.session_id] == 90


async def test_a_meeting_with_no_report_is_given_up_after_a_while(
    app: Container, clock: FrozenClock
) -> None:
    event, _, _ = await given_online_event(app)
    first, _ = await meetings_in_session_order(app, event)
    assert first.meeting_id is not None
    video = app.video_meetings
    assert isinstance(video, FakeVideoMeetings)
    await video.delete_meeting(first.meeting_id)  # gone at the provider: no report
    clock.current = event.sessions[0].ends_at + timedelta(minutes=30)
    await app.meetings.sync_due_attendance()
    async with app.uow() as uow:
        assert (await uow.meetings.get(first.session_id)).attendance_synced_at is None  # type: ignore[union-attr]
    clock.current = event.sessions[0].ends_at + timedelta(hours=3)
    await app.meetings.sync_due_attendance()
    async with app.uow() as uow:
        given_up = await uow.meetings.get(first.session_id)
    assert given_up is not None
    assert given_up.attendance_synced_at == clock.current


async def test_a_failed_create_leaves_no_claim_and_a_retry_creates_one(app: Container) -> None:
    organization = make_organization()
    event = make_event(organization, sessions=1)
    async with app.uow() as uow:
        await uow.organizations.add(organization)
        await uow.events.add(event)
        await uow.commit()
    video = app.video_meetings
    assert isinstance(video, FakeVideoMeetings)
    made: list[Meeting] = []
    real_create = video.create_meeting

    async def failing(spec: MeetingSpec) -> Any:
        raise ConnectionError("provider down")

    video.create_meeting = failing  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await app.meetings.sync_event(event.id)
    async with app.uow() as uow:
        assert await uow.meetings.for_event(event.id) == []

    async def counting(spec: MeetingSpec) -> Meeting:
        made.append(await real_create(spec))
        return made[-1]

    video.create_meeting = counting  # type: ignore[method-assign]
    await app.meetings.sync_event(event.id)
    await app.meetings.sync_event(event.id)  # a duplicate delivery of the task
    async with app.uow() as uow:
        [stored] = await uow.meetings.for_event(event.id)
        loaded = await uow.events.get(event.id)
    assert len(made) == 1
    assert stored.meeting_id == made[0].id
    assert loaded is not None
    assert loaded.sessions[0].join_url == made[0].join_url
