"""Refund policies: validation, and refunds that shrink with notice and stay within what was
paid, never below zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.errors import InvalidInput
from cpd.domain.money import MAX_AMOUNT
from cpd.domain.refunds import (
    FULL_REFUND,
    MAX_NOTICE_HOURS,
    MAX_TIERS,
    STANDARD_REFUNDS,
    RefundPolicy,
    RefundTier,
)

STARTS = datetime(2027, 6, 1, 9, tzinfo=UTC)


@st.composite
def policies(draw: st.DrawFn) -> RefundPolicy:
    hours = draw(st.lists(st.integers(0, MAX_NOTICE_HOURS), unique=True, max_size=MAX_TIERS))
    percents = draw(st.lists(st.integers(0, 100), min_size=len(hours), max_size=len(hours)))
    tiers = zip(sorted(hours, reverse=True), sorted(percents, reverse=True), strict=True)
    fee = draw(st.integers(0, 10_000))
    return RefundPolicy(tuple(RefundTier(h, p) for h, p in tiers), fee)


@given(
    policies(),
    st.integers(0, MAX_AMOUNT),
    st.integers(-60_000, (MAX_NOTICE_HOURS + 10) * 60),
    st.integers(0, 5000),
)
def test_a_refund_is_within_the_payment_and_shrinks_as_the_start_nears(
    policy: RefundPolicy, paid: int, notice_minutes: int, sooner_by: int
) -> None:
    now = STARTS - timedelta(minutes=notice_minutes)
    earlier = policy.refund(paid, now=now, starts_at=STARTS)
    later = policy.refund(paid, now=now + timedelta(minutes=sooner_by), starts_at=STARTS)
    assert 0 <= later <= earlier <= paid


@given(policies())
def test_the_stored_form_round_trips(policy: RefundPolicy) -> None:
    assert RefundPolicy.from_json(policy.as_json()) == policy


def test_the_standard_policy_is_the_one_that_was_fixed_in_code() -> None:
    def refund(days: float) -> int:
        return STANDARD_REFUNDS.refund(2500, now=STARTS - timedelta(days=days), starts_at=STARTS)

    assert (refund(14), refund(13.9), refund(2), refund(1.9), refund(-1)) == (
        2500,
        1250,
        1250,
        0,
        0,
    )
    assert FULL_REFUND.refund(2500, now=STARTS, starts_at=STARTS) == 2500


def test_the_fee_comes_off_a_refund_rounded_down_and_never_below_zero() -> None:
    policy = RefundPolicy((RefundTier(0, 50),), fee=300)
    assert policy.refund(2501, now=STARTS, starts_at=STARTS) == 1250 - 300  # 1250.5 rounds down
    assert policy.refund(500, now=STARTS, starts_at=STARTS) == 0
    assert (
        RefundPolicy.no_refunds().refund(2500, now=STARTS - timedelta(days=99), starts_at=STARTS)
        == 0
    )


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (lambda: RefundPolicy((RefundTier(3, 120),)), "refund_policy.tiers.0.percent"),
        (lambda: RefundPolicy((RefundTier(3, -1),)), "refund_policy.tiers.0.percent"),
        (lambda: RefundPolicy((RefundTier(-1, 10),)), "refund_policy.tiers.0.before_start_hours"),
        (
            lambda: RefundPolicy((RefundTier(MAX_NOTICE_HOURS + 1, 10),)),
            "refund_policy.tiers.0.before_start_hours",
        ),
        (  # later refunding more
            lambda: RefundPolicy((RefundTier(336, 50), RefundTier(48, 100))),
            "refund_policy.tiers.1.percent",
        ),
        (  # not from the longest notice down
            lambda: RefundPolicy((RefundTier(48, 100), RefundTier(336, 50))),
            "refund_policy.tiers.1.before_start_hours",
        ),
        (  # the same notice twice
            lambda: RefundPolicy((RefundTier(48, 100), RefundTier(48, 50))),
            "refund_policy.tiers.1.before_start_hours",
        ),
        (
            lambda: RefundPolicy(tuple(RefundTier(h, 0) for h in range(20, 9, -1))),
            "refund_policy.tiers",
        ),
        (lambda: RefundPolicy((), fee=-1), "refund_policy.fee"),
        (lambda: RefundPolicy((), fee=MAX_AMOUNT + 1), "refund_policy.fee"),
    ],
)
def test_a_policy_is_validated_naming_the_field(policy: object, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        policy()  # type: ignore[operator]
    assert refused.value.field == field
