"""Argon2 hashing and the in-process login throttle."""

from __future__ import annotations

import pytest

from cpd.adapters import system
from cpd.adapters.system import Argon2Hasher, MemoryAttemptThrottle, SystemClock


def cheap(**overrides: int) -> Argon2Hasher:
    return Argon2Hasher(**({"time_cost": 1, "memory_cost": 64} | overrides))


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.utcoffset() is not None
    assert now.utcoffset().total_seconds() == 0


def test_argon2_verifies_the_right_password_only() -> None:
    hasher = cheap()
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert hashed != hasher.hash("correct horse battery")  # salted
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "correct horse batterY")
    assert not hasher.verify(hashed, "")


@pytest.mark.parametrize("stored", ["", "plaintext", "$argon2id$v=19$garbage", "$2b$12$bcrypt"])
def test_argon2_treats_a_malformed_hash_as_a_mismatch(stored: str) -> None:
    assert cheap().verify(stored, "anything") is False


def test_argon2_asks_for_a_rehash_when_parameters_change() -> None:
    old = cheap().hash("correct horse battery")
    assert not cheap().needs_rehash(old)
    assert cheap(time_cost=2).needs_rehash(old)
    assert cheap(memory_cost=128).needs_rehash(old)
    assert cheap(time_cost=2).verify(old, "correct horse battery")  # still verifies meanwhile


class FakeTime:
    """Stands in for the ``time`` module inside the throttle only."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(system, "time", fake)
    return fake


async def test_throttle_opens_after_max_failures_in_the_window(fake_time: FakeTime) -> None:
    throttle = MemoryAttemptThrottle(max_failures=3, window_seconds=60)
    start = fake_time.now
    for _ in range(2):
        await throttle.record_failure("k")
        fake_time.now += 10
    assert await throttle.retry_after("k") == 0
    await throttle.record_failure("k")  # failures at t=0, 10, 20
    wait = await throttle.retry_after("k")
    assert 40 <= wait <= 41  # the oldest leaves the window at t=60
    assert await throttle.retry_after("other") == 0

    fake_time.now = start + 59  # t=59: all three are still inside the window
    assert await throttle.retry_after("k") > 0
    fake_time.now = start + 20 + wait  # waiting as told is always enough
    assert await throttle.retry_after("k") == 0  # the window slid past the first failure


async def test_throttle_window_forgets_old_failures(fake_time: FakeTime) -> None:
    throttle = MemoryAttemptThrottle(max_failures=2, window_seconds=60)
    await throttle.record_failure("k")
    fake_time.now += 61
    await throttle.record_failure("k")
    assert await throttle.retry_after("k") == 0


async def test_throttle_reset_clears_one_key(fake_time: FakeTime) -> None:
    throttle = MemoryAttemptThrottle(max_failures=1, window_seconds=60)
    await throttle.record_failure("a")
    await throttle.record_failure("b")
    await throttle.reset("a")
    assert await throttle.retry_after("a") == 0
    assert await throttle.retry_after("b") > 0
