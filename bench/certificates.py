"""Certificate rendering: 1,000 certificates rendered and stored in bulk, where the time goes,
and the same certificates through a minimal ReportLab baseline.

Run (ReportLab is not a project dependency; ``--with`` adds it to this run only):

    uv run --with reportlab python -m bench.certificates          # about 1 minute
    uv run python -m bench.certificates --count 200               # without the baseline

Figures and their reading are in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pypdf
import segno
import typst
from tests.support.clock import FakeClock
from tests.support.commands import new_event
from tests.support.samples import tiny_png
from tests.support.settings import make_settings

from cpd.adapters.documents import typst_certificates as tc
from cpd.adapters.documents.typst_worker import TypstCompiler
from cpd.adapters.storage.files import LocalFileStorage
from cpd.bootstrap import build_container
from cpd.domain.accounts import Actor
from cpd.domain.certificates import CertificateFields, Logo, new_verification_code
from cpd.services.certificates.issuing import CertificateService
from cpd.services.events.attendance import AttendanceEntry

NAMES = [
    "Łukasz Żółć",
    "José Ñúñez",
    "Zoë O'Brien",
    "Αλέξανδρος Παπαδόπουλος",
    "Мария Иванова",
    "Aoife Ní Bhriain",
    "Jean-Baptiste Lefèvre",
    "Margaret Thompson-Whitfield",
]


PASSWORD = "a sound passphrase"  # noqa: S105 - throwaway accounts in a throwaway database


def certificates(count: int) -> list[CertificateFields]:
    logo = Logo(tiny_png(120, 60), "image/png")
    out = []
    for n in range(count):
        code = new_verification_code()
        out.append(
            CertificateFields(
                holder_name=f"{NAMES[n % len(NAMES)]} {n}",
                registration_number=f"GMC {7_000_000 + n}",
                title="Advanced Clinical Governance: Risk, Audit and Patient Safety",
                starts_on=date(2026, 3, 30),
                ends_on=date(2026, 4, 2),
                cpd_credits=Decimal("12.5"),
                credit_category="Category 1 (external)",
                organization_name="Royal Society of Continuing Education",
                logo=logo,
                serial_number=f"RSCE-2026-{n:06d}",
                verification_code=code,
                verification_url=f"https://cpd.example.org/verify/{code}",
                signatory_name="Dr Anne Smith",
                signatory_title="Director of Education",
                issued_on=date(2026, 4, 3),
            )
        )
    return out


def per_item_ms(seconds: float, count: int) -> float:
    return seconds / count * 1000


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def mean_ms(run: Callable[[int], Any], count: int) -> float:
    """Mean per call over ``count`` different certificates (identical inputs would let
    Typst's memoization answer from its cache and flatter the figure)."""
    run(0)
    return per_item_ms(timed(lambda: [run(n) for n in range(count)]), count)


def qr_best_mask(url: str) -> str:
    code = segno.make(url, error=tc.QR_ERROR, micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, border=2)
    return out.getvalue().decode()


def breakdown(many: list[CertificateFields]) -> dict[str, float]:
    """Single-threaded costs per certificate of each step of a render, the compile steps in
    this process (as the child process runs them) and end to end through one child."""
    renderer = tc.TypstCertificateRenderer(processes=1)
    compiler = TypstCompiler(tc.ASSETS, [tc.BUNDLED_FONTS])
    count = min(len(many), 300)
    asyncio.run(renderer.render(None, many[0]))  # coverage read, child started
    inputs = [tc._inputs(f) for f in many[:count]]
    bare = [
        {
            "cpd-batch": json.dumps(
                [
                    tc._certificate_input(f, logo_key="x")
                    | {"logo": None, "qr": '<svg xmlns="http://www.w3.org/2000/svg"/>'}
                ]
            )
        }
        for f in many[:count]
    ]
    fonts = compiler.fonts
    source = tc.DEFAULT_TEMPLATE + tc.DRIVER

    def fresh_compiler(n: int, font_paths: Any) -> None:
        typst.Compiler(
            font_paths=font_paths, ignore_system_fonts=True, root=tc.ASSETS
        ).compile_with_warnings(input=source, format="pdf", sys_inputs=inputs[n])

    figures = {
        "end to end, one child process (kept)": mean_ms(
            lambda n: renderer._render_here(None, many[n]), count
        ),
        "QR code: segno, best of 8 masks": mean_ms(
            lambda n: qr_best_mask(many[n].verification_url), count
        ),
        "QR code: segno, fixed mask (kept)": mean_ms(
            lambda n: tc.qr_svg(many[n].verification_url), count
        ),
        "inputs: fields + QR + logo -> JSON": mean_ms(lambda n: tc._inputs(many[n]), count),
        "glyph coverage check": mean_ms(lambda n: renderer._warn_missing_glyphs(many[n]), count),
        "compile: reused compiler, shared fonts (kept)": mean_ms(
            lambda n: compiler.compile(source, inputs[n]), count
        ),
        "compile: new compiler per certificate, shared fonts": mean_ms(
            lambda n: fresh_compiler(n, fonts), count
        ),
        "compile: new compiler, fonts read from the folder": mean_ms(
            lambda n: fresh_compiler(n, [str(tc.BUNDLED_FONTS)]), min(count, 50)
        ),
        "compile: reused compiler, without QR code and logo": mean_ms(
            lambda n: compiler.compile(source, bare[n]), count
        ),
    }
    renderer.close()
    return figures


def pages_then_split(many: list[CertificateFields], per_document: int) -> tuple[float, float]:
    """The alternative not taken: N certificates as pages of one document, split with pypdf.
    Returns (compile, split) ms per certificate."""
    compiler = TypstCompiler(tc.ASSETS, [tc.BUNDLED_FONTS])
    compile_s = split_s = 0.0
    for start in range(0, len(many), per_document):
        chunk = many[start : start + per_document]
        logo = tc.logo_svg(chunk[0].logo) if chunk[0].logo else ""
        inputs = {
            "cpd-batch": json.dumps([tc._certificate_input(f, logo_key="cpd-logo") for f in chunk]),
            "cpd-logo": logo,
        }
        started = time.perf_counter()
        pdf = compiler.compile(tc.DEFAULT_TEMPLATE + tc.DRIVER, inputs)
        compile_s += time.perf_counter() - started
        started = time.perf_counter()
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) == len(chunk)
        for page in reader.pages:
            writer = pypdf.PdfWriter()
            writer.add_page(page)
            writer.write(io.BytesIO())
        split_s += time.perf_counter() - started
    return per_item_ms(compile_s, len(many)), per_item_ms(split_s, len(many))


