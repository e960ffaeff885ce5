"""Refund policies over HTTP: tiers by hours (or days) of notice before the start, a fee in
minor units of the event's currency, no tiers for no refunds."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from cpd.domain.errors import InvalidInput
from cpd.domain.money import MAX_AMOUNT
from cpd.domain.refunds import MAX_NOTICE_HOURS, MAX_TIERS, RefundPolicy, RefundTier


class RefundTierIn(Struct, forbid_unknown_fields=True):
    """Cancelling at least this long before the start refunds ``percent`` (give hours or
    days, not both)."""

    percent: Annotated[int, Meta(ge=0, le=100)]
    before_start_hours: Annotated[int, Meta(ge=0, le=MAX_NOTICE_HOURS)] | None = None
    before_start_days: Annotated[int, Meta(ge=0, le=MAX_NOTICE_HOURS // 24)] | None = None


class RefundPolicyIn(Struct, forbid_unknown_fields=True):
    """Tiers from the longest notice down; no tiers: no refunds."""

    tiers: Annotated[list[RefundTierIn], Meta(max_length=MAX_TIERS)]
    fee: Annotated[
        int, Meta(ge=0, le=MAX_AMOUNT, description="Minor units of the event's currency")
    ] = 0

    def to_domain(self) -> RefundPolicy:
        tiers = []
        for n, tier in enumerate(self.tiers):
            hours, days = tier.before_start_hours, tier.before_start_days
            if (hours is None) == (days is None):
                raise InvalidInput(
                    "Give before_start_hours or before_start_days.",
                    field=f"refund_policy.tiers.{n}",
                )
            tiers.append(RefundTier(hours if hours is not None else (days or 0) * 24, tier.percent))
        return RefundPolicy(tuple(tiers), self.fee)


class RefundTierOut(Struct):
    before_start_hours: int
    percent: int


class RefundPolicyOut(Struct):
    tiers: list[RefundTierOut]
    fee: int  # minor units of the event's currency
    refunds: bool  # False: no refunds at all

    @classmethod
    def of(cls, policy: RefundPolicy) -> RefundPolicyOut:
        return cls(
            [RefundTierOut(t.hours_before, t.percent) for t in policy.tiers],
            policy.fee,
            any(t.percent for t in policy.tiers),
        )
