"""Auth routes: register, login, refresh, logout and password reset, with every error case."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import PASSWORD, Api, assert_problem


def test_register_accepts_and_the_account_signs_in_with_a_normalised_email(api: Api) -> None:
    body = {
        "email": " Ada@Example.ORG ",
        "password": PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    response = api.client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 202
    assert "@" not in response.text  # nothing about the account
    tokens = api.login("ada@example.org")
    me = api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert (me["email"], me["first_name"], me["last_name"]) == (
        "ada@example.org",
        "Ada",
        "Lovelace",
    )
    assert api.sent_mail("ada@example.org", about="Welcome")


def test_register_does_not_reveal_that_an_email_has_an_account(api: Api) -> None:
    api.register("ada@example.org")
    again = {"email": "ADA@example.org", "password": PASSWORD, "first_name": "A", "last_name": "B"}
    known = api.client.post("/api/v1/auth/register", json=again)
    new = api.client.post("/api/v1/auth/register", json={**again, "email": "bo@example.org"})
    assert known.status_code == new.status_code == 202
    assert known.content == new.content
    [note] = api.sent_mail("ada@example.org", about="already have")
    assert "nothing was changed" in note.text
    me = api.client.get(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {api.login('ada@example.org')['access_token']}"},
    )
    assert me.json()["first_name"] == "Test"  # the account is untouched


def test_register_and_reset_are_rate_limited_per_email(api: Api) -> None:
    limit = api.container.settings.account_mail_per_recipient
    body = {"email": "flood@example.org"}
    statuses = [
        api.client.post("/api/v1/auth/password-reset", json=body).status_code
        for _ in range(limit + 1)
    ]
    assert statuses == [202] * limit + [429]
    signup = {**body, "password": PASSWORD, "first_name": "A", "last_name": "B"}
    limited = api.client.post("/api/v1/auth/register", json=signup)
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1234", "length >= 10"), ("password123", "too common"), ("aaaaaaaaaaaa", "too common")],
)
def test_register_rejects_weak_passwords(api: Api, password: str, reason: str) -> None:
    response = api.client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.org", "password": password, "first_name": "A", "last_name": "B"},
    )
    assert reason in assert_problem(response, 400, "password")["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD, "first_name": "A", "last_name": "B"}, "email"),
        ({"email": 5, "password": PASSWORD, "first_name": "A", "last_name": "B"}, "email"),
        (
            {"email": "not-an-email", "password": PASSWORD, "first_name": "A", "last_name": "B"},
            "email",
        ),
        (
            {"email": "a@example.org", "password": PASSWORD, "first_name": " ", "last_name": "B"},
            "first_name",
        ),
        (
            {
                "email": "a@example.org",
                "password": PASSWORD,
                "first_name": "A" * 101,
                "last_name": "B",
            },
            "first_name",
        ),
    ],
)
def test_register_bad_input_names_the_field(api: Api, body: dict[str, object], field: str) -> None:
    assert_problem(api.client.post("/api/v1/auth/register", json=body), 400, field)


def test_malformed_json_is_a_400_not_a_500(api: Api) -> None:
    response = api.client.post(
        "/api/v1/auth/register", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


def test_login_returns_a_bearer_pair(api: Api) -> None:
    account = api.register()
    tokens = api.login(account["email"])
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    me = api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["id"] == account["id"]


def test_wrong_password_and_unknown_email_answer_identically(api: Api) -> None:
    account = api.register()
    wrong = api.client.post(
        "/api/v1/auth/login", json={"email": account["email"], "password": "not the password"}
    )
    unknown = api.client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.org", "password": "not the password"}
    )
    first, second = assert_problem(wrong, 401), assert_problem(unknown, 401)
    for body in (first, second):
        body.pop("request_id")
    assert first == second


def test_repeated_login_failures_are_rate_limited(api: Api) -> None:
    account = api.register()
    bad = {"email": account["email"], "password": "not the password"}
    statuses = [api.client.post("/api/v1/auth/login", json=bad).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    limited = api.client.post("/api/v1/auth/login", json={**bad, "password": PASSWORD})
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0


def test_a_signed_in_browser_is_not_locked_out_by_someone_elses_guesses(api: Api) -> None:
    account = api.register()
    api.login(account["email"])  # this client now holds the device cookie
    cookie = api.client.cookies.get("cpd_device")
    assert cookie
    api.client.cookies.clear()
    guess = {"email": account["email"], "password": "not the password"}
    statuses = [api.client.post("/api/v1/auth/login", json=guess).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    right = {"email": account["email"], "password": PASSWORD}
    assert_problem(api.client.post("/api/v1/auth/login", json=right), 429)
    api.client.cookies.set("cpd_device", cookie, path="/api")
    assert api.client.post("/api/v1/auth/login", json=right).status_code == 200


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(api: Api) -> None:
    """Without CPD_TRUSTED_PROXIES a guesser cannot pose as many addresses."""
    limit = api.container.settings.login_address_max_failures
    for n in range(limit):
        response = api.client.post(
            "/api/v1/auth/login",
            json={"email": f"guess{n}@example.org", "password": "not the password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}", "Forwarded": f"for=192.0.2.{n}"},
        )
        assert response.status_code == 401
    response = api.client.post(
        "/api/v1/auth/login",
        json={"email": "another@example.org", "password": "not the password"},
        headers={"X-Forwarded-For": "203.0.113.250"},
    )
    assert_problem(response, 429)


def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    account = api.register()
    first = api.login(account["email"])
    rotated = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    reused = api.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(reused, 401)
    # The reuse looked like theft: the newest token of that family is dead too.
    after = api.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_problem(after, 401)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refresh_with_a_bad_token_is_401(api: Api, token: str) -> None:
    assert_problem(api.client.post("/api/v1/auth/refresh", json={"refresh_token": token}), 401)


def test_an_access_token_is_not_a_refresh_token(api: Api) -> None:
    tokens = api.login(api.register()["email"])
    response = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}
    )
    assert_problem(response, 401)


def test_logout_kills_the_refresh_token(api: Api) -> None:
    caller = api.user()
    response = api.client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": caller.tokens["refresh_token"]},
        headers=caller.headers,
    )
    assert response.status_code == 204
    again = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": caller.tokens["refresh_token"]}
    )
    assert_problem(again, 401)


def test_logout_needs_a_bearer_token(api: Api) -> None:
    caller = api.user()
    response = api.client.post(
        "/api/v1/auth/logout", json={"refresh_token": caller.tokens["refresh_token"]}
    )
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_logout_with_someone_elses_refresh_token_is_refused(api: Api) -> None:
    alice, bob = api.user(), api.user()
    response = api.client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": bob.tokens["refresh_token"]},
        headers=alice.headers,
    )
    assert_problem(response, 401)
    still = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": bob.tokens["refresh_token"]}
    )
    assert still.status_code == 200


def _reset_token(api: Api, email: str) -> str:
    [message] = api.sent_mail(email, about="Reset your")
    match = re.search(r"token=([\w-]+)", message.text)
    assert match, message.text
    return match.group(1)


def test_password_reset_flow(api: Api) -> None:
    caller = api.user()
    response = api.client.post("/api/v1/auth/password-reset", json={"email": caller.email})
    assert response.status_code == 202
    token = _reset_token(api, caller.email)

    new_password = "a brand new passphrase"
    confirm = api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert confirm.status_code == 204
    api.login(caller.email, new_password)
    assert_problem(
        api.client.post("/api/v1/auth/login", json={"email": caller.email, "password": PASSWORD}),
        401,
    )
    # Sessions opened before the reset are over.
    old = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": caller.tokens["refresh_token"]}
    )
    assert_problem(old, 401)
    # The token is single-use.
    again = api.client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "yet another passphrase"},
    )
    assert_problem(again, 400, "token")


def test_password_reset_does_not_reveal_whether_an_account_exists(api: Api) -> None:
    caller = api.user()
    known = api.client.post("/api/v1/auth/password-reset", json={"email": caller.email})
    unknown = api.client.post("/api/v1/auth/password-reset", json={"email": "ghost@example.org"})
    malformed = api.client.post("/api/v1/auth/password-reset", json={"email": "ghost"})
    assert known.status_code == unknown.status_code == malformed.status_code == 202
    assert known.content == unknown.content == malformed.content
    assert api.sent_mail("ghost@example.org", timeout=0.3) == []


def test_password_reset_confirm_rejects_weak_password_and_unknown_token(api: Api) -> None:
    weak = api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "x", "new_password": "short"}
    )
    assert_problem(weak, 400, "new_password")
    unknown = api.client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": "no-such-token", "new_password": "a brand new passphrase"},
    )
    assert_problem(unknown, 400, "token")


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"])
def test_protected_routes_refuse_bad_credentials(api: Api, header: str) -> None:
    response = api.client.get("/api/v1/users/me", headers={"Authorization": header})
    assert_problem(response, 401)


def test_signing_out_ends_the_access_token_too(api: Api) -> None:
    caller = api.user()
    assert api.client.get("/api/v1/users/me", headers=caller.headers).status_code == 200
    api.client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": caller.tokens["refresh_token"]},
        headers=caller.headers,
    )
    assert_problem(api.client.get("/api/v1/users/me", headers=caller.headers), 401)


def test_other_sessions_survive_one_sign_out(api: Api) -> None:
    caller = api.user()
    laptop = api.login(caller.email)
    api.client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": caller.tokens["refresh_token"]},
        headers=caller.headers,
    )
    laptop_headers = {"Authorization": f"Bearer {laptop['access_token']}"}
    assert api.client.get("/api/v1/users/me", headers=laptop_headers).status_code == 200


def test_refresh_token_reuse_also_ends_the_sessions_access_tokens(api: Api) -> None:
    caller = api.user()
    rotated = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": caller.tokens["refresh_token"]}
    ).json()
    api.client.post("/api/v1/auth/refresh", json={"refresh_token": caller.tokens["refresh_token"]})
    headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert_problem(api.client.get("/api/v1/users/me", headers=headers), 401)


def test_password_reset_ends_every_open_session(api: Api) -> None:
    caller = api.user()
    api.client.post("/api/v1/auth/password-reset", json={"email": caller.email})
    token = _reset_token(api, caller.email)
    api.client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )
    assert_problem(api.client.get("/api/v1/users/me", headers=caller.headers), 401)
