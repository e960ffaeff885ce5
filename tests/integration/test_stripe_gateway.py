"""StripeGateway against a local fake of Stripe's API (never the internet), and its webhooks."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import stripe
from tests.support.fake_stripe import API_KEY, FakeStripe, running_fake_stripe, sign_webhook

from cpd.adapters.payments.stripe_gateway import StripeGateway
from cpd.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentEventKind
from cpd.domain.registrations import Registration
from cpd.ports.registrations import PaymentProviderUnavailable

WEBHOOK_SECRET = "whsec_test_secret"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# stripe 16.1's HTTPXClient posts with httpx's deprecated ``data=`` for a raw body.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def registration(amount: int = 12_500, currency: str = "EUR", seats: int = 1) -> Registration:
    return Registration.open(
        event_id=uuid4(),
        user_id=uuid4(),
        seats=seats,
        seats_free=10,
        waitlist_waiting=False,
        unit_price=Money(amount, currency),
        now=NOW,
    )


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with running_fake_stripe() as server:
        yield server


@pytest.fixture
async def gateway(fake: FakeStripe) -> AsyncIterator[StripeGateway]:
    gw = StripeGateway(API_KEY, WEBHOOK_SECRET, api_base=fake.url, max_network_retries=0)
    yield gw
    await gw.aclose()


# -- payments ---------------------------------------------------------------------------------


async def test_start_payment_creates_an_intent_for_the_amount_due(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    reg = registration(amount=12_500, currency="EUR", seats=2)

    intent = await gateway.start_payment(reg, idempotency_key="start-1")

    assert intent.provider == "stripe"
    assert intent.reference.startswith("pi_")
    assert intent.checkout_url is None
    stored = fake.payment_intents[intent.reference]
    assert intent.client_secret == stored["client_secret"]
    assert stored["amount"] == 25_000
    assert stored["currency"] == "eur"
    assert stored["metadata"] == {"registration_id": str(reg.id), "event_id": str(reg.event_id)}
    assert stored["automatic_payment_methods"] == {"enabled": True}
    (call,) = fake.calls("/v1/payment_intents")
    assert call.headers["idempotency-key"] == "start-1"
    assert call.headers["authorization"] == f"Bearer {API_KEY}"


async def test_the_same_idempotency_key_creates_one_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    reg = registration()

    first = await gateway.start_payment(reg, idempotency_key="same-key")
    second = await gateway.start_payment(reg, idempotency_key="same-key")
    other = await gateway.start_payment(reg, idempotency_key="other-key")

    assert first == second
    assert other.reference != first.reference
    assert len(fake.payment_intents) == 2


async def test_a_free_registration_is_not_sent_to_stripe(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    with pytest.raises(InvalidInput):
        await gateway.start_payment(registration(amount=0), idempotency_key="free")
    assert fake.requests == []


async def test_refund_full_and_partial_and_idempotent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    intent = await gateway.start_payment(registration(amount=10_000), idempotency_key="p")
    fake.succeed(intent.reference)

    part = await gateway.refund(intent.reference, Money(4_000, "EUR"), idempotency_key="r1")
    again = await gateway.refund(intent.reference, Money(4_000, "EUR"), idempotency_key="r1")
    rest = await gateway.refund(intent.reference, Money(6_000, "EUR"), idempotency_key="r2")

    assert part == again
    assert part.provider == "stripe"
    assert part.reference.startswith("re_")
    assert part.amount == Money(4_000, "EUR")
    assert rest.amount == Money(6_000, "EUR")
    assert len(fake.refunds) == 2
    assert {r["payment_intent"] for r in fake.refunds.values()} == {intent.reference}
    assert [c.headers["idempotency-key"] for c in fake.calls("/v1/refunds")] == ["r1", "r1", "r2"]


async def test_refunding_more_than_paid_is_a_conflict(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    intent = await gateway.start_payment(registration(amount=5_000), idempotency_key="p")
    fake.succeed(intent.reference)
    await gateway.refund(intent.reference, Money(3_000, "EUR"), idempotency_key="r1")

    with pytest.raises(Conflict) as too_much:
        await gateway.refund(intent.reference, Money(2_001, "EUR"), idempotency_key="r2")
    assert too_much.value.field == "amount"
    await gateway.refund(intent.reference, Money(2_000, "EUR"), idempotency_key="r3")
    with pytest.raises(Conflict):
        await gateway.refund(intent.reference, Money(1, "EUR"), idempotency_key="r4")


async def test_refunding_an_unpaid_intent_is_a_conflict(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    intent = await gateway.start_payment(registration(), idempotency_key="p")
    with pytest.raises(Conflict):
        await gateway.refund(intent.reference, Money(100, "EUR"), idempotency_key="r")


async def test_refunding_an_unknown_payment_is_not_found(gateway: StripeGateway) -> None:
    with pytest.raises(NotFound) as missing:
        await gateway.refund("pi_nope", Money(100, "EUR"), idempotency_key="r")
    assert missing.value.field == "payment_intent"


async def test_reusing_a_key_for_different_parameters_is_a_conflict(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    await gateway.start_payment(registration(amount=1_000), idempotency_key="k")
    with pytest.raises(Conflict) as clash:
        await gateway.start_payment(registration(amount=2_000), idempotency_key="k")
    assert clash.value.field == "idempotency_key"


async def test_an_invalid_request_is_invalid_input_naming_the_parameter(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(
        400, "invalid_request_error", code="parameter_invalid_integer", param="amount",
        message="Invalid integer: amount",
    )  # fmt: skip
    with pytest.raises(InvalidInput) as invalid:
        await gateway.start_payment(registration(), idempotency_key="k")
    assert invalid.value.field == "amount"


async def test_a_card_error_is_a_conflict(gateway: StripeGateway, fake: FakeStripe) -> None:
    fake.fail_next(402, "card_error", code="card_declined", message="Your card was declined.")
    with pytest.raises(Conflict) as declined:
        await gateway.start_payment(registration(), idempotency_key="k")
    assert declined.value.field == "card"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(500, "api_error"), (503, "api_error"), (429, "rate_limit_error"), (401, "x")],
)
async def test_provider_failures_are_retryable_not_domain_errors(
    gateway: StripeGateway, fake: FakeStripe, status: int, error_type: str
) -> None:
    fake.fail_next(status, error_type, message="boom")
    with pytest.raises(PaymentProviderUnavailable) as unavailable:
        await gateway.start_payment(registration(), idempotency_key="k")
    assert not isinstance(unavailable.value, DomainError)
    assert isinstance(unavailable.value.__cause__, stripe.StripeError)
    # A retry with the same key then succeeds, once.
    await gateway.start_payment(registration(), idempotency_key="k")
    assert len(fake.payment_intents) == 1


async def test_a_wrong_api_key_is_reported_as_unavailable(fake: FakeStripe) -> None:
    gw = StripeGateway("sk_test_wrong", WEBHOOK_SECRET, api_base=fake.url, max_network_retries=0)
    try:
        with pytest.raises(PaymentProviderUnavailable, match="API key"):
            await gw.start_payment(registration(), idempotency_key="k")
    finally:
        await gw.aclose()
    assert fake.payment_intents == {}


async def test_an_unreachable_stripe_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens
    gw = StripeGateway(
        API_KEY, WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{port}", max_network_retries=0
    )
    try:
        with pytest.raises(PaymentProviderUnavailable):
            await gw.start_payment(registration(), idempotency_key="k")
    finally:
        await gw.aclose()


async def test_the_sdk_retries_a_5xx_with_the_same_key(fake: FakeStripe) -> None:
    gw = StripeGateway(API_KEY, WEBHOOK_SECRET, api_base=fake.url, max_network_retries=1)
    fake.fail_next(500, "api_error", message="temporary")
    try:
        intent = await gw.start_payment(registration(), idempotency_key="retry-me")
    finally:
        await gw.aclose()
    assert list(fake.payment_intents) == [intent.reference]
    keys = [c.headers["idempotency-key"] for c in fake.calls("/v1/payment_intents")]
    assert keys == ["retry-me", "retry-me"]


# -- webhooks ---------------------------------------------------------------------------------

REG_ID = UUID("0190f0c4-5b2a-7c3e-9a1b-2c3d4e5f6a7b")
CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z


def event(event_type: str, obj: dict[str, Any], *, event_id: str = "evt_1") -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": CREATED,
        "livemode": False,
        "api_version": "2025-01-27.acacia",
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, **kw: Any) -> dict[str, str]:
    return {"Stripe-Signature": sign_webhook(payload, secret, **kw)}


def intent_obj(**extra: Any) -> dict[str, Any]:
    return {
        "id": "pi_123",
        "object": "payment_intent",
        "amount": 12_500,
        "amount_received": 12_500,
        "currency": "eur",
        "metadata": {"registration_id": str(REG_ID), "event_id": str(uuid4())},
    } | extra


def refund_obj(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "re_1",
        "object": "refund",
        "amount": 4_000,
        "currency": "eur",
        "payment_intent": "pi_123",
        "charge": "ch_1",
        "status": status,
        "metadata": {},
    } | extra


@pytest.fixture
async def offline_gateway() -> AsyncIterator[StripeGateway]:
    """Webhook parsing needs no network; nothing is ever sent from it."""
    gw = StripeGateway(API_KEY, WEBHOOK_SECRET, api_base="http://127.0.0.1:9")
    yield gw
    await gw.aclose()


def parse(gw: StripeGateway, payload: bytes, headers: dict[str, str] | None = None) -> PaymentEvent:
    return gw.parse_webhook(payload, signed(payload) if headers is None else headers)


@pytest.mark.parametrize(
    ("event_type", "obj", "kind", "amount", "registration_id"),
    [
        (
            "payment_intent.succeeded", intent_obj(), PaymentEventKind.PAYMENT_SUCCEEDED,
            12_500, REG_ID,
        ),
        (
            "payment_intent.payment_failed",
            intent_obj(amount_received=0),
            PaymentEventKind.PAYMENT_FAILED,
            12_500,
            REG_ID,
        ),
        (
            "charge.refunded",
            {
                "id": "ch_1", "object": "charge", "amount": 12_500, "amount_refunded": 12_500,
                "currency": "eur", "payment_intent": "pi_123", "refunded": True,
                "metadata": {"registration_id": str(REG_ID)},
            },
            PaymentEventKind.REFUND_SUCCEEDED,
            12_500,
            REG_ID,
        ),
        ("refund.updated", refund_obj("succeeded"), PaymentEventKind.REFUND_SUCCEEDED, 4_000, None),
        ("refund.updated", refund_obj("failed"), PaymentEventKind.REFUND_FAILED, 4_000, None),
        ("refund.failed", refund_obj("failed"), PaymentEventKind.REFUND_FAILED, 4_000, None),
    ],
)  # fmt: skip
def test_a_signed_event_becomes_a_payment_event(
    offline_gateway: StripeGateway,
    event_type: str,
    obj: dict[str, Any],
    kind: PaymentEventKind,
    amount: int,
    registration_id: UUID | None,
) -> None:
    parsed = parse(offline_gateway, event(event_type, obj, event_id="evt_abc"))

    assert parsed == PaymentEvent(
        id="evt_abc",
        kind=kind,
        reference="pi_123",
        registration_id=registration_id,
        amount=Money(amount, "EUR"),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        refund_reference="re_1" if event_type.startswith("refund.") else None,
    )


def test_the_header_is_found_whatever_its_case(offline_gateway: StripeGateway) -> None:
    payload = event("payment_intent.succeeded", intent_obj())
    header = sign_webhook(payload, WEBHOOK_SECRET)
    for name in ("stripe-signature", "STRIPE-SIGNATURE", "Stripe-Signature"):
        assert offline_gateway.parse_webhook(payload, {name: header}).reference == "pi_123"


def test_a_tampered_payload_is_rejected(offline_gateway: StripeGateway) -> None:
    payload = event("payment_intent.succeeded", intent_obj())
    headers = signed(payload)
    tampered = payload.replace(b"12500", b"99")
    assert tampered != payload
    with pytest.raises(InvalidInput) as rejected:
        offline_gateway.parse_webhook(tampered, headers)
    assert rejected.value.field == "stripe-signature"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda p: signed(p, "whsec_wrong"), id="wrong-secret"),
        pytest.param(lambda p: signed(p, timestamp=int(time.time()) - 301), id="stale"),
        pytest.param(lambda p: {}, id="missing"),
        pytest.param(lambda p: {"Stripe-Signature": ""}, id="empty"),
        pytest.param(lambda p: {"Stripe-Signature": "garbage"}, id="garbage"),
        pytest.param(
            lambda p: {"Stripe-Signature": sign_webhook(p, WEBHOOK_SECRET).replace("v1=", "v0=")},
            id="no-v1-scheme",
        ),
    ],
)
def test_an_unverifiable_signature_is_rejected(
    offline_gateway: StripeGateway, headers: Any
) -> None:
    payload = event("payment_intent.succeeded", intent_obj())
    with pytest.raises(InvalidInput) as rejected:
        offline_gateway.parse_webhook(payload, headers(payload))
    assert rejected.value.field == "stripe-signature"


def test_a_recent_timestamp_within_tolerance_is_accepted(offline_gateway: StripeGateway) -> None:
    payload = event("payment_intent.succeeded", intent_obj())
    headers = signed(payload, timestamp=int(time.time()) - 250)
    assert (
        offline_gateway.parse_webhook(payload, headers).kind is PaymentEventKind.PAYMENT_SUCCEEDED
    )


def test_a_signed_non_json_payload_is_rejected(offline_gateway: StripeGateway) -> None:
    with pytest.raises(InvalidInput) as rejected:
        parse(offline_gateway, b"not json")
    assert rejected.value.field == "payload"


def clocked_gateway(now: float) -> StripeGateway:
    return StripeGateway(
        API_KEY, WEBHOOK_SECRET, api_base="http://127.0.0.1:9", wall_clock=lambda: now
    )


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-301, False), (-300, True), (300, True), (301, False), (600, False)]
)
async def test_a_timestamp_beyond_the_tolerance_on_either_side_is_rejected(
    offset: int, accepted: bool
) -> None:
    now = 1_800_000_000
    gateway = clocked_gateway(now)
    payload = event("payment_intent.succeeded", intent_obj())
    headers = signed(payload, timestamp=now + offset)
    try:
        if accepted:
            assert gateway.parse_webhook(payload, headers).reference == "pi_123"
        else:
            with pytest.raises(InvalidInput) as rejected:
                gateway.parse_webhook(payload, headers)
            assert rejected.value.field == "stripe-signature"
    finally:
        await gateway.aclose()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'"amount_received": 1e400', "payload"),
        (b'"amount_received": 100000000000000000000', "data.object"),
        (b'"amount_received": 2147483648', "data.object"),
        (b'"amount_received": 125.5', "data.object"),
        (b'"amount_received": "12500"', "data.object"),
        (b'"amount_received": -1', "data.object"),
    ],
)
def test_an_absurd_amount_in_a_signed_event_is_refused(
    offline_gateway: StripeGateway, raw: bytes, field: str
) -> None:
    payload = event("payment_intent.succeeded", intent_obj(amount_received=12_500))
    payload = payload.replace(b'"amount_received": 12500', raw)
    with pytest.raises(InvalidInput) as refused:
        parse(offline_gateway, payload)
    assert refused.value.field == field


@pytest.mark.parametrize("created", [10**20, -(10**20), 1e300])
def test_an_absurd_created_time_is_refused(offline_gateway: StripeGateway, created: Any) -> None:
    payload = event("payment_intent.succeeded", intent_obj())
    payload = payload.replace(str(CREATED).encode(), str(created).encode())
    with pytest.raises(InvalidInput) as refused:
        parse(offline_gateway, payload)
    assert refused.value.field == "data.object"


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("customer.created", {"id": "cus_1", "object": "customer"}),
        ("payment_intent.created", intent_obj()),
        ("refund.updated", refund_obj("pending")),
        ("refund.created", refund_obj("succeeded")),
    ],
)
def test_unhandled_events_are_named_by_type(
    offline_gateway: StripeGateway, event_type: str, obj: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput) as unhandled:
        parse(offline_gateway, event(event_type, obj))
    assert unhandled.value.field == "type"
    assert event_type in unhandled.value.detail


def test_an_event_missing_what_it_needs_is_invalid(offline_gateway: StripeGateway) -> None:
    obj = refund_obj("succeeded")
    del obj["payment_intent"]
    with pytest.raises(InvalidInput) as invalid:
        parse(offline_gateway, event("refund.updated", obj))
    assert invalid.value.field == "data.object"


def test_a_malformed_registration_id_is_left_out(offline_gateway: StripeGateway) -> None:
    obj = intent_obj(metadata={"registration_id": "not-a-uuid"})
    assert parse(offline_gateway, event("payment_intent.succeeded", obj)).registration_id is None


def test_an_expanded_payment_intent_is_read_by_id(offline_gateway: StripeGateway) -> None:
    obj = refund_obj("succeeded", payment_intent={"id": "pi_123", "object": "payment_intent"})
    assert parse(offline_gateway, event("refund.updated", obj)).reference == "pi_123"
