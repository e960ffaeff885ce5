"""A stand-in certificate renderer (CPD_CERTIFICATE_RENDERER=fake): a one-page PDF that lists
the fields, made in microseconds without the Typst processes, so that tests of everything
around certificates need not start a compiler. Templates and logos are accepted unread:
production refuses it unless CPD_ALLOW_FAKE_CERTIFICATES says it is meant."""

from __future__ import annotations

from collections.abc import Sequence

from cpd.domain.certificates import CertificateFields, Logo
from cpd.domain.errors import InvalidInput


class FakeCertificateRenderer:
    async def render(self, template: bytes | None, fields: CertificateFields) -> bytes:
        return placeholder_pdf(
            [
                fields.holder_name,
                fields.title,
                fields.organization_name,
                f"{fields.cpd_credits} CPD credits",
                f"{fields.serial_number} {fields.verification_code}",
                fields.verification_url,
                fields.issued_on.isoformat(),
            ]
        )

    async def render_many(
        self, template: bytes | None, many: Sequence[CertificateFields]
    ) -> list[bytes | InvalidInput]:
        return [await self.render(template, fields) for fields in many]

    async def check_template(
        self, source: bytes, samples: Sequence[tuple[str, CertificateFields]] = ()
    ) -> None:
        return None

    async def check_logo(self, logo: Logo) -> None:
        return None


def placeholder_pdf(lines: Sequence[str]) -> bytes:
    """A valid one-page PDF showing ``lines`` in Helvetica (Latin-1; other letters as '?')."""
    text = b"".join(
        b"(" + _escaped(line) + b") Tj 0 -20 Td " for line in lines
    )  # one line each, 20 pt apart
    content = b"BT /F1 14 Tf 72 770 Td " + text + b"ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _escaped(line: str) -> bytes:
    raw = line.encode("latin-1", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