async def bulk(many: list[CertificateFields], threads: int, folder: Path) -> dict[str, float]:
    renderer = tc.TypstCertificateRenderer(processes=threads)
    await renderer.render_many(None, many[:threads])  # warm: coverage, child processes
    storage = LocalFileStorage(folder)
    started = time.perf_counter()
    outcomes = await renderer.render_many(None, many)
    rendered = time.perf_counter()
    renderer.close()
    pdfs = [pdf for pdf in outcomes if isinstance(pdf, bytes)]
    assert len(pdfs) == len(many), [o for o in outcomes if not isinstance(o, bytes)][:1]
    await asyncio.gather(
        *(
            storage.put(f"certificates/bench/{f.serial_number}.pdf", pdf, content_type="pdf")
            for f, pdf in zip(many, pdfs, strict=True)
        )
    )
    stored = time.perf_counter()
    return {
        "render ms/cert": per_item_ms(rendered - started, len(many)),
        "store ms/cert": per_item_ms(stored - rendered, len(many)),
        "total ms/cert": per_item_ms(stored - started, len(many)),
        "total s": stored - started,
        "mean PDF KiB": sum(map(len, pdfs)) / len(pdfs) / 1024,
    }


@contextlib.contextmanager
def time_spent_in(methods: dict[str, tuple[type, str]]) -> Iterator[dict[str, float]]:
    """Seconds spent in each of these async methods while the block runs (wrapped in place,
    restored after): where the job's time goes."""
    spent = dict.fromkeys(methods, 0.0)
    originals = {label: getattr(owner, name) for label, (owner, name) in methods.items()}

    def timing(label: str, method: Any) -> Any:
        async def timed_method(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        return timed_method

    for label, (owner, name) in methods.items():
        setattr(owner, name, timing(label, originals[label]))
    try:
        yield spent
    finally:
        for label, (owner, name) in methods.items():
            setattr(owner, name, originals[label])


JOB_STEPS = {
    "issue (eligibility, serials, rows)": (CertificateService, "_issue_batch"),
    "find unrendered": (CertificateService, "_unrendered"),
    "render (render_many)": (tc.TypstCertificateRenderer, "render_many"),
    "store files + record": (CertificateService, "_store"),
}


async def through_the_job(count: int, threads: int, folder: Path) -> dict[str, float]:
    """The product path: a completed event's job (``CertificateService.run_job``) issues
    ``count`` certificates (eligibility, serials, rows), renders them in batches, stores each
    in a local folder, records it and queues its email, on the embedded SQLite file."""
    clock = FakeClock()
    settings = make_settings(
        persistence="sql",
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.sqlite'}",
        auto_migrate=True,
        file_storage="local",
        file_storage_dir=str(folder / "files"),
        certificate_render_processes=threads,
    )
    app = build_container(settings, clock=clock)
    await app.startup(run_relay=False)
    try:
        owner_user = await app.accounts.register(
            email="owner@example.org", password=PASSWORD, first_name="O",
            last_name="Wner",
        )  # fmt: skip
        assert owner_user is not None
        owner = Actor(owner_user.id)
        organization = await app.organizations.create(owner, name="Royal Society of Ethics")
        starts = clock.now() + timedelta(days=1)
        title = "Advanced Clinical Governance: Risk, Audit and Patient Safety"
        details = {"title": title, "format": "online", "cpd_credits": "12.5"}
        day = {"title": "Day", "starts_at": starts, "ends_at": starts + timedelta(hours=6)}
        event = await app.events.create(owner, new_event(organization.id, details, [day]))
        await app.events.publish(owner, event.id)
        people = []
        for n in range(count):
            first, _, last = NAMES[n % len(NAMES)].partition(" ")
            user = await app.accounts.register(
                email=f"p{n}@example.org", password=PASSWORD, first_name=first,
                last_name=f"{last} {n}",
            )  # fmt: skip
            assert user is not None
            people.append(Actor(user.id))
            await app.registrations.register(people[-1], event.id)
        clock.advance(days=2)
        await app.attendance.record(
            owner, event.id, event.sessions[0].id,
            [AttendanceEntry(user_id=p.user_id) for p in people],
        )  # fmt: skip
        await app.events.complete(owner, event.id)  # its own job waits in the outbox
        await app.certificate_renderer.render_many(None, certificates(threads))  # warm
        job = await app.certificates.issue_for_event(owner, event.id)
        with time_spent_in(JOB_STEPS) as spent:
            started = time.perf_counter()
            finished = await app.certificates.run_job(job.id)
            seconds = time.perf_counter() - started
        assert (finished.done, finished.failed) == (count, 0), finished
    finally:
        await app.shutdown()
    steps = {label: per_item_ms(value, count) for label, value in spent.items()}
    steps["the rest (job progress, queueing emails)"] = per_item_ms(
        seconds - sum(spent.values()), count
    )
    return {"total ms/cert": per_item_ms(seconds, count), "total s": seconds} | steps


def reportlab_baseline(many: list[CertificateFields], fast_qr: bool) -> float | None:
    """A minimal certificate with ReportLab (same texts, logo, QR code, Noto fonts); seconds."""
    try:
        from reportlab.graphics import renderPDF
        from reportlab.graphics.barcode.qr import QrCodeWidget
        from reportlab.graphics.shapes import Drawing
        from reportlab.lib.pagesizes import A4, landscape
        from reportlab.lib.units import cm
        from reportlab.lib.utils import ImageReader
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.pdfgen import canvas
    except ImportError:
        return None
    fonts = tc.BUNDLED_FONTS
    pdfmetrics.registerFont(TTFont("NotoSans", str(fonts / "NotoSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont("NotoSans-Bold", str(fonts / "NotoSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont("NotoSerif-Bold", str(fonts / "NotoSerif-Bold.ttf")))
    width, height = landscape(A4)

    def one(f: CertificateFields) -> bytes:
        out = io.BytesIO()
        pdf = canvas.Canvas(out, pagesize=(width, height))
        pdf.setFont("NotoSans-Bold", 13)
        pdf.drawString(2.2 * cm, height - 2.2 * cm, f.organization_name)
        if f.logo:
            pdf.drawImage(
                ImageReader(io.BytesIO(f.logo.data)),
                width - 5.4 * cm,
                height - 3 * cm,
                3.2 * cm,
                1.6 * cm,
            )
        pdf.setFont("NotoSerif-Bold", 30)
        pdf.drawCentredString(width / 2, height - 5 * cm, "Certificate of Completion")
        pdf.setFont("NotoSerif-Bold", 28)
        pdf.drawCentredString(width / 2, height - 8 * cm, f.holder_name)
        pdf.setFont("NotoSans", 11)
        lines = [
            f"Professional registration number {f.registration_number}",
            "has completed",
            f.title,
            f.dates_text,
            f"{f.credits_text} CPD credits · {f.credit_category}",
        ]
        for n, line in enumerate(lines):
            pdf.drawCentredString(width / 2, height - (9 + n * 0.8) * cm, line)
        pdf.drawString(2.2 * cm, 3 * cm, f"{f.signatory_name}, {f.signatory_title}")
        pdf.drawString(2.2 * cm, 2.2 * cm, f"Certificate no. {f.serial_number}")
        pdf.drawRightString(width - 5.4 * cm, 2.6 * cm, f.verification_code)
        pdf.drawRightString(width - 5.4 * cm, 2.2 * cm, f.verification_url)
        size = 2.6 * cm
        if fast_qr:  # segno's matrix drawn as rectangles
            matrix = segno.make(f.verification_url, error="m", micro=False).matrix
            cell = size / len(matrix)
            x0, y0 = width - 2.2 * cm - size, 1.8 * cm
            for row, bits in enumerate(matrix):
                for col, bit in enumerate(bits):
                    if bit:
                        pdf.rect(x0 + col * cell, y0 + size - (row + 1) * cell, cell, cell, 0, 1)
        else:  # ReportLab's own QR widget
            widget = QrCodeWidget(f.verification_url, barLevel="M")
            x1, y1, x2, y2 = widget.getBounds()
            drawing = Drawing(
                size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0]
            )
            drawing.add(widget)
            renderPDF.draw(drawing, pdf, width - 2.2 * cm - size, 1.8 * cm)
        pdf.showPage()
        pdf.save()
        return out.getvalue()

    one(many[0])
    return timed(lambda: [one(f) for f in many])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    many = certificates(args.count)

    print(f"## {args.count} certificates, typst {version('typst')}, segno {segno.__version__}\n")
    print("### Per step, one thread (mean ms per certificate)\n")
    for step, ms in breakdown(many).items():
        print(f"| {step} | {ms:.2f} |")

    print("\n### Bulk: render_many + store each in a local folder\n")
    with tempfile.TemporaryDirectory() as folder:
        for threads in (1, 2):
            figures = asyncio.run(bulk(many, threads, Path(folder) / str(threads)))
            cells = " | ".join(f"{value:.2f}" for value in figures.values())
            print(f"| Typst, {threads} process(es) | {cells} |")
        print("(columns: render ms/cert, store ms/cert, total ms/cert, total s, mean PDF KiB)")

    print("\n### The product path: a completed event's job, on the embedded SQLite\n")
    with tempfile.TemporaryDirectory() as folder:
        for threads in (1, 2):
            root = Path(folder) / str(threads)
            root.mkdir()
            figures = asyncio.run(through_the_job(args.count, threads, root))
            total, seconds = figures.pop("total ms/cert"), figures.pop("total s")
            print(
                f"| run_job, {threads} render process(es) | {total:.2f} ms/cert | {seconds:.2f} s |"
            )
            for step, ms in figures.items():
                print(f"|   {step} | {ms:.2f} ms/cert | |")
        print("(everything a job does but send the emails, which are tasks of their own)")

    print("\n### Alternative: pages of one document, split with pypdf (1 thread, ms/cert)\n")
    for per_document in (10, 50):
        compile_ms, split_ms = pages_then_split(many, per_document)
        print(
            f"| {per_document} per document | compile {compile_ms:.2f} | split {split_ms:.2f} |"
            f" total {compile_ms + split_ms:.2f} |"
        )

    print("\n### ReportLab baseline (1 thread, render only)\n")
    for fast_qr, label in ((False, "ReportLab QR widget"), (True, "segno matrix as rectangles")):
        baseline = reportlab_baseline(many, fast_qr)
        if baseline is None:
            print("ReportLab is not installed: run with `uv run --with reportlab ...`")
            break
        ms = per_item_ms(baseline, len(many))
        print(f"| ReportLab, {label} | {ms:.2f} ms/cert | {baseline:.1f} s |")


if __name__ == "__main__":
    main()
