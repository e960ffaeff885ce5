"""The offline gateway's ledger in the database (``OfflineLedger``): shared by every process.

Each step is one transaction whose condition decides it (``paid`` false, the refund within
what is left), so concurrent processes serialise on the row and never both succeed past it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cpd.adapters.payments.offline import KeyedRefund, OfflinePayment
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _dialect_insert
from cpd.adapters.sql.database import SqlDatabase
from cpd.domain.money import Money


class SqlOfflineLedger:
    def __init__(self, db: SqlDatabase) -> None:
        self._engine = db.engine
        self._now = db.now

    async def open(self, start_key: str, payment: OfflinePayment) -> OfflinePayment:
        p = t.offline_payments
        async with self._engine.begin() as connection:
            insert = _dialect_insert(connection)(p).values(
                reference=payment.reference,
                start_key=start_key,
                registration_id=payment.registration_id,
                amount=payment.amount.amount,
                currency=payment.amount.currency,
                created_at=self._now(),
            )
            await connection.execute(insert.on_conflict_do_nothing(index_elements=["start_key"]))
            row = (await connection.execute(select(p).where(p.c.start_key == start_key))).one()
        return _payment(row)

    async def find(self, reference: str) -> OfflinePayment | None:
        p = t.offline_payments
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(p).where(p.c.reference == reference))).first()
        return None if row is None else _payment(row)

    async def settle(self, reference: str) -> bool:
        p = t.offline_payments.c
        query = (
            update(t.offline_payments)
            .where(p.reference == reference, p.paid.is_(False))
            .values(paid=True)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(query)).rowcount == 1

    async def keyed_refund(self, idempotency_key: str) -> KeyedRefund | None:
        r = t.offline_refunds
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(r).where(r.c.idempotency_key == idempotency_key))
            ).first()
        return None if row is None else _refund(row)

    async def add_refund(self, idempotency_key: str, refund: KeyedRefund) -> KeyedRefund | None:
        p = t.offline_payments.c
        take = (
            update(t.offline_payments)
            .where(
                p.reference == refund.reference,
                p.paid.is_(True),
                p.refunded + refund.amount.amount <= p.amount,
            )
            .values(refunded=p.refunded + refund.amount.amount)
        )
        record = t.offline_refunds.insert().values(
            idempotency_key=idempotency_key,
            reference=refund.reference,
            amount=refund.amount.amount,
            currency=refund.amount.currency,
            receipt_reference=refund.receipt_reference,
        )
        try:
            async with self._engine.begin() as connection:
                if (await connection.execute(take)).rowcount != 1:
                    return None
                await connection.execute(record)
        except IntegrityError:  # the same key at the same time: that refund stands, not this
            return await self.keyed_refund(idempotency_key)
        return refund


def _payment(row: Any) -> OfflinePayment:
    return OfflinePayment(
        reference=row.reference,
        registration_id=row.registration_id,
        amount=Money(row.amount, row.currency),
        paid=row.paid,
        refunded=row.refunded,
    )


def _refund(row: Any) -> KeyedRefund:
    return KeyedRefund(row.reference, Money(row.amount, row.currency), row.receipt_reference)
