"""The caller's own account: GET and PATCH /users/me."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


def test_me_shows_account_and_empty_profile(api: Api) -> None:
    caller = api.user("ada@example.org")
    body = api.client.get("/api/v1/users/me", headers=caller.headers).json()
    assert body["email"] == "ada@example.org"
    assert body["is_superadmin"] is False
    assert set(body["profile"]) == {
        "professional_title",
        "professional_body",
        "registration_number",
        "phone",
        "timezone",
        "bio",
    }
    assert all(value is None for value in body["profile"].values())


def test_patch_me_changes_only_what_was_sent_and_null_clears(api: Api) -> None:
    caller = api.user()
    first = api.client.patch(
        "/api/v1/users/me",
        json={
            "first_name": "Ada",
            "profile": {
                "professional_title": "Dr",
                "phone": "+44 20 1234",
                "timezone": "Europe/London",
            },
        },
        headers=caller.headers,
    )
    assert first.status_code == 200, first.text
    second = api.client.patch(
        "/api/v1/users/me", json={"profile": {"phone": None}}, headers=caller.headers
    ).json()
    assert second["first_name"] == "Ada"
    assert second["profile"]["professional_title"] == "Dr"
    assert second["profile"]["timezone"] == "Europe/London"
    assert second["profile"]["phone"] is None
    assert api.client.get("/api/v1/users/me", headers=caller.headers).json() == second


def test_patch_me_rejects_bad_values_and_keeps_the_old_ones(api: Api) -> None:
    caller = api.user()
    assert_problem(
        api.client.patch(
            "/api/v1/users/me",
            json={"profile": {"timezone": "Mars/Olympus"}},
            headers=caller.headers,
        ),
        400,
        "profile.timezone",
    )
    assert_problem(
        api.client.patch("/api/v1/users/me", json={"first_name": ""}, headers=caller.headers),
        400,
        "first_name",
    )
    assert_problem(
        api.client.patch(
            "/api/v1/users/me", json={"profile": {"phone": 7}}, headers=caller.headers
        ),
        400,
        "profile.phone",
    )
    assert_problem(
        api.client.patch("/api/v1/users/me", json={"email": "x@y.org"}, headers=caller.headers),
        400,
    )
    me = api.client.get("/api/v1/users/me", headers=caller.headers).json()
    assert me["first_name"] == "Test"
    assert me["profile"]["timezone"] is None


def test_me_needs_authentication(api: Api) -> None:
    assert_problem(api.client.get("/api/v1/users/me"), 401)
    assert_problem(api.client.patch("/api/v1/users/me", json={}), 401)
