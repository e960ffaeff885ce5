"""Organizations and members, including cross-tenant isolation on every org-scoped route."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import Api, Caller, assert_problem


def test_creator_becomes_org_admin_and_slug_is_derived(api: Api) -> None:
    owner = api.user()
    org = api.organization(owner, "Royal Society of Ünïcode")
    assert org["slug"] == "royal-society-of-unicode"
    members = api.client.get(
        f"/api/v1/organizations/{org['id']}/members", headers=owner.headers
    ).json()
    assert [(m["email"], m["role"]) for m in members["items"]] == [(owner.email, "org_admin")]
    second = api.organization(owner, "Royal Society of Unicode")
    assert second["slug"] == "royal-society-of-unicode-2"


def test_create_validates_and_rejects_a_taken_slug(api: Api) -> None:
    owner = api.user()
    url = "/api/v1/organizations"
    assert_problem(api.client.post(url, json={"name": ""}, headers=owner.headers), 400, "name")
    assert_problem(
        api.client.post(url, json={"name": "X", "slug": "Bad Slug"}, headers=owner.headers),
        400,
        "slug",
    )
    assert_problem(
        api.client.post(
            url, json={"name": "X", "logo_url": "javascript:alert(1)"}, headers=owner.headers
        ),
        400,
        "logo_url",
    )
    api.client.post(url, json={"name": "X", "slug": "taken"}, headers=owner.headers)
    assert_problem(
        api.client.post(url, json={"name": "Y", "slug": "taken"}, headers=owner.headers),
        409,
        "slug",
    )
    assert_problem(api.client.post(url, json={"name": "Z"}), 401)


def test_list_shows_only_my_organizations_paginated_and_superadmin_sees_all(api: Api) -> None:
    alice, bob = api.user(), api.user()
    for name in ("Alpha", "Beta", "Gamma"):
        api.organization(alice, name)
    api.organization(bob, "Delta")
    page = api.client.get("/api/v1/organizations?limit=2&offset=1", headers=alice.headers).json()
    assert [o["name"] for o in page["items"]] == ["Beta", "Gamma"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    root = api.superadmin()
    everything = api.client.get("/api/v1/organizations", headers=root.headers).json()
    assert everything["total"] == 4
    assert_problem(
        api.client.get("/api/v1/organizations?limit=500", headers=alice.headers), 400, "limit"
    )
    assert_problem(
        api.client.get("/api/v1/organizations?offset=-1", headers=alice.headers), 400, "offset"
    )


def test_update_by_admin_and_refused_to_staff(api: Api) -> None:
    admin, staff = api.user(), api.user()
    org = api.organization(admin)
    api.add_member(org, admin, staff, "org_staff")
    url = f"/api/v1/organizations/{org['id']}"
    changed = api.client.patch(
        url, json={"name": "Renamed", "contact_email": "Office@Example.org"}, headers=admin.headers
    )
    assert changed.status_code == 200
    assert changed.json()["contact_email"] == "office@example.org"
    cleared = api.client.patch(url, json={"contact_email": None}, headers=admin.headers).json()
    assert cleared["contact_email"] is None
    assert cleared["name"] == "Renamed"
    assert_problem(api.client.patch(url, json={"name": "Mine"}, headers=staff.headers), 403)
    assert_problem(
        api.client.patch(url, json={"contact_email": "nope"}, headers=admin.headers),
        400,
        "contact_email",
    )
    assert api.client.get(url, headers=staff.headers).json()["name"] == "Renamed"


def test_member_management(api: Api) -> None:
    admin, member, outsider = api.user(), api.user(), api.user()
    org = api.organization(admin)
    members_url = f"/api/v1/organizations/{org['id']}/members"

    added = api.client.post(
        members_url, json={"email": member.email.upper()}, headers=admin.headers
    )
    assert added.status_code == 201
    assert added.json()["role"] == "member"
    assert_problem(
        api.client.post(members_url, json={"email": member.email}, headers=admin.headers),
        409,
        "email",
    )
    assert_problem(
        api.client.post(members_url, json={"email": "ghost@example.org"}, headers=admin.headers),
        404,
        "email",
    )
    assert_problem(
        api.client.post(
            members_url, json={"email": outsider.email, "role": "king"}, headers=admin.headers
        ),
        400,
        "role",
    )
    # A plain member may neither list nor add members.
    assert_problem(api.client.get(members_url, headers=member.headers), 403)
    assert_problem(
        api.client.post(members_url, json={"email": outsider.email}, headers=member.headers), 403
    )

    promoted = api.client.patch(
        f"{members_url}/{member.id}", json={"role": "org_staff"}, headers=admin.headers
    )
    assert promoted.json()["role"] == "org_staff"
    assert api.client.get(members_url, headers=member.headers).json()["total"] == 2
    assert_problem(
        api.client.patch(
            f"{members_url}/{uuid.uuid4()}", json={"role": "member"}, headers=admin.headers
        ),
        404,
    )

    assert api.client.delete(f"{members_url}/{member.id}", headers=admin.headers).status_code == 204
    assert_problem(
        api.client.get(f"/api/v1/organizations/{org['id']}", headers=member.headers), 404
    )


def test_a_member_may_leave_but_not_remove_others(api: Api) -> None:
    admin, one, two = api.user(), api.user(), api.user()
    org = api.organization(admin)
    api.add_member(org, admin, one, "member")
    api.add_member(org, admin, two, "member")
    url = f"/api/v1/organizations/{org['id']}/members"
    assert_problem(api.client.delete(f"{url}/{two.id}", headers=one.headers), 403)
    assert api.client.delete(f"{url}/{one.id}", headers=one.headers).status_code == 204


def test_the_last_org_admin_can_be_neither_demoted_nor_removed(api: Api) -> None:
    admin, other = api.user(), api.user()
    org = api.organization(admin)
    url = f"/api/v1/organizations/{org['id']}/members"
    assert_problem(
        api.client.patch(f"{url}/{admin.id}", json={"role": "member"}, headers=admin.headers),
        409,
        "role",
    )
    assert_problem(api.client.delete(f"{url}/{admin.id}", headers=admin.headers), 409)
    api.add_member(org, admin, other, "org_admin")
    demoted = api.client.patch(f"{url}/{admin.id}", json={"role": "member"}, headers=admin.headers)
    assert demoted.status_code == 200
    assert_problem(api.client.delete(f"{url}/{other.id}", headers=other.headers), 409)


def _org_scoped_requests(org_id: str, user_id: str) -> list[tuple[str, str, dict[str, object]]]:
    base = f"/api/v1/organizations/{org_id}"
    return [
        ("GET", base, {}),
        ("PATCH", base, {"name": "Stolen"}),
        ("GET", f"{base}/members", {}),
        ("POST", f"{base}/members", {"email": "anyone@example.org", "role": "org_admin"}),
        ("PATCH", f"{base}/members/{user_id}", {"role": "member"}),
        ("DELETE", f"{base}/members/{user_id}", {}),
    ]


def _send(api: Api, caller: Caller | None, method: str, url: str, body: dict[str, object]) -> int:
    headers = caller.headers if caller else {}
    kwargs: dict[str, object] = {"headers": headers}
    if method in ("POST", "PATCH"):
        kwargs["json"] = body
    return int(api.client.request(method, url, **kwargs).status_code)  # type: ignore[arg-type]


def test_other_tenants_get_404_on_every_org_scoped_route(api: Api) -> None:
    owner, stranger = api.user(), api.user()
    org = api.organization(owner)
    api.organization(stranger, "Stranger's own")
    for method, url, body in _org_scoped_requests(org["id"], owner.id):
        assert _send(api, stranger, method, url, body) == 404, (method, url)
        assert _send(api, None, method, url, body) == 401, (method, url)
    # Nothing changed for the owner.
    after = api.client.get(f"/api/v1/organizations/{org['id']}", headers=owner.headers).json()
    assert after["name"] == org["name"]
    listing = api.client.get("/api/v1/organizations", headers=stranger.headers).json()
    assert org["id"] not in [o["id"] for o in listing["items"]]


def test_unknown_organization_and_bad_ids(api: Api) -> None:
    caller = api.user()
    assert_problem(
        api.client.get(f"/api/v1/organizations/{uuid.uuid4()}", headers=caller.headers), 404
    )
    response = api.client.get("/api/v1/organizations/not-a-uuid", headers=caller.headers)
    assert response.status_code in (400, 404)
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("prefix", ["/api/v1", "/api"])
def test_both_prefixes_and_trailing_slashes_are_served(api: Api, prefix: str) -> None:
    caller = api.user()
    for path in (f"{prefix}/organizations", f"{prefix}/organizations/"):
        assert api.client.get(path, headers=caller.headers).status_code == 200
    assert api.client.get(f"{prefix}/users/me/", headers=caller.headers).status_code == 200
