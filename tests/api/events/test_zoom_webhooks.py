"""Zoom through the app: the URL-validation challenge, signed notifications stored once and
queued through the outbox, forged and stale ones refused; and attendance synced from a
meeting's participants (on every persistence)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import pytest
from litestar.testing import TestClient

from cpd.adapters.meetings.fake import FakeVideoMeetings
from cpd.adapters.meetings.zoom import ZoomMeetings, url_validation_answer, zoom_signature
from cpd.bootstrap import build_container
from cpd.domain.meetings import MeetingSpec, Participant
from cpd.domain.tasks import Task
from cpd.entrypoints.http.app import create_app
from cpd.services.events.meetings import MeetingService
from cpd.services.events.tasks import ZoomEvent
from cpd.services.policies import POLICIES
from cpd.settings import SettingsError
from tests.api.conftest import Api, assert_problem
from tests.support.clock import FakeClock
from tests.support.fake_zoom import (
    ACCOUNT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    running_fake_zoom,
)
from tests.support.settings import make_settings

SECRET = "zoom-app-secret-token"
URL = "/api/v1/webhooks/zoom"


@pytest.fixture
def zoom_api() -> Iterator[tuple[Api, list[Task]]]:
    """The app on memory with the fake video adapter; zoom_event tasks are captured."""
    container = build_container(make_settings(zoom_webhook_secret=SECRET, outbox_poll_seconds=0.05))
    seen: list[Task] = []

    async def capture(task: Task) -> None:
        seen.append(task)

    cast(dict[str, Any], container.task_handlers)[ZoomEvent.NAME] = capture
    with TestClient(create_app(container)) as client:
        yield Api(client, container), seen


def post(api: Api, body: dict[str, Any], *, secret: str = SECRET, age: int = 0) -> Any:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()) - age)
    return api.client.post(
        URL,
        content=raw,
        headers={
            "content-type": "application/json",
            "x-zm-request-timestamp": ts,
            "x-zm-signature": zoom_signature(secret, ts, raw),
        },
    )


def joined(join_time: str = "2027-03-01T09:01:00Z") -> dict[str, Any]:
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1_803_373_260_000,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": "81234567890",
                "uuid": "abc==",
                "participant": {
                    "id": "p1",
                    "user_name": "Ada",
                    "email": "ada@example.org",
                    "join_time": join_time,
                },
            },
        },
    }


def wait_for(seen: list[Task], count: int) -> list[Task]:
    deadline = time.monotonic() + 5
    while len(seen) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.15)  # and nothing more arrives
    return seen


def test_the_url_validation_challenge_is_answered(zoom_api: tuple[Api, list[Task]]) -> None:
    api, seen = zoom_api
    body = {"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": "abc"}}
    answer = post(api, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == url_validation_answer(SECRET, "abc")
    unsigned = api.client.post(URL, content=json.dumps(body).encode())
    assert_problem(unsigned, 400, "x-zm-signature")
    assert wait_for(seen, 0) == []


def test_an_event_is_stored_once_and_queued_once(zoom_api: tuple[Api, list[Task]]) -> None:
    api, seen = zoom_api
    first = post(api, joined())
    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False, "ignored": False}
    again = post(api, joined(), age=30)  # Zoom's redelivery, signed anew
    assert again.json()["duplicate"] is True
    other = post(api, joined(join_time="2027-03-01T09:40:00Z"))  # a re-join: another event
    assert other.json()["duplicate"] is False

    tasks = wait_for(seen, 2)
    assert len(tasks) == 2
    assert tasks[0].payload["kind"] == "participant_joined"
    assert tasks[0].payload["meeting_id"] == "81234567890"
    assert tasks[0].payload["participant"]["email"] == "ada@example.org"


def test_forged_stale_and_unhandled_notifications(zoom_api: tuple[Api, list[Task]]) -> None:
    api, seen = zoom_api
    assert_problem(post(api, joined(), secret="forged"), 400, "x-zm-signature")
    assert_problem(post(api, joined(), age=600), 400, "x-zm-signature")
    ignored = post(api, {"event": "recording.completed", "event_ts": 1, "payload": {}})
    assert ignored.json() == {"received": True, "duplicate": False, "ignored": True}
    assert_problem(post(api, {"event": "meeting.ended", "payload": {}}), 400, "payload")
    # A forged copy did not consume the id: the genuine one is still fresh.
    assert post(api, joined()).json()["duplicate"] is False
    assert len(wait_for(seen, 1)) == 1


def test_zoom_settings_are_validated_and_wire_the_zoom_adapter() -> None:
    with pytest.raises(SettingsError, match="CPD_ZOOM_CLIENT_SECRET"):
        make_settings(video_provider="zoom", zoom_account_id="a", zoom_client_id="b")
    with running_fake_zoom() as fake:
        container = build_container(
            make_settings(
                video_provider="zoom",
                zoom_account_id=ACCOUNT_ID,
                zoom_client_id=CLIENT_ID,
                zoom_client_secret=CLIENT_SECRET,
                zoom_webhook_secret=SECRET,
                zoom_api_base=fake.api_base,
                zoom_oauth_base=fake.url,
            )
        )
        zoom = container.video_meetings
        assert isinstance(zoom, ZoomMeetings)
        with TestClient(create_app(container)) as client:
            meeting = client.blocking_portal.call(
                zoom.create_meeting, MeetingSpec("T", datetime(2027, 1, 1, tzinfo=UTC), 30, "UTC")
            )
            assert meeting.id in fake.meetings
            client.blocking_portal.call(zoom.aclose)
    assert isinstance(build_container(make_settings()).video_meetings, FakeVideoMeetings)


# -- attendance from a meeting ------------------------------------------------------------------


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2027-03-01T{hhmm}:00+00:00")


def until(clock: FakeClock, moment: datetime) -> None:
    """Move the app's clock to ``moment`` (everyone has signed in before)."""
    clock.advance(seconds=(moment - clock.now()).total_seconds())


