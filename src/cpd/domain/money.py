"""Money in integer minor units with an ISO 4217 code, and CPD credits as exact decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cpd.domain.errors import InvalidInput

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_CREDITS = Decimal("1000")


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise InvalidInput("Use a three-letter ISO 4217 code.", field="price.currency")
        if self.amount < 0:
            raise InvalidInput("Must not be negative.", field="price.amount")

    @property
    def is_free(self) -> bool:
        return self.amount == 0


def cpd_credits(value: Decimal | str | int, *, field: str = "cpd_credits") -> Decimal:
    """Credits are hours with at most two decimal places, e.g. ``1.5``."""
    try:
        credits = Decimal(value)
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
    return Decimal(text)
