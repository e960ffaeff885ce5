"""The offline payment gateway's ledger: its payments and keyed refunds live in the database,
so every server process (``--workers``, several containers) sees the same ones."""

from __future__ import annotations

from advanced_alchemy.types import GUID
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, text

from cpd.adapters.sql.tables.base import _timestamp, metadata

__all__ = ["offline_payments", "offline_refunds"]  # what ``tables`` re-exports

offline_payments = Table(
    "offline_payments",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("start_key", String(255), nullable=False, unique=True),  # start_payment's key
    Column("registration_id", GUID, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("paid", Boolean, nullable=False, server_default=text("false")),
    Column("refunded", Integer, nullable=False, server_default=text("0")),
    _timestamp("created_at"),
)

offline_refunds = Table(
    "offline_refunds",
    metadata,
    Column("idempotency_key", String(255), primary_key=True),
    Column(
        "reference",
        String(40),
        ForeignKey("offline_payments.reference", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("receipt_reference", String(40), nullable=False),
)
