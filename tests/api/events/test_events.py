"""Events over HTTP: the public catalog, staff management, sessions and calendars."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from tests.api.conftest import Api, Caller, assert_problem


@pytest.fixture
def staffed(api: Api) -> tuple[Caller, dict[str, Any]]:
    owner = api.user()
    return owner, api.organization(owner, "Royal College")


def test_create_returns_the_documented_shape(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(
        owner,
        org,
        publish=False,
        capacity=40,
        tags=["Ethics", "law", "ethics"],
        price={"amount": 2500, "currency": "GBP"},
        cpd_credits="1.50",
        summary="Short",
    )
    assert set(event) == {
        "id",
        "organization",
        "title",
        "slug",
        "summary",
        "description",
        "format",
        "venue",
        "timezone",
        "starts_at",
        "ends_at",
        "capacity",
        "seats_available",
        "price",
        "cpd_credits",
        "credit_category",
        "tags",
        "status",
        "registration_opens_at",
        "registration_closes_at",
        "attendance_threshold_percent",
        "sessions",
    }
    assert event["organization"] == {"id": org["id"], "name": org["name"], "slug": org["slug"]}
    assert event["slug"] == "ethics-in-practice"
    assert event["status"] == "draft"
    assert event["price"] == {"amount": 2500, "currency": "GBP"}
    assert event["cpd_credits"] == "1.5"
    assert event["tags"] == ["ethics", "law"]
    assert (event["capacity"], event["seats_available"]) == (40, 40)
    assert event["starts_at"] == "2027-03-01T09:00:00Z"
    assert event["ends_at"] == "2027-03-01T16:00:00Z"
    assert [s["title"] for s in event["sessions"]] == ["Morning", "Afternoon"]
    assert event["attendance_threshold_percent"] == 75


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "floating"}, "format"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"capacity": 0}, "capacity"),
        ({"cpd_credits": "1.555"}, "cpd_credits"),
        ({"cpd_credits": "-1"}, "cpd_credits"),
        ({"price": {"amount": -1, "currency": "GBP"}}, "price.amount"),
        ({"price": {"amount": 1, "currency": "pounds"}}, "price.currency"),
        ({"attendance_threshold_percent": 101}, "attendance_threshold_percent"),
        ({"title": ""}, "title"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"starts_at": "2027-03-01T09:00:00"}, "starts_at"),
        (
            {
                "registration_opens_at": "2027-02-01T00:00:00Z",
                "registration_closes_at": "2027-01-01T00:00:00Z",
            },
            "registration_closes_at",
        ),
        (
            {
                "sessions": [
                    {
                        "title": "A",
                        "starts_at": "2027-03-01T10:00:00Z",
                        "ends_at": "2027-03-01T09:00:00Z",
                    }
                ]
            },
            "sessions.ends_at",
        ),
        (
            {
                "sessions": [
                    {
                        "title": "A",
                        "starts_at": "2027-03-01T09:00:00Z",
                        "ends_at": "2027-03-01T11:00:00Z",
                    },
                    {
                        "title": "B",
                        "starts_at": "2027-03-01T10:00:00Z",
                        "ends_at": "2027-03-01T12:00:00Z",
                    },
                ]
            },
            "sessions",
        ),
        ({"unexpected": 1}, "body"),
    ],
)
def test_bad_event_input_names_the_field_and_saves_nothing(
    api: Api, staffed: tuple[Caller, dict[str, Any]], change: dict[str, Any], field: str
) -> None:
    owner, org = staffed
    body = {"organization_id": org["id"], "title": "T", "format": "online"} | change
    response = api.client.post("/api/v1/events", json=body, headers=owner.headers)
    problem = assert_problem(response, 400)
    assert (
        any(e["field"].startswith(field) for e in problem.get("errors", [])) or field == "body"
    ), problem
    listing = api.client.get(f"/api/v1/organizations/{org['id']}/events", headers=owner.headers)
    assert listing.json()["total"] == 0


def test_publishing_needs_sessions_and_a_venue_unless_online(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    bare = api.event(owner, org, publish=False, sessions=[], venue=None, title="Bare")
    url = f"/api/v1/events/{bare['id']}/publish"
    assert_problem(api.client.post(url, headers=owner.headers), 400, "sessions")
    api.client.post(
        f"/api/v1/events/{bare['id']}/sessions",
        headers=owner.headers,
        json={
            "title": "Only",
            "starts_at": "2027-04-01T09:00:00Z",
            "ends_at": "2027-04-01T10:00:00Z",
        },
    )
    assert_problem(api.client.post(url, headers=owner.headers), 400, "venue")
    api.client.patch(
        f"/api/v1/events/{bare['id']}", headers=owner.headers, json={"format": "online"}
    )
    published = api.client.post(url, headers=owner.headers)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert_problem(api.client.post(url, headers=owner.headers), 409)


def test_lifecycle_and_delete_rules(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    draft = api.event(owner, org, publish=False, title="Draft")
    assert (
        api.client.delete(f"/api/v1/events/{draft['id']}", headers=owner.headers).status_code == 204
    )
    assert_problem(api.client.get(f"/api/v1/events/{draft['id']}", headers=owner.headers), 404)

    live = api.event(owner, org, title="Live")
    problem = assert_problem(
        api.client.delete(f"/api/v1/events/{live['id']}", headers=owner.headers), 409
    )
    assert "cancel" in problem["detail"]
    cancelled = api.client.post(f"/api/v1/events/{live['id']}/cancel", headers=owner.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert_problem(
        api.client.patch(
            f"/api/v1/events/{live['id']}", json={"title": "X"}, headers=owner.headers
        ),
        409,
    )
    assert_problem(
        api.client.post(f"/api/v1/events/{live['id']}/complete", headers=owner.headers), 409
    )


def test_complete_only_after_the_event_started(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    future = api.event(owner, org, title="Future")
    assert_problem(
        api.client.post(f"/api/v1/events/{future['id']}/complete", headers=owner.headers), 409
    )
    now = datetime.now(UTC)
    running = api.event(
        owner,
        org,
        title="Running",
        sessions=[
            {
                "title": "Now",
                "starts_at": (now - timedelta(minutes=10)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
            }
        ],
    )
    url = f"/api/v1/events/{running['id']}/complete"
    assert_problem(api.client.post(url, headers=owner.headers), 409, "override_reason")
    done = api.client.post(url, json={"override_reason": "Ended early"}, headers=owner.headers)
    assert done.json()["status"] == "completed"


def test_patch_changes_only_what_was_sent(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    event = api.event(owner, org, capacity=10)
    changed = api.client.patch(
        f"/api/v1/events/{event['id']}",
        headers=owner.headers,
        json={"title": "Renamed", "capacity": None, "tags": ["new"]},
    ).json()
    assert changed["title"] == "Renamed"
    assert changed["capacity"] is None
    assert changed["seats_available"] is None
    assert changed["tags"] == ["new"]
    assert changed["venue"] == event["venue"]
    removing_venue = api.client.patch(
        f"/api/v1/events/{event['id']}", headers=owner.headers, json={"venue": None}
    )
    assert_problem(removing_venue, 400, "venue")  # a published in-person event keeps a venue


def test_sessions_crud_keeps_event_times_in_step(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(owner, org)
    url = f"/api/v1/events/{event['id']}/sessions"
    added = api.client.post(
        url,
        headers=owner.headers,
        json={
            "title": "Evening",
            "starts_at": "2027-03-01T17:00:00Z",
            "ends_at": "2027-03-01T18:30:00Z",
            "room": "B2",
        },
    )
    assert added.status_code == 201, added.text
    session = added.json()
    assert session["room"] == "B2"
    assert (
        api.client.get(f"/api/v1/events/{event['id']}").json()["ends_at"] == "2027-03-01T18:30:00Z"
    )

    overlapping = api.client.post(
        url,
        headers=owner.headers,
        json={
            "title": "Clash",
            "starts_at": "2027-03-01T11:00:00Z",
            "ends_at": "2027-03-01T13:30:00Z",
        },
    )
    assert_problem(overlapping, 400, "sessions")

    moved = api.client.patch(
        f"{url}/{session['id']}", headers=owner.headers, json={"ends_at": "2027-03-01T19:00:00Z"}
    )
    assert moved.json()["ends_at"] == "2027-03-01T19:00:00Z"
    assert_problem(
        api.client.patch(f"{url}/{uuid.uuid4()}", headers=owner.headers, json={"title": "x"}), 404
    )
    assert api.client.delete(f"{url}/{session['id']}", headers=owner.headers).status_code == 204
    listed = api.client.get(url).json()["items"]
    assert [s["title"] for s in listed] == ["Morning", "Afternoon"]
    assert (
        api.client.get(f"/api/v1/events/{event['id']}").json()["ends_at"] == "2027-03-01T16:00:00Z"
    )


def test_public_catalog_filters_and_paginates(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    other_owner = api.user()
    other = api.organization(other_owner, "Guild of Testers")

    def when(day: int) -> list[dict[str, str]]:
        return [
            {
                "title": "S",
                "starts_at": f"2027-05-{day:02d}T09:00:00Z",
                "ends_at": f"2027-05-{day:02d}T10:00:00Z",
            }
        ]

    api.event(
        owner,
        org,
        title="Contract law update",
        sessions=when(3),
        tags=["law"],
        price={"amount": 1000, "currency": "GBP"},
        capacity=20,
    )
    api.event(
        owner,
        org,
        title="Mindful leadership",
        sessions=when(1),
        format="online",
        venue=None,
        summary="Leading teams with care",
    )
    api.event(other_owner, other, title="Testing law firms", sessions=when(2), tags=["law"])
    api.event(owner, org, title="Secret draft", sessions=when(4), publish=False)

    def titles(query: str = "") -> list[str]:
        response = api.client.get(f"/api/v1/events{query}")
        assert response.status_code == 200, response.text
        return [e["title"] for e in response.json()["items"]]

    assert titles() == ["Mindful leadership", "Testing law firms", "Contract law update"]
    assert titles("?q=law") == ["Testing law firms", "Contract law update"]
    assert titles("?q=care") == ["Mindful leadership"]
    assert titles("?format=online") == ["Mindful leadership"]
    assert titles(f"?organization={org['slug']}") == ["Mindful leadership", "Contract law update"]
    assert titles(f"?organization={other['id']}") == ["Testing law firms"]
    assert titles("?organization=no-such-org") == []
    assert titles("?tag=LAW") == ["Testing law firms", "Contract law update"]
    assert titles("?starts_after=2027-05-02T00:00:00Z") == [
        "Testing law firms",
        "Contract law update",
    ]
    assert titles("?starts_before=2027-05-02T00:00:00%2B00:00") == ["Mindful leadership"]
    assert titles("?free=false") == ["Contract law update"]
    assert titles("?free=true&tag=law") == ["Testing law firms"]
    assert titles("?has_capacity=true") == [
        "Mindful leadership",
        "Testing law firms",
        "Contract law update",
    ]
    page = api.client.get("/api/v1/events?limit=2&offset=1").json()
    assert [e["title"] for e in page["items"]] == ["Testing law firms", "Contract law update"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("format=zoo", "format"),
        ("starts_after=yesterday", "starts_after"),
        ("starts_after=2027-01-01T00:00:00", "starts_after"),
        ("free=maybe", "free"),
    ],
)
def test_bad_catalog_queries_are_400(api: Api, query: str, field: str) -> None:
    assert_problem(api.client.get(f"/api/v1/events?{query}"), 400, field)


def test_anonymous_catalog_is_cached_and_a_change_shows_at_once(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(owner, org)
    first = api.client.get("/api/v1/events")
    assert first.headers["cache-control"] == "public, max-age=30"
    assert "Authorization" in first.headers["vary"]
    api.client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Renamed"}, headers=owner.headers
    )
    assert api.client.get("/api/v1/events").json()["items"][0]["title"] == "Renamed"
    assert api.client.get(f"/api/v1/events/{event['id']}").json()["title"] == "Renamed"
    signed_in = api.client.get("/api/v1/events", headers=owner.headers)
    assert signed_in.headers["cache-control"] == "private, no-store"


def test_drafts_are_visible_only_to_their_staff(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    member, stranger = api.user(), api.user()
    api.add_member(org, owner, member, "member")
    draft = api.event(owner, org, publish=False)
    url = f"/api/v1/events/{draft['id']}"
    assert api.client.get(url, headers=owner.headers).json()["status"] == "draft"
    assert_problem(api.client.get(url), 404)
    assert_problem(api.client.get(url, headers=member.headers), 404)
    assert_problem(api.client.get(url, headers=stranger.headers), 404)
    assert_problem(api.client.get(f"{url}/sessions"), 404)
    assert_problem(
        api.client.get(f"/api/v1/organizations/{org['slug']}/events/{draft['slug']}"), 404
    )
    assert_problem(api.client.get(url, headers={"Authorization": "Bearer nonsense"}), 401)


def test_event_by_organization_and_event_slug(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(owner, org)
    found = api.client.get(f"/api/v1/organizations/{org['slug']}/events/{event['slug']}")
    assert found.json()["id"] == event["id"]
    assert_problem(api.client.get(f"/api/v1/organizations/{org['slug']}/events/nope"), 404)
    assert_problem(api.client.get(f"/api/v1/organizations/nope/events/{event['slug']}"), 404)


def test_staff_list_includes_drafts_and_filters_by_status(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    api.event(owner, org, title="Live")
    api.event(owner, org, title="Draft", publish=False)
    url = f"/api/v1/organizations/{org['id']}/events"
    assert api.client.get(url, headers=owner.headers).json()["total"] == 2
    drafts = api.client.get(f"{url}?status=draft", headers=owner.headers).json()
    assert [e["title"] for e in drafts["items"]] == ["Draft"]
    assert_problem(api.client.get(f"{url}?status=nonsense", headers=owner.headers), 400, "status")


def _staff_routes(event_id: str, session_id: str, org_id: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/events/{event_id}"
    return [
        ("PATCH", base, {"title": "Hijacked"}),
        ("DELETE", base, None),
        ("POST", f"{base}/publish", None),
        ("POST", f"{base}/cancel", None),
        ("POST", f"{base}/complete", None),
        (
            "POST",
            f"{base}/sessions",
            {"title": "X", "starts_at": "2027-06-01T09:00:00Z", "ends_at": "2027-06-01T10:00:00Z"},
        ),
        ("PATCH", f"{base}/sessions/{session_id}", {"title": "X"}),
        ("DELETE", f"{base}/sessions/{session_id}", None),
        (
            "POST",
            f"{base}/sessions/{session_id}/attendance",
            {"attendees": [{"user_id": str(uuid.uuid4())}]},
        ),
        ("GET", f"{base}/attendance", None),
        ("GET", f"/api/v1/organizations/{org_id}/events", None),
    ]


def test_every_staff_route_refuses_other_tenants_members_and_anonymous(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    member, stranger = api.user(), api.user()
    api.add_member(org, owner, member, "member")
    api.organization(stranger, "Stranger's own")
    event = api.event(owner, org)
    for method, url, body in _staff_routes(event["id"], event["sessions"][0]["id"], org["id"]):
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        assert (
            api.client.request(method, url, headers=stranger.headers, **kwargs).status_code == 404
        ), (method, url)
        assert (
            api.client.request(method, url, headers=member.headers, **kwargs).status_code == 403
        ), (method, url)
        assert api.client.request(method, url, **kwargs).status_code == 401, (method, url)
    create = {"organization_id": org["id"], "title": "Mine now", "format": "online"}
    assert_problem(api.client.post("/api/v1/events", json=create, headers=stranger.headers), 404)
    assert_problem(api.client.post("/api/v1/events", json=create, headers=member.headers), 403)
    after = api.client.get(f"/api/v1/events/{event['id']}").json()
    assert after == event  # nothing changed


def test_org_staff_may_run_events(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    staff = api.user()
    api.add_member(org, owner, staff, "org_staff")
    event = api.event(staff, org, title="Run by staff")
    assert event["status"] == "published"


def test_event_calendar_parses_back_with_one_vevent_per_session(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(owner, org)
    for path in (
        f"/api/v1/events/{event['id']}.ics",
        f"/api/v1/events/{event['id']}/calendar.ics",
        f"/api/events/{event['id']}.ics",
    ):
        response = api.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    entries = calendar.walk("VEVENT")
    assert len(entries) == 2
    first = entries[0]
    start = first.decoded("dtstart")
    assert str(first["dtstart"].params["TZID"]) == "Europe/London"
    assert start.astimezone(UTC) == datetime(2027, 3, 1, 9, tzinfo=UTC)
    assert "Main hall" in str(first["location"])
    assert str(first["uid"]) == f"{event['sessions'][0]['id']}@cpd"
    assert calendar.walk("VTIMEZONE")


def test_organization_calendar_lists_published_events_only(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    api.event(owner, org, title="One")
    api.event(
        owner,
        org,
        title="Two",
        sessions=[
            {"title": "Two", "starts_at": "2027-04-01T09:00:00Z", "ends_at": "2027-04-01T10:00:00Z"}
        ],
    )
    api.event(owner, org, title="Hidden", publish=False)
    response = api.client.get(f"/api/v1/organizations/{org['slug']}/events.ics")
    calendar = icalendar.Calendar.from_ical(response.content)
    summaries = sorted(str(e["summary"]) for e in calendar.walk("VEVENT"))
    assert summaries == ["One: Afternoon", "One: Morning", "Two"]
    assert_problem(api.client.get(f"/api/v1/events/{uuid.uuid4()}.ics"), 404)


def test_renaming_the_organization_shows_on_cached_event_pages(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(owner, org)
    assert (
        api.client.get(f"/api/v1/events/{event['id']}").json()["organization"]["name"]
        == org["name"]
    )
    api.client.patch(
        f"/api/v1/organizations/{org['id']}",
        json={"name": "Renamed College"},
        headers=owner.headers,
    )
    assert (
        api.client.get(f"/api/v1/events/{event['id']}").json()["organization"]["name"]
        == "Renamed College"
    )
