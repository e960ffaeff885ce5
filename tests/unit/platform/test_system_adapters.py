"""Argon2 hashing and the in-process login throttle."""

from __future__ import annotations

import pytest

from cpd.adapters.system import Argon2Hasher, SystemClock


def cheap(**overrides: int) -> Argon2Hasher:
    return Argon2Hasher(**({"time_cost": 1, "memory_cost": 64} | overrides))


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.utcoffset() is not None
    assert now.utcoffset().total_seconds() == 0


async def test_argon2_verifies_the_right_password_only() -> None:
    hasher = cheap()
    hashed = await hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert hashed != await hasher.hash("correct horse battery")  # salted
    assert await hasher.verify(hashed, "correct horse battery")
    assert not await hasher.verify(hashed, "correct horse batterY")
    assert not await hasher.verify(hashed, "")


@pytest.mark.parametrize("stored", ["", "plaintext", "$argon2id$v=19$garbage", "$2b$12$bcrypt"])
async def test_argon2_treats_a_malformed_hash_as_a_mismatch(stored: str) -> None:
    assert await cheap().verify(stored, "anything") is False


async def test_argon2_asks_for_a_rehash_when_parameters_change() -> None:
    old = await cheap().hash("correct horse battery")
    assert not cheap().needs_rehash(old)
    assert cheap(time_cost=2).needs_rehash(old)
    assert cheap(memory_cost=128).needs_rehash(old)
    assert await cheap(time_cost=2).verify(old, "correct horse battery")  # still verifies
