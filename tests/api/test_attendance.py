"""Attendance over HTTP: staff record it per session, everyone sees their own summary."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from tests.api.conftest import Api, Caller, assert_problem


def _setup(api: Api) -> tuple[Caller, Caller, Caller, dict[str, Any]]:
    owner, alice, bob = api.user(), api.user(), api.user()
    org = api.organization(owner)
    return owner, alice, bob, api.event(owner, org, attendance_threshold_percent=60)


def test_record_summarise_and_export(api: Api) -> None:
    owner, alice, bob, event = _setup(api)
    morning, afternoon = (s["id"] for s in event["sessions"])
    base = f"/api/v1/events/{event['id']}"

    recorded = api.client.post(
        f"{base}/sessions/{morning}/attendance",
        headers=owner.headers,
        json={"attendees": [{"user_id": alice.id}, {"user_id": bob.id, "minutes_attended": 90}]},
    )
    assert recorded.status_code == 200, recorded.text
    assert [r["minutes_attended"] for r in recorded.json()] == [180, 90]
    assert recorded.json()[0]["source"] == "staff"
    api.client.post(
        f"{base}/sessions/{afternoon}/attendance",
        headers=owner.headers,
        json={"attendees": [{"user_id": alice.id, "minutes_attended": 60}]},
    )

    report = {
        r["email"]: r for r in api.client.get(f"{base}/attendance", headers=owner.headers).json()
    }
    assert report[alice.email]["minutes_attended"] == 240
    assert report[alice.email]["scheduled_minutes"] == 360
    assert report[alice.email]["percent"] == 66
    assert report[alice.email]["threshold_met"] is True
    assert report[alice.email]["sessions_attended"] == 2
    assert (report[bob.email]["percent"], report[bob.email]["threshold_met"]) == (25, False)

    # A correction replaces the earlier record for that session.
    api.client.post(
        f"{base}/sessions/{morning}/attendance",
        headers=owner.headers,
        json={"attendees": [{"user_id": bob.id, "minutes_attended": 180}]},
    )
    mine = api.client.get(f"{base}/attendance/me", headers=bob.headers).json()
    assert (mine["minutes_attended"], mine["percent"], mine["threshold_met"]) == (180, 50, False)

    exported = api.client.get(f"{base}/attendance", headers={**owner.headers, "Accept": "text/csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["email"]: r["percent"] for r in rows} == {alice.email: "66", bob.email: "50"}


def test_my_attendance_without_records_is_zero(api: Api) -> None:
    _, alice, _, event = _setup(api)
    mine = api.client.get(
        f"/api/v1/events/{event['id']}/attendance/me", headers=alice.headers
    ).json()
    assert mine == {
        "user_id": alice.id,
        "sessions_attended": 0,
        "minutes_attended": 0,
        "scheduled_minutes": 360,
        "percent": 0,
        "threshold_percent": 60,
        "threshold_met": False,
    }
    assert_problem(api.client.get(f"/api/v1/events/{event['id']}/attendance/me"), 401)


def test_bad_attendance_saves_nothing(api: Api) -> None:
    owner, alice, _, event = _setup(api)
    session = event["sessions"][0]["id"]
    url = f"/api/v1/events/{event['id']}/sessions/{session}/attendance"
    too_long = api.client.post(
        url,
        headers=owner.headers,
        json={"attendees": [{"user_id": alice.id}, {"user_id": alice.id, "minutes_attended": 999}]},
    )
    assert_problem(too_long, 400, "attendees[1].minutes_attended")
    unknown = api.client.post(
        url,
        headers=owner.headers,
        json={"attendees": [{"user_id": alice.id}, {"user_id": str(uuid.uuid4())}]},
    )
    assert_problem(unknown, 400, "attendees[1].user_id")
    assert_problem(
        api.client.post(url, headers=owner.headers, json={"attendees": []}), 400, "attendees"
    )
    assert_problem(
        api.client.post(
            f"/api/v1/events/{event['id']}/sessions/{uuid.uuid4()}/attendance",
            headers=owner.headers,
            json={"attendees": [{"user_id": alice.id}]},
        ),
        404,
    )
    report = api.client.get(f"/api/v1/events/{event['id']}/attendance", headers=owner.headers)
    assert report.json() == []


def test_attendance_needs_a_running_event(api: Api) -> None:
    owner = api.user()
    org = api.organization(owner)
    draft = api.event(owner, org, publish=False)
    url = f"/api/v1/events/{draft['id']}/sessions/{draft['sessions'][0]['id']}/attendance"
    assert_problem(
        api.client.post(url, headers=owner.headers, json={"attendees": [{"user_id": owner.id}]}),
        409,
    )


def test_attendance_attaches_to_registrations(api: Api) -> None:
    owner, alice, bob, event = _setup(api)
    carol = api.user()
    morning = event["sessions"][0]["id"]
    url = f"/api/v1/events/{event['id']}/sessions/{morning}/attendance"

    def register(caller: Caller, event_id: str) -> dict[str, Any]:
        response = api.client.post(
            "/api/v1/registrations", json={"event_id": event_id}, headers=caller.headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    alices = register(alice, event["id"])
    carols = register(carol, event["id"])
    elsewhere = register(bob, api.event(owner, api.organization(owner))["id"])

    recorded = api.client.post(
        url,
        headers=owner.headers,
        json={
            "attendees": [
                {"registration_id": alices["id"]},  # by registration (a QR list, say)
                {"user_id": carol.id},  # by person: attached to her registration
                {"user_id": bob.id},  # a walk-in with no registration
            ]
        },
    )
    assert recorded.status_code == 200, recorded.text
    assert [(r["user_id"], r["registration_id"]) for r in recorded.json()] == [
        (alice.id, alices["id"]),
        (carol.id, carols["id"]),
        (bob.id, None),
    ]

    for attendee, field in [
        ({"registration_id": elsewhere["id"]}, "attendees[0].registration_id"),
        ({"registration_id": str(uuid.uuid4())}, "attendees[0].registration_id"),
        ({"user_id": alice.id, "registration_id": alices["id"]}, "attendees[0].user_id"),
        ({"minutes_attended": 5}, "attendees[0].user_id"),
    ]:
        assert_problem(
            api.client.post(url, headers=owner.headers, json={"attendees": [attendee]}), 400, field
        )
