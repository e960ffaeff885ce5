"""Money in minor units with an ISO code, and CPD credits as canonical two-place decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cpd.domain.errors import InvalidInput
from cpd.domain.money import MAX_AMOUNT, MAX_CREDITS, Money, canonical_credits, cpd_credits

# --- Money ------------------------------------------------------------------------------------


def test_money_keeps_minor_units_and_currency() -> None:
    price = Money(2500, "EUR")
    assert (price.amount, price.currency, price.is_free) == (2500, "EUR", False)
    assert Money(0, "GBP").is_free


@pytest.mark.parametrize("currency", ["gbp", "GB", "GBPX", "", "G1P", "£££"])
def test_a_currency_must_be_three_capital_letters(currency: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(100, currency)
    assert caught.value.field == "price.currency"


def test_a_currency_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(100, "GBP\n")
    assert caught.value.field == "price.currency"


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(-1, "GBP")
    assert caught.value.field == "price.amount"


@pytest.mark.parametrize("amount", [10.5, True, "10"])
def test_an_amount_must_be_a_whole_number_of_minor_units(amount: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(amount, "GBP")
    assert caught.value.field == "price.amount"


# --- CPD credits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (1.5, "1.5"),
        ("1.50", "1.5"),
        ("1.5", "1.5"),
        (Decimal("0.25"), "0.25"),
        (10, "10"),
        ("10.00", "10"),
        ("100", "100"),
        ("2E+1", "20"),
        (0, "0"),
        ("0.00", "0"),
        (" 2.5 ", "2.5"),
        (MAX_CREDITS, "1000"),
    ],
)
def test_credits_come_back_in_one_canonical_spelling(given: Any, canonical: str) -> None:
    credits = cpd_credits(given)
    assert isinstance(credits, Decimal)
    assert str(credits) == canonical
    assert credits == Decimal(canonical)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("1.555", "two decimal places"),
        ("0.001", "two decimal places"),
        ("-0.5", "between 0 and"),
        (-1, "between 0 and"),
        ("1000.01", "between 0 and"),
        (1001, "between 0 and"),
        ("NaN", "between 0 and"),
        ("sNaN", "between 0 and"),
        ("Infinity", "between 0 and"),
        ("one and a half", "decimal number"),
        ("", "decimal number"),
        (None, "decimal number"),
    ],
)
def test_credits_outside_the_rules_are_refused(given: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        cpd_credits(given)
    assert caught.value.field == "cpd_credits"


def test_the_field_name_of_a_credit_error_can_be_chosen() -> None:
    with pytest.raises(InvalidInput) as caught:
        cpd_credits("1.234", field="modules[2].cpd_credits")
    assert caught.value.field == "modules[2].cpd_credits"


def test_negative_zero_credits_read_as_zero() -> None:
    assert str(cpd_credits("-0")) == "0"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("2.00"), "2"),
        (Decimal("2E+0"), "2"),
        (Decimal("10"), "10"),
        (Decimal("100.0"), "100"),
        (Decimal("0.10"), "0.1"),
        (Decimal("0.05"), "0.05"),
        (Decimal("7.25"), "7.25"),
    ],
)
def test_canonical_credits_drop_only_trailing_fraction_zeros(value: Decimal, text: str) -> None:
    assert str(canonical_credits(value)) == text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1250, "GBP", "12.50 GBP"),
        (5, "EUR", "0.05 EUR"),
        (0, "USD", "0.00 USD"),
        (1250, "JPY", "1250 JPY"),
        (1250, "KWD", "1.250 KWD"),
    ],
)
def test_money_is_shown_in_its_currencys_major_units(
    amount: int, currency: str, shown: str
) -> None:
    assert Money(amount, currency).display() == shown


@pytest.mark.parametrize("currency", ["ZZZ", "XXX", "XTS", "XAU", "HRK", "ABC"])
def test_a_price_takes_only_an_active_iso_4217_currency(currency: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money.parse({"amount": 100, "currency": currency})
    assert caught.value.field == "price.currency"


@pytest.mark.parametrize(("currency", "digits"), [("GBP", 2), ("JPY", 0), ("KWD", 3), ("XCG", 2)])
def test_active_currencies_pass_with_their_minor_units(currency: str, digits: int) -> None:
    assert Money.parse({"amount": 100, "currency": currency}).minor_unit_digits == digits


def test_a_price_above_the_bound_is_refused_but_the_bound_itself_passes() -> None:
    assert Money.parse({"amount": MAX_AMOUNT, "currency": "GBP"}).amount == MAX_AMOUNT
    with pytest.raises(InvalidInput) as caught:
        Money.parse({"amount": MAX_AMOUNT + 1, "currency": "GBP"})
    assert caught.value.field == "price.amount"


def test_stored_money_in_a_withdrawn_currency_still_loads() -> None:
    assert Money(100, "HRK").display() == "1.00 HRK"
