"""Certificate fields and verification codes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.certificates import (
    CROCKFORD,
    CertificateFields,
    Logo,
    new_verification_code,
    normalise_verification_code,
    sample_fields,
)
from cpd.domain.errors import InvalidInput

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z]{2}$")


def test_codes_are_grouped_crockford_with_at_least_80_bits() -> None:
    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.match(code) for code in codes)
    symbols = len(next(iter(codes)).replace("-", ""))
    assert symbols * 5 >= 80
    # Every symbol of the alphabet turns up: the generator is not stuck on a subset.
    assert set("".join(codes).replace("-", "")) == set(CROCKFORD)


def test_a_code_typed_sloppily_normalises_to_the_printed_one() -> None:
    assert normalise_verification_code("7k3m9qx2hz4pt8vwrd") == "7K3M-9QX2-HZ4P-T8VW-RD"
    assert normalise_verification_code(" 7K3M 9QX2-HZ4P t8vw-rd ") == "7K3M-9QX2-HZ4P-T8VW-RD"
    # O is read as zero, I and L as one.
    assert normalise_verification_code("OOOO-IIII-LLLL-oooo-il") == "0000-1111-1111-0000-11"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7K3M-9QX2-HZ4P-T8VW",
        "7K3M-9QX2-HZ4P-T8VW-RDX",
        "7K3M-9QX2-HZ4P-T8VW-RU",
        "../etc/passwd",
    ],
)
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalise_verification_code(typed)
    assert error.value.field == "code"


confusable = {"0": "Oo0", "1": "IiLl1"}


codes = st.text(alphabet=CROCKFORD, min_size=18, max_size=18).map(
    lambda s: "-".join([s[0:4], s[4:8], s[8:12], s[12:16], s[16:18]])
)


@given(codes, st.data())
def test_any_code_survives_case_dashes_and_confusables(code: str, data: st.DataObject) -> None:
    typed = "".join(
        data.draw(st.sampled_from(confusable.get(ch, ch + ch.lower())))
        if ch != "-"
        else data.draw(st.sampled_from(["-", "", " "]))
        for ch in code
    )
    assert normalise_verification_code(typed) == code


@given(st.text(max_size=30))
def test_normalising_is_idempotent_or_refuses(typed: str) -> None:
    try:
        once = normalise_verification_code(typed)
    except InvalidInput:
        return
    assert normalise_verification_code(once) == once
    assert CODE.match(once)


def test_dates_read_naturally() -> None:
    one = sample_fields()
    assert replace(one, ends_on=None).dates_text == "30 March 2026"
    assert one.dates_text == "30 March \u2013 2 April 2026"
    assert replace(one, ends_on=date(2026, 3, 31)).dates_text == "30\u201331 March 2026"
    assert (
        replace(one, ends_on=date(2027, 1, 2)).dates_text == "30 March 2026 \u2013 2 January 2027"
    )
    course = replace(one, starts_on=None, ends_on=None, completed_on=date(2026, 5, 1))
    assert course.dates_text == "Completed 1 May 2026"


def test_credits_print_without_trailing_zeros() -> None:
    one = sample_fields()
    assert replace(one, cpd_credits=Decimal("3.00")).credits_text == "3"
    assert replace(one, cpd_credits=Decimal("1.50")).credits_text == "1.5"
    assert replace(one, cpd_credits=Decimal("10")).credits_text == "10"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"holder_name": "  "}, "holder_name"),
        ({"title": ""}, "title"),
        ({"verification_url": "javascript:alert(1)"}, "verification_url"),
        ({"cpd_credits": Decimal("-1")}, "cpd_credits"),
        ({"starts_on": None}, "starts_on"),  # neither dates nor completion
        ({"completed_on": date(2026, 1, 1)}, "starts_on"),  # both
        ({"ends_on": date(2026, 3, 1)}, "ends_on"),  # before the start
    ],
)
def test_fields_that_cannot_be_printed_are_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        replace(sample_fields(), **change)  # type: ignore[arg-type]
    assert error.value.field == field


def test_a_logo_must_be_an_image_of_reasonable_size() -> None:
    Logo(b"\x89PNG...", "image/png")
    with pytest.raises(InvalidInput):
        Logo(b"<html>", "text/html")
    with pytest.raises(InvalidInput):
        Logo(b"", "image/png")
    with pytest.raises(InvalidInput):
        Logo(b"x" * (1024 * 1024 + 1), "image/jpeg")


def test_text_fields_name_every_printed_text() -> None:
    texts = sample_fields().text_fields()
    assert texts["holder_name"] == "Zoë Łukasz-Ñúñez O'Brien"
    assert "signatory_name" in texts
    bare = CertificateFields(
        holder_name="A",
        title="T",
        organization_name="O",
        cpd_credits=Decimal(1),
        serial_number="1",
        verification_code="C",
        verification_url="https://x.example/v/C",
        issued_on=date(2026, 1, 1),
        completed_on=date(2026, 1, 1),
    )
    assert "registration_number" not in bare.text_fields()
