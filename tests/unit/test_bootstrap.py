"""The composition root loads only the adapters settings choose, and closes what it opened."""

from __future__ import annotations

import json
import subprocess
import sys

from cpd.bootstrap import build_container
from tests.unit.conftest import make_settings

HEAVY = ["sqlalchemy", "alembic", "typst", "aiobotocore", "stripe", "redis", "saq", "litestar"]

LOADED_BY_A_MEMORY_CONTAINER = f"""
import json, sys
from cpd.bootstrap import build_container
from cpd.settings import Settings
settings = Settings.from_mapping({{
    "persistence": "memory", "mail_backend": "memory", "file_storage": "memory",
    "certificate_renderer": "fake",
}})
build_container(settings)
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""


def test_a_memory_container_imports_no_sdk_driver_or_framework() -> None:
    found = subprocess.run(
        [sys.executable, "-c", LOADED_BY_A_MEMORY_CONTAINER],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(found.stdout) == []


def test_the_cli_help_imports_no_root_and_no_logging_stack() -> None:
    script = (
        "import sys; import cpd.entrypoints.cli; "
        "print([m for m in ('cpd.bootstrap', 'structlog', 'sqlalchemy') if m in sys.modules])"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"


async def test_closers_run_last_registered_first_and_probes_are_named() -> None:
    app = build_container(make_settings())
    closed: list[str] = []
    app.on_close(lambda: closed.append("first"))

    async def second() -> None:
        closed.append("second")

    app.on_close(second)
    assert list(app.health_probes) == ["MemoryDatabase"]  # what /ready names when it fails
    await app.startup(run_relay=False)
    await app.shutdown()
    assert closed == ["second", "first"]
