"""The image build, checked without a container engine: what the build context lets in, and
that the wheel's build backend is pinned and hashed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _pattern(glob: str) -> re.Pattern[str]:
    """A .containerignore line as a regex, as Docker/Buildah read it: ``**`` any folders,
    ``*`` within one name, matching the path or any folder above it."""
    out = ""
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif glob.startswith("**", index):
            out, index = out + ".*", index + 2
        elif glob[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif glob[index] == "?":
            out, index = out + "[^/]", index + 1
        elif glob[index] == "[":
            end = glob.index("]", index)
            out, index = out + glob[index : end + 1], end + 1
        else:
            out, index = out + re.escape(glob[index]), index + 1
    return re.compile(out + "(?:/.*)?")


def excluded(path: str) -> bool:
    lines = (ROOT / ".containerignore").read_text().splitlines()
    verdict = False
    for line in (line.strip() for line in lines):
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        glob = line.removeprefix("!").strip("/")
        if _pattern(glob).fullmatch(path):
            verdict = not negated  # the last matching line decides
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        "var/cpd.db",
        "var/mail/20261204-welcome.eml",
        "notes/complaint.eml",
        "src/cpd/adapters/stray.eml",
        ".venv/bin/python",
        ".git/HEAD",
        ".env",
        ".mypy_cache/3.11/cache.db",
        "src/cpd/__pycache__/settings.cpython-311.pyc",
        "src/var/cpd.db",
        "tests/test_x.py",
        "bench/README.md",
        "cpd.db",
    ],
)
def test_the_build_context_leaves_out_data_secrets_and_caches(path: str) -> None:
    assert excluded(path)


@pytest.mark.parametrize(
    "path",
    [
        "Containerfile",
        "pyproject.toml",
        "README.md",
        "requirements.lock",
        "requirements-build.lock",
        "src/cpd/settings.py",
        "src/cpd/adapters/sql/migrations/versions/0001_initial_schema.py",
        "src/cpd/domain/common_passwords.txt",
    ],
)
def test_the_build_context_has_what_the_containerfile_copies(path: str) -> None:
    assert not excluded(path)
    assert (ROOT / path).exists()


def test_every_file_the_containerfile_copies_is_in_the_context() -> None:
    containerfile = (ROOT / "Containerfile").read_text()
    copied = [
        name
        for line in containerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for name in line.split()[1:-1]
    ]
    assert copied
    assert all(not excluded(name) for name in copied), copied


def test_the_wheel_is_built_by_the_pinned_hashed_backend() -> None:
    build_system = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    [requirement] = build_system["requires"]
    name, _, version = requirement.partition("==")
    assert version, "pin the build backend in [build-system] requires"
    lock = (ROOT / "requirements-build.lock").read_text()
    pinned = re.search(
        rf"^{re.escape(name)}=={re.escape(version)} \\\n(\s+--hash=sha256:\w+)", lock, re.M
    )
    assert pinned, f"requirements-build.lock must pin {requirement} with its hashes"
    for block in re.split(r"\n(?=\S)", lock.strip()):
        if not block.startswith("#"):
            assert "--hash=sha256:" in block, block  # every package, its dependencies too
    containerfile = (ROOT / "Containerfile").read_text()
    assert "--require-hashes --no-deps -r requirements-build.lock" in containerfile
    assert "--no-build-isolation" in containerfile  # else pip fetches an unpinned backend
