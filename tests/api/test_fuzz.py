"""Schema-driven fuzzing: whatever a client sends, the API never answers 500 and its answers
match the OpenAPI document. schemathesis generates the requests (with hypothesis) and sends
them over real HTTP to the app served by uvicorn on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(build_container(make_settings()))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    uv_server = uvicorn.Server(config)
    thread = threading.Thread(target=uv_server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not uv_server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield base
    uv_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def bearer(server: str) -> dict[str, str]:
    """A signed-in caller, so generated requests reach past authentication."""
    credentials = {"email": "fuzz@example.org", "password": "a fuzzing passphrase"}
    httpx.post(
        f"{server}/api/v1/auth/register",
        json={**credentials, "first_name": "Fuzz", "last_name": "Er"},
    )
    tokens = httpx.post(f"{server}/api/v1/auth/login", json=credentials).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_no_input_reaches_a_server_error(server: str, bearer: dict[str, str]) -> None:
    api_schema = schemathesis.openapi.from_url(f"{server}/schema/openapi.json")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            # Domain rules the schema cannot state (common passwords, IANA zones, blank names)
            # may refuse schema-valid input with a 400: that is allowed, anything 5xx is not.
            case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])

        check()
