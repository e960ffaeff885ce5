from __future__ import annotations

import pytest

from cpd.domain.errors import InvalidInput
from cpd.domain.pages import MAX_PAGE_SIZE, PageRequest


def test_defaults() -> None:
    assert PageRequest() == PageRequest(limit=20, offset=0)


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (MAX_PAGE_SIZE, 0), (20, 10_000)])
def test_bounds_accepted(limit: int, offset: int) -> None:
    page = PageRequest(limit=limit, offset=offset)
    assert (page.limit, page.offset) == (limit, offset)


@pytest.mark.parametrize(
    ("limit", "offset", "field"),
    [(0, 0, "limit"), (-1, 0, "limit"), (MAX_PAGE_SIZE + 1, 0, "limit"), (20, -1, "offset")],
)
def test_bounds_refused_naming_the_field(limit: int, offset: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PageRequest(limit=limit, offset=offset)
    assert caught.value.field == field
