"""What event answers say about seats and time must be true: every write answers with the seat
count a ``GET`` shows, and an event is run in the order time allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import Api, Caller, assert_problem
from tests.support.clock import FakeClock


def one_session(starts: Any, hours: int = 2) -> list[dict[str, str]]:
    return [
        {
            "title": "All day",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        }
    ]


def book(api: Api, event: dict[str, Any], *people: Caller) -> None:
    for person in people:
        booked = api.client.post(
            "/api/v1/registrations", json={"event_id": event["id"]}, headers=person.headers
        )
        assert booked.status_code == 201, booked.text
        assert booked.json()["status"] == "confirmed"


def seats_now(api: Api, event_id: str, caller: Caller) -> Any:
    shown = api.client.get(f"/api/v1/events/{event_id}", headers=caller.headers)
    assert shown.status_code == 200, shown.text
    return shown.json()["seats_available"]


def test_every_write_answers_with_the_seats_a_get_shows(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner, ann, ben = api.user(), api.user(), api.user()
    org = api.organization(owner)
    starts = clock.now() + timedelta(days=1)
    draft = api.event(owner, org, publish=False, capacity=5, sessions=one_session(starts))
    assert draft["seats_available"] == 5 == seats_now(api, draft["id"], owner)
    base = f"/api/v1/events/{draft['id']}"
    published = api.client.post(f"{base}/publish", headers=owner.headers)
    assert published.json()["seats_available"] == 5
    book(api, draft, ann, ben)
    assert seats_now(api, draft["id"], owner) == 3

    answers = {
        "capacity": api.client.patch(base, json={"capacity": 3}, headers=owner.headers),
        "title": api.client.patch(base, json={"title": "Renamed"}, headers=owner.headers),
    }
    for change, answer in answers.items():
        assert answer.status_code == 200, answer.text
        assert answer.json()["seats_available"] == 1, change
    assert seats_now(api, draft["id"], owner) == 1

    clock.advance(days=2)
    completed = api.client.post(f"{base}/complete", headers=owner.headers)
    assert completed.status_code == 200, completed.text
    assert completed.json()["seats_available"] == 1 == seats_now(api, draft["id"], owner)


def test_cancelling_answers_with_the_seats_it_freed(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner, ann = api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org, capacity=4, sessions=one_session(clock.now() + timedelta(days=1)))
    book(api, event, ann)
    cancelled = api.client.post(f"/api/v1/events/{event['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["seats_available"] == 4 == seats_now(api, event["id"], owner)


def test_completing_waits_for_the_last_session_unless_staff_give_a_reason(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner, ann = api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org, sessions=one_session(clock.now() + timedelta(days=1), hours=3))
    book(api, event, ann)
    base = f"/api/v1/events/{event['id']}"
    clock.advance(days=1, hours=1)  # the session is running
    assert_problem(
        api.client.post(f"{base}/complete", headers=owner.headers), 409, "override_reason"
    )
    blank = api.client.post(f"{base}/complete", json={"override_reason": ""}, headers=owner.headers)
    assert_problem(blank, 400, "override_reason")
    assert seats_now(api, event["id"], owner) is None  # still published, unchanged
    done = api.client.post(
        f"{base}/complete",
        json={"override_reason": "Fire alarm: rest cancelled"},
        headers=owner.headers,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed"
    assert body["completion_override_reason"] == "Fire alarm: rest cancelled"
    assert body["completed_at"]
    assert body["certificate_job_url"] == f"/api/v1/jobs/{body['certificate_job_id']}"
    job = api.client.get(body["certificate_job_url"], headers=owner.headers)
    assert job.status_code == 200, job.text
    assert job.json()["subject_id"] == event["id"]


def test_completing_after_the_end_names_its_certificate_job(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner = api.user()
    org = api.organization(owner)
    event = api.event(owner, org, sessions=one_session(clock.now() + timedelta(days=1)))
    clock.advance(days=2)
    done = api.client.post(f"/api/v1/events/{event['id']}/complete", headers=owner.headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["completion_override_reason"] is None
    job = api.client.get(body["certificate_job_url"], headers=owner.headers)
    assert job.status_code == 200, job.text
    assert job.json()["id"] == body["certificate_job_id"]


def test_the_certificate_job_answer_points_at_the_job(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner = api.user()
    org = api.organization(owner)
    event = api.event(owner, org, sessions=one_session(clock.now() + timedelta(days=1)))
    clock.advance(days=2)
    base = f"/api/v1/events/{event['id']}"
    assert api.client.post(f"{base}/complete", headers=owner.headers).status_code == 200
    started = api.client.post(f"{base}/certificates/issue", headers=owner.headers)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == started.json()["url"]
    assert started.headers["location"] == f"/api/v1/jobs/{started.json()['id']}"
    assert api.client.get(started.headers["location"], headers=owner.headers).status_code == 200


def test_an_event_that_is_over_cannot_be_published(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner = api.user()
    org = api.organization(owner)
    past = api.event(
        owner, org, publish=False, sessions=one_session(clock.now() - timedelta(days=1))
    )
    refused = api.client.post(f"/api/v1/events/{past['id']}/publish", headers=owner.headers)
    assert "over" in assert_problem(refused, 409, "sessions")["detail"]
    shown = api.client.get(f"/api/v1/events/{past['id']}", headers=owner.headers)
    assert shown.json()["status"] == "draft"


def test_attendance_waits_for_the_session_and_check_ins_for_their_time(
    timed: tuple[Api, FakeClock],
) -> None:
    api, clock = timed
    owner, ann = api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org, sessions=one_session(clock.now() + timedelta(days=1)))
    book(api, event, ann)
    url = f"/api/v1/events/{event['id']}/sessions/{event['sessions'][0]['id']}/attendance"

    def record(**entry: Any) -> Any:
        body = {"attendees": [{"user_id": ann.id, **entry}]}
        return api.client.post(url, json=body, headers=owner.headers)

    assert "not started" in assert_problem(record(), 409, "session_id")["detail"]
    clock.advance(days=1, minutes=30)  # half an hour into the session
    future = (clock.now() + timedelta(minutes=5)).isoformat()
    assert_problem(record(checked_in_at=future), 400, "attendees[0].checked_in_at")
    too_early = (clock.now() - timedelta(hours=2)).isoformat()  # 90 minutes before it started
    assert_problem(record(checked_in_at=too_early), 400, "attendees[0].checked_in_at")
    recorded = record()
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()[0]["checked_in_at"] is not None
