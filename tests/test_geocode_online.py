"""Online geocoders behind a cache and a rate policy: fakes only, no network, no sleeping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from geopy import exc as gexc
from geopy.adapters import AdapterHTTPError, BaseSyncAdapter
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from locator.crs import wgs84_to_bd09, wgs84_to_gcj02
from locator.errors import ConfigurationError, GeocodeError, GeocoderServiceError, LocatorError
from locator.geocode import (
    ENV_CACHE,
    GeocodeCache,
    GeocoderRefused,
    OfflineGeocoder,
    ServiceGeocoder,
    default_cache_path,
    geocode_batch,
    get_geocoder,
    normalize_key,
)

WANGJING = (39.9965, 116.4702)  # WGS-84, Beijing 朝阳区


class FakeClock:
    """Time that moves only when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeService:
    """Stands in for a geopy geocoder: a script of exceptions, then fixed answers."""

    def __init__(
        self,
        answers: dict[str, tuple[float, float]] | None = None,
        script: list[BaseException | None] | None = None,
        **params: Any,
    ) -> None:
        self.answers = answers or {"望京": WANGJING}
        self.script = list(script or [])
        self.params = params
        self.queries: list[str] = []

    def _next(self) -> None:
        if self.script:
            action = self.script.pop(0)
            if action is not None:
                raise action

    def geocode(self, query: str, exactly_one: bool = True, **kw: Any) -> Any:
        self.queries.append(query)
        self._next()
        hit = self.answers.get(query)
        if hit is None:
            return None
        loc = Location(f"{query} (fake)", hit, {"fake": True})
        return loc if exactly_one else [loc]

    def reverse(self, query: str, exactly_one: bool = True, **kw: Any) -> Any:
        self.queries.append(query)
        self._next()
        lat, lon = (float(x) for x in query.split(","))
        return Location("somewhere (fake)", (lat, lon), {"fake": True})


def wrap(service: FakeService, clock: FakeClock, **kw: Any) -> ServiceGeocoder:
    kw.setdefault("min_delay", 1.0)
    geo = ServiceGeocoder(service, name="fake", cache=GeocodeCache(":memory:"), **kw)
    geo._clock = clock
    geo._sleep = clock.sleep
    return geo


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LOCATOR_USER_AGENT", raising=False)
    monkeypatch.delenv("LOCATOR_BAIDU_AK", raising=False)
    monkeypatch.setenv(ENV_CACHE, str(tmp_path / "cache.sqlite"))


