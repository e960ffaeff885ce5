"""Security headers on every response, added in one place: the front door (``front.py``).

A header a route sets itself wins (the badge image's sandboxing CSP). Pages get a strict CSP.
The API documentation pages under ``/schema`` run Scalar and Swagger UI from this origin
(``api_docs.py``) and may load nothing from anywhere else; inline styles stay allowed because
both inject ``<style>`` elements at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCS_PATH = "/schema"
PAGE_CSP = (
    b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    b"frame-ancestors 'none'"
)
DOCS_CSP = (
    b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
    b"frame-ancestors 'none'"
)
API_CSP = b"default-src 'none'; frame-ancestors 'none'"  # nothing in an API answer may run
HSTS = b"max-age=31536000; includeSubDomains"
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # a verification page's address holds its code
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers without CSP level 2
)
_CSP = b"content-security-policy"
_CONTENT_TYPE = b"content-type"


@dataclass(frozen=True, slots=True)
class SecurityHeaders:
    hsts: bool  # outside development: browsers then refuse plain HTTP to this host

    def added_to(self, path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        extra = [(name, value) for name, value in _ALWAYS if name not in present]
        if _CSP not in present:
            extra.append((_CSP, self._policy(path, headers)))
        if self.hsts and b"strict-transport-security" not in present:
            extra.append((b"strict-transport-security", HSTS))
        return [*headers, *extra]

    @staticmethod
    def _policy(path: str, headers: list[tuple[bytes, bytes]]) -> bytes:
        media_type = next((v for n, v in headers if n.lower() == _CONTENT_TYPE), b"")
        if not media_type.lower().startswith(b"text/html"):
            return API_CSP
        if path == DOCS_PATH or path.startswith(DOCS_PATH + "/"):
            return DOCS_CSP
        return PAGE_CSP
