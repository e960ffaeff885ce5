"""Certificates as PDF with Typst, fonts shipped in the package and QR codes from segno.

Output is the same on every machine: Typst sees only the bundled Noto Sans / Noto Serif
(Latin, Latin Extended, Greek, Cyrillic) plus folders named in ``CPD_CERTIFICATE_FONT_DIRS``,
never system fonts. Text no font can show (e.g. CJK without a CJK folder) is logged and
rendered anyway, so a certificate is never refused for a name.

Typst releases the GIL, so compiles run in worker threads, each with its own compiler, all
sharing one loaded set of fonts (reading the fonts per compile cost 6.2 ms against 3.45 ms:
bench/README.md). The template is passed on every compile: a compiler made from in-memory
bytes can fail on its second compile in typst 0.15.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import multiprocessing
import re
import threading
from collections.abc import Iterable, Sequence
from functools import cached_property
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

import segno
import structlog
import typst
from fontTools.ttLib import TTCollection, TTFont

from cpd.domain.certificates import CertificateFields, Logo, long_date, sample_fields
from cpd.domain.errors import InvalidInput

ASSETS = Path(__file__).parent / "certificate_assets"
BUNDLED_FONTS = ASSETS / "fonts"
DEFAULT_TEMPLATE = (ASSETS / "default.typ").read_bytes()
# Appended to every template: lays out each certificate of the batch on its own page. The
# template defines `certificate(c)`; the logo arrives by key so a batch carries it once.
DRIVER = b"""
#for (cpd-index, cpd-c) in json(bytes(sys.inputs.at("cpd-batch"))).enumerate() {
  if cpd-index > 0 { pagebreak() }
  let cpd-logo = cpd-c.at("logo")
  certificate(cpd-c + (logo: if cpd-logo == none { none } else { sys.inputs.at(cpd-logo) }))
}
"""
# Decodes a logo the way Typst decodes images of its own (an undecodable raster inside the
# SVG that carries a logo to templates is skipped silently, so uploads are checked with this).
# Inputs are strings: raster bytes travel as a JSON array of numbers (a 1 MiB logo: ~0.15 s).
_LOGO_CHECK = b"""
#let data = sys.inputs.at("logo")
#let format = sys.inputs.at("format")
#image(if format == "svg" { bytes(data) } else { bytes(json(bytes(data))) }, format: format,
  width: 2cm)
