"""Registrations over HTTP: booking, the waitlist, offers, cancellation."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Api, Caller, assert_problem

CHECK_IN_CODE = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"


def _event(api: Api, **fields: Any) -> tuple[Caller, dict[str, Any]]:
    owner = api.user()
    org = api.organization(owner, f"Host {uuid.uuid4().hex[:6]}")
    return owner, api.event(owner, org, **fields)


def _register(api: Api, caller: Caller, event: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]} | body, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_free_event_confirms_then_waitlists_with_positions(api: Api) -> None:
    _, event = _event(api, capacity=2)
    people = [api.user() for _ in range(4)]
    results = [_register(api, p, event) for p in people]
    assert [r["status"] for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [r["waitlist_position"] for r in results] == [None, None, 1, 2]
    assert results[0]["amount_due"] == {"amount": 0, "currency": "GBP"}
    assert re.fullmatch(CHECK_IN_CODE, results[0]["check_in_code"])
    assert api.client.get(f"/api/v1/events/{event['id']}").json()["seats_available"] == 0

    cancelled = api.client.post(
        f"/api/v1/registrations/{results[0]['id']}/cancel", headers=people[0].headers
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refund"] == {
        "amount": {"amount": 0, "currency": "GBP"},
        "status": "none",
    }
    offered = api.client.get(f"/api/v1/registrations/{results[2]['id']}", headers=people[2].headers)
    assert offered.json()["status"] == "offered"
    assert offered.json()["offer_expires_at"] is not None
    assert (
        api.client.get(
            f"/api/v1/registrations/{results[3]['id']}", headers=people[3].headers
        ).json()["waitlist_position"]
        == 1
    )
    accepted = api.client.post(
        f"/api/v1/registrations/{results[2]['id']}/accept-offer", headers=people[2].headers
    )
    assert accepted.json()["status"] == "confirmed"


def test_paid_event_holds_seats_then_an_offline_payment_confirms(api: Api) -> None:
    _, event = _event(api, capacity=10, price={"amount": 2500, "currency": "GBP"})
    buyer = api.user()
    registration = _register(api, buyer, event, seats=2)
    assert registration["status"] == "pending_payment"
    assert registration["amount_due"] == {"amount": 5000, "currency": "GBP"}
    assert registration["hold_expires_at"] is not None
    assert registration["payment"]["provider"] == "offline"
    url = f"/api/v1/registrations/{registration['id']}"

    declined = api.client.post(
        f"{url}/pay", json={"card_token": "tok_chargeDeclined"}, headers=buyer.headers
    )
    assert_problem(declined, 409, "card_token")
    assert_problem(
        api.client.post(f"{url}/pay", json={"card_token": "tok_nonsense"}, headers=buyer.headers),
        400,
        "card_token",
    )
    paid = api.client.post(f"{url}/pay", json={"card_token": "tok_visa"}, headers=buyer.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "confirmed"
    assert_problem(
        api.client.post(f"{url}/pay", json={"card_token": "tok_visa"}, headers=buyer.headers), 409
    )


def test_cancelling_a_paid_registration_refunds_through_the_gateway(api: Api) -> None:
    _, event = _event(api, capacity=10, price={"amount": 2500, "currency": "GBP"})
    buyer = api.user()
    registration = _register(api, buyer, event)
    url = f"/api/v1/registrations/{registration['id']}"
    api.client.post(f"{url}/pay", json={"card_token": "tok_visa"}, headers=buyer.headers)
    cancelled = api.client.post(f"{url}/cancel", headers=buyer.headers).json()
    # Months before the start: the standard policy refunds everything.
    assert cancelled["refund"] == {
        "amount": {"amount": 2500, "currency": "GBP"},
        "status": "pending",
    }
    deadline = time.monotonic() + 5  # the relay runs in the background: the refund goes out
    while api.client.blocking_portal.call(api.container.outbox_store.pending_count):
        assert time.monotonic() < deadline, "the refund task was not carried out"
        time.sleep(0.02)

    async def refunded() -> int:
        async with api.container.uow() as uow:
            found = await uow.registrations.get(uuid.UUID(registration["id"]))
            assert found is not None
            return found.refunded

    assert api.client.blocking_portal.call(refunded) == 2500


def test_registration_errors(api: Api) -> None:
    owner, event = _event(api, capacity=None)
    someone = api.user()
    _register(api, someone, event)
    url = "/api/v1/registrations"
    assert_problem(
        api.client.post(url, json={"event_id": event["id"]}, headers=someone.headers),
        409,
        "event_id",
    )
    assert_problem(
        api.client.post(url, json={"event_id": str(uuid.uuid4())}, headers=someone.headers), 404
    )
    assert_problem(
        api.client.post(url, json={"event_id": event["id"], "seats": 0}, headers=someone.headers),
        400,
        "seats",
    )
    assert_problem(api.client.post(url, json={"event_id": event["id"]}), 401)
    org_id = event["organization"]["id"]
    draft = api.event(owner, {"id": org_id}, publish=False, title="Draft")
    assert_problem(
        api.client.post(url, json={"event_id": draft["id"]}, headers=someone.headers), 404
    )


def test_registrations_are_private(api: Api) -> None:
    _, event = _event(api, capacity=None)
    owner, other = api.user(), api.user()
    registration = _register(api, owner, event)
    mine = api.client.get("/api/v1/registrations", headers=owner.headers).json()
    assert [r["id"] for r in mine["items"]] == [registration["id"]]
    assert api.client.get("/api/v1/registrations", headers=other.headers).json()["total"] == 0
    for path in (f"/api/v1/registrations/{registration['id']}",):
        assert_problem(api.client.get(path, headers=other.headers), 404)
    for action in ("cancel", "accept-offer"):
        assert_problem(
            api.client.post(
                f"/api/v1/registrations/{registration['id']}/{action}", headers=other.headers
            ),
            404,
        )


def _running_event(api: Api, **fields: Any) -> tuple[Caller, dict[str, Any]]:
    """An event with a session under way right now."""
    now = datetime.now(UTC)
    session = {
        "title": "Now",
        "starts_at": (now - timedelta(minutes=10)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    return _event(api, sessions=[session], **fields)


def test_staff_list_csv_cancel_and_check_in(api: Api) -> None:
    owner, event = _running_event(api, capacity=1)
    first, second = api.user(), api.user()
    confirmed = _register(api, first, event)
    waiting = _register(api, second, event)
    base = f"/api/v1/events/{event['id']}"

    listed = api.client.get(f"{base}/registrations", headers=owner.headers).json()
    assert [(r["email"], r["status"]) for r in listed["items"]] == [
        (first.email, "confirmed"),
        (second.email, "waitlisted"),
    ]
    only_waiting = api.client.get(f"{base}/registrations?status=waitlisted", headers=owner.headers)
    assert only_waiting.json()["total"] == 1
    exported = api.client.get(
        f"{base}/registrations", headers={**owner.headers, "Accept": "text/csv"}
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert first.email in exported.text
    assert_problem(
        api.client.get(f"{base}/registrations?status=bogus", headers=owner.headers), 400, "status"
    )

    checked = api.client.post(
        f"{base}/check-in", json={"code": confirmed["check_in_code"]}, headers=owner.headers
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["registration_id"] == confirmed["id"]
    mine = api.client.get(f"{base}/attendance/me", headers=first.headers).json()
    assert mine["sessions_attended"] == 1
    assert_problem(
        api.client.post(f"{base}/check-in", json={"code": "wrong"}, headers=owner.headers),
        404,
        "code",
    )
    assert_problem(
        api.client.post(
            f"{base}/check-in", json={"code": waiting["check_in_code"]}, headers=owner.headers
        ),
        409,
    )

    cancelled = api.client.post(
        f"{base}/registrations/{confirmed['id']}/cancel", headers=owner.headers
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (
        api.client.get(f"/api/v1/registrations/{waiting['id']}", headers=second.headers).json()[
            "status"
        ]
        == "offered"
    )


def test_check_in_needs_a_running_session(api: Api) -> None:
    owner, event = _event(api, capacity=None)  # sessions in 2027
    someone = api.user()
    registration = _register(api, someone, event)
    response = api.client.post(
        f"/api/v1/events/{event['id']}/check-in",
        json={"code": registration["check_in_code"]},
        headers=owner.headers,
    )
    assert_problem(response, 409)


def test_staff_registration_routes_refuse_outsiders(api: Api) -> None:
    _, event = _event(api, capacity=None)
    someone, stranger = api.user(), api.user()
    registration = _register(api, someone, event)
    base = f"/api/v1/events/{event['id']}"
    routes: list[tuple[str, str, Any]] = [
        ("GET", f"{base}/registrations", None),
        ("POST", f"{base}/registrations/{registration['id']}/cancel", None),
        ("POST", f"{base}/check-in", {"code": registration["check_in_code"]}),
    ]
    for method, url, body in routes:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        assert (
            api.client.request(method, url, headers=stranger.headers, **kwargs).status_code == 404
        )
        assert api.client.request(method, url, headers=someone.headers, **kwargs).status_code == 404
        assert api.client.request(method, url, **kwargs).status_code == 401
    assert (
        api.client.get(
            f"/api/v1/registrations/{registration['id']}", headers=someone.headers
        ).json()["status"]
        == "confirmed"
    )


def test_more_capacity_lets_the_waitlist_in(api: Api) -> None:
    owner, event = _event(api, capacity=1)
    first, second = api.user(), api.user()
    _register(api, first, event)
    waiting = _register(api, second, event)
    api.client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 2}, headers=owner.headers)
    assert (
        api.client.get(f"/api/v1/registrations/{waiting['id']}", headers=second.headers).json()[
            "status"
        ]
        == "offered"
    )


def test_cancelling_the_event_cancels_and_refunds_everyone(api: Api) -> None:
    owner, event = _event(api, capacity=5, price={"amount": 2500, "currency": "GBP"})
    buyers = [api.user() for _ in range(2)]
    registrations = [_register(api, b, event) for b in buyers]
    api.client.post(
        f"/api/v1/registrations/{registrations[0]['id']}/pay",
        json={"card_token": "tok_visa"},
        headers=buyers[0].headers,
    )
    cancelled = api.client.post(f"/api/v1/events/{event['id']}/cancel", headers=owner.headers)
    assert cancelled.json()["status"] == "cancelled"
    for buyer, registration in zip(buyers, registrations, strict=True):
        found = api.client.get(f"/api/v1/registrations/{registration['id']}", headers=buyer.headers)
        assert found.json()["status"] == "cancelled"
    deadline = time.monotonic() + 5  # the paid one is refunded in full through the outbox

    async def refunded() -> int:
        async with api.container.uow() as uow:
            found = await uow.registrations.get(uuid.UUID(registrations[0]["id"]))
            assert found is not None
            return found.refunded

    while api.client.blocking_portal.call(refunded) != 2500:
        assert time.monotonic() < deadline, "the refund was not made"
        time.sleep(0.02)


def test_an_idempotency_key_replays_the_first_response(api: Api) -> None:
    _, event = _event(api, capacity=None)
    buyer = api.user()
    headers = {**buyer.headers, "Idempotency-Key": "booking-1"}
    first = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=headers
    )
    retry = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=headers
    )
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert api.client.get("/api/v1/registrations", headers=buyer.headers).json()["total"] == 1
    different = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"], "seats": 2}, headers=headers
    )
    assert_problem(different, 409, "Idempotency-Key")
    other = api.user()  # keys belong to their caller
    theirs = api.client.post(
        "/api/v1/registrations",
        json={"event_id": event["id"]},
        headers={**other.headers, "Idempotency-Key": "booking-1"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


def test_a_retry_after_a_crash_past_the_booking_gets_that_booking(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking committed, then the request died before its answer was stored (here the
    payment provider failed): the retry with the key answers 201 with that registration."""
    _, event = _event(api, capacity=5, price={"amount": 2500, "currency": "GBP"})
    buyer = api.user()
    headers = {**buyer.headers, "Idempotency-Key": "crash-1"}
    gateway = api.container.payments
    start_payment = gateway.start_payment
    attempts: list[str] = []

    async def fails_first(registration: Any, *, idempotency_key: str) -> Any:
        attempts.append(idempotency_key)
        if len(attempts) == 1:
            raise ConnectionError("the payment provider went away")
        return await start_payment(registration, idempotency_key=idempotency_key)

    monkeypatch.setattr(gateway, "start_payment", fails_first)
    body = {"event_id": event["id"]}
    crashed = api.client.post("/api/v1/registrations", json=body, headers=headers)
    assert crashed.status_code == 500

    retry = api.client.post("/api/v1/registrations", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    mine = api.client.get("/api/v1/registrations", headers=buyer.headers).json()
    assert [r["id"] for r in mine["items"]] == [retry.json()["id"]]
    assert retry.json()["status"] == "pending_payment"
    assert retry.json()["payment"]["provider"] == "offline"
    again = api.client.post("/api/v1/registrations", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == retry.json()
    # Both starts were for one registration under one provider key: one payment, not two.
    assert len(attempts) == 2
    assert len(set(attempts)) == 1
