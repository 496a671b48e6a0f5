"""Online geocoders behind the offline one's interface: cache, rate policy, honest errors.

:func:`get_geocoder` builds geopy's geocoder for a service and wraps it in
:class:`ServiceGeocoder`, itself a geopy ``Geocoder``, which adds:

* a persistent SQLite cache (:mod:`.cache`) keyed on the normalized query: a repeated
  query (or a rerun batch) never calls the service again; "not found" is cached too;
* the service's rate policy: a minimum delay between calls (Nominatim: 1 s, per the
  OSM usage policy), ``Retry-After`` honoured on HTTP 429, exponential back-off on
  timeouts and 5xx, ~10 s timeouts;
* failures that are **not** "not found": after the retries a
  :class:`~locator.errors.GeocoderServiceError` is raised (geopy's ``RateLimiter``
  would return ``None`` and a batch would record a failure as a miss). HTTP 401/403
  and exhausted quotas raise :class:`GeocoderRefused` at once: retrying cannot help;
* results converted to WGS-84 (Baidu answers in BD-09; GCJ-02 services are supported
  via ``coord_sys="gcj02"``), with ``province/city/district/adcode`` filled from the
  offline gazetteer (nearest division centre), so every geocoder's ``raw`` has the
  same keys.

Time is a seam (``_clock``, ``_sleep`` on the instance), so tests never sleep, and the
wrapped geocoder can be any object with geopy's ``geocode``/``reverse``: tests pass
fakes, never the network.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geopy import exc as gexc
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from ..errors import ConfigurationError, GeocodeError, GeocoderServiceError
from .cache import GeocodeCache, normalize_key
from .offline import NoNetworkAdapter, OfflineGeocoder, validate_query
from .redact import install_log_redaction, redact, register_secret

# geopy logs request URLs (API keys included) at DEBUG: redact its records.
install_log_redaction()

__all__ = [
    "ENV_USER_AGENT",
    "SERVICES",
    "GeocoderRefused",
    "ServiceGeocoder",
    "ServicePolicy",
    "get_geocoder",
]

ENV_USER_AGENT = "LOCATOR_USER_AGENT"
DEFAULT_TIMEOUT = 10.0
_OUR_AGENT = "locator/0.1 (after-sales outlet locator)"


class GeocoderRefused(GeocoderServiceError):
    """The service refused us (HTTP 401/403, quota exhausted): stop, retrying cannot help."""


@dataclass(frozen=True)
class ServicePolicy:
    """How to treat one service: its geopy class, pace, coordinate system and keys."""

    geopy_class: str
    min_delay: float  # seconds between two requests
    coord_sys: str = "wgs84"  # what the service answers in: wgs84 | gcj02 | bd09
    needs_user_agent: bool = False
    api_key_param: str | None = None  # constructor parameter taking the key
    api_key_env: str | None = None
    geocode_defaults: tuple[tuple[str, Any], ...] = ()  # geocode() arguments by default


SERVICES: dict[str, ServicePolicy] = {
    # OSM usage policy: max 1 request/s, an identifying User-Agent, no bulk scraping.
    # Results restricted to China (the network's country) unless country_codes= is given.
    "nominatim": ServicePolicy(
        "Nominatim",
        1.0,
        "wgs84",
        needs_user_agent=True,
        geocode_defaults=(("country_codes", "cn"),),
    ),
    "photon": ServicePolicy("Photon", 1.0, "wgs84"),
    "arcgis": ServicePolicy("ArcGIS", 0.2, "wgs84"),
    # Baidu answers in BD-09 unless told otherwise; free keys allow a few requests/s.
    "baidu": ServicePolicy(
        "BaiduV3", 0.34, "bd09", api_key_param="api_key", api_key_env="LOCATOR_BAIDU_AK"
    ),
}


def _describe(err: BaseException) -> str:
    """``Type: message`` of a service error, secrets redacted."""
    return redact(f"{type(err).__name__}: {err}")


def _to_wgs84(lat: float, lon: float, coord_sys: str) -> tuple[float, float]:
    from ..crs import bd09_to_wgs84, gcj02_to_wgs84

    if coord_sys == "bd09":
        lon, lat = bd09_to_wgs84(lon, lat)
    elif coord_sys == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    return float(lat), float(lon)


class ServiceGeocoder(Geocoder):
    """A geopy geocoder (``inner``) with a cache, a rate policy and honest errors.

    ``Location.raw`` has the offline geocoder's keys: ``province``, ``city``,
    ``district``, ``adcode`` (from the nearest division centre to the WGS-84 point),
    ``level`` = ``"address"``, ``ambiguous`` = False, ``candidates`` = [],
    ``source`` (the service name), plus ``provider`` (the service's own answer),
    ``coord_sys_in`` and, for BD-09/GCJ-02 services, ``provider_lat``/``provider_lon``.

    ``name`` keys the cache and appears as ``raw["source"]``. ``min_delay`` seconds are
    kept between two calls to the service; cache hits do not count. ``max_retries``
    retries follow a timeout, 5xx or 429 (waiting ``Retry-After`` when given, else
    ``backoff * 2**attempt`` s); a wait longer than ``max_wait`` gives up at once.
    """

    def __init__(
        self,
        inner: Any,
        *,
        name: str,
        coord_sys: str = "wgs84",
        min_delay: float = 0.0,
        max_retries: int = 3,
        backoff: float = 2.0,
        max_wait: float = 300.0,
        cache: GeocodeCache | None = None,
        fill_admin: bool = True,
        geocode_defaults: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(user_agent=_OUR_AGENT, adapter_factory=NoNetworkAdapter)  # inner does HTTP
        if coord_sys not in ("wgs84", "gcj02", "bd09"):
            raise ConfigurationError(f"coord_sys must be wgs84, gcj02 or bd09, not {coord_sys!r}")
        self.inner = inner
        for attr in ("api_key", "security_key"):  # geopy's names; redacted from now on
            value = getattr(inner, attr, None)
            if isinstance(value, str):
                register_secret(value)
        self.name = name
        self.coord_sys = coord_sys
        self.min_delay = float(min_delay)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_wait = float(max_wait)
        self.cache = cache
        self.fill_admin = fill_admin
        self.geocode_defaults = dict(geocode_defaults or {})
        self.calls = 0  # requests sent to the service (for reports and tests)
        self.cache_hits = 0
        self._clock: Callable[[], float] = time.monotonic
        self._sleep: Callable[[float], None] = time.sleep
        self._next_at = float("-inf")
        self._offline: OfflineGeocoder | None = None
        self._offline_lock = threading.Lock()

    # ------------------------------------------------------------------ calls
    def _request(self, fn: Callable[[], Any], what: str) -> Any:
        """Call the service with the rate policy; translate its errors.

        Every error leaving here is ours, its text passed through :func:`redact`, and
        raised without its cause: geopy's exceptions (and the HTTP library's below
        them) carry the request URL, API key included.
        """
        attempt = 0
        while True:
            wait = self._next_at - self._clock()
            if wait > 0:
                self._sleep(wait)
            self.calls += 1
            failure: Exception | None = None
            try:
                result = fn()
            except (gexc.GeocoderAuthenticationFailure, gexc.GeocoderInsufficientPrivileges) as err:
                failure = GeocoderRefused(
                    f"{self.name} refused the request ({_describe(err)}); check the "
                    "API key, the user agent and the service's usage policy. Stopping."
                )
            except gexc.GeocoderRateLimited as err:
                delay = err.retry_after if err.retry_after is not None else self._backoff(attempt)
                failure = self._after_failure(attempt, err, float(delay), what)
            except gexc.GeocoderQuotaExceeded as err:
                failure = GeocoderRefused(
                    f"{self.name}: quota exhausted ({_describe(err)}). Stopping; resume later."
                )
            except gexc.GeocoderQueryError as err:
                failure = GeocodeError(
                    redact(f"{self.name} rejected the query {what!r}: {_describe(err)}")
                )
            except (gexc.GeocoderTimedOut, gexc.GeocoderUnavailable, gexc.GeocoderServiceError,
                    gexc.GeopyError, OSError) as err:  # fmt: skip
                failure = self._after_failure(attempt, err, self._backoff(attempt), what)
            else:
                self._next_at = self._clock() + self.min_delay
                return result
            if failure is not None:
                # Raised outside the except block: no __context__ either.
                raise failure
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        return self.backoff * (2**attempt)

    def _after_failure(
        self, attempt: int, err: Exception, delay: float, what: str
    ) -> Exception | None:
        """Sleep before the next attempt, or the error to raise (retries exhausted, or
        the service asks to wait longer than ``max_wait``)."""
        self._next_at = self._clock() + self.min_delay
        if attempt >= self.max_retries:
            return GeocoderServiceError(
                redact(
                    f"{self.name} failed for {what!r} after {attempt + 1} attempt(s): "
                    f"{_describe(err)}"
                )
            )
        if delay > self.max_wait:
            return GeocoderServiceError(
                redact(
                    f"{self.name} asks to wait {delay:.0f} s (more than {self.max_wait:.0f} s) "
                    f"for {what!r}: {_describe(err)}"
                )
            )
        self._sleep(max(delay, 0.0))
        return None

    # ------------------------------------------------------------------ results
    def _convert(self, loc: Location, query: str) -> dict[str, Any]:
        lat, lon = _to_wgs84(float(loc.latitude), float(loc.longitude), self.coord_sys)
        raw: dict[str, Any] = {
            "query": query,
            "province": None,
            "city": None,
            "district": None,
            "adcode": None,
            "level": "address",
            "ambiguous": False,
            "candidates": [],
            "source": self.name,
            "coord_sys_in": self.coord_sys,
            "provider": loc.raw,
        }
        if self.coord_sys != "wgs84":
            raw["provider_lat"], raw["provider_lon"] = float(loc.latitude), float(loc.longitude)
        if self.fill_admin:
            near = self._offline_geocoder().reverse((lat, lon))
            if isinstance(near, Location):
                for key in ("province", "city", "district", "adcode"):
                    raw[key] = near.raw[key]
                raw["admin_from"] = "nearest division centre (offline)"
        return {"address": loc.address, "lat": lat, "lon": lon, "raw": raw}

    def _offline_geocoder(self) -> OfflineGeocoder:
        """The offline geocoder that fills the administrative fields, built once with
        its gazetteer under a lock (concurrent first answers would each build it)."""
        if self._offline is None:
            with self._offline_lock:
                if self._offline is None:
                    offline = OfflineGeocoder()
                    offline.gazetteer  # noqa: B018 - build it here, under the lock
                    self._offline = offline
        return self._offline

    @staticmethod
    def _locations(items: list[dict[str, Any]], exactly_one: bool) -> Location | list | None:
        locs = [Location(i["address"], Point(i["lat"], i["lon"]), i["raw"]) for i in items]
        if not locs:
            return None
        return locs[0] if exactly_one else locs

    def _lookup(self, key: str, what: str, fetch: Callable[[], Any], exactly_one: bool) -> Any:
        if self.cache is not None:
            hit = self.cache.get(self.name, key)
            if hit is not None:
                self.cache_hits += 1
                return self._locations(hit, exactly_one)
        result = self._request(fetch, what)
        if result is None:
            found: list[Location] = []
        elif isinstance(result, Location):
            found = [result]
        else:
            found = list(result)
        items = [self._convert(loc, what) for loc in found]
        if self.cache is not None:
            self.cache.put(self.name, key, items)
        return self._locations(items, exactly_one)

    # ------------------------------------------------------------------ geopy API
    def geocode(
        self, query: str, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL, **kw: Any
    ) -> Location | list[Location] | None:
        """Geocode through the service (or the cache). ``None`` only for "not found";
        service failures raise GeocoderServiceError (GeocoderRefused for 401/403)."""
        text = validate_query(query)
        kw = {**self.geocode_defaults, **kw}
        key = normalize_key(text, exactly_one=exactly_one, **kw)
        if timeout is not DEFAULT_SENTINEL:
            kw["timeout"] = timeout
        return self._lookup(
            key, text, lambda: self.inner.geocode(text, exactly_one=exactly_one, **kw), exactly_one
        )

    def reverse(
        self, query: Any, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL, **kw: Any
    ) -> Location | list[Location] | None:
        """Reverse-geocode a WGS-84 point through the service (or the cache)."""
        from ..crs import wgs84_to_bd09, wgs84_to_gcj02

        try:
            point = query if isinstance(query, Point) else Point(query)
        except (ValueError, TypeError) as err:
            raise GeocodeError(f"not a valid (lat, lon) point: {query!r} ({err})") from err
        lat, lon = float(point.latitude), float(point.longitude)
        if self.coord_sys == "bd09":
            lon, lat = wgs84_to_bd09(lon, lat)
        elif self.coord_sys == "gcj02":
            lon, lat = wgs84_to_gcj02(lon, lat)
        what = f"{lat:.7f}, {lon:.7f}"
        key = normalize_key("reverse:" + what, exactly_one=exactly_one, **kw)
        if timeout is not DEFAULT_SENTINEL:
            kw["timeout"] = timeout
        return self._lookup(
            key, what, lambda: self.inner.reverse(what, exactly_one=exactly_one, **kw), exactly_one
        )


def _resolve_user_agent(user_agent: str | None, service: str) -> str:
    from geopy.geocoders import options

    agent = user_agent or os.environ.get(ENV_USER_AGENT, "").strip()
    if not agent:
        raise ConfigurationError(
            f"{service} needs a user agent that identifies your application (its usage "
            f"policy); pass user_agent=... or set {ENV_USER_AGENT}, e.g. "
            "'acme-outlet-locator/1.0 (ops@example.com)'"
        )
    if agent == options.default_user_agent or agent.lower().startswith("geopy/"):
        raise ConfigurationError(
            f"refusing geopy's stock user agent {agent!r} for {service}: it is shared by "
            f"everyone and gets blocked; set {ENV_USER_AGENT} to your application's name"
        )
    return agent


def get_geocoder(
    name: str = "offline",
    *,
    user_agent: str | None = None,
    api_key: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cache: bool | GeocodeCache = True,
    cache_path: str | os.PathLike[str] | None = None,
    min_delay: float | None = None,
    max_retries: int = 3,
    coord_sys: str | None = None,
    factory: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> Geocoder:
    """A geocoder by name: ``"offline"`` (no network) or an online service.

    Online names: ``nominatim``, ``photon``, ``arcgis``, ``baidu`` (see
    :data:`SERVICES`). ``user_agent`` falls back to ``$LOCATOR_USER_AGENT``; Nominatim
    refuses to start without a real one. ``api_key`` falls back to the service's
    environment variable (``LOCATOR_BAIDU_AK``). ``cache=False`` disables the cache;
    ``cache_path`` (or ``$LOCATOR_GEOCODE_CACHE``) moves it. ``factory`` replaces the
    geopy class (tests pass a fake); other keyword arguments go to that class.
    """
    key = name.strip().lower()
    if key == "offline":
        return OfflineGeocoder()
    policy = SERVICES.get(key)
    if policy is None:
        known = ", ".join(["offline", *SERVICES])
        raise ConfigurationError(f"unknown geocoder {name!r}; choose one of: {known}")
    params: dict[str, Any] = {"timeout": timeout, **kwargs}
    if policy.needs_user_agent:
        params["user_agent"] = _resolve_user_agent(user_agent, key)
    else:
        params["user_agent"] = user_agent or os.environ.get(ENV_USER_AGENT) or _OUR_AGENT
    if policy.api_key_param:
        ak = api_key or (os.environ.get(policy.api_key_env or "") or None)
        if not ak:
            raise ConfigurationError(
                f"{key} needs an API key: pass api_key=... or set {policy.api_key_env}"
            )
        register_secret(ak)  # redacted from every message and log record from now on
        params[policy.api_key_param] = ak
    if factory is None:
        import geopy.geocoders

        factory = getattr(geopy.geocoders, policy.geopy_class)
    try:
        inner = factory(**params)
    except (gexc.ConfigurationError, TypeError) as err:  # TypeError: an unknown option
        raise ConfigurationError(redact(f"{key}: {err}")) from None
    store: GeocodeCache | None
    if isinstance(cache, GeocodeCache):
        store = cache
    elif cache:
        store = GeocodeCache(cache_path)
    else:
        store = None
    return ServiceGeocoder(
        inner,
        name=key,
        coord_sys=coord_sys or policy.coord_sys,
        min_delay=policy.min_delay if min_delay is None else min_delay,
        max_retries=max_retries,
        cache=store,
        geocode_defaults=dict(policy.geocode_defaults),
    )