"""
_LOGO_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/svg+xml": "svg",
}
_PAGE = re.compile(rb"/Type\s*/Page\b")
_LOCATION = re.compile(r"\.typ:(\d+):(\d+)")
_FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}
# Quiet zone of 2 modules (the template leaves white space around it too); medium error
# correction survives a crease or a coffee ring.
QR_ERROR = "m"
QR_MASK = 0

LOGGER = "cpd.certificates"  # looked up when used: a logger cached at import would escape
# structlog's capture in tests once the app configured cache_logger_on_first_use.


class TypstCertificateRenderer:
    """The ``CertificateRenderer`` port on Typst."""

    def __init__(
        self, *, font_dirs: Sequence[Path] = (), threads: int = 2, check_seconds: float = 20.0
    ) -> None:
        self._extra_font_dirs = list(font_dirs)
        self._check_seconds = check_seconds
        self._font_dirs = [BUNDLED_FONTS, *font_dirs]
        self._fonts = typst.Fonts(
            include_system_fonts=False,
            include_embedded_fonts=False,  # only fonts we ship or were told about
            font_paths=[str(folder) for folder in self._font_dirs],
        )
        self._threads = max(1, threads)
        self._local = threading.local()

    async def render(self, template: bytes | None, fields: CertificateFields) -> bytes:
        return await asyncio.to_thread(self.render_sync, template, fields)

    async def render_many(
        self, template: bytes | None, many: Sequence[CertificateFields]
    ) -> list[bytes]:
        """Spread over ``threads`` workers, each compiling its share one by one.

        Measured (bench/certificates.py): compiling a batch as pages of one document and
        splitting it with pypdf cost more per certificate than single compiles on a reused
        compiler, so there is no splitting here.
        """
        if not many:
            return []
        size = -(-len(many) // self._threads)
        chunks = [many[start : start + size] for start in range(0, len(many), size)]
        done = await asyncio.gather(
            *(asyncio.to_thread(self._render_chunk, template, chunk) for chunk in chunks)
        )
        return [pdf for chunk in done for pdf in chunk]

    async def check_template(
        self, source: bytes, samples: Sequence[tuple[str, CertificateFields]] = ()
    ) -> None:
        """In a child process killed after ``check_seconds``: a template is code, and Typst,
        which caps ``while`` loops and recursion, still runs ``for i in range(10^10)`` for
        minutes; a thread running it could never be stopped."""
        checks = list(samples) or [("", sample_fields())]
        problem = await asyncio.to_thread(self._check_in_child, source, checks)
        if problem is not None:
            raise InvalidInput(problem, field="source")

    def _check_in_child(
        self, source: bytes, samples: list[tuple[str, CertificateFields]]
    ) -> str | None:
        context = multiprocessing.get_context("forkserver")  # never fork a threaded process
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_check_template_here,
            args=(source, samples, self._extra_font_dirs, sender),
            daemon=True,
        )
        child.start()
        sender.close()
        try:
            if not receiver.poll(self._check_seconds):
                return (
                    f"The template took longer than {self._check_seconds:g} s to compile with "
                    "sample data; simplify it (look for long loops)."
                )
            problem: str | None = receiver.recv()
            return problem
        except EOFError:  # the child died without a word (out of memory, killed)
            return "The template could not be compiled: the compiler stopped."
        finally:
            child.kill()
            child.join()
            receiver.close()

    async def check_logo(self, logo: Logo) -> None:
        await asyncio.to_thread(self._check_logo_sync, logo)

    def _check_logo_sync(self, logo: Logo) -> None:
        form = _LOGO_FORMATS[logo.mime]
        data = logo_svg(logo) if form == "svg" else json.dumps(list(logo.data))
        try:  # Typst's message only: its line and column are in the check, not the upload
            self._compiler().compile(
                input=_LOGO_CHECK, format="pdf", sys_inputs={"logo": data, "format": form}
            )
        except typst.TypstError as error:
            raise InvalidInput(
                f"The logo is not a readable {logo.mime} image: {error.message}", field="logo"
            ) from None

    def _render_chunk(
        self, template: bytes | None, chunk: Sequence[CertificateFields]
    ) -> list[bytes]:
        return [self.render_sync(template, fields) for fields in chunk]

    def render_sync(self, template: bytes | None, fields: CertificateFields) -> bytes:
        """One certificate, in the calling thread (the async methods call this in threads)."""
        self._warn_missing_glyphs(fields)
        pdf = self._compile(template, _inputs(fields))
        pages = len(_PAGE.findall(pdf))
        if pages != 1:
            raise InvalidInput(
                f"The certificate template made {pages} pages for one certificate; it must "
                "fit on exactly one (shorten or shrink what overflows).",
                field="source",
            )
        return pdf

    def render_png(self, template: bytes | None, fields: CertificateFields, ppi: float) -> bytes:
        """A picture of the certificate (template previews; tests decode its QR code)."""
        return self._compile(template, _inputs(fields), output="png", ppi=ppi)

    def _compile(
        self,
        template: bytes | None,
        inputs: dict[str, str],
        *,
        output: Literal["pdf", "png"] = "pdf",
        ppi: float | None = None,
    ) -> bytes:
        source = (DEFAULT_TEMPLATE if template is None else template) + DRIVER
        try:
            pdf, warnings = self._compiler().compile_with_warnings(
                input=source, format=output, ppi=ppi, sys_inputs=inputs
            )
        except typst.TypstError as error:
            raise InvalidInput(_describe(error.message, error.diagnostic), field="source") from None
        if warnings:  # e.g. an unknown font family: Typst would silently substitute one
            first = warnings[0]
            raise InvalidInput(_describe(first.message, first.diagnostic), field="source")
        if isinstance(pdf, list):  # PNG comes one image per page; certificates have one
            pdf = pdf[0]
        assert isinstance(pdf, bytes)
        return pdf

    def _compiler(self) -> typst.Compiler:
        compiler: typst.Compiler | None = getattr(self._local, "compiler", None)
        if compiler is None:
            # The root is the assets folder: a template can read nothing private.
            compiler = typst.Compiler(font_paths=self._fonts, ignore_system_fonts=True, root=ASSETS)
            self._local.compiler = compiler
        return compiler

    @cached_property
    def coverage(self) -> frozenset[int]:
        """Every code point some configured font has a glyph for (read once, on first use)."""
        return frozenset(_code_points(self._font_dirs))

    def _warn_missing_glyphs(self, fields: CertificateFields) -> None:
        coverage = self.coverage
        missing: dict[str, str] = {}
        for name, text in fields.text_fields().items():
            absent = {ch for ch in text if not ch.isspace() and ord(ch) not in coverage}
            if absent:
                missing[name] = "".join(sorted(absent))
        if missing:
            structlog.get_logger(LOGGER).warning(
                "certificate_glyphs_missing",
                serial_number=fields.serial_number,
                missing=missing,
                hint="add a font folder with these characters to CPD_CERTIFICATE_FONT_DIRS",
            )


def _check_template_here(
    source: bytes,
    samples: list[tuple[str, CertificateFields]],
    font_dirs: list[Path],
    report: Connection,
) -> None:
    """The child process of ``check_template``: what is wrong with the template, or None."""
    renderer = TypstCertificateRenderer(font_dirs=font_dirs, threads=1)
    problem = None
    for note, fields in samples:
        try:
            renderer.render_sync(source, fields)
        except InvalidInput as error:
            problem = f"{error.detail} ({note})" if note else error.detail
            break
    report.send(problem)
    report.close()


def qr_svg(url: str) -> str:
    """The verification URL as a QR code in SVG (scaled by the template).

    The mask pattern is fixed: segno otherwise scores all eight masks in Python, which was
    2.3 of the 3.2 ms per certificate (bench/certificates.py). Any mask is valid QR (the
    reader takes it from the symbol's format bits); a test decodes the rendered codes.
    """
    code = segno.make(url, error=QR_ERROR, micro=False, mask=QR_MASK)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, border=2)
    return out.getvalue().decode()


def logo_svg(logo: Logo) -> str:
    """The logo as SVG source: Typst's inputs are strings, so a raster logo travels as an SVG
    that embeds it as a data URI (Typst draws it as the original image)."""
    if logo.mime == "image/svg+xml":
        try:
            return logo.data.decode()
        except UnicodeDecodeError:
            raise InvalidInput("An SVG logo must be UTF-8 text.", field="logo") from None
    encoded = base64.b64encode(logo.data).decode()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<image href="data:{logo.mime};base64,{encoded}"/></svg>'
    )


def _inputs(fields: CertificateFields) -> dict[str, str]:
    inputs = {"cpd-batch": json.dumps([_certificate_input(fields, logo_key="cpd-logo")])}
    if fields.logo is not None:
        inputs["cpd-logo"] = logo_svg(fields.logo)
    return inputs


def _certificate_input(fields: CertificateFields, *, logo_key: str) -> dict[str, str | None]:
    def iso(day: object) -> str | None:
        return None if day is None else str(day)

    return {
        "holder_name": fields.holder_name,
        "registration_number": fields.registration_number,
        "title": fields.title,
        "dates": fields.dates_text,
        "starts_on": iso(fields.starts_on),
        "ends_on": iso(fields.ends_on),
        "completed_on": iso(fields.completed_on),
        "cpd_credits": fields.credits_text,
        "credit_category": fields.credit_category,
        "organization_name": fields.organization_name,
        "logo": logo_key if fields.logo is not None else None,
        "serial_number": fields.serial_number,
        "verification_code": fields.verification_code,
        "verification_url": fields.verification_url,
        "qr": qr_svg(fields.verification_url),
        "signatory_name": fields.signatory_name,
        "signatory_title": fields.signatory_title,
        "issued_on": iso(fields.issued_on),
        "issued_on_text": long_date(fields.issued_on),
    }


def _describe(message: str, diagnostic: str) -> str:
    """Typst's message with the template's line and column (its file path left out)."""
    where = _LOCATION.search(diagnostic)
    return f"line {where[1]}, column {where[2]}: {message}" if where else message


def _code_points(folders: Iterable[Path]) -> set[int]:
    points: set[int] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in _FONT_SUFFIXES:
                continue
            try:
                if path.suffix.lower() in {".ttc", ".otc"}:
                    fonts = list(TTCollection(path, lazy=True).fonts)
                else:
                    fonts = [TTFont(path, lazy=True)]
                for font in fonts:
                    points.update(font.getBestCmap() or {})
            except Exception as error:  # noqa: BLE001 - a bad file must not stop certificates
                structlog.get_logger(LOGGER).warning(
                    "certificate_font_unreadable", path=str(path), error=str(error)
                )
    return points
