"""Attendance over HTTP: staff record it per session, everyone sees their own summary."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from tests.api.conftest import Api, Caller, assert_problem, sessions_underway


def _register(api: Api, caller: Caller, event_id: str) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/registrations", json={"event_id": event_id}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _setup(api: Api) -> tuple[Caller, Caller, Caller, dict[str, Any]]:
    """An event whose attendees alice and bob are registered for it."""
    owner, alice, bob = api.user(), api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org, attendance_threshold_percent=60, sessions=sessions_underway())
    for caller in (alice, bob):
        _register(api, caller, event["id"])
    return owner, alice, bob, event


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
        r["email"]: r
        for r in api.client.get(f"{base}/attendance", headers=owner.headers).json()["items"]
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
    assert report.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


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
    owner = api.user()
    alice, carol, dave = api.user(), api.user(), api.user()
    event = api.event(owner, api.organization(owner), sessions=sessions_underway())
    morning = event["sessions"][0]["id"]
    url = f"/api/v1/events/{event['id']}/sessions/{morning}/attendance"
    alices = _register(api, alice, event["id"])
    carols = _register(api, carol, event["id"])
    elsewhere = _register(
        api, dave, api.event(owner, api.organization(owner), sessions=sessions_underway())["id"]
    )

    recorded = api.client.post(
        url,
        headers=owner.headers,
        json={
            "attendees": [
                {"registration_id": alices["id"]},  # by registration (a QR list, say)
                {"user_id": carol.id},  # by person: attached to her registration
                {"walk_in": {"email": "Walk.In@Example.org", "first_name": "Wal"}},
            ]
        },
    )
    assert recorded.status_code == 200, recorded.text
    assert [(r["user_id"], r["registration_id"]) for r in recorded.json()] == [
        (alice.id, alices["id"]),
        (carol.id, carols["id"]),
        (None, None),
    ]
    assert recorded.json()[2]["walk_in"] == {
        "email": "walk.in@example.org",
        "first_name": "Wal",
        "last_name": "",
    }

    for attendee, field in [
        ({"registration_id": elsewhere["id"]}, "attendees[0].registration_id"),
        ({"registration_id": str(uuid.uuid4())}, "attendees[0].registration_id"),
        ({"user_id": dave.id}, "attendees[0].user_id"),  # registered elsewhere only
        ({"user_id": alice.id, "registration_id": alices["id"]}, "attendees[0].user_id"),
        ({"user_id": alice.id, "walk_in": {"email": "a@example.org"}}, "attendees[0].user_id"),
        ({"minutes_attended": 5}, "attendees[0].user_id"),
        ({"walk_in": {"email": "not an email"}}, "attendees[0].walk_in.email"),
    ]:
        assert_problem(
            api.client.post(url, headers=owner.headers, json={"attendees": [attendee]}), 400, field
        )


def test_staff_learn_nothing_of_other_tenants_users(api: Api) -> None:
    """Staff of one organization name a user of another: refused exactly as an id nobody has,
    and the report never shows that person's account."""
    victim_owner, victim = api.user(), api.user(first_name="Vera", last_name="Secret")
    victims_event = api.event(
        victim_owner, api.organization(victim_owner, "Victim College"), sessions=sessions_underway()
    )
    _register(api, victim, victims_event["id"])
    attacker = api.user()
    event = api.event(
        attacker, api.organization(attacker, "Attacker Ltd"), sessions=sessions_underway()
    )
    url = f"/api/v1/events/{event['id']}/sessions/{event['sessions'][0]['id']}/attendance"

    def attempt(user_id: str) -> dict[str, Any]:
        response = api.client.post(
            url, headers=attacker.headers, json={"attendees": [{"user_id": user_id}]}
        )
        body = assert_problem(response, 400, "attendees[0].user_id")
        return {k: v for k, v in body.items() if k not in ("instance", "request_id")}

    assert attempt(victim.id) == attempt(str(uuid.uuid4()))
    assert attempt(attacker.id) == attempt(str(uuid.uuid4()))  # not registered either
    report = api.client.get(f"/api/v1/events/{event['id']}/attendance", headers=attacker.headers)
    assert report.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert victim.email not in report.text


def test_walk_ins_appear_as_staff_typed_them(api: Api) -> None:
    """A walk-in given the email of someone's account shows what staff typed, not the account."""
    owner, alice, _, event = _setup(api)
    stranger = api.user(first_name="Real", last_name="Name")
    morning, afternoon = (s["id"] for s in event["sessions"])
    base = f"/api/v1/events/{event['id']}"
    for session, minutes, last_name in ((morning, 180, "Typo"), (afternoon, 60, "Typed")):
        walk_in = {"email": stranger.email, "first_name": "As", "last_name": last_name}
        recorded = api.client.post(
            f"{base}/sessions/{session}/attendance",
            headers=owner.headers,
            json={"attendees": [{"walk_in": walk_in, "minutes_attended": minutes}]},
        )
        assert recorded.status_code == 200, recorded.text
    api.client.post(
        f"{base}/sessions/{morning}/attendance",
        headers=owner.headers,
        json={"attendees": [{"user_id": alice.id}]},
    )
    rows = api.client.get(f"{base}/attendance", headers=owner.headers).json()["items"]
    walk_in = next(r for r in rows if r["walk_in"])
    assert walk_in == {
        "user_id": None,
        "walk_in": True,
        "email": stranger.email,
        "first_name": "As",
        "last_name": "Typed",
        "sessions_attended": 2,
        "minutes_attended": 240,
        "scheduled_minutes": 360,
        "percent": 66,
        "threshold_percent": 60,
        "threshold_met": True,
    }
    assert "Real" not in str(rows)
    assert stranger.id not in str(rows)
    assert [(r["email"], r["walk_in"]) for r in rows if not r["walk_in"]] == [(alice.email, False)]
