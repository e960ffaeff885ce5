"""Shared by the tests that open pages in a real browser: the app served over real HTTP
(uvicorn in a thread), and Debian's headless Chromium driven by selenium. Without ``chromium``
and ``chromedriver`` (installed by .ci/run) those tests skip, unless CPD_REQUIRE_SERVICES=1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from litestar import Litestar

from tests.support.smtp_server import free_port

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
# Without the background-networking flags Chromium tries Google's hosts at every start.
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def require_browser() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    reason = (
        "Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("CPD_REQUIRE_SERVICES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def served(app: Litestar) -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """``app`` on a free loopback port: its base URL, and the loop it runs on."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),))
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", loop
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextlib.contextmanager
def chromium(*flags: str, configure: Callable[[Any], None] | None = None) -> Iterator[Any]:
    """A headless Chromium (a selenium driver) with ``flags`` added to the usual ones;
    ``configure`` may change its ChromeOptions further."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*_FLAGS, *flags):
        options.add_argument(flag)
    if configure is not None:
        configure(options)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