def test_attendance_is_synced_from_the_meetings_participants(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner = api.user()
    org = api.organization(owner, "Zoom College")
    event = api.event(owner, org)
    morning = event["sessions"][0]["id"]
    ada, bea, cai, dee = api.user(), api.user(), api.user(), api.user()
    for person in (ada, bea, cai, dee):
        booked = api.client.post(
            "/api/v1/registrations", json={"event_id": event["id"]}, headers=person.headers
        )
        assert booked.json()["status"] == "confirmed", booked.text
    until(clock, at("12:05"))  # the morning is over
    staff_said = api.client.post(
        f"/api/v1/events/{event['id']}/sessions/{morning}/attendance",
        headers=owner.headers,
        json={"attendees": [{"user_id": cai.id, "minutes_attended": 45}]},
    )
    assert staff_said.status_code == 200, staff_said.text

    video = api.container.video_meetings
    assert isinstance(video, FakeVideoMeetings)
    portal = api.client.blocking_portal
    meeting = portal.call(video.create_meeting, MeetingSpec("Morning", at("09:00"), 180, "UTC"))
    stays = [
        Participant(at("08:50"), at("10:00"), email=ada.email.upper(), name="Ada"),
        Participant(at("09:30"), at("10:30"), email=ada.email, name="Ada (phone)"),  # overlap
        Participant(at("11:50"), at("12:40"), email=ada.email, name="Ada"),  # past the end
        Participant(at("09:00"), at("12:00"), name=bea.email),  # a name is no identity
        Participant(at("09:00"), at("12:00"), email=cai.email),  # staff recorded by hand
        Participant(at("09:00"), at("09:00"), email=dee.email),  # present for no time
        Participant(at("09:00"), at("12:00"), email="stranger@example.org"),
    ]
    for stay in stays:
        video.record_participant(meeting.id, stay)

    sync = api.container.meetings.sync_attendance
    records = portal.call(sync, UUID(event["id"]), UUID(morning), meeting.id)
    again = portal.call(sync, UUID(event["id"]), UUID(morning), meeting.id)  # repeatable

    assert [(str(r.user_id), r.minutes_attended, r.source) for r in records] == [
        (ada.id, 100, "zoom")
    ]
    assert [r.minutes_attended for r in again] == [100]
    report = {
        r["email"]: r
        for r in api.client.get(
            f"/api/v1/events/{event['id']}/attendance", headers=owner.headers
        ).json()["items"]
    }
    assert report[ada.email]["minutes_attended"] == 100
    assert report[cai.email]["minutes_attended"] == 45
    assert bea.email not in report
    assert dee.email not in report


def test_a_meeting_ended_task_syncs_the_located_session_only(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner = api.user()
    event = api.event(owner, api.organization(owner, "Ended College"))
    afternoon = UUID(event["sessions"][1]["id"])
    ada = api.user()
    api.client.post("/api/v1/registrations", json={"event_id": event["id"]}, headers=ada.headers)
    until(clock, at("16:05"))
    video = api.container.video_meetings
    assert isinstance(video, FakeVideoMeetings)
    portal = api.client.blocking_portal
    meeting = portal.call(video.create_meeting, MeetingSpec("PM", at("13:00"), 180, "UTC"))
    video.record_participant(meeting.id, Participant(at("13:00"), at("14:00"), email=ada.email))

    async def locate(meeting_id: str) -> tuple[UUID, UUID] | None:
        return (UUID(event["id"]), afternoon) if meeting_id == meeting.id else None

    container = api.container
    service = MeetingService(
        container.uow,
        clock=container.clock,
        meetings=video,
        reactions=POLICIES,
        locate_session=locate,
    )
    unlinked = MeetingService(
        container.uow, clock=container.clock, meetings=video, reactions=POLICIES
    )

    def ended(meeting_id: str, kind: str = "meeting_ended") -> Task:
        return Task(ZoomEvent.NAME, {"kind": kind, "meeting_id": meeting_id})

    portal.call(unlinked.apply_event, ended(meeting.id))  # no link yet: nothing recorded
    portal.call(service.apply_event, ended(meeting.id, "participant_left"))  # report decides
    portal.call(service.apply_event, ended("11111111111"))  # not ours
    url = f"/api/v1/events/{event['id']}/attendance"
    assert api.client.get(url, headers=owner.headers).json()["items"] == []

    portal.call(service.apply_event, ended(meeting.id))

    [row] = api.client.get(url, headers=owner.headers).json()["items"]
    assert (row["email"], row["minutes_attended"]) == (ada.email, 60)


def _post_raw(api: Api, raw: bytes) -> Any:
    ts = str(int(time.time()))
    return api.client.post(
        URL,
        content=raw,
        headers={"x-zm-request-timestamp": ts, "x-zm-signature": zoom_signature(SECRET, ts, raw)},
    )


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"event": 1}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_a_zoom_event_is_a_400_not_ignored(
    zoom_api: tuple[Api, list[Task]], raw: bytes
) -> None:
    api, _ = zoom_api
    assert_problem(_post_raw(api, raw), 400, "payload")


@pytest.mark.parametrize(
    ("event_ts", "field"),
    [(b"100000000000000000000", "event_ts"), (b"-1", "event_ts"), (b'"1803373260000"', "event_ts"),
     (b"1.5", "event_ts"), (b"1e400", "payload")],
)  # fmt: skip
def test_an_absurd_event_ts_is_a_400(
    zoom_api: tuple[Api, list[Task]], event_ts: bytes, field: str
) -> None:
    api, _ = zoom_api
    raw = json.dumps(joined()).encode().replace(b"1803373260000", event_ts, 1)
    assert_problem(_post_raw(api, raw), 400, field)
