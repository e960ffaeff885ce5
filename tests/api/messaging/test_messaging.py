"""The communication log, notifications and preferences over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.api.conftest import Api, Caller, assert_problem, eventually


def polled(fetch: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> Any:
    """Emails go out from the relay in the background: the body once ``done`` holds."""
    body = eventually(lambda: found if done(found := fetch()) else None)
    assert body is not None, "timed out"
    return body


def booked(api: Api, **event_fields: Any) -> tuple[Caller, dict[str, Any], dict[str, Any], Caller]:
    """An org admin, their organization and event, and someone registered for it."""
    admin = api.user()
    org = api.organization(admin, f"College {uuid.uuid4().hex[:6]}")
    event = api.event(admin, org, **event_fields)
    person = api.user()
    response = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=person.headers
    )
    assert response.status_code == 201, response.text
    return admin, org, event, person


def get(api: Api, url: str, caller: Caller) -> dict[str, Any]:
    response = api.client.get(url, headers=caller.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_staff_see_the_organizations_communications_and_outsiders_do_not(api: Api) -> None:
    admin, org, event, person = booked(api)
    url = f"/api/v1/organizations/{org['id']}/communications"
    log = polled(lambda: get(api, url, admin), lambda body: body["total"] == 1)
    [entry] = log["items"]
    assert entry["template"] == "registration_confirmed"
    assert entry["subject"] == f"You're booked: {event['title']}"
    assert (entry["recipient"], entry["user_id"]) == (person.email, person.id)
    assert (entry["status"], entry["attempts"], entry["error"]) == ("sent", 1, None)
    assert entry["related_type"] == "registration"
    assert entry["provider_message_id"].endswith("@cpd.tasks>")
    assert entry["sent_at"] is not None
    assert get(api, f"{url}?status=failed", admin)["items"] == []
    assert get(api, f"{url}?status=sent&limit=1&offset=1", admin) == {
        "items": [],
        "total": 1,
        "limit": 1,
        "offset": 1,
    }
    assert_problem(api.client.get(f"{url}?status=bounced", headers=admin.headers), 400, "status")

    staff, member, outsider = api.user(), api.user(), api.user()
    api.add_member(org, admin, staff, "org_staff")
    api.add_member(org, admin, member, "member")
    api.organization(outsider, "Another college")  # an admin, of another tenant
    # The invitations went out on the organization's behalf: its log shows them too.
    seen = get(api, url, staff)["items"]
    assert sorted(c["template"] for c in seen) == [
        "organization_invitation",
        "organization_invitation",
        "registration_confirmed",
    ]
    assert_problem(api.client.get(url, headers=member.headers), 403)
    assert_problem(api.client.get(url, headers=outsider.headers), 404)
    assert_problem(api.client.get(url, headers=person.headers), 404)
    missing = f"/api/v1/organizations/{uuid.uuid4()}/communications"
    assert_problem(api.client.get(missing, headers=admin.headers), 404)
    assert_problem(api.client.get(url), 401)


def test_people_see_their_own_communications_only(api: Api) -> None:
    _, _, _, person = booked(api)
    other = api.user()
    url = "/api/v1/users/me/communications"
    mine = polled(lambda: get(api, url, person), lambda body: body["total"] == 2)
    assert sorted(c["template"] for c in mine["items"]) == ["registration_confirmed", "welcome"]
    assert {c["recipient"] for c in mine["items"]} == {person.email}
    theirs = polled(lambda: get(api, url, other), lambda body: body["total"] == 1)
    assert [c["template"] for c in theirs["items"]] == ["welcome"]


def test_notifications_are_listed_counted_and_marked_read(api: Api) -> None:
    _, _, event, person = booked(api)
    other = api.user()
    url = "/api/v1/notifications"
    listed = polled(lambda: get(api, url, person), lambda body: body["total"] == 2)
    assert listed["unread"] == 2
    titles = {n["kind"]: n["title"] for n in listed["items"]}
    assert titles["registration_confirmed"] == f"You're booked: {event['title']}"
    assert titles["welcome"] == "Welcome to CPD Events"
    confirmed = next(n for n in listed["items"] if n["kind"] == "registration_confirmed")
    assert confirmed["organization_id"] == event["organization"]["id"]
    assert confirmed["read_at"] is None

    assert_problem(api.client.post(f"{url}/{confirmed['id']}/read", headers=other.headers), 404)
    assert_problem(api.client.post(f"{url}/{uuid.uuid4()}/read", headers=person.headers), 404)
    assert confirmed["id"] not in [n["id"] for n in get(api, url, other)["items"]]

    read = api.client.post(f"{url}/{confirmed['id']}/read", headers=person.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    unread = get(api, f"{url}?unread=true", person)
    assert [n["kind"] for n in unread["items"]] == ["welcome"]
    assert (unread["total"], unread["unread"]) == (1, 1)
    assert get(api, f"{url}?limit=1", person)["total"] == 2

    all_read = api.client.post(f"{url}/read-all", headers=person.headers)
    assert (all_read.status_code, all_read.json()) == (200, {"marked": 1})
    assert get(api, url, person)["unread"] == 0
    # The other person's welcome (written by the relay, maybe only now) is untouched.
    others = polled(lambda: get(api, url, other), lambda body: body["total"] == 1)
    assert others["unread"] == 1
    assert_problem(api.client.get(f"{url}?limit=0", headers=person.headers), 400, "limit")


def test_preferences_turn_optional_emails_off_but_notifications_still_arrive(api: Api) -> None:
    url = "/api/v1/users/me/notification-preferences"
    person = api.user()
    assert get(api, url, person) == {
        "event_reminders": True,
        "waitlist_updates": True,
        "updated_at": None,
    }
    changed = api.client.patch(url, json={"waitlist_updates": False}, headers=person.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["waitlist_updates"] is False
    assert changed.json()["event_reminders"] is True
    assert changed.json()["updated_at"] is not None
    assert get(api, url, person)["waitlist_updates"] is False
    bad = api.client.patch(url, json={"event_reminders": "no"}, headers=person.headers)
    assert_problem(bad, 400, "event_reminders")
    assert_problem(
        api.client.patch(url, json={"password_reset": False}, headers=person.headers), 400
    )

    _, _, event, _ = booked(api, capacity=1)  # full now
    response = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=person.headers
    )
    assert response.json()["status"] == "waitlisted"
    notifications = polled(
        lambda: get(api, "/api/v1/notifications", person),
        lambda body: "registration_waitlisted" in [n["kind"] for n in body["items"]],
    )
    assert notifications["unread"] == 2  # welcome and waitlisted
    assert api.sent_mail(person.email, about="waitlist", timeout=0.3) == []
    log = get(api, "/api/v1/users/me/communications", person)
    assert [c["template"] for c in log["items"]] == ["welcome"]
