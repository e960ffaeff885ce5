"""The page a certificate's QR code opens: is this certificate real, and does it stand?

Server-rendered HTML (no script), readable on a phone; never cached, so a revocation shows
at once. It says only what the certificate prints.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Controller, Response, get

from cpd.domain.certificates import Verification, long_date
from cpd.domain.errors import InvalidInput, NotFound
from cpd.services.certificates.issuing import CertificateService

PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "pages"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# The CSP (no script, no framing) and Referrer-Policy come from the front door, as for every page.
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def verification_page(verification: Verification | None) -> str:
    context: dict[str, object] = {"v": verification}
    if verification is not None:
        context |= {
            "headline": "Valid certificate"
            if verification.valid
            else "This certificate was revoked",
            "issued_on": long_date(verification.issued_at.date()),
            "revoked_on": long_date(verification.revoked_at.date())
            if verification.revoked_at
            else None,
            "credits": format(verification.cpd_credits.normalize(), "f"),
        }
    return PAGES.get_template("verify.html.j2").render(context)


class VerifyPageController(Controller):
    path = "/verify"
    include_in_schema = False  # a page for people; the API twin is /api/v1/certificates/verify

    @get("/{code:str}", media_type="text/html")
    async def page(self, code: str, certificates: CertificateService) -> Response[str]:
        try:
            verification: Verification | None = await certificates.verify(code)
        except (InvalidInput, NotFound):
            verification = None
        return Response(
            verification_page(verification),
            media_type="text/html",
            status_code=200 if verification else 404,
            headers=HEADERS,
        )
