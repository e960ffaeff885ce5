"""A Typst compile, in this process or in a child process of ``typst_pool`` that can be killed.

The child runs ``python -m cpd.adapters.documents.typst_worker``: it imports the standard
library and typst only (a fraction of a second to start), caps its own address space before
it compiles anything, and answers requests on a pipe until the pipe closes. A template is
someone's code: Typst caps ``while`` loops and recursion but not ``for`` over a huge range,
nor memory.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import resource
import sys
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

import typst

OK, FAILED = b"\x00", b"\x01"  # the first byte of a reply: a document follows, or a message
READY = b"ready"  # sent once, when the fonts are loaded
_SOURCE = "__typst_py_bytes__.typ"  # the name typst-py gives a source passed as bytes
_LOCATION = re.compile(r"(\S+\.typ):(\d+):(\d+)")
# Begins what the product appends to a template (``typst_certificates.DRIVER``): a position
# at or past it is not in the template, so it is not reported as the template's line.
WRAPPER = b"\n// cpd: the product's wrapper, which calls the template's certificate(c)\n"
_NEWLINE = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")  # the line breaks Typst counts
_DEFINITION = re.compile(r"let\s+(certificate)\s*\(")
_IN_WRAPPER = (
    " (where the product calls certificate(c), which the template must define with one "
    "parameter, the certificate's fields)"
)
# An absolute path in a message, e.g. "(searched at /srv/app/.../logo.png)"; not a URL, not
# a path the template wrote in quotes.
_ABSOLUTE = re.compile(r"(?<=[\s(])/[^\s()\"'`]+")
_PR_SET_PDEATHSIG = 1


class TemplateError(Exception):
    """The template did not compile: Typst's message (no server path in it) and where."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.where = where


class TypstCompiler:
    """One compiler on the given fonts, its root the assets folder (a template reads nothing
    else); reused for every compile (a compiler per compile cost more: bench/README.md)."""

    def __init__(self, root: Path, font_dirs: Sequence[Path]) -> None:
        self._root = root.resolve()
        self.fonts = typst.Fonts(
            include_system_fonts=False,
            include_embedded_fonts=False,  # only fonts we ship or were told about
            font_paths=[str(folder) for folder in font_dirs],
        )
        self._compiler = typst.Compiler(
            font_paths=self.fonts, ignore_system_fonts=True, root=str(self._root)
        )

    def compile(
        self,
        source: bytes,
        inputs: Mapping[str, str],
        output: Literal["pdf", "png"] = "pdf",
        ppi: float | None = None,
        timestamp: int | None = None,
    ) -> bytes:
        try:
            document, warnings = self._compiler.compile_with_warnings(
                input=source, format=output, ppi=ppi, sys_inputs=dict(inputs), timestamp=timestamp
            )
        except typst.TypstError as error:
            raise self._error(source, error.message, error.diagnostic) from None
        if warnings:  # e.g. an unknown font family: Typst would silently substitute one
            raise self._error(source, warnings[0].message, warnings[0].diagnostic)
        if isinstance(document, list):  # PNG comes one image per page; certificates have one
            document = document[0]
        assert isinstance(document, bytes)
        return document

    def _error(self, source: bytes, message: str, diagnostic: str) -> TemplateError:
        """Typst's message with the template's line and column (the first position inside the
        template, not in the wrapper after it), paths as the template sees them (relative to
        its folder), never where the service is installed."""
        found = [m for m in _LOCATION.finditer(diagnostic) if m[1].endswith(_SOURCE)]
        lines = _template_lines(source)
        inside = [(int(m[2]), int(m[3])) for m in found if lines is None or int(m[2]) <= lines]
        message = _ABSOLUTE.sub(self._relative, message)
        if found and not inside:  # the wrapper's call of certificate(c) failed
            message += _IN_WRAPPER
            inside = _definition(source)
        where = f"line {inside[0][0]}, column {inside[0][1]}" if inside else None
        return TemplateError(message, where)

    def _relative(self, match: re.Match[str]) -> str:
        path = Path(match[0])
        return str(path.relative_to(self._root)) if path.is_relative_to(self._root) else path.name


def _template_lines(source: bytes) -> int | None:
    """How many lines of ``source`` are the template, if the wrapper follows it."""
    end = source.rfind(WRAPPER)
    if end < 0:
        return None
    return len(_NEWLINE.findall(source[:end].decode("utf-8", "replace"))) + 1


def _definition(source: bytes) -> list[tuple[int, int]]:
    """Where the template defines ``certificate``, if it does."""
    text = source[: source.rfind(WRAPPER)].decode("utf-8", "replace")
    found = _DEFINITION.search(text)
    if found is None:
        return []
    before = _NEWLINE.split(text[: found.start(1)])
    return [(len(before), len(before[-1]) + 1)]


def _limit_memory(mebibytes: int) -> None:
    if mebibytes > 0:
        limit = mebibytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # hard too: no way back up


def _die_with_parent(parent: int) -> None:
    """Killed when the service dies, even mid-compile (Linux: when the spawning thread ends,
    and the pool's threads live as long as the pool; elsewhere the closed pipe ends the child
    once its compile returns)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        raise SystemExit(0)


def serve(requests: Connection, replies: Connection, compiler: TypstCompiler) -> None:
    """Answer compile requests until the parent closes the pipe."""
    replies.send_bytes(READY)
    while True:
        try:
            request = pickle.loads(requests.recv_bytes())  # noqa: S301 - from our parent only
        except EOFError:
            return
        try:
            document = compiler.compile(**request)
        except TemplateError as error:
            replies.send_bytes(FAILED + json.dumps([error.message, error.where]).encode())
        else:
            replies.send_bytes(OK + document)


def main(argv: Sequence[str]) -> None:
    """``<parent pid> <request fd> <reply fd> <memory MiB> <root> [font dir ...]``"""
    parent, request_fd, reply_fd, memory = (int(value) for value in argv[:4])
    _die_with_parent(parent)
    _limit_memory(memory)
    compiler = TypstCompiler(Path(argv[4]), [Path(folder) for folder in argv[5:]])
    serve(Connection(request_fd, writable=False), Connection(reply_fd, readable=False), compiler)


if __name__ == "__main__":
    main(sys.argv[1:])
