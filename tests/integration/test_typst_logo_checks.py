"""The Typst adapter's logo check: what an upload must pass before any certificate prints it
(moved from the unit suite: it starts Typst's compiling processes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from tests.unit.certificates.test_certificate_design import PNG

from cpd.adapters.documents.typst_certificates import DEFAULT_TEMPLATE, TypstCertificateRenderer
from cpd.domain.certificates import Logo, sample_fields
from cpd.domain.errors import InvalidInput


@pytest.fixture(scope="module")
def renderer() -> Iterator[TypstCertificateRenderer]:
    renderer = TypstCertificateRenderer()
    yield renderer
    renderer.close()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="2"/></svg>'


@pytest.mark.parametrize(
    ("data", "mime"),
    [(PNG, "image/png"), (SVG, "image/svg+xml")],
)
async def test_readable_logos_pass(
    renderer: TypstCertificateRenderer, data: bytes, mime: str
) -> None:
    await renderer.check_logo(Logo(data, mime))


@pytest.mark.parametrize(
    ("data", "mime", "says"),
    [
        (PNG[:-20], "image/png", "image/png"),  # truncated
        (b"plain text", "image/png", "PNG signature"),
        (PNG, "image/jpeg", "Jpeg"),  # labelled as what it is not
        (b"GIF89a", "image/gif", "image/gif"),
        (b"<svg", "image/svg+xml", "SVG"),
        (b"\xff\xfe<svg/>", "image/svg+xml", "UTF-8"),
    ],
)
async def test_unreadable_logos_are_refused_naming_the_logo(
    renderer: TypstCertificateRenderer, data: bytes, mime: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        await renderer.check_logo(Logo(data, mime))
    assert error.value.field == "logo"
    assert says in error.value.detail
    assert "line" not in error.value.detail  # the check's own lines mean nothing to anyone


async def test_rendering_alone_would_let_a_broken_raster_logo_through(
    renderer: TypstCertificateRenderer,
) -> None:
    """Why uploads are checked with ``check_logo``: the SVG that carries a raster logo into
    templates skips an image it cannot decode, and the certificate comes out without it."""
    broken = Logo(b"\x89PNG\r\n\x1a\n and then nothing", "image/png")
    pdf = await renderer.render(DEFAULT_TEMPLATE, replace(sample_fields(), logo=broken))
    assert pdf.startswith(b"%PDF")
