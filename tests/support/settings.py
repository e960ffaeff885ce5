"""Settings for tests: the embedded stand-ins, and cheap password hashing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cpd.settings import Settings

FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 64}


def make_settings(**overrides: Any) -> Settings:
    return Settings.from_mapping(
        {
            "environment": "test",
            "persistence": "memory",
            "mail_backend": "memory",
            "file_storage": "memory",
        }
        | FAST_ARGON2
        | overrides
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
