"""What every context's HTTP layer shares: problem details, the page of every list, the field
types of catalog entries (events and courses), shared parameters, and Struct helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.params import KwargDefinition, Parameter
from msgspec import Meta, Struct, UnsetType

from cpd.domain.money import MAX_AMOUNT
from cpd.domain.pages import Page as FoundPage
from cpd.services.common.commands import UNSET, Maybe, Price

T = TypeVar("T")
U = TypeVar("U")
S = TypeVar("S", bound=Struct)


class Problem(Struct, omit_defaults=True):
    """RFC 9457 problem details; ``errors`` names each offending field."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class FieldError(Struct):
    field: str
    message: str


class Page(Struct, Generic[T]):
    """One page of a list: every list answers ``{items, total, limit, offset}``."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, found: FoundPage[U], out: Callable[[U], T]) -> Page[T]:
        """A page the core found, each item as the API shows it."""
        return Page([out(item) for item in found.items], found.total, found.limit, found.offset)

    @classmethod
    def found(cls, found: FoundPage[T]) -> Page[T]:
        """A page the core found whose items are already the API's."""
        return Page(found.items, found.total, found.limit, found.offset)


def component(name: str) -> KwargDefinition:
    """Names a page's OpenAPI component (``Annotated[Page[X], component("XPage")]``): unnamed,
    Litestar names ``Page[X]`` after X's module path, which a module move would change."""
    return KwargDefinition(schema_component_key=name)


class Health(Struct):
    status: str


class WebhookAck(Struct):
    """What a provider's webhook gets back (Stripe's and Zoom's alike)."""

    received: bool
    duplicate: bool = False
    ignored: bool = False


# Fields of catalog entries: events and courses take them alike.
AwareDateTime = Annotated[datetime, Meta(tz=True)]
Title = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
Slug = Annotated[str, Meta(max_length=60, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Credits = Annotated[Decimal, Meta(description='Hours from 0 to 1000, at most 2 places: "1.5"')]


class MoneyIn(Struct):
    amount: Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="Minor units (pence, cents)")]
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$", examples=["GBP"])]

    def price(self) -> Price:
        return Price(self.amount, self.currency)


# Shared parameters: a catalog search, an organization by id or slug, a slug in a path.
Query = Annotated[str | None, Parameter(max_length=200)]
OrganizationRef = Annotated[
    str | None, Parameter(max_length=100, description="Organization id or slug")
]
PathSlug = Annotated[str, Parameter(max_length=60, pattern=r"^[A-Za-z0-9-]+$")]


def organization_ref(value: str | None) -> tuple[UUID | None, str | None]:
    """An ``organization`` filter as (id, slug): a UUID is an id, anything else a slug."""
    if not value:
        return None, None
    try:
        return UUID(value), None
    except ValueError:
        return None, value.lower()


def present(value: object, as_type: type[S]) -> S:
    """A domain object as a response body: the Struct names which attributes are public."""
    return msgspec.convert(value, as_type, from_attributes=True)


def given(value: T | UnsetType) -> T | None:
    """A PATCH field's value, or None when the body left it out."""
    return None if isinstance(value, UnsetType) else value


def maybe(value: T | UnsetType) -> Maybe[T]:
    """A PATCH body's field as a command's: left out stays left out (the core's UNSET)."""
    return UNSET if isinstance(value, UnsetType) else value


def or_unset(value: T | None) -> Maybe[T]:
    """An optional create field as a command's: None (not given) is left out."""
    return UNSET if value is None else value


def maybe_as(value: T | UnsetType, convert: Callable[[T], U]) -> Maybe[U]:
    """``maybe``, converting a value that was sent."""
    return UNSET if isinstance(value, UnsetType) else convert(value)


def set_fields(patch: Struct) -> dict[str, Any]:
    """The fields a PATCH body actually carried, ``null`` ones included."""
    return {
        name: value
        for name in patch.__struct_fields__
        if not isinstance(value := getattr(patch, name), UnsetType)
    }
