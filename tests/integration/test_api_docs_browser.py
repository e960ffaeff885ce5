"""The API documentation pages in a real browser with no network: headless Chromium resolves
no host name (only the loopback address of the server under test answers), so a page that
needed a CDN would stay blank. Scalar at ``/schema`` and Swagger UI at ``/schema/swagger`` must
render the API's operations from the package's own files, within their Content-Security-Policy.
Needs Debian's ``chromium`` and ``chromium-driver``; skipped without them unless
CPD_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.browser import chromium, served
from tests.support.settings import make_settings

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app

# Records what the page's policy refused, before any of the page's own script runs.
_RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                             source: e.sourceFile}));
"""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with served(create_app(build_container(make_settings()), run_relay=False)) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(
        "--window-size=1400,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # the network is off
    ) as driver:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS}
        )
        yield driver


@pytest.fixture(scope="module")
def health_summaries(base_url: str) -> list[str]:
    """The summaries of the operations under the first tag, which both pages show first."""
    document = httpx.get(f"{base_url}/schema/openapi.json").json()
    return [
        operation["summary"]
        for path in document["paths"].values()
        for operation in path.values()
        if operation.get("tags") == ["health"]
    ]


def _wait_for_text(driver: Any, wanted: list[str], seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while True:
        text = str(driver.execute_script("return document.body.innerText"))
        if all(item in text for item in wanted) or time.monotonic() > deadline:
            return text
        time.sleep(0.25)


def _loaded_from(driver: Any) -> set[str]:
    return set(
        driver.execute_script(
            "return performance.getEntriesByType('resource').map((e) => new URL(e.name).origin)"
        )
    )


def _violations(driver: Any) -> list[dict[str, str]]:
    found = driver.execute_script("return window.cspViolations")
    # Scalar's bundle includes zod, which probes once whether `Function('')` may run and falls
    # back to its interpreter when the policy refuses it (no 'unsafe-eval' is the point).
    return [v for v in found if v["blocked"] != "eval"]


def test_scalar_renders_the_operations_offline(
    base_url: str, browser: Any, health_summaries: list[str]
) -> None:
    browser.get(f"{base_url}/schema")
    wanted = ["CPD Events API", "GET\n/api/v1/health", *health_summaries]
    text = _wait_for_text(browser, wanted)
    assert all(item in text for item in wanted), text[:2000]
    for tag in ("events", "registrations", "certificates"):
        assert tag in text.lower()  # the sidebar lists the other groups of operations
    assert _loaded_from(browser) == {base_url}
    assert _violations(browser) == []


def test_swagger_ui_renders_the_operations_offline(
    base_url: str, browser: Any, health_summaries: list[str]
) -> None:
    browser.get(f"{base_url}/schema/swagger")
    wanted = ["CPD Events API", "/api/v1/events", "/api/v1/certificates/{certificate_id}/revoke"]
    text = _wait_for_text(browser, [*wanted, *health_summaries])
    assert all(item in text for item in [*wanted, *health_summaries]), text[:2000]
    assert _loaded_from(browser) == {base_url}
    assert _violations(browser) == []
