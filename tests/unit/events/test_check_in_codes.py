"""Check-in codes: short Crockford base32 a person reads out, typed back any way."""

from __future__ import annotations

import io
import re

import typst
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from cpd.adapters.documents.qr_codes import SegnoQrCodes
from cpd.domain.codes import CROCKFORD
from cpd.domain.registrations import check_in_code_candidates, new_check_in_code


def decode_svg_qr(svg: bytes) -> list[str]:
    """Rasterise the SVG with Typst (no SVG renderer besides it here) and read it back."""
    page = b"#set page(width: 6cm, height: 6cm, margin: 0pt)\n"
    source = page + b'#image(bytes(sys.inputs.qr), format: "svg", width: 100%)'
    png = typst.compile(source, format="png", ppi=150, sys_inputs={"qr": svg.decode()})
    image = Image.open(io.BytesIO(png)).convert("L")
    return [code.text for code in zxingcpp.read_barcodes(image)]


SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def test_codes_are_two_groups_of_four_crockford_symbols_without_look_alikes() -> None:
    codes = {new_check_in_code() for _ in range(2000)}
    assert len(codes) == 2000  # 40 bits: no repeat in a sample this size
    assert all(SHAPE.fullmatch(code) for code in codes)
    assert set("".join(codes).replace("-", "")) == set(CROCKFORD)
    assert not set("ILOU") & set("".join(codes))


symbols = st.text(alphabet=CROCKFORD, min_size=8, max_size=8)


@given(symbols, st.booleans(), st.booleans(), st.sampled_from(["", " ", "  "]))
def test_a_code_read_back_in_any_case_with_or_without_the_dash_finds_itself(
    raw: str, lower: bool, dash: bool, padding: str
) -> None:
    code = f"{raw[:4]}-{raw[4:]}"
    typed = (f"{raw[:4]}-{raw[4:]}" if dash else raw).lower() if lower else raw
    assert check_in_code_candidates(f"{padding}{typed}{padding}") == (code,)


def test_look_alike_letters_read_as_the_digits_they_resemble() -> None:
    assert check_in_code_candidates("o1il-k7q4") == ("0111-K7Q4",)


def test_anything_else_is_looked_up_as_given_for_codes_of_the_old_format() -> None:
    assert check_in_code_candidates(" aB3_-x9Yz0QwErTy ") == ("aB3_-x9Yz0QwErTy",)
    assert check_in_code_candidates("K7Q4-9XM") == ("K7Q4-9XM",)  # too short: not a new code
    assert check_in_code_candidates("   ") == ()


def test_the_qr_code_reads_back_as_the_check_in_code() -> None:
    code = new_check_in_code()
    svg = SegnoQrCodes().svg(code, title=f"Check-in code {code}")
    assert svg.startswith(b"<?xml")
    assert f"<title>Check-in code {code}</title>".encode() in svg
    assert decode_svg_qr(svg) == [code]
