"""The composition root loads only the adapters settings choose, and closes what it opened."""

from __future__ import annotations

import json
import subprocess
import sys

from cpd.bootstrap import build_container
from tests.unit.conftest import make_settings

HEAVY = ["sqlalchemy", "alembic", "typst", "aiobotocore", "stripe", "redis", "saq", "litestar"]

# One fresh interpreter for both checks: what the CLI's import loads, then a memory container.
WHAT_LOADS = f"""
import json, sys
import cpd.entrypoints.cli
cli = [name for name in ("cpd.bootstrap", "structlog", "sqlalchemy") if name in sys.modules]
from cpd.bootstrap import build_container
from cpd.settings import Settings
settings = Settings.from_mapping({{
    "persistence": "memory", "mail_backend": "memory", "file_storage": "memory",
    "certificate_renderer": "fake",
}})
build_container(settings)
print(json.dumps({{"cli": cli, "memory": [name for name in {HEAVY!r} if name in sys.modules]}}))
"""


def test_the_cli_and_a_memory_container_import_no_sdk_driver_or_framework() -> None:
    """`cpd --help` loads neither the root nor the logging stack; a memory container none of
    the SQL layer, Typst, the AWS, Stripe or Redis clients, SAQ or the web framework."""
    found = subprocess.run(
        [sys.executable, "-c", WHAT_LOADS], capture_output=True, text=True, check=True
    )
    assert json.loads(found.stdout) == {"cli": [], "memory": []}


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