class TestGetGeocoder:
    def test_offline(self) -> None:
        """'offline' gives the OfflineGeocoder."""
        assert isinstance(get_geocoder("offline"), OfflineGeocoder)

    def test_package_export(self) -> None:
        """locator.get_geocoder is the same function."""
        import locator

        assert locator.get_geocoder is get_geocoder

    def test_unknown_name(self) -> None:
        """An unknown service name is a configuration error listing the choices."""
        with pytest.raises(ConfigurationError, match=r"unknown geocoder 'mapquest'.*nominatim"):
            get_geocoder("mapquest")

    def test_nominatim_needs_user_agent(self) -> None:
        """Nominatim without a user agent (argument or env) refuses to start."""
        with pytest.raises(ConfigurationError, match="LOCATOR_USER_AGENT"):
            get_geocoder("nominatim", factory=FakeService)

    @pytest.mark.parametrize("agent", ["geopy/2.5.0", "geopy/1.0"])
    def test_stock_agent_refused(self, agent: str) -> None:
        """geopy's stock user agent is refused."""
        with pytest.raises(ConfigurationError, match="stock user agent"):
            get_geocoder("nominatim", user_agent=agent, factory=FakeService)

    def test_agent_from_env_timeout_and_pace(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The env user agent is used, the timeout is 10 s and Nominatim keeps 1 s apart."""
        monkeypatch.setenv("LOCATOR_USER_AGENT", "acme-locator-test/1.0")
        geo = get_geocoder("nominatim", factory=FakeService)
        assert isinstance(geo, ServiceGeocoder) and isinstance(geo, Geocoder)
        assert geo.inner.params["user_agent"] == "acme-locator-test/1.0"
        assert geo.inner.params["timeout"] == 10
        assert geo.min_delay == 1.0

    def test_real_nominatim_class_builds_offline(self) -> None:
        """The real geopy Nominatim is built without touching the network."""
        geo = get_geocoder("nominatim", user_agent="acme-locator-test/1.0", cache=False)
        assert type(geo.inner).__name__ == "Nominatim"

    def test_baidu_needs_key_and_speaks_bd09(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Baidu needs an API key (argument or LOCATOR_BAIDU_AK) and answers in BD-09."""
        with pytest.raises(ConfigurationError, match="API key"):
            get_geocoder("baidu", factory=FakeService)
        monkeypatch.setenv("LOCATOR_BAIDU_AK", "test-key")
        geo = get_geocoder("baidu", factory=FakeService)
        assert geo.inner.params["api_key"] == "test-key" and geo.coord_sys == "bd09"

    @pytest.mark.parametrize(
        ("name", "cls"), [("photon", "Photon"), ("arcgis", "ArcGIS"), ("baidu", "BaiduV3")]
    )
    def test_real_geopy_classes_build(self, name: str, cls: str) -> None:
        """Every listed service builds its real geopy class (no request is made)."""
        geo = get_geocoder(name, api_key="test-key", cache=False)
        assert type(geo.inner).__name__ == cls
        assert geo.inner.timeout == 10

    def test_unknown_option_is_configuration_error(self) -> None:
        """An option the service's class does not take is a configuration error."""
        with pytest.raises(ConfigurationError, match="photon"):
            get_geocoder("photon", cache=False, no_such_option=1)

    def test_default_cache_path_follows_env(self, tmp_path: Path) -> None:
        """LOCATOR_GEOCODE_CACHE moves the cache file."""
        assert default_cache_path() == tmp_path / "cache.sqlite"


class TestRatePolicy:
    def test_min_delay_between_calls(self, clock: FakeClock) -> None:
        """A second call waits out the service's minimum delay (Nominatim: 1 s)."""
        geo = wrap(FakeService({"a": WANGJING, "b": WANGJING}), clock)
        geo.geocode("a")
        geo.geocode("b")
        assert clock.sleeps == [1.0]

    def test_cache_hits_do_not_wait(self, clock: FakeClock) -> None:
        """A cached answer neither calls the service nor waits."""
        service = FakeService()
        geo = wrap(service, clock)
        first = geo.geocode("望京")
        again = geo.geocode("  望京 ")
        assert service.queries == ["望京"] and clock.sleeps == []
        assert geo.cache_hits == 1
        assert (again.latitude, again.longitude) == (first.latitude, first.longitude)

    def test_retry_after_is_honoured(self, clock: FakeClock) -> None:
        """HTTP 429 with Retry-After waits that long, then succeeds."""
        service = FakeService(script=[gexc.GeocoderRateLimited("429", retry_after=7)])
        loc = wrap(service, clock).geocode("望京")
        assert loc is not None and clock.sleeps == [7.0]
        assert service.queries == ["望京", "望京"]

    def test_timeouts_back_off_then_succeed(self, clock: FakeClock) -> None:
        """Timeouts are retried with exponential back-off (2 s, 4 s)."""
        service = FakeService(script=[gexc.GeocoderTimedOut("t"), gexc.GeocoderUnavailable("u")])
        loc = wrap(service, clock).geocode("望京")
        assert loc is not None and clock.sleeps == [2.0, 4.0]

    def test_persistent_failure_raises_not_none(self, clock: FakeClock) -> None:
        """After the retries a failure raises GeocoderServiceError, never None."""
        service = FakeService(script=[gexc.GeocoderTimedOut("slow")] * 10)
        with pytest.raises(GeocoderServiceError, match="after 4 attempt"):
            wrap(service, clock, max_retries=3).geocode("望京")
        assert len(service.queries) == 4

    def test_failure_is_a_locator_error(self, clock: FakeClock) -> None:
        """The failure is a LocatorError and a RuntimeError, not a ValueError."""
        service = FakeService(script=[gexc.GeocoderUnavailable("down")] * 10)
        with pytest.raises(LocatorError) as info:
            wrap(service, clock, max_retries=0).geocode("望京")
        assert isinstance(info.value, RuntimeError)

    def test_long_retry_after_gives_up(self, clock: FakeClock) -> None:
        """A Retry-After beyond max_wait gives up at once rather than hang."""
        service = FakeService(script=[gexc.GeocoderRateLimited("429", retry_after=3600)])
        with pytest.raises(GeocoderServiceError, match="wait 3600 s"):
            wrap(service, clock, max_wait=300).geocode("望京")
        assert clock.sleeps == []

    @pytest.mark.parametrize(
        "err", [gexc.GeocoderInsufficientPrivileges("403"), gexc.GeocoderAuthenticationFailure("x")]
    )
    def test_403_stops_at_once(self, clock: FakeClock, err: Exception) -> None:
        """HTTP 403/401 raise GeocoderRefused after one call, with a clear message."""
        service = FakeService(script=[err])
        with pytest.raises(GeocoderRefused, match=r"refused the request.*Stopping"):
            wrap(service, clock).geocode("望京")
        assert len(service.queries) == 1 and clock.sleeps == []

    def test_bad_query_is_geocode_error(self, clock: FakeClock) -> None:
        """A query the service rejects (HTTP 400) is invalid input, not a failure."""
        service = FakeService(script=[gexc.GeocoderQueryError("bad")])
        with pytest.raises(GeocodeError, match="rejected the query"):
            wrap(service, clock).geocode("望京")

    def test_invalid_input_never_reaches_service(self, clock: FakeClock) -> None:
        """Empty queries raise GeocodeError before any call."""
        service = FakeService()
        with pytest.raises(GeocodeError, match="empty"):
            wrap(service, clock).geocode("  ")
        assert service.queries == []


class TestResults:
    def test_not_found_is_none_and_cached(self, clock: FakeClock) -> None:
        """'Not found' is None, and is cached so it is not asked again."""
        service = FakeService()
        geo = wrap(service, clock)
        assert geo.geocode("nowhere") is None
        assert geo.geocode("nowhere") is None
        assert service.queries == ["nowhere"]

    def test_failures_are_not_cached(self, clock: FakeClock) -> None:
        """A failed lookup is asked again next time."""
        service = FakeService(script=[gexc.GeocoderUnavailable("down")])
        geo = wrap(service, clock, max_retries=0)
        with pytest.raises(GeocoderServiceError):
            geo.geocode("望京")
        assert geo.geocode("望京") is not None
        assert service.queries == ["望京", "望京"]

    def test_raw_has_admin_fields(self, clock: FakeClock) -> None:
        """raw carries province/city/district like the offline geocoder, and the source."""
        loc = wrap(FakeService(), clock).geocode("望京")
        assert loc.raw["source"] == "fake"
        assert (loc.raw["city"], loc.raw["district"]) == ("北京市", "朝阳区")
        assert loc.raw["ambiguous"] is False and loc.raw["provider"] == {"fake": True}

    @pytest.mark.parametrize(("coord_sys", "forward"), [("bd09", wgs84_to_bd09),
                                                        ("gcj02", wgs84_to_gcj02)])  # fmt: skip
    def test_converted_to_wgs84(self, clock: FakeClock, coord_sys: str, forward: Any) -> None:
        """BD-09 and GCJ-02 answers are converted to WGS-84 (to ~1e-6 degrees)."""
        lon, lat = forward(WANGJING[1], WANGJING[0])
        service = FakeService({"望京": (lat, lon)})
        loc = wrap(service, clock, coord_sys=coord_sys).geocode("望京")
        assert loc.latitude == pytest.approx(WANGJING[0], abs=1e-6)
        assert loc.longitude == pytest.approx(WANGJING[1], abs=1e-6)
        assert loc.raw["provider_lat"] == pytest.approx(lat)

    def test_reverse_sends_service_coordinates(self, clock: FakeClock) -> None:
        """reverse() converts the WGS-84 point to the service's system, and back."""
        service = FakeService()
        loc = wrap(service, clock, coord_sys="bd09").reverse(WANGJING)
        sent_lat, sent_lon = (float(x) for x in service.queries[0].split(","))
        blon, blat = wgs84_to_bd09(WANGJING[1], WANGJING[0])
        assert (sent_lat, sent_lon) == pytest.approx((blat, blon), abs=1e-6)
        assert (loc.latitude, loc.longitude) == pytest.approx(WANGJING, abs=1e-6)

    def test_exactly_one_false(self, clock: FakeClock) -> None:
        """exactly_one=False returns a list."""
        locs = wrap(FakeService(), clock).geocode("望京", exactly_one=False)
        assert isinstance(locs, list) and len(locs) == 1


class TestCache:
    def test_persists_across_instances(self, clock: FakeClock, tmp_path: Path) -> None:
        """A second geocoder on the same cache file asks the service nothing."""
        path = tmp_path / "c.sqlite"
        first, second = FakeService(), FakeService()
        for service in (first, second):
            geo = ServiceGeocoder(service, name="fake", cache=GeocodeCache(path))
            geo._clock, geo._sleep = clock, clock.sleep
            assert geo.geocode("望京") is not None
            geo.cache.close()
        assert first.queries == ["望京"] and second.queries == []

    def test_services_do_not_share_entries(self, tmp_path: Path) -> None:
        """Results are keyed per service."""
        with GeocodeCache(tmp_path / "c.sqlite") as cache:
            cache.put("a", "k", [{"x": 1}])
            assert cache.get("b", "k") is None and cache.get("a", "k") == [{"x": 1}]
            assert len(cache) == 1

    @pytest.mark.parametrize(
        ("a", "b"), [("北京市　朝阳区", "北京市 朝阳区"), ("Xi'an", "  XI'AN "), ("ＡＢＣ", "abc")]
    )
    def test_key_normalization(self, a: str, b: str) -> None:
        """Width, spacing and case do not change the cache key."""
        assert normalize_key(a) == normalize_key(b)

    def test_key_includes_parameters(self) -> None:
        """Parameters that change the answer are part of the key."""
        assert normalize_key("x", exactly_one=True) != normalize_key("x", exactly_one=False)


class TestBatchWithFlakyService:
    def test_rate_limited_midway_completes(self, clock: FakeClock) -> None:
        """A service that rate-limits and times out midway still completes the batch."""
        answers = {f"q{i}": WANGJING for i in range(6)}
        script = [None, None, gexc.GeocoderRateLimited("429", retry_after=5), None,
                  gexc.GeocoderTimedOut("slow"), None, None, None]  # fmt: skip
        service = FakeService(answers, script)
        geo = wrap(service, clock)
        res = geocode_batch([f"q{i}" for i in range(6)], geo)
        assert [r.status for r in res] == ["ok"] * 6
        assert 5.0 in clock.sleeps and 2.0 in clock.sleeps

    def test_refusal_stops_the_batch(self, clock: FakeClock, tmp_path: Path) -> None:
        """HTTP 403 midway stops the batch; finished rows stay in the checkpoint."""
        service = FakeService({f"q{i}": WANGJING for i in range(4)},
                              [None, None, gexc.GeocoderInsufficientPrivileges("403")])  # fmt: skip
        cp = tmp_path / "cp.jsonl"
        with pytest.raises(GeocoderRefused):
            geocode_batch([f"q{i}" for i in range(4)], wrap(service, clock), checkpoint=cp)
        assert len(cp.read_text("utf-8").splitlines()) == 3  # header + 2 rows

    def test_exhausted_retries_mark_row_failed(self, clock: FakeClock) -> None:
        """A row whose retries are exhausted is 'failed', the next rows go on."""
        service = FakeService({"a": WANGJING, "b": WANGJING},
                              [gexc.GeocoderTimedOut("t")] * 2)  # fmt: skip
        res = geocode_batch(["a", "b"], wrap(service, clock, max_retries=1))
        assert [r.status for r in res] == ["failed", "ok"]


class RecordedAdapter(BaseSyncAdapter):
    """A geopy HTTP adapter that replays recorded responses: JSON bodies or HTTP errors.

    It sits under geopy's real geocoder classes, so geopy's own parsing and its mapping
    of HTTP statuses to exceptions (429 + Retry-After, 403) are exercised; no network.
    """

    def __init__(self, responses: list[Any], *, proxies: Any = None, ssl_context: Any = None):
        super().__init__(proxies=proxies, ssl_context=ssl_context)
        self.responses = list(responses)
        self.urls: list[str] = []

    def get_json(self, url: str, *, timeout: Any, headers: Any) -> Any:
        self.urls.append(url)
        item = self.responses.pop(0)
        if isinstance(item, tuple):  # (status, headers): an HTTP error
            status, hdrs = item
            raise AdapterHTTPError(f"HTTP {status}", status_code=status, headers=hdrs, text="")
        return item

    def get_text(self, url: str, *, timeout: Any, headers: Any) -> str:  # pragma: no cover
        raise NotImplementedError


NOMINATIM_WANGJING = [{"lat": str(WANGJING[0]), "lon": str(WANGJING[1]), "place_id": 1,
                       "display_name": "望京, 朝阳区, 北京市, 中国"}]  # fmt: skip


class TestRecordedResponses:
    def _nominatim(self, clock: FakeClock, responses: list[Any]) -> ServiceGeocoder:
        adapter = RecordedAdapter(responses)
        geo = get_geocoder(
            "nominatim",
            user_agent="acme-locator-test/1.0",
            cache=GeocodeCache(":memory:"),
            adapter_factory=lambda proxies, ssl_context: adapter,
        )
        geo._clock, geo._sleep = clock, clock.sleep
        geo.adapter = adapter  # type: ignore[attr-defined]
        return geo

    def test_nominatim_429_retry_after_then_ok(self, clock: FakeClock) -> None:
        """A real 429 with Retry-After (through geopy's mapping) waits that long, then
        the recorded answer is parsed and placed in Beijing's 朝阳区."""
        geo = self._nominatim(clock, [(429, {"retry-after": "12"}), NOMINATIM_WANGJING])
        loc = geo.geocode("望京")
        assert clock.sleeps == [12.0]
        assert (loc.raw["city"], loc.raw["district"]) == ("北京市", "朝阳区")
        assert loc.raw["source"] == "nominatim"

    def test_nominatim_403_stops(self, clock: FakeClock) -> None:
        """A real HTTP 403 becomes GeocoderRefused, with no retry."""
        geo = self._nominatim(clock, [(403, {}), NOMINATIM_WANGJING])
        with pytest.raises(GeocoderRefused, match="Stopping"):
            geo.geocode("望京")
        assert len(geo.adapter.urls) == 1  # type: ignore[attr-defined]

    def test_nominatim_is_restricted_to_china(self, clock: FakeClock) -> None:
        """Nominatim queries ask for results in China unless told otherwise."""
        geo = self._nominatim(clock, [NOMINATIM_WANGJING, NOMINATIM_WANGJING])
        geo.geocode("望京")
        geo.geocode("Wangjing", country_codes="jp")
        urls = geo.adapter.urls  # type: ignore[attr-defined]
        assert "countrycodes=cn" in urls[0] and "countrycodes=jp" in urls[1]

    def test_nominatim_empty_is_not_found(self, clock: FakeClock) -> None:
        """An empty answer is None (not found), distinct from a failure."""
        geo = self._nominatim(clock, [[]])
        assert geo.geocode("nowhere at all") is None

    def test_nominatim_503_then_ok(self, clock: FakeClock) -> None:
        """A 503 is retried after a back-off."""
        geo = self._nominatim(clock, [(503, {}), NOMINATIM_WANGJING])
        assert geo.geocode("望京") is not None and clock.sleeps == [2.0]

    def test_baidu_bd09_answer_is_wgs84(self, clock: FakeClock) -> None:
        """Baidu's recorded answer (BD-09) comes out in WGS-84."""
        blon, blat = wgs84_to_bd09(WANGJING[1], WANGJING[0])
        adapter = RecordedAdapter(
            [{"status": 0, "result": {"location": {"lng": blon, "lat": blat}, "level": "商务大厦"}}]
        )
        geo = get_geocoder(
            "baidu",
            api_key="test-key",
            cache=False,
            adapter_factory=lambda proxies, ssl_context: adapter,
        )
        geo._clock, geo._sleep = clock, clock.sleep
        loc = geo.geocode("北京市朝阳区望京")
        assert (loc.latitude, loc.longitude) == pytest.approx(WANGJING, abs=1e-6)
        assert loc.raw["district"] == "朝阳区" and loc.raw["coord_sys_in"] == "bd09"


# --------------------------------------------------------------------------- secrets

SECRET = "Ak9s3CrEt-key-value"  # a fake Baidu key


class URLLeakingAdapter(BaseSyncAdapter):
    """A geopy HTTP adapter that fails as requests' does: the message holds the full
    request URL (for Baidu: ``?ak=<key>&...&sn=<signature>``). Optionally answers."""

    def __init__(
        self, status: int | None = 500, answer: Any = None, *, proxies: Any = None,
        ssl_context: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(proxies=proxies, ssl_context=ssl_context)
        self.status = status
        self.answer = answer
        self.urls: list[str] = []

    def get_json(self, url: str, *, timeout: Any, headers: Any) -> Any:
        self.urls.append(url)
        if self.status is None:
            return self.answer
        raise AdapterHTTPError(
            f"{self.status} Server Error: Internal Server Error for url: {url}",
            status_code=self.status,
            headers={},
            text=f"error for {url}",
        )

    def get_text(self, url: str, *, timeout: Any, headers: Any) -> str:  # pragma: no cover
        raise NotImplementedError


def _baidu(adapter: URLLeakingAdapter, **kw: Any) -> ServiceGeocoder:
    geo = get_geocoder(
        "baidu",
        api_key=SECRET,
        security_key="sk-s3cret-0001",  # signed requests: the URL carries sn=<md5>
        max_retries=kw.pop("max_retries", 1),
        adapter_factory=lambda proxies, ssl_context: adapter,
        **kw,
    )
    clock = FakeClock()
    geo._clock, geo._sleep = clock, clock.sleep  # type: ignore[attr-defined]
    return geo  # type: ignore[return-value]


def _chain(err: BaseException | None) -> str:
    """The text of an exception and of every exception chained to it."""
    import traceback

    if err is None:
        return ""
    return "".join(traceback.format_exception(err)) + repr(err.args)


class TestSecretRedaction:
    @pytest.mark.parametrize("status", [500, 403, 400])
    def test_key_not_in_exception(self, status: int) -> None:
        """A failing Baidu request (5xx after retries, 403, 400) raises an error whose
        str, repr and traceback chain never contain the key nor the signature, though
        geopy's error carried the whole URL."""
        adapter = URLLeakingAdapter(status)
        geo = _baidu(adapter, cache=False)
        with pytest.raises(LocatorError) as info:
            geo.geocode("北京市朝阳区望京")
        assert SECRET in adapter.urls[0] and "sn=" in adapter.urls[0]  # the fake leaks
        sn = adapter.urls[0].rsplit("sn=", 1)[1]
        text = str(info.value) + repr(info.value) + _chain(info.value)
        assert SECRET not in text and sn not in text
        assert "baidu" in str(info.value)  # still says what failed

    def test_key_not_in_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        """At DEBUG, neither geopy's URL log nor any locator record shows the key."""
        import logging

        caplog.set_level(logging.DEBUG)
        adapter = URLLeakingAdapter(500)
        geo = _baidu(adapter, cache=False)
        with pytest.raises(GeocoderServiceError):
            geo.geocode("北京市朝阳区望京")
        assert any(r.name == "geopy" for r in caplog.records)  # geopy did log the URL
        assert SECRET not in caplog.text
        for record in caplog.records:
            assert SECRET not in record.getMessage()

    def test_key_not_in_cache_file(self, tmp_path: Path) -> None:
        """A cached Baidu answer is stored without the key (the file's bytes)."""
        blon, blat = wgs84_to_bd09(WANGJING[1], WANGJING[0])
        answer = {"status": 0, "result": {"location": {"lng": blon, "lat": blat}, "level": "望京"}}
        path = tmp_path / "geo.sqlite"
        geo = _baidu(URLLeakingAdapter(None, answer), cache_path=path)
        assert geo.geocode("北京市朝阳区望京") is not None
        geo.cache.close()  # type: ignore[union-attr]
        data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert "望京".encode() in data  # the answer is there ...
        assert SECRET.encode() not in data  # ... the key is not

    def test_key_not_in_cli_stderr(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`locator geocode -g baidu` reports the failure in one line without the key."""
        from typer.testing import CliRunner

        from locator.cli import app as cli_app
        from locator.cli import geocode as cli_geocode

        adapter = URLLeakingAdapter(500)
        monkeypatch.setattr(
            cli_geocode, "make_geocoder", lambda name, **kw: _baidu(adapter, cache=False)
        )
        result = CliRunner().invoke(cli_app, ["geocode", "-g", "baidu", "北京市朝阳区望京"])
        assert result.exit_code == 3
        assert "error: baidu failed" in result.output
        assert SECRET not in result.output and "Traceback" not in result.output

    def test_redact_masks_parameters_and_registered_values(self) -> None:
        """redact() masks every secret-named parameter and a registered key anywhere."""
        from locator.geocoders.redact import redact, register_secret

        register_secret("literal-k3y-0001")
        text = redact(
            "GET /v3/?ak=a1&output=json&sn=b2&key=c3&api_key=d4&apikey=e5&token=f6"
            "&access_token=g7&sk=h8 {'ak': 'i9'} and literal-k3y-0001 in prose"
        )
        for value in ("a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "i9", "literal-k3y"):
            assert value not in text
        assert "output=json" in text and "in prose" in text


class TestCacheFilePermissions:
    def test_file_is_private(self, tmp_path: Path) -> None:
        """A new cache file is created 0600 (it holds the user's queries)."""
        import os
        import stat

        path = tmp_path / "geo.sqlite"
        GeocodeCache(path).close()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    def test_created_directory_is_private(self, tmp_path: Path) -> None:
        """A cache directory the cache creates is 0700."""
        import os
        import stat

        path = tmp_path / "new" / "geo.sqlite"
        GeocodeCache(path).close()
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


class TestConcurrentFirstUse:
    def test_admin_gazetteer_built_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Eight threads' first answers fill their admin fields from one offline
        gazetteer, built once (a race would build one per thread, ~60 MB each)."""
        import threading
        import time

        import locator.geocoders.offline as offline

        real = offline.gazetteer
        real()
        builds: list[int] = []

        def counting() -> Any:
            builds.append(1)
            time.sleep(0.2)  # a slow build widens the window a race needs
            return real()

        monkeypatch.setattr(offline, "gazetteer", counting)
        geo = ServiceGeocoder(FakeService(), name="fake")
        barrier = threading.Barrier(8)
        districts: list[str] = []

        def call() -> None:
            barrier.wait()
            districts.append(geo.geocode("望京").raw["district"])

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert districts == ["朝阳区"] * 8
        assert builds == [1]


class TestSecretOfAWrappedGeocoder:
    def test_key_of_inner_geocoder_is_redacted(self) -> None:
        """A geopy geocoder wrapped directly (not via get_geocoder) has its key
        registered: an error that quotes the bare key (not as ak=) is masked too."""
        key = "bare-k3y-in-prose-0042"
        inner = FakeService(script=[gexc.GeocoderServiceError(f"quota for {key} exceeded")])
        inner.api_key = key  # type: ignore[attr-defined]
        geo = ServiceGeocoder(inner, name="fake", max_retries=0)
        with pytest.raises(GeocoderServiceError) as info:
            geo.geocode("望京")
        assert key not in str(info.value) and "***" in str(info.value)
