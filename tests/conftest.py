"""Shared fixtures: a real headless Chromium for browser tests, an artifacts folder,
the network store on SQLite and on a throwaway PostgreSQL + PostGIS, and a private
data dir (no test ever touches the user's real store)."""

from __future__ import annotations

import itertools
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


# --------------------------------------------------------------------------- the store
@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the default store (``$LOCATOR_DATA_DIR``) at a temp dir for the whole run,
    subprocesses included (they inherit the environment): no test touches the user's
    real data dir. ``$LOCATOR_DATABASE_URL`` is cleared for the same reason."""
    path = tmp_path_factory.mktemp("locator-data")
    saved = {k: os.environ.get(k) for k in ("LOCATOR_DATA_DIR", "LOCATOR_DATABASE_URL")}
    os.environ["LOCATOR_DATA_DIR"] = str(path)
    os.environ.pop("LOCATOR_DATABASE_URL", None)
    try:
        yield path
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def postgis_cluster() -> Iterator[object]:
    """A throwaway PostgreSQL cluster with PostGIS (see tests/_postgis.py).

    Skips without PostgreSQL or PostGIS, but fails when ``LOCATOR_REQUIRE_POSTGIS=1``
    (CI sets it), so the PostGIS half of the store tests can never hide behind a skip.
    """
    from _postgis import Cluster, find_postgres

    required = os.environ.get("LOCATOR_REQUIRE_POSTGIS") == "1"
    found = find_postgres()
    if isinstance(found, str):
        if required:
            pytest.fail(f"{found}, but LOCATOR_REQUIRE_POSTGIS=1")
        pytest.skip(found)
    cluster = Cluster(found[0])
    try:
        cluster.start()
        cluster.execute("CREATE DATABASE locator_template")
        cluster.execute("CREATE EXTENSION postgis", database="locator_template")
        from locator.store import open_store

        open_store(cluster.url("locator_template"), seed=True).dispose()
    except Exception as err:
        cluster.stop()
        if required:
            pytest.fail(f"could not start PostgreSQL + PostGIS: {err}")
        pytest.skip(f"could not start PostgreSQL + PostGIS: {err}")
    try:
        yield cluster
    finally:
        cluster.stop()


_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store seeded with the bundled sample, copied for each test."""
    from locator.store import open_store

    path = tmp_path_factory.mktemp("store-template") / "network.db"
    store = open_store(f"sqlite:///{path}", seed=True)
    with store.engine.connect() as conn:  # fold the WAL into the file before copying
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store seeded with the bundled sample (391 outlets, revision 0), on
    SQLite and on PostgreSQL + PostGIS: every store test runs on both."""
    if request.param == "sqlite":
        path = tmp_path / "network.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    cluster = request.getfixturevalue("postgis_cluster")
    name = f"locator_test_{next(_db_numbers)}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE locator_template")
    return cluster.url(name)


@pytest.fixture
def store(store_url: str) -> Iterator[object]:
    """The :class:`locator.store.Store` at :func:`store_url`."""
    from locator.store import open_store

    s = open_store(store_url)
    try:
        yield s
    finally:
        s.dispose()


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
