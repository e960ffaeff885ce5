"""Hostile request bodies and numbers answer 400 naming what is wrong, never 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, Caller, assert_problem

JSON = {"content-type": "application/json"}


@pytest.fixture
def staffed(api: Api) -> tuple[Caller, dict[str, Any]]:
    owner = api.user()
    return owner, api.organization(owner)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 1000 + b"]" * 1000, id="array-nested-1000-deep"),
        pytest.param(b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}", id="field-nested-1000-deep"),
        pytest.param(b'{"name": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b'{"name": 1e400}', id="number-out-of-range"),
        pytest.param(b'{"name": "Org"', id="truncated"),
    ],
)
def test_a_body_that_is_not_json_is_a_400(api: Api, body: bytes) -> None:
    owner = api.user()
    response = api.client.post("/api/v1/organizations", content=body, headers=owner.headers | JSON)
    assert_problem(response, 400)


@pytest.mark.parametrize("offset", [2**31, 2**63, 2**64])
@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/courses", "certificates"])
def test_an_offset_past_the_bound_is_a_400(
    api: Api, staffed: tuple[Caller, dict[str, Any]], path: str, offset: int
) -> None:
    owner, org = staffed
    if path == "certificates":
        path = f"/api/v1/events/{api.event(owner, org)['id']}/certificates"
    response = api.client.get(path, params={"offset": offset}, headers=owner.headers)
    assert_problem(response, 400, "offset")


def test_the_largest_offset_still_answers_a_page(api: Api) -> None:
    response = api.client.get("/api/v1/events", params={"offset": 1_000_000_000})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize("amount", [2**31, 2**63, 2**64])
def test_a_price_past_the_bound_is_a_400(
    api: Api, staffed: tuple[Caller, dict[str, Any]], amount: int
) -> None:
    owner, org = staffed
    body = {
        "organization_id": org["id"],
        "title": "Dear",
        "format": "online",
        "price": {"amount": amount, "currency": "GBP"},
    }
    response = api.client.post("/api/v1/events", json=body, headers=owner.headers)
    assert_problem(response, 400, "price.amount")


def test_booking_seats_whose_total_passes_the_bound_is_a_400(
    api: Api, staffed: tuple[Caller, dict[str, Any]]
) -> None:
    owner, org = staffed
    event = api.event(owner, org, price={"amount": 2**31 - 1, "currency": "GBP"})
    booker = api.user()
    body = {"event_id": event["id"], "seats": 2}
    response = api.client.post("/api/v1/registrations", json=body, headers=booker.headers)
    assert_problem(response, 400, "seats")


@pytest.mark.parametrize(
    ("field", "value"),
    [("capacity", "10"), ("attendance_threshold_percent", "75"), ("capacity", 10.0)],
)
def test_an_integer_field_takes_only_a_json_integer(
    api: Api, staffed: tuple[Caller, dict[str, Any]], field: str, value: Any
) -> None:
    owner, org = staffed
    body = {"organization_id": org["id"], "title": "T", "format": "online", field: value}
    response = api.client.post("/api/v1/events", json=body, headers=owner.headers)
    assert_problem(response, 400, field)


def test_seats_as_a_string_is_a_400(api: Api, staffed: tuple[Caller, dict[str, Any]]) -> None:
    owner, org = staffed
    event = api.event(owner, org)
    booker = api.user()
    body = {"event_id": event["id"], "seats": "1"}
    response = api.client.post("/api/v1/registrations", json=body, headers=booker.headers)
    assert_problem(response, 400, "seats")
    mine = api.client.get("/api/v1/registrations", headers=booker.headers)
    assert mine.json()["total"] == 0


@pytest.mark.parametrize("currency", ["ZZZ", "XXX"])
def test_a_price_in_a_currency_iso_4217_does_not_list_is_a_400(
    api: Api, staffed: tuple[Caller, dict[str, Any]], currency: str
) -> None:
    owner, org = staffed
    body = {
        "organization_id": org["id"],
        "title": "Priced",
        "format": "online",
        "price": {"amount": 100, "currency": currency},
    }
    response = api.client.post("/api/v1/events", json=body, headers=owner.headers)
    assert_problem(response, 400, "price.currency")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events?tag=law%00",
        "/api/v1/events?organization=royal%00",
        "/api/v1/courses?q=ethics%00",
        "/api/v1/organizations/royal%00college/calendar.ics",
    ],
)
def test_a_nul_in_a_query_or_path_is_a_400(api: Api, path: str) -> None:
    # PostgreSQL's text cannot hold NUL: a tag filter of "law\0" was a 500 there.
    assert_problem(api.client.get(path), 400)


def test_a_nul_anywhere_in_a_body_is_a_400(api: Api) -> None:
    caller = api.user()
    for body in ({"email": "a\x00@example.org", "password": "x"}, {"refresh_token": "\x00"}):
        path = "/api/v1/auth/login" if "email" in body else "/api/v1/auth/refresh"
        assert_problem(api.client.post(path, json=body), 400)
    patch = {"profile": {"phone": "+44\x00"}}
    assert_problem(api.client.patch("/api/v1/users/me", json=patch, headers=caller.headers), 400)
