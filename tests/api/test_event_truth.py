"""What event answers say about seats and time must be true: every write answers with the seat
count a ``GET`` shows, and an event is run in the order time allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import Api, Caller
from tests.api.test_certificates import timed  # noqa: F401  (the fixture)
from tests.unit.fakes import FakeClock


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
    timed: tuple[Api, FakeClock],  # noqa: F811
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
    timed: tuple[Api, FakeClock],  # noqa: F811
) -> None:
    api, clock = timed
    owner, ann = api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org, capacity=4, sessions=one_session(clock.now() + timedelta(days=1)))
    book(api, event, ann)
    cancelled = api.client.post(f"/api/v1/events/{event['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["seats_available"] == 4 == seats_now(api, event["id"], owner)
