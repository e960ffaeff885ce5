"""Certificates as PDF with Typst, fonts shipped in the package and QR codes from segno.

Output is the same on every machine: Typst sees only the bundled Noto Sans / Noto Serif
(Latin, Latin Extended, Greek, Cyrillic) plus folders named in ``CPD_CERTIFICATE_FONT_DIRS``,
never system fonts. Text no font can show (e.g. CJK without a CJK folder) is logged and
rendered anyway, so a certificate is never refused for a name.

A template is someone's code, so every compile runs in a child process of ``typst_pool``
that is killed at its deadline or when it outgrows its memory cap; each child keeps one
compiler and one loaded set of fonts (reading them per compile nearly doubled a compile's
time: bench/README.md). The template is passed on every compile: a compiler made from
in-memory bytes can fail on its second compile in typst 0.15 (it can go once typst fixes it).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from functools import cached_property, partial
from pathlib import Path

import segno
import structlog
from fontTools.ttLib import TTCollection, TTFont

from cpd.adapters.documents.typst_pool import (
    Budget,
    CompilerStopped,
    CompileTimeout,
    TypstProcessPool,
)
from cpd.adapters.documents.typst_worker import WRAPPER, TemplateError
from cpd.domain.certificates import CertificateFields, Logo, long_date, sample_fields
from cpd.domain.errors import InvalidInput

ASSETS = Path(__file__).parent / "certificate_assets"
BUNDLED_FONTS = ASSETS / "fonts"
DEFAULT_TEMPLATE = (ASSETS / "default.typ").read_bytes()
# Appended to every template: lays out each certificate of the batch on its own page. The
# template defines `certificate(c)`; the logo arrives by key so a batch carries it once.
DRIVER = (
    WRAPPER
    + b"""#for (cpd-index, cpd-c) in json(bytes(sys.inputs.at("cpd-batch"))).enumerate() {
  if cpd-index > 0 { pagebreak() }
  let cpd-logo = cpd-c.at("logo")
  certificate(cpd-c + (logo: if cpd-logo == none { none } else { sys.inputs.at(cpd-logo) }))
}
"""
)
# Decodes a logo the way Typst decodes images of its own (an undecodable raster inside the
# SVG that carries a logo to templates is skipped silently, so uploads are checked with this).
# Inputs are strings: raster bytes travel as a JSON array of numbers.
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
_FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}
# Quiet zone of 2 modules (the template leaves white space around it too); medium error
# correction survives a crease or a coffee ring.
QR_ERROR = "m"
QR_MASK = 0

LOGGER = "cpd.certificates"  # looked up when used: a logger cached at import would escape
# structlog's capture in tests once the app configured cache_logger_on_first_use.


class TypstCertificateRenderer:
    """The ``CertificateRenderer`` port on Typst, every compile in a child process.

    Renders (issue, re-issue, download, the job, previews) go to one pool of ``processes``
    children, each compile killed after ``render_seconds``; upload checks (templates and
    logos) to a pool of their own, killed after ``check_seconds`` for all samples together, so
    uploads never take the renders' processes. Each child's memory is capped at
    ``memory_mib``.
    """

    def __init__(
        self,
        *,
        font_dirs: Sequence[Path] = (),
        processes: int = 2,
        render_seconds: float = 10.0,
        check_processes: int = 2,
        check_seconds: float = 20.0,
        memory_mib: int = 1024,
    ) -> None:
        self._font_dirs = [BUNDLED_FONTS, *font_dirs]
        pool = partial(
            TypstProcessPool, memory_mib=memory_mib, root=ASSETS, font_dirs=self._font_dirs
        )
        self._renders = pool(name="typst-render", processes=processes, seconds=render_seconds)
        self._checks = pool(name="typst-check", processes=check_processes, seconds=check_seconds)

    def close(self) -> None:
        self._renders.close()
        self._checks.close()

    async def render(self, template: bytes | None, fields: CertificateFields) -> bytes:
        outcome = await self._renders.run(self._render_here, template, fields)
        if isinstance(outcome, InvalidInput):
            raise outcome
        return outcome

    async def render_many(
        self, template: bytes | None, many: Sequence[CertificateFields]
    ) -> list[bytes | InvalidInput]:
        """One pool job per certificate: a slow one holds one child while the others take
        the rest, and a cancelled batch starts nothing more.

        Measured (bench/certificates.py): compiling a batch as pages of one document and
        splitting it with pypdf cost more per certificate than single compiles on a reused
        compiler, so there is no splitting here.
        """
        return list(
            await asyncio.gather(
                *(self._renders.run(self._render_here, template, fields) for fields in many)
            )
        )

    async def render_png(
        self, template: bytes | None, fields: CertificateFields, ppi: float
    ) -> bytes:
        """A picture of the certificate (tests decode its QR code)."""
        compile_png = partial(self._renders.compile, output="png", ppi=ppi)
        try:
            return await self._renders.run(compile_png, _source(template), _inputs(fields))
        except (TemplateError, CompileTimeout, CompilerStopped) as error:
            raise InvalidInput(self._problem(error, self._renders), field="source") from None

    async def check_template(
        self, source: bytes, samples: Sequence[tuple[str, CertificateFields]] = ()
    ) -> None:
        """All samples within ``check_seconds``: a template is code, and Typst, which caps
        ``while`` loops and recursion, still runs ``for i in range(10^10)`` for minutes."""
        checks = list(samples) or [("", sample_fields())]
        problem = await self._checks.run(self._check_here, source, checks)
        if problem is not None:
            raise InvalidInput(problem, field="source")

    def _check_here(
        self, source: bytes, samples: list[tuple[str, CertificateFields]]
    ) -> str | None:
        budget = Budget(self._checks.seconds)
        for note, fields in samples:
            try:
                self._one_page(
                    self._checks.compile(_source(source), _inputs(fields), budget=budget)
                )
            except (TemplateError, CompileTimeout, CompilerStopped, InvalidInput) as error:
                problem = self._problem(error, self._checks, sample=True)
                return f"{problem} ({note})" if note else problem
        return None

    async def check_logo(self, logo: Logo) -> None:
        form = _LOGO_FORMATS[logo.mime]
        data = logo_svg(logo) if form == "svg" else json.dumps(list(logo.data))
        inputs = {"logo": data, "format": form}
        try:  # Typst's message only: its line and column are in the check, not the upload
            await self._checks.run(self._checks.compile, _LOGO_CHECK, inputs)
        except TemplateError as error:
            raise InvalidInput(
                f"The logo is not a readable {logo.mime} image: {error.message}", field="logo"
            ) from None
        except (CompileTimeout, CompilerStopped) as error:
            raise InvalidInput(
                self._problem(error, self._checks, what="logo"), field="logo"
            ) from None

    def _render_here(
        self, template: bytes | None, fields: CertificateFields
    ) -> bytes | InvalidInput:
        """One certificate, in a thread of the render pool; its failure as a value, so one
        certificate's broken render never costs the others theirs."""
        self._warn_missing_glyphs(fields)
        try:
            document = self._renders.compile(
                _source(template), _inputs(fields), timestamp=_issued_timestamp(fields)
            )
            return self._one_page(document)
        except (TemplateError, CompileTimeout, CompilerStopped) as error:
            return InvalidInput(self._problem(error, self._renders), field="source")
        except InvalidInput as error:
            return error

    @staticmethod
    def _one_page(pdf: bytes) -> bytes:
        pages = len(_PAGE.findall(pdf))
        if pages != 1:
            raise InvalidInput(
                f"The certificate template made {pages} pages for one certificate; it must "
                "fit on exactly one (shorten or shrink what overflows).",
                field="source",
            )
        return pdf

    @staticmethod
    def _problem(
        error: Exception, pool: TypstProcessPool, *, sample: bool = False, what: str = "template"
    ) -> str:
        if isinstance(error, CompileTimeout):
            data = " with sample data" if sample else ""
            return (
                f"The {what} took longer than {pool.seconds:g} s to compile{data}; simplify it "
                "(look for long loops)."
            )
        if isinstance(error, CompilerStopped):
            return (
                f"The {what} could not be compiled: the compiler stopped (it needed more than "
                f"{pool.memory_mib} MiB of memory, or crashed)."
            )
        return error.detail if isinstance(error, InvalidInput) else str(error)

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


def _source(template: bytes | None) -> bytes:
    return (DEFAULT_TEMPLATE if template is None else template) + DRIVER


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


def _issued_timestamp(fields: CertificateFields) -> int:
    """The PDF's creation date: the day the certificate was issued (not the time of the render,
    so the same certificate renders to the same bytes whenever it is downloaded)."""
    return int(datetime.combine(fields.issued_on, time(), UTC).timestamp())


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
