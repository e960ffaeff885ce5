"""Meetings follow online and hybrid events, registrants get personal links, and attendance
comes back from a meeting's end, on every persistence, with the fake video adapter."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import pytest

from cpd.adapters.meetings.fake import FakeVideoMeetings
from cpd.domain.attendance import AttendanceRecord
from cpd.domain.meetings import Participant, SessionMeeting
from cpd.services.events.meetings import MeetingBeingCreated
from tests.api.conftest import Api, Caller, eventually
from tests.support.clock import FakeClock

T = TypeVar("T")


def video(api: Api) -> FakeVideoMeetings:
    fake = api.container.video_meetings
    assert isinstance(fake, FakeVideoMeetings)
    return fake


def stored(api: Api, event_id: str) -> list[SessionMeeting]:
    async def read() -> list[SessionMeeting]:
        async with api.container.uow() as uow:
            return await uow.meetings.for_event(UUID(event_id))

    return api.client.blocking_portal.call(read)


def records(api: Api, event_id: str) -> list[AttendanceRecord]:
    async def read() -> list[AttendanceRecord]:
        async with api.container.uow() as uow:
            return await uow.attendance.for_event(UUID(event_id))

    return api.client.blocking_portal.call(read)


def sessions(api: Api, event_id: str, caller: Caller | None = None) -> list[dict[str, Any]]:
    headers = caller.headers if caller else {}
    response = api.client.get(f"/api/v1/events/{event_id}/sessions", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def linked(api: Api, event_id: str, staff: Caller) -> list[dict[str, Any]]:
    """The sessions as staff see them, once every one links to a stored meeting."""
    found = sessions(api, event_id, staff)
    return found if all(s["join_url"] for s in found) else []


def join_urls(api: Api, url: str, caller: Caller, *, count: int) -> list[dict[str, Any]]:
    """The registrant's links, once there are ``count`` personal ones (the fake marks a
    registrant's link with ``tk=``; until then the session's own link stands in)."""
    found = list(api.client.get(url, headers=caller.headers).json()["join_urls"])
    personal = [link for link in found if "tk=" in link["join_url"]]
    return found if len(personal) == count == len(found) else []


def online_event(api: Api, owner: Caller, name: str, **fields: Any) -> dict[str, Any]:
    org = api.organization(owner, name)
    return api.event(owner, org, **({"format": "online", "venue": None} | fields))


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2027-03-01T{hhmm}:00+00:00")


def test_meetings_follow_an_online_events_sessions(api: Api) -> None:
    owner = api.user()
    event = online_event(api, owner, "Online College")
    fake = video(api)
    first = eventually(lambda: linked(api, event["id"], owner))
    assert len(first) == 2
    # The meeting links are the organization's to hand out: the public sees none.
    assert [s["join_url"] for s in sessions(api, event["id"])] == [None, None]
    rows = {m.session_id: m for m in stored(api, event["id"])}
    for session in first:
        meeting = rows[UUID(session["id"])]
        assert meeting.provider == "fake"
        assert meeting.meeting_id is not None
        assert session["join_url"] == meeting.join_url == fake.meeting(meeting.meeting_id).join_url
        assert (
            fake.meeting(meeting.meeting_id).spec.topic == f"Ethics in practice: {session['title']}"
        )
    morning, afternoon = (rows[UUID(s["id"])].meeting_id or "" for s in first)

    headers = owner.headers
    url = f"/api/v1/events/{event['id']}/sessions"
    moved = api.client.patch(
        f"{url}/{first[0]['id']}",
        json={"starts_at": "2027-03-01T10:00:00Z"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert eventually(lambda: fake.meeting(morning).spec.starts_at == at("10:00"))
    assert fake.meeting(morning).spec.duration_minutes == 120
    added = api.client.post(
        url,
        json={
            "title": "Evening",
            "starts_at": "2027-03-01T18:00:00Z",
            "ends_at": "2027-03-01T19:00:00Z",
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert eventually(lambda: len(linked(api, event["id"], owner)) == 3)
    removed = api.client.delete(f"{url}/{first[1]['id']}", headers=headers)
    assert removed.status_code == 204, removed.text
    assert eventually(lambda: len(stored(api, event["id"])) == 2)
    with pytest.raises(Exception, match="No such meeting"):
        fake.meeting(afternoon)
    assert fake.meeting(morning).id == morning  # the others stay as they were

    cancelled = api.client.post(f"/api/v1/events/{event['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert eventually(lambda: stored(api, event["id"]) == [])
    with pytest.raises(Exception, match="No such meeting"):
        fake.meeting(morning)
    assert all(s["join_url"] is None for s in sessions(api, event["id"], owner))


def test_in_person_events_and_drafts_get_no_meetings(api: Api) -> None:
    owner = api.user()
    in_person = api.event(owner, api.organization(owner, "Hall College"))
    draft = online_event(api, owner, "Draft College", publish=False)
    hybrid = online_event(
        api, owner, "Hybrid College", format="hybrid", venue={"name": "Hall", "address": "1 Road"}
    )
    assert (
        len(eventually(lambda: linked(api, hybrid["id"], owner))) == 2
    )  # the relay has run by now
    assert stored(api, in_person["id"]) == []
    assert stored(api, draft["id"]) == []
    assert all(s["join_url"] is None for s in sessions(api, in_person["id"]))


def test_a_confirmed_registrant_sees_personal_links_and_nobody_else(api: Api) -> None:
    owner = api.user()
    event = online_event(api, owner, "Links College")
    eventually(lambda: linked(api, event["id"], owner))
    ada = api.user()
    booked = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=ada.headers
    )
    assert booked.json()["status"] == "confirmed", booked.text
    mine = f"/api/v1/registrations/{booked.json()['id']}"

    links = eventually(lambda: join_urls(api, mine, ada, count=2))
    assert [link["session_id"] for link in links] == [s["id"] for s in sessions(api, event["id"])]
    fake = video(api)
    by_session = {str(m.session_id): m for m in stored(api, event["id"])}
    for link in links:
        meeting = by_session[link["session_id"]]
        assert "tk=" in link["join_url"]
        assert meeting.meeting_id is not None
        registrants = fake.meeting(meeting.meeting_id).registrants
        assert [r.join_url for r in registrants.values()] == [link["join_url"]]

    # Staff, another organization's staff and other people never see them.
    staff_view = api.client.get(
        f"/api/v1/events/{event['id']}/registrations", headers=owner.headers
    ).json()["items"]
    assert [r.get("join_urls") for r in staff_view] == [None]
    assert api.client.get(mine, headers=owner.headers).status_code == 404
    stranger = api.user()
    api.organization(stranger, "Other College")
    assert api.client.get(mine, headers=stranger.headers).status_code == 404
    assert (
        api.client.get(
            f"/api/v1/events/{event['id']}/registrations", headers=stranger.headers
        ).status_code
        == 404
    )
    # Cancelled: the links are no longer shown.
    api.client.post(f"{mine}/cancel", headers=ada.headers)
    assert api.client.get(mine, headers=ada.headers).json()["join_urls"] == []


def test_a_meeting_ended_notification_records_attendance_by_registrant_id(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner = api.user()
    event = online_event(api, owner, "Ended College")
    eventually(lambda: linked(api, event["id"], owner))
    ada = api.user()
    booked = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=ada.headers
    ).json()
    mine = f"/api/v1/registrations/{booked['id']}"
    assert eventually(lambda: join_urls(api, mine, ada, count=2))
    morning = next(
        m for m in stored(api, event["id"]) if m.session_id == UUID(event["sessions"][0]["id"])
    )
    assert morning.meeting_id is not None
    fake = video(api)
    [registrant] = fake.meeting(morning.meeting_id).registrants.values()
    clock.advance(seconds=(at("12:05") - clock.now()).total_seconds())  # the morning is over
    # Joined under another email address: the registrant id still names her.
    fake.record_participant(
        morning.meeting_id,
        Participant(
            at("09:00"), at("10:30"), registrant_id=registrant.id, email="ada@home.example"
        ),
    )
    body, headers = fake.webhook(
        "meeting.ended",
        {"object": {"id": morning.meeting_id, "uuid": "u1", "end_time": "2027-03-01T12:00:00Z"}},
    )
    answer = api.client.post("/api/v1/webhooks/zoom", content=body, headers=headers)
    assert answer.status_code == 200, answer.text

    report_url = f"/api/v1/events/{event['id']}/attendance"
    rows = eventually(lambda: api.client.get(report_url, headers=owner.headers).json()["items"])
    assert [(r["email"], r["minutes_attended"]) for r in rows] == [(ada.email, 90)]
    assert [(r.source, r.registration_id) for r in records(api, event["id"])] == [
        ("zoom", UUID(booked["id"]))
    ]
    synced = next(m for m in stored(api, event["id"]) if m.session_id == morning.session_id)
    assert synced.attendance_synced_at is not None


def test_syncing_twice_or_at_once_creates_one_meeting_per_session(api: Api) -> None:
    owner = api.user()
    event = online_event(api, owner, "Once College")
    first = eventually(lambda: linked(api, event["id"], owner))
    service = api.container.meetings
    portal = api.client.blocking_portal
    event_id = UUID(event["id"])
    before = stored(api, event["id"])
    portal.call(service.sync_event, event_id)  # the task run again
    assert stored(api, event["id"]) == before
    assert sessions(api, event["id"], owner) == first

    # Two runs at once for a session with no meeting yet: one claims and creates, the other
    # finds the claim and asks to be retried.
    async def forget_and_race() -> list[BaseException | None]:
        async with api.container.uow() as uow:
            await uow.meetings.remove(before[0].session_id)
            await uow.commit()
        results = await asyncio.gather(
            service.sync_event(event_id), service.sync_event(event_id), return_exceptions=True
        )
        return [r if isinstance(r, BaseException) else None for r in results]

    fake = video(api)
    count = len(fake._meetings)
    outcomes = portal.call(forget_and_race)
    assert len(fake._meetings) == count + 1
    assert [type(o) for o in outcomes if o is not None] in ([], [MeetingBeingCreated])
    assert len({m.meeting_id for m in stored(api, event["id"])}) == 2
