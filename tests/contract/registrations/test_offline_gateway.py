"""OfflineGateway: test-card payments, bounded and idempotent refunds, no webhooks, on every
ledger (memory, SQLite, PostgreSQL), and on the database shared by several processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from cpd.adapters.payments.offline import MemoryOfflineLedger, OfflineGateway, OfflineLedger
from cpd.adapters.sql.database import SqlDatabase, create_engine
from cpd.adapters.sql.offline_payments import SqlOfflineLedger
from cpd.domain.errors import Conflict, InvalidInput, NotFound
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEventKind
from cpd.domain.registrations import Registration
from cpd.ports.registrations import PaymentGateway
from tests.contract.builders import Backend
from tests.support.clock import FakeClock

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def registration(amount: int = 10_000, seats: int = 1) -> Registration:
    return Registration.open(
        event_id=uuid4(),
        user_id=uuid4(),
        seats=seats,
        seats_free=10,
        waitlist_waiting=False,
        unit_price=Money(amount, "EUR"),
        now=NOW,
    )


def ledger_of(backend: Backend) -> OfflineLedger:
    if isinstance(backend.database, SqlDatabase):
        return SqlOfflineLedger(backend.database)
    return MemoryOfflineLedger()


@pytest.fixture
def gateway(backend: Backend) -> OfflineGateway:
    return OfflineGateway(ledger_of(backend), FakeClock(NOW))


@asynccontextmanager
async def another_process(backend: Backend) -> AsyncIterator[OfflineGateway]:
    """A gateway on its own engine (pool) over the same database, as another server worker or
    container has."""
    assert isinstance(backend.database, SqlDatabase)
    url = backend.database.engine.url.render_as_string(hide_password=False)
    database = SqlDatabase(create_engine(url, pool_size=2), backend.clock.now)
    try:
        yield OfflineGateway(SqlOfflineLedger(database), FakeClock(NOW))
    finally:
        await database.dispose()


async def test_a_payment_started_in_one_process_is_paid_and_refunded_in_another(
    backend: Backend, gateway: OfflineGateway
) -> None:
    if not backend.is_sql:
        pytest.skip("memory persistence is one process by definition")
    reg = registration(10_000)
    async with another_process(backend) as other:
        intent = await gateway.start_payment(reg, idempotency_key="registration:1")
        assert await other.start_payment(reg, idempotency_key="registration:1") == intent
        paid = await other.pay(intent.reference, "tok_visa")
        assert (paid.kind, paid.registration_id) == (PaymentEventKind.PAYMENT_SUCCEEDED, reg.id)
        with pytest.raises(Conflict):
            await gateway.pay(intent.reference, "tok_visa")
        receipt = await gateway.refund(intent.reference, Money(6_000, "EUR"), idempotency_key="r1")
        assert await other.refund(intent.reference, Money(6_000, "EUR"), idempotency_key="r1") == (
            receipt
        )
        with pytest.raises(Conflict):
            await other.refund(intent.reference, Money(5_000, "EUR"), idempotency_key="r2")


async def test_processes_paying_and_refunding_at_once_never_double_up(
    backend: Backend, gateway: OfflineGateway
) -> None:
    if not backend.is_sql:
        pytest.skip("memory persistence is one process by definition")
    async with another_process(backend) as other:
        intent = await gateway.start_payment(registration(10_000), idempotency_key="k")
        outcomes = await asyncio.gather(
            *(g.pay(intent.reference, "tok_visa") for g in (gateway, other, gateway, other)),
            return_exceptions=True,
        )
        assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
        assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException))
        refunds = await asyncio.gather(
            *(
                g.refund(intent.reference, Money(4_000, "EUR"), idempotency_key=f"r{n}")
                for n, g in enumerate((gateway, other, gateway, other))
            ),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in refunds) == 2  # 8,000 of 10,000


async def paid(gateway: OfflineGateway, amount: int = 10_000) -> str:
    intent = await gateway.start_payment(registration(amount), idempotency_key=str(uuid4()))
    await gateway.pay(intent.reference, "tok_visa")
    return intent.reference


def test_it_is_a_payment_gateway(gateway: OfflineGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "offline"


async def test_start_payment_needs_no_keys_and_is_idempotent(gateway: OfflineGateway) -> None:
    reg = registration()
    intent = await gateway.start_payment(reg, idempotency_key="k")

    assert intent.provider == "offline"
    assert intent.reference.startswith("off_")
    assert len(intent.reference) == 4 + 32
    assert intent.client_secret is None
    assert intent.checkout_url is None
    assert await gateway.start_payment(reg, idempotency_key="k") == intent
    assert (await gateway.start_payment(reg, idempotency_key="k2")).reference != intent.reference
    with pytest.raises(Conflict):
        await gateway.start_payment(registration(), idempotency_key="k")


async def test_a_free_registration_needs_no_payment(gateway: OfflineGateway) -> None:
    with pytest.raises(InvalidInput):
        await gateway.start_payment(registration(amount=0), idempotency_key="k")


@pytest.mark.parametrize("token", ["tok_visa", "pm_card_visa"])
async def test_a_good_test_card_pays(gateway: OfflineGateway, token: str) -> None:
    reg = registration(amount=6_000, seats=2)
    intent = await gateway.start_payment(reg, idempotency_key="k")

    event = await gateway.pay(intent.reference, token)

    assert event.kind is PaymentEventKind.PAYMENT_SUCCEEDED
    assert event.reference == intent.reference
    assert event.registration_id == reg.id
    assert event.amount == Money(12_000, "EUR")
    assert event.occurred_at == NOW
    assert event.id.startswith("evt_off_")


async def test_a_declined_card_fails_and_may_be_retried(gateway: OfflineGateway) -> None:
    intent = await gateway.start_payment(registration(), idempotency_key="k")

    declined = await gateway.pay(intent.reference, "tok_chargeDeclined")
    succeeded = await gateway.pay(intent.reference, "tok_visa")

    assert declined.kind is PaymentEventKind.PAYMENT_FAILED
    assert succeeded.kind is PaymentEventKind.PAYMENT_SUCCEEDED
    assert declined.id != succeeded.id


async def test_every_event_has_a_fresh_id(gateway: OfflineGateway) -> None:
    ids = set()
    for _ in range(5):
        intent = await gateway.start_payment(registration(), idempotency_key=str(uuid4()))
        ids.add((await gateway.pay(intent.reference, "tok_visa")).id)
    assert len(ids) == 5


@pytest.mark.parametrize("token", ["", "tok_mastercard", "4242424242424242", "TOK_VISA"])
async def test_an_unknown_token_is_invalid(gateway: OfflineGateway, token: str) -> None:
    intent = await gateway.start_payment(registration(), idempotency_key="k")
    with pytest.raises(InvalidInput) as invalid:
        await gateway.pay(intent.reference, token)
    assert invalid.value.field == "card_token"


async def test_paying_twice_or_an_unknown_payment_is_refused(gateway: OfflineGateway) -> None:
    reference = await paid(gateway)
    with pytest.raises(Conflict):
        await gateway.pay(reference, "tok_visa")
    with pytest.raises(NotFound):
        await gateway.pay("off_unknown", "tok_visa")


async def test_refunds_never_exceed_what_was_paid(gateway: OfflineGateway) -> None:
    reference = await paid(gateway, amount=10_000)

    first = await gateway.refund(reference, Money(7_000, "EUR"), idempotency_key="r1")
    with pytest.raises(Conflict) as too_much:
        await gateway.refund(reference, Money(3_001, "EUR"), idempotency_key="r2")
    rest = await gateway.refund(reference, Money(3_000, "EUR"), idempotency_key="r3")
    with pytest.raises(Conflict):
        await gateway.refund(reference, Money(1, "EUR"), idempotency_key="r4")

    assert too_much.value.field == "amount"
    assert first.provider == rest.provider == "offline"
    assert first.reference != rest.reference
    assert first.reference.startswith("re_off_")
    assert (first.amount, rest.amount) == (Money(7_000, "EUR"), Money(3_000, "EUR"))


async def test_a_refund_is_idempotent_by_key(gateway: OfflineGateway) -> None:
    reference = await paid(gateway, amount=10_000)

    receipts = [
        await gateway.refund(reference, Money(6_000, "EUR"), idempotency_key="same")
        for _ in range(3)
    ]

    assert receipts[0] == receipts[1] == receipts[2]
    # Only one 6,000 went out: 4,000 is still refundable, not a cent more.
    with pytest.raises(Conflict):
        await gateway.refund(reference, Money(4_001, "EUR"), idempotency_key="other")
    await gateway.refund(reference, Money(4_000, "EUR"), idempotency_key="other")


async def test_a_key_reused_for_another_refund_is_a_conflict(gateway: OfflineGateway) -> None:
    reference = await paid(gateway)
    await gateway.refund(reference, Money(1_000, "EUR"), idempotency_key="k")
    with pytest.raises(Conflict) as clash:
        await gateway.refund(reference, Money(2_000, "EUR"), idempotency_key="k")
    assert clash.value.field == "idempotency_key"


async def test_refunds_are_refused_when_nothing_can_be_refunded(gateway: OfflineGateway) -> None:
    unpaid = await gateway.start_payment(registration(), idempotency_key="k")
    with pytest.raises(Conflict):
        await gateway.refund(unpaid.reference, Money(100, "EUR"), idempotency_key="r1")
    with pytest.raises(NotFound):
        await gateway.refund("off_unknown", Money(100, "EUR"), idempotency_key="r2")
    reference = await paid(gateway)
    with pytest.raises(InvalidInput):
        await gateway.refund(reference, Money(100, "USD"), idempotency_key="r3")
    with pytest.raises(InvalidInput):
        await gateway.refund(reference, Money(0, "EUR"), idempotency_key="r4")


async def test_a_failed_refund_does_not_burn_its_key(gateway: OfflineGateway) -> None:
    reference = await paid(gateway, amount=1_000)
    with pytest.raises(Conflict):
        await gateway.refund(reference, Money(2_000, "EUR"), idempotency_key="k")
    receipt = await gateway.refund(reference, Money(1_000, "EUR"), idempotency_key="k")
    assert receipt.amount == Money(1_000, "EUR")


def test_it_sends_no_webhooks(gateway: OfflineGateway) -> None:
    with pytest.raises(InvalidInput, match="no webhooks"):
        gateway.parse_webhook(b"{}", {"stripe-signature": "t=1,v1=x"})
