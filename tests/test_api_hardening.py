"""HTTP API hardening: secrets, cold start, the event loop, coordinate systems, unknown
and repeated parameters, and the ``locator serve --help`` example (issues #10, #17)."""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from locator.api import LocatorService, create_app
from locator.crs import wgs84_to_bd09, wgs84_to_gcj02
from locator.data import load_outlets
from locator.index import OutletIndex
from tests.test_api import FakeGeocoder, fake_geocoder, strict_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
HANGZHOU = (30.27, 120.15)  # WGS-84


@pytest.fixture(scope="module")
def outlets() -> pd.DataFrame:
    return load_outlets()


@pytest.fixture(scope="module")
def client(outlets: pd.DataFrame) -> TestClient:
    return TestClient(create_app(outlets, geocoder=fake_geocoder()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- secrets


class TestSecretsInTheApi:
    def test_baidu_key_not_in_response_or_server_log(
        self, outlets: pd.DataFrame, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A Baidu failure behind the API is a 503 whose body and server log (at DEBUG,
        tracebacks included) never contain the key or the request URL's ak=."""
        from locator.geocode import get_geocoder
        from tests.test_geocode_online import SECRET, FakeClock, URLLeakingAdapter

        adapter = URLLeakingAdapter(500)
        geo = get_geocoder(
            "baidu",
            api_key=SECRET,
            cache=False,
            max_retries=1,
            adapter_factory=lambda proxies, ssl_context: adapter,
        )
        clock = FakeClock()
        geo._clock, geo._sleep = clock, clock.sleep  # type: ignore[attr-defined]
        c = TestClient(create_app(outlets, geocoder=geo), raise_server_exceptions=False)
        caplog.set_level(logging.DEBUG)
        r = c.get("/v1/geocode", params={"q": "北京市朝阳区望京"})
        assert r.status_code == 503
        assert adapter.urls and SECRET in adapter.urls[0]
        assert SECRET not in r.text
        assert any(rec.levelno >= logging.ERROR for rec in caplog.records)
        assert SECRET not in caplog.text
        assert "ak=***" in caplog.text or "ak=" not in caplog.text

    def test_uvicorn_access_log_keeps_working_when_redacted(self) -> None:
        """The redacting filter keeps a record's argument tuple (uvicorn's access
        formatter unpacks it) while masking a key in the request path."""
        from uvicorn.logging import AccessFormatter

        from locator.geocoders.redact import install_log_redaction

        install_log_redaction(("uvicorn.access",))
        logger = logging.getLogger("uvicorn.access")
        record = logger.makeRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", "/v1/nearest?q=x&ak=topsecret1", "1.1", 200),
            None,
        )
        for f in logger.filters:
            f.filter(record)
        line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
        assert "topsecret1" not in line and "ak=***" in line and "200" in line


# --------------------------------------------------------------------------- cold start


class TestColdStart:
    def test_concurrent_first_queries_build_the_geocoder_index_once(
        self, outlets: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """16 threads geocoding at once on a cold service build the offline geocoder's
        gazetteer (its index, ~60 MB) exactly once, not once per thread."""
        import locator.geocoders.offline as offline

        real = offline.gazetteer
        real()  # built for real once up front, so the counted builds are cheap
        builds: list[int] = []
        lock = threading.Lock()

        def counting() -> Any:
            with lock:
                builds.append(1)
            time.sleep(0.2)  # a slow build widens the window a race needs
            return real()

        monkeypatch.setattr(offline, "gazetteer", counting)
        svc = LocatorService(outlets)
        barrier = threading.Barrier(16)
        answers: list[Any] = []

        def query() -> None:
            barrier.wait()
            answers.append(svc.geocode("苏州")["adcode"])

        threads = [threading.Thread(target=query) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == ["320500"] * 16
        assert builds == [1]

    def test_geocoder_factory_called_once_by_many_threads(self, outlets: pd.DataFrame) -> None:
        """service.geocoder() from 16 threads at once calls the factory once."""
        calls: list[int] = []

        def factory() -> FakeGeocoder:
            calls.append(1)
            time.sleep(0.1)
            return fake_geocoder()

        svc = LocatorService(outlets, geocoder=factory)
        barrier = threading.Barrier(16)
        got: list[Any] = []

        def call() -> None:
            barrier.wait()
            got.append(svc.geocoder())

        threads = [threading.Thread(target=call) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert calls == [1] and len({id(g) for g in got}) == 1

    def test_healthz_reports_readiness(self, outlets: pd.DataFrame) -> None:
        """/healthz is 503 with ready: false until the geocoder and coverage model are
        built (the app warms them at start-up), then 200 with ready: true."""
        release = threading.Event()

        def factory() -> FakeGeocoder:
            release.wait(30)
            return fake_geocoder()

        with TestClient(create_app(outlets, geocoder=factory)) as c:
            r = c.get("/healthz")
            assert r.status_code == 503
            assert strict_json(r, 503)["ready"] is False
            assert strict_json(r, 503)["status"] == "warming"
            release.set()
            deadline = time.monotonic() + 120
            while (r := c.get("/healthz")).status_code == 503:
                assert time.monotonic() < deadline, "never became ready"
                time.sleep(0.05)
            assert r.status_code == 200
            assert strict_json(r)["ready"] is True and strict_json(r)["status"] == "ok"


# --------------------------------------------------------------------------- event loop


@contextlib.contextmanager
def _served(app: Any) -> Iterator[str]:
    """``app`` on a real uvicorn server on loopback, in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _while_stuck(
    base: str, params: dict[str, Any], started: threading.Event, release: threading.Event
) -> None:
    """Send ``params`` to /v1/nearest (it gets stuck); meanwhile /healthz and a lat/lon
    /v1/nearest must still be answered; then let the stuck one finish with 200."""
    slow: dict[str, Any] = {}
    t = threading.Thread(
        target=lambda: slow.update(r=httpx.get(f"{base}/v1/nearest", params=params, timeout=60))
    )
    t.start()
    try:
        assert started.wait(30)
        health = httpx.get(f"{base}/healthz", timeout=20)
        other = httpx.get(f"{base}/v1/nearest", params={"lat": 39.9, "lon": 116.4}, timeout=20)
        assert not release.is_set() and "r" not in slow  # the first is still running
        assert health.status_code == 200
        assert other.status_code == 200 and other.json()["count"] == 5
    finally:
        release.set()
        t.join(60)
    assert slow["r"].status_code == 200


class TestEventLoop:
    def test_slow_geocoding_does_not_block_other_requests(self, outlets: pd.DataFrame) -> None:
        """While one /v1/nearest?q= is stuck geocoding a new query (an online geocoder can
        take seconds), the server still answers /healthz and a lat/lon /v1/nearest:
        geocoding runs in the thread pool, not on the event loop."""
        geocoder = fake_geocoder()
        started, release = threading.Event(), threading.Event()
        real = geocoder.geocode

        def slow_geocode(query: str, *args: Any, **kwargs: Any) -> Any:
            if query == "Suzhou":
                started.set()
                release.wait(60)
            return real(query, *args, **kwargs)

        geocoder.geocode = slow_geocode  # type: ignore[method-assign]
        app = create_app(outlets, geocoder=geocoder)
        app.state.locator.warm()
        with _served(app) as base:
            _while_stuck(base, {"q": "Suzhou"}, started, release)
            # answered once, the query is remembered: the geocoder is not asked again
            started.clear()
            again = httpx.get(f"{base}/v1/nearest", params={"q": "Suzhou"}, timeout=20)
            assert again.status_code == 200 and not started.is_set()

    def test_large_network_search_does_not_block_other_requests(
        self, outlets: pd.DataFrame
    ) -> None:
        """On a network too large for the event loop (``inline_nearest`` off, as above
        :data:`INLINE_NEAREST_MAX_OUTLETS`), a stuck search does not hold up /healthz or
        another /v1/nearest: the index runs in the thread pool."""
        app = create_app(outlets, geocoder=fake_geocoder())
        svc = app.state.locator
        svc.warm()
        assert svc.inline_nearest  # the bundled sample is small: searched on the loop
        svc.inline_nearest = False
        started, release = threading.Event(), threading.Event()
        real_nearest = svc.nearest
        first = threading.Lock()

        def slow_nearest(*args: Any, **kwargs: Any) -> Any:
            if first.acquire(blocking=False):  # only the first call is slow
                started.set()
                release.wait(60)
            return real_nearest(*args, **kwargs)

        svc.nearest = slow_nearest
        with _served(app) as base:
            _while_stuck(base, {"lat": 30, "lon": 120}, started, release)

    def test_inline_threshold(self) -> None:
        """Small networks are searched on the loop, large ones in the thread pool."""
        from locator.api.service import INLINE_NEAREST_MAX_OUTLETS

        small = LocatorService(load_outlets().head(3), geocoder=fake_geocoder())
        assert small.inline_nearest
        assert INLINE_NEAREST_MAX_OUTLETS >= 10_000


# --------------------------------------------------------------------------- coord_sys


class TestCoordSys:
    @pytest.mark.parametrize(
        ("coord_sys", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
    )
    def test_converted_point_gives_the_same_answer(
        self, client: TestClient, coord_sys: str, convert: Any
    ) -> None:
        """A GCJ-02 (or BD-09) point with coord_sys gives the same nearest outlets and
        distances (within 1 m) as its WGS-84 original; the origin is reported in WGS-84
        with the input kept."""
        lat, lon = HANGZHOU
        clon, clat = convert(lon, lat)
        want = strict_json(client.get("/v1/nearest", params={"lat": lat, "lon": lon, "k": 5}))
        got = strict_json(
            client.get(
                "/v1/nearest", params={"lat": clat, "lon": clon, "k": 5, "coord_sys": coord_sys}
            )
        )
        assert [r["outlet_id"] for r in got["results"]] == [r["outlet_id"] for r in want["results"]]
        for a, b in zip(got["results"], want["results"], strict=True):
            assert abs(a["distance_km"] - b["distance_km"]) <= 0.001
        assert got["origin"]["lat"] == pytest.approx(lat, abs=1e-5)
        assert got["origin"]["input"] == {"lat": clat, "lon": clon, "coord_sys": coord_sys}
        assert got["coord_sys"] == "wgs84"

    def test_without_coord_sys_gcj02_point_is_not_wgs84(self, client: TestClient) -> None:
        """The same GCJ-02 numbers read as WGS-84 are a few hundred metres off (the
        reason the parameter exists)."""
        lat, lon = HANGZHOU
        clon, clat = wgs84_to_gcj02(lon, lat)
        as_wgs = strict_json(client.get("/v1/nearest", params={"lat": clat, "lon": clon}))
        want = strict_json(client.get("/v1/nearest", params={"lat": lat, "lon": lon}))
        d = abs(as_wgs["results"][0]["distance_km"] - want["results"][0]["distance_km"])
        assert d > 0.05

    def test_outlets_bbox_in_gcj02(self, client: TestClient, outlets: pd.DataFrame) -> None:
        """/v1/outlets?bbox=...&coord_sys=gcj02 reads the box in GCJ-02 (a box of about
        200 m around an outlet finds it; read as WGS-84 it would be ~500 m off and
        miss); coordinates in the answer stay WGS-84."""
        row = outlets[outlets["authorized"] & (outlets["city"] == "杭州")].iloc[0]
        lat, lon, d = float(row["lat"]), float(row["lon"]), 0.001
        lo1, la1 = wgs84_to_gcj02(lon - d, lat - d)
        lo2, la2 = wgs84_to_gcj02(lon + d, lat + d)
        bbox = f"{lo1},{la1},{lo2},{la2}"
        got = strict_json(client.get("/v1/outlets", params={"bbox": bbox, "coord_sys": "gcj02"}))
        assert row["outlet_id"] in [f["id"] for f in got["features"]]
        feature = next(f for f in got["features"] if f["id"] == row["outlet_id"])
        assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
        misread = strict_json(client.get("/v1/outlets", params={"bbox": bbox}))
        assert row["outlet_id"] not in [f["id"] for f in misread["features"]]

    def test_unknown_coord_sys_is_422(self, client: TestClient) -> None:
        """coord_sys=utm is a 422 naming coord_sys."""
        r = client.get("/v1/nearest", params={"lat": 30, "lon": 120, "coord_sys": "utm"})
        assert r.status_code == 422
        assert strict_json(r, 422)["parameter"] == "coord_sys"

    def test_cli_coord_sys(self, outlets: pd.DataFrame) -> None:
        """`locator nearest --lat --lon --coord-sys gcj02` answers like the WGS-84 point."""
        import json

        from typer.testing import CliRunner

        from locator.cli import app as cli_app

        lat, lon = HANGZHOU
        clon, clat = wgs84_to_gcj02(lon, lat)
        runner = CliRunner()
        args = ["nearest", "--json", "-k", "3"]
        a = runner.invoke(cli_app, [*args, "--lat", str(lat), "--lon", str(lon)])
        b = runner.invoke(
            cli_app,
            [*args, "--lat", repr(clat), "--lon", repr(clon), "--coord-sys", "gcj02"],
        )
        assert a.exit_code == b.exit_code == 0, b.output
        ra, rb = json.loads(a.stdout)["results"], json.loads(b.stdout)["results"]
        assert [r["outlet_id"] for r in ra] == [r["outlet_id"] for r in rb]
        for x, y in zip(ra, rb, strict=True):
            assert abs(x["distance_km"] - y["distance_km"]) <= 0.001


# --------------------------------------------------------------------------- unknown params

ENDPOINTS = [
    ("/v1/nearest", {"lat": "30", "lon": "120"}),
    ("/v1/geocode", {"q": "上海"}),
    ("/v1/outlets", {}),
    ("/v1/coverage", {"radius_km": "50", "level": "none"}),
    ("/embed/map", {"tiles": "none"}),
]


class TestUnknownParameters:
    @pytest.mark.parametrize(("path", "params"), ENDPOINTS)
    def test_unknown_parameter_is_422(
        self, client: TestClient, path: str, params: dict[str, str]
    ) -> None:
        """An unknown query parameter is a 422 naming it, not silently ignored."""
        r = client.get(path, params={**params, "foo": "bar"})
        assert r.status_code == 422
        body = strict_json(r, 422)
        assert body["parameter"] == "foo"
        assert body["reason"] == "unknown parameter 'foo'"

    def test_misspelt_parameter_suggests_the_right_one(self, client: TestClient) -> None:
        """coordsys=gcj02 is refused (it would be read as WGS-84) with a suggestion."""
        r = client.get("/v1/nearest", params={"lat": 30, "lon": 120, "coordsys": "gcj02"})
        assert r.status_code == 422
        assert strict_json(r, 422)["did_you_mean"] == ["coord_sys"]


# --------------------------------------------------------------------------- repeated filters


class TestRepeatedFilters:
    def _ids(self, client: TestClient, params: Any) -> list[str]:
        r = client.get("/v1/nearest", params=params)
        assert r.status_code == 200, r.text
        return [x["outlet_id"] for x in strict_json(r)["results"]]

    def test_repeated_category_requires_all(
        self, client: TestClient, outlets: pd.DataFrame
    ) -> None:
        """category=washer&category=refrigerator returns outlets repairing both, as
        OutletIndex.nearest(categories=[...]) does (not only the last one)."""
        lat, lon = HANGZHOU
        params = [("lat", lat), ("lon", lon), ("k", 10)]
        got = self._ids(client, [*params, ("category", "washer"), ("category", "refrigerator")])
        want = OutletIndex(outlets).nearest(lat, lon, 10, categories=["washer", "refrigerator"])
        assert got == want["outlet_id"].tolist()
        last_only = self._ids(client, [*params, ("category", "refrigerator")])
        assert got != last_only  # the old answer
        comma = self._ids(client, [*params, ("category", "washer,refrigerator")])
        assert comma == got

    def test_repeated_kind_is_any(self, client: TestClient, outlets: pd.DataFrame) -> None:
        """kind=service_center&kind=repair_point returns outlets of either kind."""
        lat, lon = HANGZHOU
        params = [("lat", lat), ("lon", lon), ("k", 10)]
        got = self._ids(client, [*params, ("kind", "service_center"), ("kind", "repair_point")])
        want = OutletIndex(outlets).nearest(lat, lon, 10, kinds=["service_center", "repair_point"])
        assert got == want["outlet_id"].tolist()
        assert self._ids(client, [*params, ("kind", "service_center,repair_point")]) == got

    def test_outlets_repeated_kind_is_any(self, client: TestClient) -> None:
        """/v1/outlets?kind=a&kind=b lists outlets of either kind."""
        both = strict_json(
            client.get("/v1/outlets", params=[("kind", "service_center"), ("kind", "repair_point")])
        )
        one = strict_json(client.get("/v1/outlets", params={"kind": "repair_point"}))
        kinds = {f["properties"]["kind"] for f in both["features"]}
        assert kinds == {"service_center", "repair_point"}
        assert len(both["features"]) > len(one["features"])

    def test_unknown_item_is_422(self, client: TestClient) -> None:
        """One unknown category among several is a 422 naming category."""
        r = client.get("/v1/nearest", params=[("lat", 30), ("lon", 120), ("category", "tv,xx")])
        assert r.status_code == 422 and strict_json(r, 422)["parameter"] == "category"

    def test_cli_repeated_category_requires_all(self, outlets: pd.DataFrame) -> None:
        """`locator nearest --category a --category b` has the API's semantics."""
        import json

        from typer.testing import CliRunner

        from locator.cli import app as cli_app

        lat, lon = HANGZHOU
        r = CliRunner().invoke(
            cli_app,
            ["nearest", "--json", "-k", "10", "--lat", str(lat), "--lon", str(lon),
             "--category", "washer", "--category", "refrigerator"],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        want = OutletIndex(outlets).nearest(lat, lon, 10, categories=["washer", "refrigerator"])
        assert [x["outlet_id"] for x in json.loads(r.stdout)["results"]] == want[
            "outlet_id"
        ].tolist()


# --------------------------------------------------------------------------- serve --help


@pytest.mark.slow
class TestServeHelpExample:
    def test_curl_example_from_help_works(self, tmp_path: Path) -> None:
        """The curl example printed by `locator serve --help` (a raw Chinese query)
        works verbatim against a real `locator serve` (port swapped for a free one)."""
        helptext = subprocess.run(
            [sys.executable, "-m", "locator", "serve", "--help"],
            cwd=ROOT, capture_output=True, text=True, check=True,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        ).stdout  # fmt: skip
        flat = " ".join(helptext.split())
        found = re.search(r"(curl -G [^`]*?http://127\.0\.0\.1:8000/v1/nearest\S*)", flat)
        assert found, helptext
        command = shlex.split(found.group(1).rstrip("'`.,"))
        assert command[0] == "curl"
        port = free_port()
        command = [c.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for c in command]
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "locator", "serve", "--port", str(port), "--no-access-log"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not become ready"
                time.sleep(0.2)
            out = subprocess.run(
                ["/usr/bin/curl", "-sS", "--fail-with-body", *command[1:]],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert out.returncode == 0, out.stdout + out.stderr
            import json

            body = json.loads(out.stdout)
            assert body["origin"]["city"] == "苏州市"
            assert {r["city"] for r in body["results"]} == {"苏州"}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
