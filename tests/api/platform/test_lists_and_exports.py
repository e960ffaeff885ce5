"""Every list has one shape, ``{items, total, limit, offset}`` with bounded ``limit`` and
``offset``; every CSV export writes ISO 8601 UTC times, ``true``/``false`` and money with its
currency, and holds every row rather than the first page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient

from cpd.bootstrap import build_container
from cpd.domain.money import Money
from cpd.entrypoints.http.app import create_app
from cpd.entrypoints.http.csv_export import csv_cell
from tests.api.conftest import Api, assert_problem, sessions_underway
from tests.support.settings import make_settings

UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SHAPE = {"items", "total", "limit", "offset"}


@pytest.fixture
def api() -> Iterator[Api]:
    settings = make_settings(outbox_poll_seconds=0.05, account_mail_per_address=1_000)
    with TestClient(create_app(build_container(settings))) as client:
        yield Api(client, client.app.state["container"])


def test_no_list_in_the_api_is_a_bare_array(api: Api) -> None:
    document = api.client.get("/schema/openapi.json").json()
    arrays = [
        path
        for path, operations in document["paths"].items()
        if "get" in operations
        for content in (operations["get"]["responses"].get("200", {}).get("content") or {}).values()
        if content["schema"].get("type") == "array"
    ]
    assert arrays == []


def test_sessions_and_attendance_are_paged_like_every_list(api: Api) -> None:
    owner, alice, bob = api.user(), api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org, sessions=sessions_underway())
    for caller in (alice, bob):
        booked = api.client.post(
            "/api/v1/registrations", json={"event_id": event["id"]}, headers=caller.headers
        )
        assert booked.status_code == 201, booked.text
    base = f"/api/v1/events/{event['id']}"
    morning = event["sessions"][0]["id"]
    recorded = api.client.post(
        f"{base}/sessions/{morning}/attendance",
        json={"attendees": [{"user_id": alice.id}, {"user_id": bob.id}]},
        headers=owner.headers,
    )
    assert recorded.status_code == 200, recorded.text

    sessions = api.client.get(f"{base}/sessions?limit=1&offset=1").json()
    assert set(sessions) == SHAPE
    assert (sessions["total"], sessions["limit"], sessions["offset"]) == (2, 1, 1)
    assert [s["title"] for s in sessions["items"]] == ["Afternoon"]

    everyone = api.client.get(f"{base}/attendance", headers=owner.headers).json()
    assert set(everyone) == SHAPE
    assert (everyone["total"], everyone["limit"], everyone["offset"]) == (2, 20, 0)
    second = api.client.get(f"{base}/attendance?limit=1&offset=1", headers=owner.headers).json()
    assert second["items"] == everyone["items"][1:]
    for path in (f"{base}/sessions", f"{base}/attendance"):
        for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("offset=-1", "offset")):
            assert_problem(api.client.get(f"{path}?{query}", headers=owner.headers), 400, field)


def test_the_csv_exports_write_iso_times_booleans_money_and_every_row(api: Api) -> None:
    owner = api.user()
    org = api.organization(owner)
    event = api.event(
        owner, org, price={"amount": 50_000, "currency": "GBP"}, sessions=sessions_underway()
    )
    attendees = [api.user() for _ in range(22)]  # more than the default page of 20
    for caller in attendees:
        booked = api.client.post(
            "/api/v1/registrations", json={"event_id": event["id"]}, headers=caller.headers
        )
        assert booked.status_code == 201, booked.text
    base = f"/api/v1/events/{event['id']}"
    morning = event["sessions"][0]["id"]
    as_csv = {**owner.headers, "Accept": "text/csv"}

    exported = api.client.get(f"{base}/registrations", headers=as_csv)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 22
    assert {r["email"] for r in rows} == {a.email for a in attendees}
    for row in rows:
        assert UTC_TIME.match(row["created_at"]), row
        assert row["amount_due"] == "500.00 GBP"
        assert (row["paid"], row["refunded"]) == ("0.00 GBP", "0.00 GBP")

    recorded = api.client.post(
        f"{base}/sessions/{morning}/attendance",
        json={"attendees": [{"walk_in": {"email": "walk.in@example.org", "first_name": "W"}}]},
        headers=owner.headers,
    )
    assert recorded.status_code == 200, recorded.text
    attendance = list(
        csv.DictReader(io.StringIO(api.client.get(f"{base}/attendance", headers=as_csv).text))
    )
    assert [r["email"] for r in attendance] == ["walk.in@example.org"]
    for row in attendance:
        assert row["walk_in"] in ("true", "false")
        assert row["threshold_met"] in ("true", "false")


def test_one_cell_format_for_every_export() -> None:
    assert csv_cell(True) == "true"
    assert csv_cell(False) == "false"
    assert csv_cell(datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)) == "2027-03-01T09:30:15Z"
    assert csv_cell(Money(1250, "GBP")) == "12.50 GBP"
    assert csv_cell(Money(1250, "JPY")) == "1250 JPY"
    assert csv_cell(None) == ""
    assert csv_cell("=HYPERLINK()") == "'=HYPERLINK()"
    assert csv_cell(-3) == "-3"
