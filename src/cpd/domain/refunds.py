"""Refund policies: what a registrant gets back for cancelling, by notice given.

An organization sets one (``STANDARD_REFUNDS`` until it does), an event may override it, and a
paid registration keeps a snapshot of the one that applied when it was paid, so changing a
policy never changes what earlier buyers were promised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from cpd.domain.errors import InvalidInput
from cpd.domain.money import MAX_AMOUNT

MAX_TIERS = 10
MAX_NOTICE_HOURS = 24 * 366 * 2  # two years before the start
FIELD = "refund_policy"


@dataclass(frozen=True, slots=True)
class RefundTier:
    """Cancelling at least ``hours_before`` hours before the start refunds ``percent``."""

    hours_before: int
    percent: int


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    """Tiers from the longest notice down, each refunding no more than the one before; a
    ``fee`` (minor units of the registration's currency) is kept from any refund. No tiers:
    no refunds."""

    tiers: tuple[RefundTier, ...] = ()
    fee: int = 0

    def __post_init__(self) -> None:
        if len(self.tiers) > MAX_TIERS:
            raise InvalidInput(f"Give at most {MAX_TIERS} tiers.", field=f"{FIELD}.tiers")
        for n, tier in enumerate(self.tiers):
            where = f"{FIELD}.tiers.{n}"
            if not 0 <= tier.hours_before <= MAX_NOTICE_HOURS:
                raise InvalidInput(
                    f"Notice is 0 to {MAX_NOTICE_HOURS} hours.", field=f"{where}.before_start_hours"
                )
            if not 0 <= tier.percent <= 100:
                raise InvalidInput("A percent is 0 to 100.", field=f"{where}.percent")
        for n, (longer, shorter) in enumerate(pairwise(self.tiers), start=1):
            if shorter.hours_before >= longer.hours_before:
                raise InvalidInput(
                    "List tiers from the longest notice down, each notice shorter.",
                    field=f"{FIELD}.tiers.{n}.before_start_hours",
                )
            if shorter.percent > longer.percent:
                raise InvalidInput(
                    "Cancelling later must not refund more than cancelling earlier.",
                    field=f"{FIELD}.tiers.{n}.percent",
                )
        if not 0 <= self.fee <= MAX_AMOUNT:
            raise InvalidInput(f"The fee is 0 to {MAX_AMOUNT} minor units.", field=f"{FIELD}.fee")

    @classmethod
    def no_refunds(cls) -> RefundPolicy:
        return cls(())

    def percent_at(self, now: datetime, starts_at: datetime) -> int:
        notice = starts_at - now
        return next((t.percent for t in self.tiers if notice >= timedelta(hours=t.hours_before)), 0)

    def refund(self, balance: int, *, now: datetime, starts_at: datetime) -> int:
        """What cancelling now gives back of ``balance`` (minor units): its tier's percent,
        rounded down to a whole minor unit, less the fee, and never below zero."""
        percent = self.percent_at(now, starts_at)
        if percent == 0 or balance <= 0:
            return 0
        return max(0, balance * percent // 100 - self.fee)

    def as_json(self) -> dict[str, Any]:
        """Plain values, as stored and as the API shows them."""
        return {
            "tiers": [
                {"before_start_hours": t.hours_before, "percent": t.percent} for t in self.tiers
            ],
            "fee": self.fee,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> RefundPolicy:
        tiers = tuple(
            RefundTier(int(t["before_start_hours"]), int(t["percent"])) for t in value["tiers"]
        )
        return cls(tiers, int(value.get("fee", 0)))


STANDARD_REFUNDS = RefundPolicy(
    (RefundTier(hours_before=14 * 24, percent=100), RefundTier(hours_before=2 * 24, percent=50))
)
FULL_REFUND = RefundPolicy((RefundTier(hours_before=0, percent=100),))
