"""API replicas on one network store (#16 §3) and readiness only once warm.

* ``/healthz`` answers 503 ``"warming"`` until everything a first request would build
  is built (geocoder with its index, coverage model, verify listing index), 200 ``"ok"``
  after.
* Two real ``locator serve`` processes on one store (SQLite file, PostgreSQL +
  PostGIS): an edit through one is answered by the other within 5 s; likewise every
  worker of ``locator serve --workers 2``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from locator.api import create_app
from locator.data import load_outlets
from tests.test_api import fake_geocoder

ROOT = Path(__file__).resolve().parent.parent
OID = "00001"  # an outlet of the bundled sample (seeded into every new store)
PROPAGATION = 5.0  # seconds: the store issue's promise for other processes


# --------------------------------------------------------------------- readiness
class TestWarmBeforeReady:
    def test_healthz_warming_until_verify_listing_is_built(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """While the verify listing index is still being built /healthz is 503
        "warming" (with its usual fields); once built, 200 "ok", and the first
        /v1/verify does not build it again."""
        from locator.api import routes_verify

        real = routes_verify.ListingIndex
        release = threading.Event()
        builds: list[int] = []

        def slow_listing(*args: Any, **kwargs: Any) -> Any:
            builds.append(1)
            assert release.wait(30)
            return real(*args, **kwargs)

        monkeypatch.setattr(routes_verify, "ListingIndex", slow_listing)
        with TestClient(create_app(load_outlets(), geocoder=fake_geocoder())) as c:
            deadline = time.monotonic() + 10
            while not builds:  # the background warm-up reached the listing
                assert time.monotonic() < deadline, "warm-up never built the listing index"
                time.sleep(0.02)
            r = c.get("/healthz")
            assert r.status_code == 503
            body = r.json()
            assert body["status"] == "warming" and body["ready"] is False
            assert body["outlets"] == 391 and {
                "version",
                "outlets_authorized",
                "sample_data",
            } <= set(body)
            release.set()
            deadline = time.monotonic() + 30
            while (r := c.get("/healthz")).status_code == 503:
                assert time.monotonic() < deadline, "never ready"
                time.sleep(0.05)
            assert r.status_code == 200 and r.json()["status"] == "ok"
            assert r.json()["ready"] is True
            assert c.get("/v1/verify", params={"phone": "000-000-0000"}).status_code == 200
            assert builds == [1]


# --------------------------------------------------------------------- replicas
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


class Server:
    """``locator serve --database URL`` in a subprocess on a free loopback port."""

    def __init__(self, url: str, log: Path, workers: int = 1) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = log.open("wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "locator", "serve", "--database", url]
        cmd += ["--port", str(self.port), "--workers", str(workers), "--no-access-log"]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 240.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:
                status, _, body = _get(f"{self.base}/healthz")
                if status == 200:
                    return body
            except OSError:
                pass
            assert time.monotonic() < deadline, "server never ready"
            time.sleep(0.25)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def servers(store_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    a = Server(store_url, tmp_path / "a.log")
    b = Server(store_url, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


def _rename(server: Server, secret: str, name: str) -> None:
    """PATCH the outlet's name through ``server`` with the version it last read."""
    status, headers, _ = _get(f"{server.base}/v1/outlets/{OID}")
    assert status == 200
    req = urllib.request.Request(
        f"{server.base}/v1/outlets/{OID}",
        data=json.dumps({"changes": {"name": name}, "reason": "replica test"}).encode(),
        method="PATCH",
        headers={
            "Authorization": f"Bearer {secret}",
            "If-Match": headers["etag"] if "etag" in headers else headers["ETag"],
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
        assert json.loads(r.read())["name"] == name


def _seen(server: Server, name: str, lat: float, lon: float) -> tuple[bool, bool]:
    """Whether ``server`` answers ``name`` for the outlet and as the nearest outlet."""
    _, _, outlet = _get(f"{server.base}/v1/outlets/{OID}")
    query = urllib.parse.urlencode({"lat": lat, "lon": lon, "k": 1, "include_unauthorized": "true"})
    _, _, near = _get(f"{server.base}/v1/nearest?{query}")
    by_id = outlet.get("name") == name
    nearest = [r.get("name") for r in near.get("results", []) if r["outlet_id"] == OID]
    return by_id, nearest == [name]


def _wait_seen(server: Server, name: str, lat: float, lon: float, started: float) -> float:
    while True:
        if _seen(server, name, lat, lon) == (True, True):
            return time.monotonic() - started
        assert time.monotonic() - started < PROPAGATION, (
            f"{server.base} still answers the old name after {PROPAGATION} s: "
            f"{_seen(server, name, lat, lon)}"
        )
        time.sleep(0.1)


def _open_store(url: str) -> Any:
    from locator.store import open_store

    return open_store(url)


@pytest.mark.slow
class TestReplicas:
    def test_edit_through_one_is_answered_by_the_other(
        self, servers: tuple[Server, Server], store_url: str
    ) -> None:
        """An edit through server A shows on server B's /v1/outlets/{id} and
        /v1/nearest within 5 s (and back: B to A)."""
        a, b = servers
        store = _open_store(store_url)
        try:
            secret = store.tokens.create("replica-editor", "editor")[0]
        finally:
            store.dispose()
        _, _, outlet = _get(f"{a.base}/v1/outlets/{OID}")
        lat, lon = outlet["lat"], outlet["lon"]
        assert _seen(b, "Replica A name", lat, lon) == (False, False)

        _rename(a, secret, "Replica A name")
        _wait_seen(b, "Replica A name", lat, lon, time.monotonic())
        _rename(b, secret, "Replica B name")
        _wait_seen(a, "Replica B name", lat, lon, time.monotonic())

    def test_every_worker_sees_an_edit(self, store_url: str, tmp_path: Path) -> None:
        """``locator serve --workers 2`` on one store: after an edit, every request
        (new connections, spread over both workers) answers the new name within 5 s."""
        server = Server(store_url, tmp_path / "w.log", workers=2)
        try:
            server.wait_ready()
            # Both workers must be warm: /healthz on fresh connections until each
            # answered ok a few times in a row.
            deadline = time.monotonic() + 240
            ok = 0
            while ok < 20:
                status, _, _ = _get(f"{server.base}/healthz")
                ok = ok + 1 if status == 200 else 0
                assert time.monotonic() < deadline, "workers never ready"
            store = _open_store(store_url)
            try:
                secret = store.tokens.create("workers-editor", "editor")[0]
            finally:
                store.dispose()
            _, _, outlet = _get(f"{server.base}/v1/outlets/{OID}")
            lat, lon = outlet["lat"], outlet["lon"]
            _rename(server, secret, "Workers name")
            started = time.monotonic()
            time.sleep(PROPAGATION)
            # 40 requests on 40 fresh connections: the kernel spreads them over both.
            answers = {_seen(server, "Workers name", lat, lon) for _ in range(40)}
            assert answers == {(True, True)}, f"{time.monotonic() - started:.1f} s: {answers}"
        finally:
            server.stop()
