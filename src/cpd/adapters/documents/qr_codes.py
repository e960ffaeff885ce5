"""QR codes as SVG with segno, the library the certificates' verification QR codes use."""

from __future__ import annotations

import io

import segno


class SegnoQrCodes:
    def svg(self, text: str, *, title: str) -> bytes:
        """A standalone SVG (error correction M, 4-module quiet zone, 8 px modules), black
        on white so a phone screen held up to a scanner reads at any brightness."""
        code = segno.make(text, error="m", micro=False)
        out = io.BytesIO()
        code.save(out, kind="svg", scale=8, border=4, title=title, dark="#000", light="#fff")
        return out.getvalue()
