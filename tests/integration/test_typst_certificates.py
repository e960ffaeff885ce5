"""The Typst certificate renderer, compiled for real and read back with pypdf."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pypdf
import pytest
import segno
import zxingcpp
from PIL import Image
from structlog.testing import capture_logs
from tests.support.samples import tiny_png

from cpd.adapters.documents import typst_pool
from cpd.adapters.documents.typst_certificates import (
    DEFAULT_TEMPLATE,
    QR_ERROR,
    QR_MASK,
    TypstCertificateRenderer,
)
from cpd.domain.certificates import CertificateFields, Logo, new_verification_code, sample_fields
from cpd.domain.errors import InvalidInput

CJK_FONTS = Path(__file__).parent.parent / "fixtures" / "fonts"  # Noto Sans CJK, 6 glyphs


@pytest.fixture(scope="module")
def renderer() -> Iterator[TypstCertificateRenderer]:
    renderer = TypstCertificateRenderer()
    yield renderer
    renderer.close()


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def fields(**changes: object) -> CertificateFields:
    return replace(sample_fields(), **changes)  # type: ignore[arg-type]


NAMES = ["Łukasz Żółć", "José Ñúñez", "Zoë O'Brien", "Αλέξανδρος", "Мария"]


@pytest.mark.parametrize("name", NAMES)
async def test_real_names_render_as_text_on_one_page(
    renderer: TypstCertificateRenderer, name: str
) -> None:
    with capture_logs() as logs:
        pdf = await renderer.render(None, fields(holder_name=name))
    assert pdf.startswith(b"%PDF-")
    assert name in pdf_text(pdf)
    assert logs == []  # every glyph was found in the bundled fonts


async def test_every_field_is_printed(renderer: TypstCertificateRenderer) -> None:
    one = sample_fields()
    text = pdf_text(await renderer.render(None, one))
    for printed in (
        one.holder_name,
        "GMC 7654321",
        "Advanced Clinical Governance",
        "30 March \u2013 2 April 2026",
        "12.5 CPD credits",
        "Category 1 (external)",
        one.organization_name,
        "RSCE-2026-000123",
        one.verification_code,
        one.verification_url,
        "Dr Αλέξανδρος Мария Smith",
        "Director of Education",
        "3 April 2026",
    ):
        assert printed in text, printed


async def test_optional_fields_leave_no_trace(renderer: TypstCertificateRenderer) -> None:
    bare = fields(
        registration_number=None, credit_category=None, signatory_name=None, signatory_title=None
    )
    text = pdf_text(await renderer.render(None, bare))
    assert "registration number" not in text
    assert "Director" not in text
    assert "credits ·" not in text
    assert "none" not in text.lower()


async def test_the_same_fields_make_the_same_bytes(renderer: TypstCertificateRenderer) -> None:
    one = sample_fields()
    document = await renderer.render(None, one)
    assert await renderer.render(None, one) == document
    # Dated the day it was issued, not when it was rendered (two renders a second apart
    # differed in their creation date).
    info = pypdf.PdfReader(io.BytesIO(document)).metadata
    assert info is not None
    assert info["/CreationDate"].startswith(f"D:{one.issued_on:%Y%m%d}000000")


async def test_the_qr_code_and_the_logo_are_drawn(renderer: TypstCertificateRenderer) -> None:
    without = await renderer.render(None, sample_fields())
    with_png = await renderer.render(None, fields(logo=Logo(tiny_png(), "image/png")))
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2">'
        b'<rect width="4" height="2" fill="#c22"/></svg>'
    )
    with_svg = await renderer.render(None, fields(logo=Logo(svg, "image/svg+xml")))
    image = re.compile(rb"/Subtype\s*/Image")
    assert not image.search(without)  # the QR code is vector paths, not a picture
    assert image.search(with_png)
    assert with_svg != without
    # A different URL makes a different QR code: nothing per holder is cached.
    other = await renderer.render(None, fields(verification_url="https://elsewhere.example/v/1"))
    assert len(re.findall(rb"/Type\s*/Page\b", other)) == 1
    assert other != without


async def test_a_name_without_a_font_is_rendered_and_logged(
    renderer: TypstCertificateRenderer,
) -> None:
    with capture_logs() as logs:
        pdf = await renderer.render(None, fields(holder_name="山田太郎"))
    text = pdf_text(pdf)
    assert "This certifies that" in text  # not blank
    assert sample_fields().verification_code in text
    assert [entry["event"] for entry in logs] == ["certificate_glyphs_missing"]
    assert logs[0]["log_level"] == "warning"
    assert logs[0]["missing"] == {"holder_name": "太山田郎"}
    assert logs[0]["serial_number"] == "RSCE-2026-000123"


async def test_a_configured_cjk_font_renders_the_name() -> None:
    renderer = TypstCertificateRenderer(font_dirs=[CJK_FONTS])
    with capture_logs() as logs:
        pdf = await renderer.render(None, fields(holder_name="山田太郎"))
    renderer.close()
    assert "山田太郎" in pdf_text(pdf)
    assert logs == []


async def test_render_many_returns_one_pdf_per_certificate_in_order(
    renderer: TypstCertificateRenderer,
) -> None:
    many = [fields(holder_name=f"{name} {n}") for n, name in enumerate(NAMES * 2)]
    pdfs = await renderer.render_many(None, many)
    assert [pdf_text(pdf).count(one.holder_name) for pdf, one in zip(pdfs, many, strict=True)] == [
        1
    ] * len(many)
    assert await renderer.render_many(None, []) == []


CUSTOM = b"""#set page(width: 10cm, height: 6cm)
#let certificate(c) = [#c.holder_name earned #c.cpd_credits credits from #c.organization_name.]
"""


async def test_a_custom_template_is_used(renderer: TypstCertificateRenderer) -> None:
    await renderer.check_template(CUSTOM)
    text = pdf_text(await renderer.render(CUSTOM, fields(holder_name="Мария")))
    assert "Мария earned 12.5 credits from Royal Society" in text


async def test_the_default_template_passes_its_own_check(
    renderer: TypstCertificateRenderer,
) -> None:
    await renderer.check_template(DEFAULT_TEMPLATE)


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (b"#let certificate(c) = [\n#c.holder_name\n#set text(size: 1pt\n]", "line "),
        (b"#let certificate(c) = [\n\n#c.no_such_field]", "line 3"),
        (b"#let nothing = 1", "certificate"),
        (b'#set text(font: "Comic Sans MS")\n#let certificate(c) = [x]', "unknown font"),
        (b"#let certificate(c) = [a #pagebreak() b]", "exactly one"),
        (b'#let certificate(c) = read("/../../../../pyproject.toml")', "project root"),
    ],
)
async def test_a_broken_template_is_refused_with_typst_s_message_and_line(
    renderer: TypstCertificateRenderer, source: bytes, says: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        await renderer.check_template(source)
    assert error.value.field == "source"
    assert says in error.value.detail
    assert "__typst_py_bytes__" not in error.value.detail  # no server paths leak


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (b"#let title = [Certificate]\n#let certificate(c) = [#title #c.no_such_field]\n", 2),
        # Typst places this error at the wrapper's call, after the upload: the upload's
        # definition of certificate is where to look.
        (b"#let title = [Certificate]\n#let certificate(c, extra) = [#c.holder_name]\n", 2),
        (b"#let title = [Certificate]\r\n#let certificate(c, extra) = [x]", 2),
    ],
)
async def test_a_template_error_is_placed_in_the_upload_not_in_the_wrapper(
    renderer: TypstCertificateRenderer, source: bytes, line: int
) -> None:
    with pytest.raises(InvalidInput) as error:
        await renderer.check_template(source)
    lines = [int(n) for n in re.findall(r"line (\d+)", error.value.detail)]
    assert lines == [line], error.value.detail


async def test_a_template_without_certificate_is_told_what_to_define(
    renderer: TypstCertificateRenderer,
) -> None:
    with pytest.raises(InvalidInput) as error:
        await renderer.check_template(b"#let title = [Certificate]\n#let certifcate(c) = []\n")
    assert "line" not in error.value.detail
    assert "must define" in error.value.detail


async def test_a_name_too_long_for_a_template_is_caught(renderer: TypstCertificateRenderer) -> None:
    tight = b"#set page(width: 10cm, height: 6cm)\n#let certificate(c) = text(30pt, c.holder_name)"
    await renderer.check_template(tight)  # the sample name fits
    with pytest.raises(InvalidInput, match="exactly one"):
        await renderer.render(tight, fields(holder_name="Wolfeschlegelsteinhausen " * 8))


async def test_the_longest_allowed_texts_fit_the_default_template(
    renderer: TypstCertificateRenderer,
) -> None:
    longest = fields(
        holder_name=("Ш" * 100) + " " + ("W" * 100),
        title="Governance " * 18 + "Wwwwwwwwwwwwwwwwww"[:2],
        organization_name="W" * 80,
        registration_number="W" * 60,
        credit_category="W" * 40,
        signatory_name="W" * 40,
        signatory_title="W" * 60,
        logo=Logo(tiny_png(40, 20), "image/png"),
    )
    assert len(longest.title) == 200
    assert "Ш" * 100 in pdf_text(await renderer.render(None, longest)).replace("\n", "")


def decode_qr(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return [code.text for code in zxingcpp.read_barcodes(image)]


async def test_the_printed_qr_code_reads_back_as_the_verification_url(
    renderer: TypstCertificateRenderer,
) -> None:
    one = fields(verification_url=f"https://cpd.example.org/verify/{new_verification_code()}")
    png = await renderer.render_png(None, one, ppi=150)
    assert decode_qr(png) == [one.verification_url]


def test_qr_codes_with_the_fixed_mask_read_back_for_any_code() -> None:
    for _ in range(40):
        url = f"https://cpd.example.org/verify/{new_verification_code()}"
        matrix = segno.make(url, error=QR_ERROR, micro=False, mask=QR_MASK)
        out = io.BytesIO()
        matrix.save(out, kind="png", scale=4, border=4)
        assert decode_qr(out.getvalue()) == [url]


async def test_an_unreadable_font_file_is_logged_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    renderer = TypstCertificateRenderer(font_dirs=[tmp_path])
    with capture_logs() as logs:
        pdf = await renderer.render(None, sample_fields())
    renderer.close()
    assert sample_fields().holder_name in pdf_text(pdf)
    assert [entry["event"] for entry in logs] == ["certificate_font_unreadable"]


def test_the_compile_child_imports_only_the_standard_library_and_typst() -> None:
    """The pool starts ``python -m cpd.adapters.documents.typst_worker``: what that imports, and no
    more, is what every new child pays before its first compile."""
    probe = "import sys, cpd.adapters.documents.typst_worker; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"typst", "cpd.adapters.documents.typst_worker"} <= set(loaded)
    ours = {name for name in loaded if name.split(".")[0] == "cpd"}
    assert ours == {
        "cpd",
        "cpd.adapters",
        "cpd.adapters.documents",
        "cpd.adapters.documents.typst_worker",
    }
    for heavy in ("litestar", "sqlalchemy", "msgspec", "structlog", "segno", "fontTools"):
        assert heavy not in loaded


async def test_the_check_deadline_counts_compiles_not_the_child_s_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a busy machine a child took seconds to start; the upload's budget is for compiling.
    The start here outlasts the whole budget, and the budget is generous for two compiles on a
    loaded 2-core machine, so only a deadline that counted the start can fail it."""
    start = typst_pool._Child.__init__
    budget = 4.0

    def slow_start(self: Any, *args: Any) -> None:
        time.sleep(budget + 0.5)
        start(self, *args)

    monkeypatch.setattr(typst_pool._Child, "__init__", slow_start)
    renderer = TypstCertificateRenderer(check_seconds=budget, check_processes=1)
    try:
        samples = [("first sample", fields()), ("second sample", fields(holder_name="Ada"))]
        await renderer.check_template(CUSTOM, samples)
    finally:
        renderer.close()
