"""Stripe end to end through the app: booking starts a PaymentIntent on a local fake Stripe,
the signed webhook confirms the registration exactly once, forged ones are refused, and
events out of order never move a registration backwards."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from tests.api.conftest import Api, assert_problem
from tests.support.fake_stripe import API_KEY, FakeStripe, running_fake_stripe, sign_webhook
from tests.support.settings import make_settings

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app

SECRET = "whsec_app_secret"


@pytest.fixture
def stripe_api() -> Iterator[tuple[Api, FakeStripe]]:
    with running_fake_stripe() as fake:
        settings = make_settings(
            payment_provider="stripe",
            stripe_api_key=API_KEY,
            stripe_webhook_secret=SECRET,
            stripe_api_base=fake.url,
            outbox_poll_seconds=0.05,
        )
        container = build_container(settings)
        with TestClient(create_app(container)) as client:
            yield Api(client, container), fake


def _webhook(
    api: Api, kind: str, obj: dict[str, Any], *, event_id: str, secret: str = SECRET
) -> Any:
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()
    return api.client.post(
        "/api/v1/webhooks/stripe",
        content=body,
        headers={
            "Stripe-Signature": sign_webhook(body, secret),
            "Content-Type": "application/json",
        },
    )


def _status(api: Api, caller: Any, registration_id: str, wanted: str) -> str:
    deadline = time.monotonic() + 5  # the webhook's effect runs from the outbox
    while True:
        status = str(
            api.client.get(
                f"/api/v1/registrations/{registration_id}", headers=caller.headers
            ).json()["status"]
        )
        if status == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_booking_pays_through_stripe_and_the_webhook_confirms_once(
    stripe_api: tuple[Api, FakeStripe],
) -> None:
    api, fake = stripe_api
    owner = api.user()
    org = api.organization(owner, f"Paid {uuid.uuid4().hex[:6]}")
    event = api.event(owner, org, capacity=5, price={"amount": 2500, "currency": "GBP"})
    buyer = api.user()
    booked = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=buyer.headers
    ).json()
    assert booked["status"] == "pending_payment"
    assert booked["payment"]["provider"] == "stripe"
    assert booked["payment"]["client_secret"]
    [call] = fake.calls("/v1/payment_intents")
    assert call.form["amount"] == "2500"
    assert call.form["metadata"]["registration_id"] == booked["id"]
    [reference] = list(fake.payment_intents)
    fake.succeed(reference)

    intent = {
        "id": reference,
        "object": "payment_intent",
        "amount": 2500,
        "amount_received": 2500,
        "currency": "gbp",
        "metadata": {"registration_id": booked["id"], "event_id": event["id"]},
    }
    # A failure reported after the success must not undo it (out of order).
    first = _webhook(api, "payment_intent.succeeded", intent, event_id="evt_ok")
    assert first.json() == {"received": True, "duplicate": False, "ignored": False}
    assert _status(api, buyer, booked["id"], "confirmed") == "confirmed"
    again = _webhook(api, "payment_intent.succeeded", intent, event_id="evt_ok")
    assert again.json()["duplicate"] is True
    _webhook(api, "payment_intent.payment_failed", intent, event_id="evt_late_failure")
    _webhook(api, "payment_intent.succeeded", intent, event_id="evt_ok_resent")  # another id
    time.sleep(0.2)
    assert _status(api, buyer, booked["id"], "confirmed") == "confirmed"
    [confirmation] = api.sent_mail(buyer.email, about="You're booked")
    assert [a.filename for a in confirmation.attachments] == ["event.ics"]


def test_forged_or_unsigned_webhooks_are_refused(stripe_api: tuple[Api, FakeStripe]) -> None:
    api, _ = stripe_api
    obj = {
        "id": "pi_x",
        "object": "payment_intent",
        "amount": 1,
        "amount_received": 1,
        "currency": "gbp",
        "metadata": {},
    }
    assert_problem(
        _webhook(api, "payment_intent.succeeded", obj, event_id="evt_f", secret="whsec_wrong"),
        400,
        "stripe-signature",
    )
    unsigned = api.client.post("/api/v1/webhooks/stripe", content=b"{}")
    assert_problem(unsigned, 400, "stripe-signature")
    ignored = _webhook(
        api, "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_other"
    )
    assert ignored.json()["ignored"] is True


@pytest.mark.parametrize(
    ("replace", "field"),
    [
        ((b'"amount_received": 1', b'"amount_received": 1e400'), "payload"),
        ((b'"created": ', b'"created": 100000000000000000000'), "data.object"),
    ],
)
def test_a_signed_event_with_absurd_numbers_is_a_400(
    stripe_api: tuple[Api, FakeStripe], replace: tuple[bytes, bytes], field: str
) -> None:
    api, _ = stripe_api
    obj = {"id": "pi_x", "object": "payment_intent", "amount": 1, "amount_received": 1}
    body = json.dumps(
        {
            "id": "evt_absurd",
            "type": "payment_intent.succeeded",
            "created": "",
            "data": {"object": obj | {"currency": "gbp"}},
        }
    ).encode()
    body = body.replace(b'"created": ""', b'"created": ' + str(int(time.time())).encode())
    body = body.replace(*replace, 1)
    response = api.client.post(
        "/api/v1/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": sign_webhook(body, SECRET)},
    )
    assert_problem(response, 400, field)


def test_an_event_signed_ten_minutes_ahead_is_refused(stripe_api: tuple[Api, FakeStripe]) -> None:
    api, _ = stripe_api
    body = json.dumps({"id": "evt_future", "type": "customer.created", "data": {}}).encode()
    ahead = sign_webhook(body, SECRET, timestamp=int(time.time()) + 600)
    response = api.client.post(
        "/api/v1/webhooks/stripe", content=body, headers={"Stripe-Signature": ahead}
    )
    assert_problem(response, 400, "stripe-signature")


def test_a_provider_outage_is_a_503_and_the_payment_can_be_started_again(
    stripe_api: tuple[Api, FakeStripe],
) -> None:
    api, fake = stripe_api
    owner = api.user()
    org = api.organization(owner, f"Outage {uuid.uuid4().hex[:6]}")
    event = api.event(owner, org, capacity=5, price={"amount": 1000, "currency": "GBP"})
    buyer = api.user()
    for _ in range(3):  # the SDK retries: fail every attempt
        fake.fail_next(500)
    down = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=buyer.headers
    )
    problem = assert_problem(down, 503)
    assert down.headers["retry-after"] == "5"
    assert "held" in problem["detail"]
    [held] = api.client.get("/api/v1/registrations", headers=buyer.headers).json()["items"]
    assert held["status"] == "pending_payment"
    again = api.client.post(f"/api/v1/registrations/{held['id']}/payment", headers=buyer.headers)
    assert again.status_code == 200, again.text
    assert again.json()["payment"]["client_secret"]
