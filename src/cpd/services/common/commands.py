"""Typed commands at the service boundary: a use case's input as a dataclass, so a field name
is checked where it is written; a PATCH leaves a field out with ``UNSET`` (None clears it)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Final, TypeAlias, TypeVar

T = TypeVar("T")


class Unset(Enum):
    """A field a PATCH left out: unchanged (None is a value: it clears the field)."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
Maybe: TypeAlias = T | Unset  # a PATCH field: a value, or UNSET for "leave it as it is"


class Details:
    """A command's nested value (a price, a venue, a session): the domain gets it as a plain
    dict, so its setters validate every input in one place, in one order."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Price(Details):
    amount: int  # minor units
    currency: str


def given_fields(command: object, *, leave_out: Collection[str] = ()) -> dict[str, Any]:
    """The fields a command carries, in declaration order, UNSET ones left out and nested
    details as plain dicts: what the domain's setters take."""
    return {
        field.name: _plain(value)
        for field in fields(command)  # type: ignore[arg-type]  # a dataclass instance
        if field.name not in leave_out and (value := getattr(command, field.name)) is not UNSET
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Details):
        return given_fields(value)
    return value
