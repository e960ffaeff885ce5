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
    invitations_url = f"/api/v1/organizations/{org['id']}/invitations"

    token = api.invite(org, admin, member.email.upper(), "member")
    assert api.client.get(members_url, headers=admin.headers).json()["total"] == 1  # not yet
    joined = api.client.post(
        "/api/v1/invitations/accept", json={"token": token}, headers=member.headers
    )
    assert joined.status_code == 200, joined.text
    assert (joined.json()["organization"]["id"], joined.json()["role"]) == (org["id"], "member")
    assert_problem(
        api.client.post(
            invitations_url, json={"email": outsider.email, "role": "king"}, headers=admin.headers
        ),
        400,
        "role",
    )
    assert_problem(
        api.client.post(invitations_url, json={"email": "not an email"}, headers=admin.headers),
        400,
        "email",
    )
    # A plain member may neither list members nor invite.
    assert_problem(api.client.get(members_url, headers=member.headers), 403)
    assert_problem(
        api.client.post(invitations_url, json={"email": outsider.email}, headers=member.headers),
        403,
    )
    assert_problem(api.client.get(invitations_url, headers=member.headers), 403)

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


def test_an_invitation_says_sent_for_any_address_and_reveals_no_account(api: Api) -> None:
    admin, known = api.user(), api.user(first_name="Known", last_name="Person")
    org = api.organization(admin)
    url = f"/api/v1/organizations/{org['id']}/invitations"
    answers = []
    for email in (known.email, "nobody-has-this@example.org"):
        response = api.client.post(
            url, json={"email": email, "role": "org_admin"}, headers=admin.headers
        )
        assert response.status_code == 202, response.text
        body = response.json()
        answers.append(sorted(body))
        assert (body["email"], body["role"], body["status"]) == (email, "org_admin", "pending")
        assert "Known" not in response.text
        assert known.id not in response.text
    assert answers[0] == answers[1]
    # Nobody became a member, not even the address that has an account.
    members = api.client.get(f"/api/v1/organizations/{org['id']}/members", headers=admin.headers)
    assert [m["email"] for m in members.json()["items"]] == [admin.email]
    assert api.sent_mail("nobody-has-this@example.org", about="invites you")


def test_only_the_invited_account_accepts_and_a_withdrawn_link_fails(api: Api) -> None:
    admin, invited, other = api.user(), api.user(), api.user()
    org = api.organization(admin)
    token = api.invite(org, admin, invited.email, "org_staff")
    accept = "/api/v1/invitations/accept"
    assert_problem(api.client.post(accept, json={"token": token}, headers=other.headers), 403)
    assert_problem(api.client.post(accept, json={"token": token}), 401)
    assert_problem(
        api.client.post(accept, json={"token": "guessed"}, headers=invited.headers), 400, "token"
    )

    url = f"/api/v1/organizations/{org['id']}/invitations"
    listed = api.client.get(url, headers=admin.headers).json()
    assert [(i["email"], i["role"], i["status"]) for i in listed["items"]] == [
        (invited.email, "org_staff", "pending")
    ]
    invitation_id = listed["items"][0]["id"]
    revoked = api.client.delete(f"{url}/{invitation_id}", headers=admin.headers)
    assert revoked.status_code == 204
    assert_problem(
        api.client.post(accept, json={"token": token}, headers=invited.headers), 400, "token"
    )
    assert api.client.get(url, headers=admin.headers).json()["items"][0]["status"] == "revoked"
    assert_problem(api.client.delete(f"{url}/{uuid.uuid4()}", headers=admin.headers), 404)

    again = api.invite(org, admin, invited.email, "org_staff")
    assert (
        api.client.post(accept, json={"token": again}, headers=invited.headers).status_code == 200
    )
    assert_problem(api.client.post(accept, json={"token": again}, headers=invited.headers), 400)
    newest = api.client.get(url, headers=admin.headers).json()["items"][0]
    assert newest["status"] == "accepted"
    assert_problem(api.client.delete(f"{url}/{newest['id']}", headers=admin.headers), 409)


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
        ("POST", f"{base}/invitations", {"email": "anyone@example.org", "role": "org_admin"}),
        ("GET", f"{base}/invitations", {}),
        ("DELETE", f"{base}/invitations/{uuid.uuid4()}", {}),
        ("POST", f"{base}/approve", {}),
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


APPROVAL = [{"organization_signup": "approval"}]


@pytest.mark.parametrize("api_settings", APPROVAL)
def test_a_new_organization_prepares_but_publishes_only_once_approved(api: Api) -> None:
    owner = api.user()
    org = api.organization(owner)
    assert (org["status"], org["approved_at"]) == ("pending_approval", None)
    draft = api.event(owner, org, publish=False, price={"amount": 2500, "currency": "GBP"})
    refused = api.client.post(f"/api/v1/events/{draft['id']}/publish", headers=owner.headers)
    assert "awaits approval" in assert_problem(refused, 409)["detail"]
    course = api.client.post(
        "/api/v1/courses",
        json={"organization_id": org["id"], "title": "Ethics", "mode": "self_paced"},
        headers=owner.headers,
    )
    assert course.status_code == 201, course.text
    course_url = f"/api/v1/courses/{course.json()['id']}/publish"
    assert_problem(api.client.post(course_url, headers=owner.headers), 409)
    # Nobody can book (so nobody pays) for what is not published.
    booker = api.user()
    booking = api.client.post(
        "/api/v1/registrations", json={"event_id": draft["id"]}, headers=booker.headers
    )
    assert booking.status_code == 404

    approve_url = f"/api/v1/organizations/{org['id']}/approve"
    assert_problem(api.client.post(approve_url, headers=owner.headers), 403)
    assert_problem(api.client.post(approve_url, headers=booker.headers), 404)
    root = api.superadmin()
    approved = api.client.post(approve_url, headers=root.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_at"] is not None
    seen = api.client.get(f"/api/v1/organizations/{org['id']}", headers=owner.headers).json()
    assert seen["status"] == "approved"
    published = api.client.post(f"/api/v1/events/{draft['id']}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    assert api.client.post(course_url, headers=owner.headers).status_code == 200
    # A superadmin's own organization needs no one's approval.
    assert api.organization(root, "Platform Academy")["status"] == "approved"


@pytest.mark.parametrize("api_settings", [{"organization_signup": "closed"}])
def test_closed_signup_leaves_organizations_to_superadmins(api: Api) -> None:
    refused = api.client.post(
        "/api/v1/organizations", json={"name": "Mine"}, headers=api.user().headers
    )
    assert_problem(refused, 403)
    assert api.organization(api.superadmin(), "Platform Academy")["status"] == "approved"


def test_open_signup_approves_at_once(api: Api) -> None:
    org = api.organization(api.user())
    assert org["status"] == "approved"
    assert org["approved_at"] == org["created_at"]
