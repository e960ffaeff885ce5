"""Courses over HTTP: catalog, staff management, enrolment."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import Api, Caller, assert_problem


def make_course(
    api: Api, owner: Caller, org: dict[str, Any], *, publish: bool = True, **fields: Any
) -> dict[str, Any]:
    body = {"organization_id": org["id"], "title": "Risk management"} | fields
    response = api.client.post("/api/v1/courses", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    course = dict(response.json())
    if publish:
        course = dict(
            api.client.post(f"/api/v1/courses/{course['id']}/publish", headers=owner.headers).json()
        )
    return course


@pytest.fixture
def staffed(api: Api) -> tuple[Caller, dict[str, Any]]:
    owner = api.user()
    return owner, api.organization(owner, "Institute of Courses")


def test_course_shape_catalog_and_filters(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    course = make_course(
        api,
        owner,
        org,
        mode="cohort",
        cpd_credits="12.50",
        price={"amount": 9900, "currency": "EUR"},
        description="Deep dive",
    )
    assert set(course) == {
        "id",
        "organization",
        "title",
        "slug",
        "description",
        "mode",
        "price",
        "cpd_credits",
        "credit_category",
        "status",
    }
    assert (course["status"], course["cpd_credits"], course["mode"]) == (
        "published",
        "12.5",
        "cohort",
    )
    make_course(api, owner, org, title="Audit basics")
    make_course(api, owner, org, title="Unreleased", publish=False)

    def titles(query: str = "") -> list[str]:
        return [c["title"] for c in api.client.get(f"/api/v1/courses{query}").json()["items"]]

    assert titles() == ["Audit basics", "Risk management"]
    assert titles("?free=true") == ["Audit basics"]
    assert titles("?mode=cohort") == ["Risk management"]
    assert titles("?q=deep") == ["Risk management"]
    assert titles(f"?organization={org['slug']}&limit=1") == ["Audit basics"]
    assert api.client.get("/api/v1/courses").json()["total"] == 2
    assert api.client.get(f"/api/v1/courses/{course['id']}").json()["id"] == course["id"]
    assert_problem(api.client.get("/api/v1/courses?mode=lecture"), 400, "mode")


def test_course_lifecycle(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    draft = make_course(api, owner, org, publish=False)
    assert_problem(api.client.get(f"/api/v1/courses/{draft['id']}"), 404)
    assert (
        api.client.get(f"/api/v1/courses/{draft['id']}", headers=owner.headers).status_code == 200
    )
    changed = api.client.patch(
        f"/api/v1/courses/{draft['id']}",
        headers=owner.headers,
        json={"title": "Renamed", "credit_category": "Ethics"},
    )
    assert changed.json()["title"] == "Renamed"
    assert_problem(
        api.client.patch(
            f"/api/v1/courses/{draft['id']}", headers=owner.headers, json={"cpd_credits": "abc"}
        ),
        400,
        "cpd_credits",
    )
    assert (
        api.client.delete(f"/api/v1/courses/{draft['id']}", headers=owner.headers).status_code
        == 204
    )

    live = make_course(api, owner, org, title="Live")
    assert_problem(api.client.delete(f"/api/v1/courses/{live['id']}", headers=owner.headers), 409)
    archived = api.client.post(f"/api/v1/courses/{live['id']}/archive", headers=owner.headers)
    assert archived.json()["status"] == "archived"
    assert_problem(
        api.client.post(f"/api/v1/courses/{live['id']}/archive", headers=owner.headers), 409
    )
    assert api.client.get("/api/v1/courses").json()["total"] == 0


def test_enrolment_rules(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    learner = api.user()
    free = make_course(api, owner, org, title="Free")
    paid = make_course(api, owner, org, title="Paid", price={"amount": 5000, "currency": "GBP"})
    draft = make_course(api, owner, org, title="Draft", publish=False)

    enrolled = api.client.post(f"/api/v1/courses/{free['id']}/enroll", headers=learner.headers)
    assert enrolled.status_code == 201
    assert enrolled.json()["course_id"] == free["id"]
    assert enrolled.json()["status"] == "active"
    assert_problem(
        api.client.post(f"/api/v1/courses/{free['id']}/enroll", headers=learner.headers), 409
    )
    paid_problem = assert_problem(
        api.client.post(f"/api/v1/courses/{paid['id']}/enroll", headers=learner.headers),
        409,
        "price",
    )
    assert "paid" in paid_problem["detail"]
    assert_problem(
        api.client.post(f"/api/v1/courses/{draft['id']}/enroll", headers=learner.headers), 404
    )
    assert_problem(
        api.client.post(f"/api/v1/courses/{uuid.uuid4()}/enroll", headers=learner.headers), 404
    )
    assert_problem(api.client.post(f"/api/v1/courses/{free['id']}/enroll"), 401)
    # A course with enrolments cannot be deleted even as a draft would be.
    assert_problem(api.client.delete(f"/api/v1/courses/{free['id']}", headers=owner.headers), 409)


def test_every_course_staff_route_refuses_outsiders(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    member, stranger = api.user(), api.user()
    api.add_member(org, owner, member, "member")
    course = make_course(api, owner, org, publish=False)
    base = f"/api/v1/courses/{course['id']}"
    routes: list[tuple[str, str, Any]] = [
        ("PATCH", base, {"title": "Hijacked"}),
        ("DELETE", base, None),
        ("POST", f"{base}/publish", None),
        ("POST", f"{base}/archive", None),
    ]
    for method, url, body in routes:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        assert (
            api.client.request(method, url, headers=stranger.headers, **kwargs).status_code == 404
        )
        assert api.client.request(method, url, headers=member.headers, **kwargs).status_code == 403
        assert api.client.request(method, url, **kwargs).status_code == 401
    create = {"organization_id": org["id"], "title": "Mine"}
    assert_problem(api.client.post("/api/v1/courses", json=create, headers=stranger.headers), 404)
    assert_problem(api.client.post("/api/v1/courses", json=create, headers=member.headers), 403)
    assert api.client.get(base, headers=owner.headers).json()["title"] == course["title"]
