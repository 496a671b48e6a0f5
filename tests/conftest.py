"""Shared fixtures: a real headless Chromium for browser tests, an artifacts folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests save screenshots (kept after the run)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright.

    Skips on a laptop without Chromium, but fails when ``LOCATOR_REQUIRE_BROWSER=1``
    (CI sets it), so a missing browser can never hide behind a skip there.
    """
    required = os.environ.get("LOCATOR_REQUIRE_BROWSER") == "1"
    exe = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        if required:
            pytest.fail("playwright is not installed but LOCATOR_REQUIRE_BROWSER=1")
        pytest.skip("playwright is not installed")
    if exe is None:
        if required:
            pytest.fail(
                "Chromium not found but LOCATOR_REQUIRE_BROWSER=1 (apt-get install chromium)"
            )
        pytest.skip("Chromium not found (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def node() -> str:
    """Path to Node.js, used to parse the JavaScript our maps emit.

    Skips on a laptop without it, but fails when ``LOCATOR_REQUIRE_NODE=1`` (CI sets it
    after installing Debian's ``nodejs``), so the escaping checks can never be skipped there.
    """
    exe = shutil.which("node")
    if exe is None:
        if os.environ.get("LOCATOR_REQUIRE_NODE") == "1":
            pytest.fail("node not found but LOCATOR_REQUIRE_NODE=1 (apt-get install nodejs)")
        pytest.skip("node not found (apt-get install nodejs)")
    return exe


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """The address of a real Dask LocalCluster (2 single-threaded worker processes, on
    loopback) for ``locator assign --engine dask --scheduler``; one per test session."""
    import distributed  # the test extra installs it: never a skip

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
