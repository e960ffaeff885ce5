"""Money in integer minor units with an ISO 4217 code, and CPD credits as exact decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cpd.domain.errors import InvalidInput

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_CREDITS = Decimal("1000")
# Amounts are kept in 32-bit integer columns (PostgreSQL ``integer``): larger ones are refused.
MAX_AMOUNT = 2**31 - 1
# ISO 4217 (list one) circulating currencies and their minor-unit digits. Funds, precious
# metals, the SDR and the testing codes (BOV, XAU, XDR, XTS, XXX...) are not prices.
_TWO_DIGITS = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ
    GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL
    MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR
    PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
"""
_NO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"
_MINOR_UNIT_DIGITS = {
    **dict.fromkeys(_TWO_DIGITS.split(), 2),
    **dict.fromkeys(_NO_DIGITS.split(), 0),
    **dict.fromkeys(_THREE_DIGITS.split(), 3),
}
ISO_CURRENCIES = frozenset(_MINOR_UNIT_DIGITS)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise InvalidInput("Use a three-letter ISO 4217 code.", field="price.currency")
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise InvalidInput("Must be a whole number of minor units.", field="price.amount")
        if self.amount < 0:
            raise InvalidInput("Must not be negative.", field="price.amount")

    @classmethod
    def parse(cls, value: object) -> Money:
        """From ``{"amount": ..., "currency": ...}``, naming whichever part is missing."""
        if isinstance(value, Money):
            return value
        if not isinstance(value, dict):
            raise InvalidInput("Give an amount and a currency.", field="price")
        unknown = set(value) - {"amount", "currency"}
        if unknown:
            raise InvalidInput("Unknown field.", field=f"price.{min(unknown)}")
        for part in ("amount", "currency"):
            if part not in value:
                raise InvalidInput("Required.", field=f"price.{part}")
        return cls.checked(value["amount"], value["currency"])

    @classmethod
    def checked(cls, amount: object, currency: object) -> Money:
        """Money as it enters (a price, a provider's event): an active ISO 4217 currency and
        an amount within ``MAX_AMOUNT``. Stored money is only shape-checked, so a code ISO
        withdraws later still loads."""
        money = cls(amount, currency)  # type: ignore[arg-type]  # checked in __post_init__
        if money.currency not in ISO_CURRENCIES:
            raise InvalidInput("Not an active ISO 4217 currency.", field="price.currency")
        if money.amount > MAX_AMOUNT:
            raise InvalidInput(f"Must be between 0 and {MAX_AMOUNT}.", field="price.amount")
        return money

    @property
    def is_free(self) -> bool:
        return self.amount == 0

    @property
    def minor_unit_digits(self) -> int:
        return _MINOR_UNIT_DIGITS.get(self.currency, 2)

    def display(self) -> str:
        """``12.50 GBP``, ``1250 JPY``, ``1.250 KWD``: the amount in major units."""
        digits = self.minor_unit_digits
        return f"{Decimal(self.amount).scaleb(-digits):.{digits}f} {self.currency}"


def cpd_credits(value: Decimal | str | int, *, field: str = "cpd_credits") -> Decimal:
    """Credits are hours with at most two decimal places, e.g. ``1.5``."""
    if isinstance(value, bool):
        raise InvalidInput("Must be a decimal number such as 1.5.", field=field)
    try:
        credits = Decimal(str(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput("Must be a decimal number such as 1.5.", field=field) from None
    if not credits.is_finite() or credits < 0 or credits > MAX_CREDITS:
        raise InvalidInput(f"Must be between 0 and {MAX_CREDITS}.", field=field)
    exponent = credits.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidInput("At most two decimal places.", field=field)
    return canonical_credits(credits)


def canonical_credits(credits: Decimal) -> Decimal:
    """One spelling per value ("1.5", "2", never "1.50" or "2E+0"), as clients see it."""
    text = f"{credits.quantize(Decimal('0.01')):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text) + 0  # + 0 turns "-0" into "0"
