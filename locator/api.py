"""HTTP API and the embeddable map page (FastAPI on uvicorn).

:func:`create_app` builds the ASGI app from an outlets table (the bundled *synthetic*
sample by default). Everything that does not depend on the request is built once, at
startup: the exact geodesic :class:`~locator.index.OutletIndex`, JSON-ready outlet
records and GeoJSON features. The geocoder (with its gazetteer) and the
radius-independent :class:`~locator.coverage.CoverageModel` are built once, in the
background from the app's lifespan (or by the first request that needs them, under a
lock, whichever comes first).

Endpoints (all ``GET``; see ``/docs`` for the OpenAPI description with examples):

* ``/healthz`` - readiness (``503`` ``ready: false`` while the geocoder and coverage
  model are built in the background at start-up) and what is loaded;
* ``/v1/nearest`` - the ``k`` nearest authorized outlets to ``lat``/``lon`` or to a
  geocoded ``q``;
* ``/v1/geocode`` - the offline geocoder's answer for ``q`` (ambiguity and candidates
  included);
* ``/v1/outlets`` - outlets as an RFC 7946 FeatureCollection (``city``, ``kind``,
  ``bbox`` filters);
* ``/v1/coverage`` - coverage figures and geodesic service areas at ``radius_km``;
* ``/embed/map`` - the self-contained map page (no CDN) for ``<iframe>`` embedding.

Parameters
==========
* Coordinates (``lat``/``lon``, ``bbox``) are WGS-84 unless ``coord_sys=gcj02`` (AMap,
  Tencent) or ``bd09`` (Baidu) says otherwise; they are converted on input and every
  coordinate in an answer is WGS-84 (``"coord_sys": "wgs84"``).
* Repeated filters: ``kind=a&kind=b`` (or ``kind=a,b``) = outlets of **any** of the
  kinds; ``category=a&category=b`` (or ``a,b``) = outlets repairing **all** of the
  categories, as :meth:`OutletIndex.nearest` and ``locator nearest`` do.
* An unknown parameter is a ``422`` naming it (``unknown parameter 'foo'``), so a typo
  (``coordsys=gcj02``) is never silently ignored.

Hardening
=========
* Every parameter is validated (finite numbers, ranges, lengths, known names). A bad
  one gets ``422`` and ``{"error": "invalid parameter", "parameter": ..., "reason": ...}``;
  the body never echoes the input (FastAPI's default does, and fails on NaN).
* CPU work (index search, geocoding, coverage, map pages) runs in sync endpoints,
  i.e. in the server's thread pool, never on the event loop.
* API keys of online geocoders are redacted from every message and log record
  (:mod:`locator.geocoders.redact`).
* Every JSON body is strict JSON (:class:`StrictJSONResponse`): NaN/inf become ``null``.
* Request bodies are limited (:class:`BodySizeLimitMiddleware`, ``413``); no endpoint
  takes a body. CORS is off unless an allow-list is given. Every response carries
  ``X-Content-Type-Options: nosniff``; ``/embed/map`` also a Content-Security-Policy
  with a configurable ``frame-ancestors`` allow-list.

Drive times are **estimates** (see :class:`~locator.index.DriveTimeModel`).

Embedding in a web site
=======================
Run ``locator serve --frame-ancestors https://www.example.com --cors
https://www.example.com`` behind the site's reverse proxy (TLS, rate limits), then::

    <iframe src="https://locator.example.com/embed/map?city=苏州&tiles=osm"
            title="Service outlet map" width="100%" height="480" style="border:0"
            loading="lazy" sandbox="allow-scripts" allow="geolocation"></iframe>

    <script>
    fetch("https://locator.example.com/v1/nearest?q=" + encodeURIComponent(address) + "&k=3")
      .then(r => r.json())
      .then(d => d.results.forEach(o => console.log(o.name, o.distance_km, o.drive_minutes)));
    </script>

The map page works without the Python app too: :func:`locator.embed.embed_page` writes
the same self-contained HTML to a file any web server can host.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import StringConstraints
from pyproj import Geod
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .crs import to_wgs84
from .data import normalize_category, normalize_kind
from .errors import ConfigurationError, GeocodeError, GeocoderServiceError, LocatorError
from .geocoders.redact import install_log_redaction, redact
from .index import CATEGORIES, KINDS, DriveTimeModel, OutletIndex
from .io import jsonable

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_HEAVY",
    "MAX_K",
    "MAX_Q_LENGTH",
    "BodySizeLimitMiddleware",
    "LocatorService",
    "StrictJSONResponse",
    "create_app",
    "create_app_from_env",
]

log = logging.getLogger(__name__)
# Messages and tracebacks of library errors can carry a geocoding service's key.
install_log_redaction()

#: Largest ``k`` accepted by ``/v1/nearest`` and ``/embed/map``.
MAX_K = 50
#: Longest ``q`` accepted (characters).
MAX_Q_LENGTH = 500
#: Largest coverage radius the API computes (km); larger is a 422 (the library allows
#: up to 20,000 km, but a service area that size is useless and costly to draw).
MAX_API_RADIUS_KM = 1000.0
#: Request bodies above this are refused with 413 (no endpoint takes a body).
DEFAULT_MAX_BODY_BYTES = 16 * 1024
#: Uncached map pages / coverage answers computed at the same time (more get 503).
MAX_HEAVY = 2
#: Gaps drawn on a national /embed/map (the most populous first).
EMBED_MAX_GAPS = 500
#: Rendered coverage answers / embed pages kept (LRU).
_CACHE_SIZE = 32
LAYERS: tuple[str, ...] = ("outlets", "coverage", "gaps", "cities")
SAMPLE_NOTE = "Synthetic sample data: a fictional brand, fictional outlets and phone numbers."
_OUTLET_FIELDS = (
    "outlet_id",
    "name",
    "kind",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "hours",
)


# --------------------------------------------------------------------------- JSON


def dumps(obj: Any) -> bytes:
    """Strict JSON bytes (UTF-8, compact). Never emits NaN/Infinity.

    Fast path: most answers are already plain Python (records are cleaned once at
    startup), so they are encoded as they are with ``allow_nan=False``; anything the
    encoder refuses (a NaN, a numpy scalar) sends the whole object through
    :func:`_clean` first.
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        text = json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


class StrictJSONResponse(JSONResponse):
    """A JSON response that is always strict JSON: non-finite floats become ``null``."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def _json(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None):
    """A :class:`StrictJSONResponse`."""
    return StrictJSONResponse(content, status_code=status_code, headers=dict(headers or {}))


class ApiError(LocatorError):
    """An error answered as JSON: ``{"error": message, "parameter": ..., "reason": ...}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        parameter: str | None = None,
        reason: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reason or message)
        self.status = status
        self.headers = dict(headers or {})
        self.body: dict[str, Any] = {"error": message}
        if parameter is not None:
            self.body["parameter"] = parameter
        if reason is not None:
            self.body["reason"] = reason
        self.body.update(extra or {})


def _invalid(parameter: str, reason: str) -> ApiError:
    """The 422 for a bad parameter."""
    return ApiError(422, "invalid parameter", parameter=parameter, reason=reason)


# --------------------------------------------------------------------------- middleware


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 (pure ASGI).

    A declared ``Content-Length`` above the limit is refused before reading; otherwise
    the body is read (counting chunked uploads too) and refused as soon as it passes
    the limit, then replayed to the app. Also adds ``X-Content-Type-Options: nosniff``
    to every HTTP response.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        body = dumps({"error": message, "limit_bytes": self.max_bytes})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._refuse(send, 400, "invalid Content-Length header")
                    return
                if declared > self.max_bytes:
                    await self._refuse(send, 413, "request body too large")
                    return
        pending: list[Message] = []
        total = 0
        while True:
            message = await receive()
            pending.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                await self._refuse(send, 413, "request body too large")
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, replay, send_nosniff)


# --------------------------------------------------------------------------- config checks

_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_ANCESTOR_RE = re.compile(r"^(https?://)?(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$|^https?:$")


def _check_origins(origins: Iterable[str]) -> list[str]:
    """CORS origins as ``scheme://host[:port]`` (or ``*``); ConfigurationError otherwise."""
    out = []
    for origin in origins:
        text = str(origin).strip()
        if text != "*" and not _ORIGIN_RE.match(text):
            raise ConfigurationError(
                f"invalid CORS origin {origin!r}: expected scheme://host[:port] "
                "(e.g. https://www.example.com) or *"
            )
        out.append(text.rstrip("/"))
    return out


def _check_frame_ancestors(values: Iterable[str]) -> list[str]:
    """CSP ``frame-ancestors`` sources, refusing anything that could add a directive."""
    out = []
    for value in values:
        text = str(value).strip()
        if text.lower() in ("self", "none"):  # the quotes are easy to lose in a shell
            text = f"'{text.lower()}'"
        if text in ("'self'", "'none'", "*") or _ANCESTOR_RE.match(text):
            out.append(text)
        else:
            raise ConfigurationError(
                f"invalid frame ancestor {value!r}: expected 'self', 'none', *, a scheme "
                "(https:) or a host source (https://www.example.com, https://*.example.com)"
            )
    if not out:
        return ["'none'"]
    if "'none'" in out and len(out) > 1:
        raise ConfigurationError("'none' cannot be combined with other frame ancestors")
    return out


def _tile_hosts(tiles: str | None) -> list[str]:
    """The ``https://host`` origins a tile layer loads images from (for img-src)."""
    from . import maps

    key = maps.normalize_tiles(tiles)
    if key is None:
        return []
    spec = maps.TILES[key]
    parts = urlsplit(spec.url)
    host = parts.hostname or ""
    subs = list(spec.subdomains or "") if "{s}" in host else [""]
    return sorted({f"{parts.scheme}://{host.replace('{s}', s)}" for s in subs})


def _csp(tiles: str | None, frame_ancestors: Sequence[str]) -> str:
    """The Content-Security-Policy header of ``/embed/map``."""
    img = " ".join(["data:", *_tile_hosts(tiles)])
    return (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        f"img-src {img}; font-src data:; connect-src 'none'; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {' '.join(frame_ancestors)}"
    )


# --------------------------------------------------------------------------- the service


class Geocoder(Protocol):
    """What the API needs from a geocoder (geopy's interface)."""

    def geocode(self, query: str) -> Any: ...


def _norm_city(name: Any) -> str:
    """A city name for matching: case-folded, no blanks, no trailing 市 / city / shi."""
    text = str(name or "").strip().casefold()
    for suffix in ("市", " city", " shi"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    return re.sub(r"[\s\-_']", "", text)


def _text_or_none(value: Any) -> str | None:
    """Text, or ``None`` for missing/blank values (NaN, NA, "")."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if text.strip() else None


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` as finite, in-range floats (422 naming ``bbox``)."""
    parts = text.split(",")
    if len(parts) != 4:
        raise _invalid("bbox", "expected 4 comma-separated numbers: minlon,minlat,maxlon,maxlat")
    nums = []
    for part in parts:
        try:
            value = float(part.strip())
        except ValueError:
            raise _invalid("bbox", "every bbox value must be a number") from None
        if not math.isfinite(value):
            raise _invalid("bbox", "bbox values must be finite numbers")
        nums.append(value)
    minlon, minlat, maxlon, maxlat = nums
    if not (-180 <= minlon <= 180 and -180 <= maxlon <= 180):
        raise _invalid("bbox", "bbox longitudes must be within [-180, 180]")
    if not (-90 <= minlat <= 90 and -90 <= maxlat <= 90):
        raise _invalid("bbox", "bbox latitudes must be within [-90, 90]")
    if minlat > maxlat:
        raise _invalid("bbox", "bbox minlat must be <= maxlat")
    return minlon, minlat, maxlon, maxlat


_TRUTHY = frozenset({"true", "1", "yes", "y", "t"})


def _authorized(outlets: pd.DataFrame) -> np.ndarray:
    """The ``authorized`` flags as booleans (text yes/no parsed, not cast: ``"false"``
    is False). No column: every outlet counts as authorized, as in
    :func:`locator.data.load_outlets`."""
    if "authorized" not in outlets.columns:
        return np.ones(len(outlets), dtype=bool)
    col = outlets["authorized"]
    if col.dtype == bool:
        return col.to_numpy()
    return col.astype(str).str.strip().str.lower().isin(_TRUTHY).to_numpy()


def _clean_q(q: str | None, parameter: str = "q") -> str | None:
    """``q`` stripped; 422 if empty, too long or containing NUL."""
    if q is None:
        return None
    text = q.strip()
    if not text:
        raise _invalid(parameter, "must not be empty")
    if len(text) > MAX_Q_LENGTH:
        raise _invalid(parameter, f"must be at most {MAX_Q_LENGTH} characters")
    if "\x00" in text:
        raise _invalid(parameter, "must not contain NUL characters")
    return text


def _split_names(values: Sequence[str] | None, parameter: str) -> list[str] | None:
    """Repeated and/or comma-separated names (``a&x=b,c``) as one list; ``None`` when
    the parameter is absent; 422 naming it for an empty item."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    names = [part.strip() for value in values for part in str(value).split(",")]
    if not names or any(not n for n in names):
        raise _invalid(parameter, "must not be empty (names, repeated or comma-separated)")
    return names


def _wgs84_point(lat: float, lon: float, coord_sys: str) -> tuple[float, float]:
    """``lat``/``lon`` given in ``coord_sys`` as WGS-84 (422 if the result is invalid)."""
    if coord_sys == "wgs84":
        return float(lat), float(lon)
    with np.errstate(all="ignore"):  # the inverse diverges near the poles: NaN -> 422
        wlon, wlat = to_wgs84(float(lon), float(lat), coord_sys)
    wlat, wlon = float(wlat), float(wlon)
    if not (math.isfinite(wlat) and math.isfinite(wlon) and abs(wlat) <= 90 and abs(wlon) <= 180):
        raise _invalid("lat", f"this point has no WGS-84 equivalent in {coord_sys}")
    return wlat, wlon


class LocatorService:
    """Everything the endpoints share, built once per app (thread-safe caches).

    ``geocoder`` is a geopy-style object (``.geocode(q)``) or a zero-argument factory
    returning one; ``None`` means :class:`locator.geocode.OfflineGeocoder`, built on
    first use. ``places``/``cities`` default to the bundled tables.
    """

    def __init__(
        self,
        outlets: pd.DataFrame,
        *,
        places: pd.DataFrame | None = None,
        cities: pd.DataFrame | None = None,
        geocoder: Geocoder | Callable[[], Geocoder] | None = None,
        drive_model: DriveTimeModel | None = None,
        sample: bool = False,
    ) -> None:
        from .data import load_cities

        self.outlets = outlets.reset_index(drop=True)
        if "authorized" not in self.outlets.columns:
            # load_outlets' default; OutletIndex and CoverageModel need the column.
            self.outlets = self.outlets.assign(authorized=True)
        self.sample = sample
        self.drive_model = drive_model or DriveTimeModel()
        # One query point per request: a single-threaded k-d tree query is fastest.
        self.index = OutletIndex(self.outlets, drive_model=self.drive_model, workers=1)
        self._places = places
        self.cities = load_cities() if cities is None else cities.reset_index(drop=True)
        self._geod = Geod(ellps="WGS84")
        self.lat = pd.to_numeric(self.outlets["lat"]).to_numpy(np.float64)
        self.lon = pd.to_numeric(self.outlets["lon"]).to_numpy(np.float64)
        n = len(self.outlets)
        self.authorized = _authorized(self.outlets)
        self.records = [
            self._record(row, bool(auth))
            for row, auth in zip(self.outlets.to_dict("records"), self.authorized, strict=True)
        ]
        self.features = [
            {
                "type": "Feature",
                "id": rec["outlet_id"],
                "geometry": {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]},
                "properties": {k: v for k, v in rec.items() if k not in ("lat", "lon")},
            }
            for rec in self.records
        ]
        kinds = self.outlets["kind"] if "kind" in self.outlets.columns else pd.Series([""] * n)
        self.kind = kinds.fillna("").astype(str).str.strip().to_numpy(dtype=object)
        # The data contract's names are valid even when no outlet has them (an empty
        # answer, not a 422); data files may add others.
        self.kinds = sorted({k for k in self.kind if k} | set(KINDS))
        self.categories = sorted(
            {c for rec in self.records for c in rec["categories"]} | set(CATEGORIES)
        )
        city_col = self.outlets["city"] if "city" in self.outlets.columns else pd.Series([""] * n)
        self.city_key = np.array([_norm_city(c) for c in city_col.fillna("")], dtype=object)
        self._city_aliases = self._build_city_aliases()
        self._geocoder_arg = geocoder
        self._geocoder: Geocoder | None = None
        self._geocoder_lock = threading.Lock()
        self._coverage: Any = None
        self._coverage_lock = threading.Lock()
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._heavy = threading.BoundedSemaphore(MAX_HEAVY)
        self._ready = threading.Event()

    @property
    def ready(self) -> bool:
        """Whether :meth:`warm` has finished (what ``/healthz`` reports)."""
        return self._ready.is_set()

    # ------------------------------------------------------------ records

    @staticmethod
    def _record(row: Mapping[Any, Any], authorized: bool) -> dict[str, Any]:
        rec: dict[str, Any] = {f: _text_or_none(row.get(f)) for f in _OUTLET_FIELDS}
        cats = _text_or_none(row.get("categories")) or ""
        rec["categories"] = [c.strip() for c in cats.split(";") if c.strip()]
        rec["authorized"] = authorized
        rec["lat"] = round(float(row["lat"]), 6)
        rec["lon"] = round(float(row["lon"]), 6)
        return rec

    # ------------------------------------------------------------ caches

    def cached(self, key: tuple, make: Callable[[], Any]) -> Any:
        """LRU cache of rendered answers (computed outside the lock).

        Computing an answer that is not cached (a map page, service areas) costs
        hundreds of ms of CPU; at most :data:`MAX_HEAVY` run at once, further ones get
        503 with ``Retry-After`` instead of queueing up and starving cheap requests.
        """
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if not self._heavy.acquire(blocking=False):
            raise ApiError(
                503,
                "busy",
                reason="too many uncached maps or coverage answers are being computed; "
                "retry shortly",
                headers={"Retry-After": "2"},
            )
        try:
            value = make()
        finally:
            self._heavy.release()
        with self._cache_lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    # ------------------------------------------------------------ cities

    def _build_city_aliases(self) -> dict[str, dict[str, str]]:
        """Normalized name (Chinese, English, with or without 市) -> the cities it names,
        as {outlet city key: label}. More than one entry means the name is ambiguous
        (Taizhou: 台州 and 泰州)."""
        aliases: dict[str, dict[str, str]] = {}
        for key in set(self.city_key):
            if key:
                aliases.setdefault(key, {})[key] = key
        for row in self.cities.to_dict("records"):
            key = _norm_city(row.get("city"))
            if not key:
                continue
            label = f"{row.get('city')} ({row.get('province')})"
            for name in {key, _norm_city(row.get("name_en"))} - {""}:
                aliases.setdefault(name, {})[key] = label
        return aliases

    def resolve_city(self, city: str) -> set[str]:
        """The outlet city key ``city`` names: 404 if unknown, 422 if it names several
        listed cities (the candidates are listed; the Chinese name is unambiguous)."""
        text = city.strip()
        if not text or len(text) > 100:
            raise _invalid("city", "must be 1 to 100 characters")
        key = _norm_city(text)
        found = self._city_aliases.get(key)
        if not found:
            close = difflib.get_close_matches(key, list(self._city_aliases), n=5, cutoff=0.6)
            raise ApiError(
                404,
                "unknown city",
                parameter="city",
                reason="no listed city or outlet city has this name (Chinese, e.g. 苏州, "
                "or English, e.g. Suzhou)",
                extra={"did_you_mean": sorted(close)},
            )
        if len(found) > 1:
            raise ApiError(
                422,
                "ambiguous city",
                parameter="city",
                reason="this name matches several listed cities; give the Chinese name",
                extra={"candidates": sorted(found.values())},
            )
        return set(found)

    def city_mask(self, keys: set[str]) -> np.ndarray:
        return np.isin(self.city_key, list(keys))

    # ------------------------------------------------------------ filters

    def check_kinds(self, kinds: Sequence[str] | None) -> list[str] | None:
        """``kind`` values (repeated and/or comma-separated) in canonical form; 422
        naming ``kind`` for an unknown one. Outlets of **any** of them match."""
        names = _split_names(kinds, "kind")
        if names is None:
            return None
        out = [normalize_kind(x) for x in names]  # 服务中心, "Service center" ...
        for text in out:
            if text not in self.kinds:
                raise _invalid("kind", f"unknown kind; expected one of {', '.join(self.kinds)}")
        return list(dict.fromkeys(out))

    def check_categories(self, categories: Sequence[str] | None) -> list[str] | None:
        """``category`` values (repeated and/or comma-separated) in canonical form; 422
        naming ``category`` for an unknown one. Outlets repairing **all** of them match."""
        names = _split_names(categories, "category")
        if names is None:
            return None
        out = [normalize_category(x) for x in names]  # 冰箱, fridge ...
        for text in out:
            if text not in self.categories:
                raise _invalid(
                    "category", f"unknown category; expected one of {', '.join(self.categories)}"
                )
        return list(dict.fromkeys(out))

    # ------------------------------------------------------------ geocoding

    def geocoder(self) -> Geocoder:
        """The geocoder, built once (503 if it cannot be built)."""
        if self._geocoder is not None:
            return self._geocoder
        failure: ApiError | None = None
        with self._geocoder_lock:
            if self._geocoder is None:
                arg = self._geocoder_arg
                try:
                    built: Geocoder
                    if arg is None:
                        from .geocode import OfflineGeocoder

                        built = OfflineGeocoder()
                    elif hasattr(arg, "geocode"):
                        built = arg
                    else:
                        built = arg()
                    # The offline geocoder builds its gazetteer (~60 MB, seconds of
                    # CPU) on first use: do it here, under the lock and before the
                    # geocoder is published, so N cold concurrent queries build it once.
                    getattr(built, "gazetteer", None)
                    self._geocoder = built
                except (ImportError, LocatorError, OSError) as err:
                    log.error("cannot build the geocoder: %s: %s", type(err).__name__, err)
                    failure = ApiError(503, "geocoding is unavailable", reason=type(err).__name__)
        if failure is not None:
            raise failure
        assert self._geocoder is not None
        return self._geocoder

    def geocode(self, q: str, parameter: str = "q") -> dict[str, Any]:
        """The best match for ``q`` as a JSON-ready dict; 404 if nothing matches."""
        geocoder = self.geocoder()
        try:
            loc = geocoder.geocode(q)
        except GeocodeError as err:
            raise _invalid(parameter, redact(err)[:200]) from None
        except (GeocoderServiceError, Exception) as err:  # a geocoder bug must not be a 500
            log.exception("geocoder failed for a query")  # redacted by the log filter
            raise ApiError(503, "geocoding failed", reason=type(err).__name__) from None
        if loc is None:
            raise ApiError(
                404,
                "no match",
                parameter=parameter,
                reason="no place matches this query; try a city, district or address "
                "in Chinese, pinyin or English, or give lat and lon",
            )
        try:
            lat, lon = float(loc.latitude), float(loc.longitude)
        except (AttributeError, TypeError, ValueError) as err:
            raise ApiError(503, "geocoding failed", reason="malformed geocoder result") from err
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            raise ApiError(503, "geocoding failed", reason="geocoder returned invalid coordinates")
        raw = getattr(loc, "raw", None)
        raw = raw if isinstance(raw, Mapping) else {}
        candidates = raw.get("candidates") or []
        if not isinstance(candidates, list | tuple):
            candidates = [candidates]
        out: dict[str, Any] = {
            "query": q,
            "lat": lat,
            "lon": lon,
            "address": _text_or_none(getattr(loc, "address", None)),
            "province": raw.get("province"),
            "city": raw.get("city"),
            "district": raw.get("district"),
            "adcode": raw.get("adcode"),
            "level": raw.get("level"),
            "ambiguous": bool(raw.get("ambiguous", False)),
            "candidates": jsonable(list(candidates)[:20]),
            "source": raw.get("source"),
        }
        for key, value in raw.items():  # the geocoder's other fields, as they are
            if str(key) not in out:
                out[str(key)] = jsonable(value)
        return out

    # ------------------------------------------------------------ nearest

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int,
        *,
        max_km: float | None = None,
        kind: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        authorized_only: bool = True,
    ) -> list[dict[str, Any]]:
        """Result records, nearest first; the same rows and order as
        :meth:`OutletIndex.nearest` (checked by the tests) without building a DataFrame.
        ``kind``: any of these kinds; ``category``: repairing all of these categories
        (the index's semantics; it does the filtering).

        With ``max_km`` and nothing inside it, the single nearest is returned with
        ``within_max: false``.
        """
        pos, _ = self.index.nearest_many(
            [lat], [lon], k, kinds=kind, categories=category, authorized_only=authorized_only
        )
        pos = pos[0][pos[0] >= 0]
        n = pos.size
        if n == 0:
            return []
        az, _, metres = self._geod.inv(
            np.full(n, lon), np.full(n, lat), self.lon[pos], self.lat[pos]
        )
        km = np.asarray(metres, dtype=np.float64) / 1000.0
        within = True
        if max_km is not None:
            inside = km <= max_km
            if inside.any():
                pos, km, az = pos[inside], km[inside], np.asarray(az)[inside]
            else:
                pos, km, az = pos[:1], km[:1], np.asarray(az)[:1]
                within = False
        bearing = np.mod(np.asarray(az, dtype=np.float64), 360.0)
        minutes = self.drive_model.minutes(km)
        promise = self.drive_model.promise_minutes
        out = []
        for i, p in enumerate(pos.tolist()):
            rec = dict(self.records[p])
            rec["distance_km"] = round(float(km[i]), 3)
            rec["bearing_deg"] = round(float(bearing[i]), 1)
            rec["drive_minutes"] = round(float(minutes[i]), 1)
            rec["meets_promise"] = bool(minutes[i] <= promise)
            rec["within_max"] = within
            out.append(rec)
        return out

    # ------------------------------------------------------------ coverage

    def coverage_model(self) -> Any:
        """The radius-independent :class:`~locator.coverage.CoverageModel`, built once."""
        if self._coverage is None:
            with self._coverage_lock:
                if self._coverage is None:
                    from .coverage import CoverageModel
                    from .data import load_places

                    places = load_places() if self._places is None else self._places
                    self._coverage = CoverageModel(
                        self.outlets, places, self.cities, drive_model=self.drive_model
                    )
        return self._coverage

    def coverage(
        self,
        radius_km: float | None,
        drive_minutes: float | None,
        level: str,
        gap_limit: int,
    ) -> bytes:
        """The rendered ``/v1/coverage`` body at ``radius_km`` or at the radius reached in
        ``drive_minutes`` (an estimate; default 50 km), cached per radius, level and gap
        limit."""
        if radius_km is not None and drive_minutes is not None:
            raise _invalid("drive_minutes", "give radius_km or drive_minutes, not both")
        model = self.coverage_model()
        try:
            radius = model.radius_for(radius_km, drive_minutes)
        except ConfigurationError as err:
            raise _invalid("drive_minutes" if drive_minutes else "radius_km", str(err)) from err
        if radius > MAX_API_RADIUS_KM:
            raise _invalid(
                "drive_minutes", f"reaches {radius:.0f} km, more than {MAX_API_RADIUS_KM:g} km"
            )

        def make() -> bytes:
            from .coverage import service_areas

            if drive_minutes is not None:
                report = model.report(drive_minutes=drive_minutes, gap_limit=gap_limit)
            else:
                report = model.report(radius, gap_limit=gap_limit)
            areas = (
                {"type": "FeatureCollection", "features": []}
                if level == "none"
                else service_areas(self.outlets, radius, by=level).to_geojson()
            )
            return dumps(
                {
                    "radius_km": radius,
                    "drive_minutes": drive_minutes,
                    "level": level,
                    "report": report.to_dict(),
                    "service_areas": areas,
                    "note": self.note(),
                }
            )

        return self.cached(("coverage", radius, drive_minutes, level, gap_limit), make)

    def warm(self) -> None:
        """Build what is otherwise built on first use (the geocoder with its index, the
        coverage model), so the first requests are not slow, then mark the service
        ready. Failures are logged; the endpoints report them (503)."""
        try:
            for step in (self.geocoder, self.coverage_model):
                try:
                    step()
                except Exception:  # warming is best effort; the endpoint answers 503 later
                    log.warning("warm-up step %s failed", step.__name__, exc_info=True)
        finally:
            self._ready.set()

    def note(self) -> str:
        drive = self.drive_model.describe()
        return f"{SAMPLE_NOTE} {drive}" if self.sample else drive


# --------------------------------------------------------------------------- parameters

_FINITE = "Finite number (NaN and infinity are refused)."
#: ``q``: at least one non-blank character, no NUL (what :func:`_clean_q` enforces;
#: ``\s`` is Python's whitespace, as ``str.strip``).
Q_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
_LON_RE = r" *[+-]?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[0-9]{1,2})(?:\.[0-9]+)?) *"
_LAT_RE = r" *[+-]?(?:90(?:\.0+)?|[0-8]?[0-9](?:\.[0-9]+)?) *"
#: ``bbox``: ``minlon,minlat,maxlon,maxlat`` in range (minlat <= maxlat is checked too).
BBOX_PATTERN = rf"^{_LON_RE},{_LAT_RE},{_LON_RE},{_LAT_RE}$"
_LAYER_RE = rf" *(?:{'|'.join(LAYERS)}) *"
#: ``layers``: one or more layer names, comma-separated.
LAYERS_PATTERN = rf"^{_LAYER_RE}(?:,{_LAYER_RE})*$"
_NAME_RE = r"[^,\x00]*[^,\s\x00][^,\x00]*"
#: one ``kind``/``category`` value: non-blank names, comma-separated.
NAMES_PATTERN = rf"^{_NAME_RE}(?:,{_NAME_RE})*$"
#: What a value failing each pattern gets told (pydantic's message quotes the regex).
_PATTERN_REASONS = {
    Q_PATTERN: "must not be empty or blank, nor contain NUL characters",
    BBOX_PATTERN: "expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat "
    "(longitudes within [-180, 180], latitudes within [-90, 90])",
    LAYERS_PATTERN: f"choose one or more of {', '.join(LAYERS)}, comma-separated",
    NAMES_PATTERN: "expected one or more non-blank names, comma-separated",
}
_NameList = list[
    Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NAMES_PATTERN)]
]

Lat = Annotated[
    float | None,
    Query(
        ge=-90,
        le=90,
        allow_inf_nan=False,
        description="Latitude of the customer, degrees (-90..90) in `coord_sys` (default "
        "WGS-84). Give with `lon`, or give `q` instead (not both). " + _FINITE,
        examples=[31.2304],
    ),
]
Lon = Annotated[
    float | None,
    Query(
        ge=-180,
        le=180,
        allow_inf_nan=False,
        description="Longitude, degrees (-180..180) in `coord_sys` (default WGS-84). Give "
        "with `lat`. " + _FINITE,
        examples=[121.4737],
    ),
]
Q = Annotated[
    str | None,
    Query(
        max_length=MAX_Q_LENGTH,
        pattern=Q_PATTERN,
        description="An address, district or city in Chinese, pinyin or English "
        f"(1-{MAX_Q_LENGTH} characters, not blank), geocoded offline. Use instead of "
        "`lat`/`lon` (not both).",
        examples=["上海市黄浦区", "Suzhou", "朝阳区"],
    ),
]
QRequired = Annotated[
    str,
    Query(
        max_length=MAX_Q_LENGTH,
        pattern=Q_PATTERN,
        description="An address, district or city in Chinese, pinyin or English "
        f"(1-{MAX_Q_LENGTH} characters, not blank).",
        examples=["朝阳区", "Taizhou", "江苏省苏州市姑苏区"],
    ),
]
K = Annotated[
    int,
    Query(ge=1, le=MAX_K, description=f"How many outlets to return (1-{MAX_K}).", examples=[5]),
]
Kind = Annotated[
    _NameList | None,
    Query(
        max_length=16,
        description="Only outlets of this kind: `service_center` or `repair_point`. "
        "Repeat (`kind=a&kind=b`) or comma-separate for outlets of **any** of the kinds.",
        examples=[["service_center"]],
    ),
]
Category = Annotated[
    _NameList | None,
    Query(
        max_length=16,
        description="Only outlets that repair this appliance category "
        "(refrigerator, washer, air_conditioner, water_heater, tv). Repeat "
        "(`category=a&category=b`) or comma-separate for outlets repairing **all** of them.",
        examples=[["air_conditioner"]],
    ),
]
CoordSys = Annotated[
    Literal["wgs84", "gcj02", "bd09"],
    Query(
        description="Coordinate system of the coordinates given (`lat`/`lon`, `bbox`): "
        "`wgs84` (GPS, OpenStreetMap), `gcj02` (AMap/Gaode, Tencent) or `bd09` (Baidu). "
        "They are converted on input; every coordinate in the answer is WGS-84.",
        examples=["wgs84"],
    ),
]
MaxKm = Annotated[
    float | None,
    Query(
        ge=0,
        le=20000,
        allow_inf_nan=False,
        description="Only outlets within this geodesic distance (km, 0-20000). If none is "
        "that close, the single nearest is returned with `within_max: false`. " + _FINITE,
        examples=[50],
    ),
]
IncludeUnauthorized = Annotated[
    bool,
    Query(
        description="Also return listings that are not authorized outlets (default: "
        "authorized only).",
        examples=[False],
    ),
]
City = Annotated[
    str | None,
    Query(
        max_length=100,
        pattern=Q_PATTERN,
        description="A city: Chinese (苏州, 苏州市) or English (Suzhou) for a listed city.",
        examples=["苏州"],
    ),
]
BBox = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=BBOX_PATTERN,
        description="Bounding box `minlon,minlat,maxlon,maxlat` (degrees in `coord_sys`, "
        "default WGS-84; minlat <= maxlat). minlon > maxlon crosses the antimeridian.",
        examples=["120.8,30.7,122.0,31.9"],
    ),
]
RadiusKm = Annotated[
    float,
    Query(
        gt=0,
        le=MAX_API_RADIUS_KM,
        allow_inf_nan=False,
        description=f"Service radius, geodesic km (> 0, <= {MAX_API_RADIUS_KM:g}). " + _FINITE,
        examples=[50],
    ),
]
RadiusKmOptional = Annotated[
    float | None,
    Query(
        gt=0,
        le=MAX_API_RADIUS_KM,
        allow_inf_nan=False,
        description=f"Service radius, geodesic km (> 0, <= {MAX_API_RADIUS_KM:g}); default "
        "50 km. Or give `drive_minutes`. " + _FINITE,
        examples=[50],
    ),
]
DriveMinutes = Annotated[
    float | None,
    Query(
        gt=0,
        le=600,
        allow_inf_nan=False,
        description="Coverage by estimated drive time instead of a radius (minutes, "
        "0-600; e.g. 120 = the 2-hour on-site promise). Converted to geodesic km with the "
        "documented circuity factor and speeds: an estimate. " + _FINITE,
        examples=[120],
    ),
]
Level = Annotated[
    Literal["city", "province", "nation", "none"],
    Query(
        description="How service areas are dissolved: one per city, province, the whole "
        "nation, or `none` (figures only).",
        examples=["city"],
    ),
]
GapLimit = Annotated[
    int,
    Query(ge=0, le=1000, description="How many gaps (uncovered places) to list.", examples=[20]),
]
Layers = Annotated[
    str,
    Query(
        max_length=100,
        pattern=LAYERS_PATTERN,
        description="Comma-separated layers: " + ", ".join(LAYERS) + ".",
        examples=["outlets,coverage"],
    ),
]
Tiles = Annotated[
    Literal["osm", "amap", "none"],
    Query(
        description="Basemap: `osm` (OpenStreetMap, WGS-84), `amap` (Gaode, GCJ-02; "
        "coordinates are converted) or `none` (no network request at all).",
        examples=["osm"],
    ),
]


def _service(request: Request) -> LocatorService:
    """The app's :class:`LocatorService`."""
    return request.app.state.locator


def _error_doc(example: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry with a JSON example."""
    return {"description": description, "content": {"application/json": {"example": example}}}


_422 = _error_doc(
    {"error": "invalid parameter", "parameter": "lat", "reason": "Input should be a finite number"},
    "A parameter is invalid; `parameter` names it. The input is never echoed.",
)
_404_Q = _error_doc(
    {"error": "no match", "parameter": "q", "reason": "no place matches this query; ..."},
    "`q` did not geocode.",
)
_404_CITY = _error_doc(
    {"error": "unknown city", "parameter": "city", "reason": "...", "did_you_mean": ["苏州"]},
    "`city` is not a listed city nor the city of any outlet.",
)

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
_declared_cache: dict[int, frozenset[str]] = {}


def _declared_params(route: Any) -> frozenset[str]:
    """The query parameter names ``route`` declares (its own and its dependencies')."""
    key = id(route)
    names = _declared_cache.get(key)
    if names is None:
        found: set[str] = set()
        stack = [getattr(route, "dependant", None)]
        while stack:
            dep = stack.pop()
            if dep is None:
                continue
            found.update(field.alias for field in dep.query_params)
            stack.extend(dep.dependencies)
        names = _declared_cache[key] = frozenset(found)
    return names


def reject_unknown_params(request: Request) -> None:
    """422 for a query parameter the endpoint does not declare (``coordsys=gcj02``
    silently ignored would answer for the wrong place). A router-wide dependency: it
    runs before the endpoint's own validation. The name is echoed only when it is a
    plain identifier."""
    known = _declared_params(request.scope.get("route"))
    for name in request.query_params:
        if name in known:
            continue
        if not _SAFE_NAME.match(name):
            raise ApiError(422, "invalid parameter", reason="unknown parameter (name not shown)")
        close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
        raise ApiError(
            422,
            "invalid parameter",
            parameter=name,
            reason=f"unknown parameter {name!r}",
            extra={"did_you_mean": close},
        )


router = APIRouter(dependencies=[Depends(reject_unknown_params)])


@router.get(
    "/healthz",
    summary="Readiness and what is loaded",
    description="`200` with `ready: true` once the service is warm: the offline "
    "geocoder (with its index) and the coverage model are built in the background at "
    'start-up, which takes a few seconds. Until then `503` with `status: "warming"` and '
    "`ready: false` (requests are answered meanwhile, the first slower). A load "
    "balancer should send traffic once this answers 200.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"status": "ok", "ready": True, "version": "0.1.0", "outlets": 391}
                }
            }
        },
        503: {
            "description": "Still warming up.",
            "content": {
                "application/json": {
                    "example": {"status": "warming", "ready": False, "version": "0.1.0"}
                }
            },
        },
    },
)
async def healthz(request: Request) -> Response:
    """Readiness: status, version, outlet counts, whether this is the sample data
    (trivial work: stays on the event loop)."""
    svc = _service(request)
    ready = svc.ready
    return _json(
        {
            "status": "ok" if ready else "warming",
            "ready": ready,
            "version": __version__,
            "outlets": len(svc.records),
            "outlets_authorized": int(svc.authorized.sum()),
            "sample_data": svc.sample,
        },
        status_code=200 if ready else 503,
    )


#: Cross-parameter rules the OpenAPI parameter list cannot state, as a JSON Schema
#: over the query string (an object of parameter -> value); the server enforces them.
_Q_XOR_LATLON: dict[str, Any] = {
    "description": "Give q, or lat and lon together; not both.",
    "oneOf": [
        {"required": ["q"], "not": {"anyOf": [{"required": ["lat"]}, {"required": ["lon"]}]}},
        {"required": ["lat", "lon"], "not": {"required": ["q"]}},
    ],
}
_RADIUS_XOR_MINUTES: dict[str, Any] = {
    "description": "Give radius_km or drive_minutes (or neither: 50 km), not both.",
    "not": {"required": ["radius_km", "drive_minutes"]},
}

_NEAREST_EXAMPLE = {
    "origin": {
        "lat": 31.2304,
        "lon": 121.4737,
        "source": "coordinates",
        "ambiguous": False,
        "candidates": [],
    },
    "results": [
        {
            "outlet_id": "00042",
            "name": "ACME家电上海黄浦区服务中心",
            "kind": "service_center",
            "province": "上海市",
            "city": "上海",
            "district": "黄浦区",
            "address": "上海市黄浦区...",
            "phone": "000-555-0042",
            "hours": "周一至周日 09:00-18:00",
            "categories": ["refrigerator", "washer"],
            "authorized": True,
            "lat": 31.23,
            "lon": 121.48,
            "distance_km": 1.234,
            "bearing_deg": 87.5,
            "drive_minutes": 3.3,
            "meets_promise": True,
            "within_max": True,
        }
    ],
    "count": 1,
    "coord_sys": "wgs84",
    "note": "Drive times are estimates: ...",
}


@router.get(
    "/v1/nearest",
    summary="The nearest authorized outlets to a point or an address",
    description="Give `lat` and `lon` (in `coord_sys`, default WGS-84), **or** `q` "
    "(geocoded offline), not both. Results are sorted by WGS-84 geodesic distance and "
    "their coordinates are WGS-84; `drive_minutes` is an estimate. An ambiguous `q` "
    "(e.g. Suzhou: 苏州 or 宿州) is answered for the best candidate with "
    "`origin.ambiguous: true` and the candidates listed. Repeated `kind`: any of them; "
    "repeated `category`: all of them. Unknown parameters are a 422.",
    responses={
        200: {"content": {"application/json": {"example": _NEAREST_EXAMPLE}}},
        404: _404_Q,
        422: _422,
    },
    openapi_extra={"x-query-constraints": _Q_XOR_LATLON},
)
def nearest(
    request: Request,
    lat: Lat = None,
    lon: Lon = None,
    q: Q = None,
    k: K = 5,
    kind: Kind = None,
    category: Category = None,
    max_km: MaxKm = None,
    include_unauthorized: IncludeUnauthorized = False,
    coord_sys: CoordSys = "wgs84",
) -> Response:
    """The nearest matching outlets to ``lat``/``lon`` or to the geocoded ``q``.

    A sync endpoint: FastAPI runs it in its thread pool, so the index search (and
    geocoding) never blocks the event loop."""
    svc = _service(request)
    text = _clean_q(q)
    if text is not None and (lat is not None or lon is not None):
        raise _invalid("q", "give either q or lat and lon, not both")
    if text is None:
        if lat is None:
            raise _invalid("lat", "give lat and lon, or q")
        if lon is None:
            raise _invalid("lon", "give lon together with lat")
    kind_ = svc.check_kinds(kind)
    cat_ = svc.check_categories(category)
    if text is not None:
        place = svc.geocode(text)
        origin = {**place, "source": "geocoder", "geocoder": place.get("source")}
        olat, olon = place["lat"], place["lon"]
    else:
        assert lat is not None and lon is not None
        olat, olon = _wgs84_point(lat, lon, coord_sys)
        origin = {
            "lat": olat,
            "lon": olon,
            "source": "coordinates",
            "ambiguous": False,
            "candidates": [],
        }
        if coord_sys != "wgs84":
            origin["input"] = {"lat": float(lat), "lon": float(lon), "coord_sys": coord_sys}
    results = svc.nearest(
        olat,
        olon,
        k,
        max_km=max_km,
        kind=kind_,
        category=cat_,
        authorized_only=not include_unauthorized,
    )
    body: dict[str, Any] = {
        "origin": origin,
        "results": results,
        "count": len(results),
        "coord_sys": "wgs84",  # of every coordinate in the answer
    }
    if not results:
        body["message"] = "no outlet matches these filters"
    elif not results[0]["within_max"]:
        body["message"] = (
            f"no outlet within {max_km:g} km; the nearest is "
            f"{results[0]['distance_km']:.1f} km away"
        )
    body["note"] = svc.note()
    return _json(body)


@router.get(
    "/v1/geocode",
    summary="Geocode an address, district or city (offline)",
    description="The best match with its administrative fields. Ambiguous names "
    "(朝阳区, Taizhou, Suzhou) answer the best candidate with `ambiguous: true` and "
    "`candidates`.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "query": "Suzhou",
                        "lat": 31.3,
                        "lon": 120.6,
                        "address": "江苏省苏州市",
                        "province": "江苏省",
                        "city": "苏州市",
                        "district": None,
                        "adcode": "320500",
                        "level": "city",
                        "ambiguous": True,
                        "candidates": [{"name": "宿州市", "province": "安徽省"}],
                        "source": "offline",
                    }
                }
            }
        },
        404: _404_Q,
        422: _422,
    },
)
def geocode(request: Request, q: QRequired) -> Response:
    """The offline geocoder's answer for ``q`` (404 if nothing matches)."""
    svc = _service(request)
    text = _clean_q(q)
    assert text is not None
    return _json(svc.geocode(text))


@router.get(
    "/v1/outlets",
    summary="Outlets as GeoJSON",
    description="An RFC 7946 FeatureCollection of Point features (WGS-84 `[lon, lat]`). "
    "Authorized outlets only unless `include_unauthorized=true`. Repeated `kind`: any "
    "of them. `bbox` is read in `coord_sys`. Unknown parameters are a 422.",
    responses={
        200: {
            "content": {
                "application/geo+json": {
                    "example": {
                        "type": "FeatureCollection",
                        "features": [
                            {
                                "type": "Feature",
                                "id": "00001",
                                "geometry": {"type": "Point", "coordinates": [116.40, 39.93]},
                                "properties": {
                                    "outlet_id": "00001",
                                    "name": "ACME...",
                                    "kind": "service_center",
                                    "authorized": True,
                                },
                            }
                        ],
                    }
                }
            }
        },
        404: _404_CITY,
        422: _422,
    },
)
def outlets(
    request: Request,
    city: City = None,
    kind: Kind = None,
    bbox: BBox = None,
    include_unauthorized: IncludeUnauthorized = False,
    coord_sys: CoordSys = "wgs84",
) -> Response:
    """Outlets as an RFC 7946 FeatureCollection, filtered by city, kind and bbox."""
    svc = _service(request)
    mask = np.ones(len(svc.records), dtype=bool)
    if not include_unauthorized:
        mask &= svc.authorized
    if city is not None:
        mask &= svc.city_mask(svc.resolve_city(city))
    kinds = svc.check_kinds(kind)
    if kinds is not None:
        mask &= np.isin(svc.kind, kinds)
    if bbox is not None:
        minlon, minlat, maxlon, maxlat = _parse_bbox(bbox)
        if coord_sys != "wgs84":  # the corners; the offset varies little across a box
            minlat, minlon = _wgs84_point(minlat, minlon, coord_sys)
            maxlat, maxlon = _wgs84_point(maxlat, maxlon, coord_sys)
        inlat = (svc.lat >= minlat) & (svc.lat <= maxlat)
        if minlon <= maxlon:
            inlon = (svc.lon >= minlon) & (svc.lon <= maxlon)
        else:  # crosses the antimeridian (RFC 7946, section 5.2)
            inlon = (svc.lon >= minlon) | (svc.lon <= maxlon)
        mask &= inlat & inlon
    features = [svc.features[i] for i in np.flatnonzero(mask).tolist()]
    return StrictJSONResponse(
        {"type": "FeatureCollection", "features": features},
        media_type="application/geo+json",
    )


@router.get(
    "/v1/coverage",
    summary="Coverage figures and geodesic service areas",
    description="Population within `radius_km` (geodesic) of an authorized outlet, "
    "nationally, per listed city and per province; the largest gaps; listed cities "
    "without an authorized outlet; and the service areas (geodesic circles dissolved "
    "per `level`) as a GeoJSON FeatureCollection. Give `radius_km`, or `drive_minutes` "
    "for the radius an engineer covers in that time (an estimate), not both. Answers "
    "are cached per radius. Unknown parameters are a 422.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "radius_km": 50,
                        "level": "city",
                        "report": {
                            "population_total": 1000,
                            "population_covered": 800,
                            "share_covered": 0.8,
                            "cities": [],
                            "provinces": [],
                            "gaps": [],
                            "cities_without_outlet": [],
                        },
                        "service_areas": {"type": "FeatureCollection", "features": []},
                        "note": "...",
                    }
                }
            }
        },
        422: _422,
    },
    openapi_extra={"x-query-constraints": _RADIUS_XOR_MINUTES},
)
def coverage(
    request: Request,
    radius_km: RadiusKmOptional = None,
    drive_minutes: DriveMinutes = None,
    level: Level = "city",
    gaps: GapLimit = 20,
) -> Response:
    """Coverage figures and service areas (cached per radius)."""
    svc = _service(request)
    body = svc.coverage(radius_km, drive_minutes, level, int(gaps))
    return Response(body, media_type="application/json")


def _parse_layers(text: str) -> list[str]:
    """Validated, de-duplicated layer names from ``a,b,c`` (422 naming ``layers``)."""
    names = [x.strip().lower() for x in text.split(",") if x.strip()]
    bad = [x for x in names if x not in LAYERS]
    if bad or not names:
        raise _invalid("layers", f"choose one or more of {', '.join(LAYERS)}, comma-separated")
    return list(dict.fromkeys(names))


@router.get(
    "/embed/map",
    summary="The embeddable, self-contained map page",
    description="A complete HTML page (Leaflet inlined: no CDN) for an `<iframe>`. "
    "Optional `city` (zoom to one city), `q` (show the nearest outlets to a geocoded "
    "address) and `layers`. Sent with a Content-Security-Policy whose "
    "`frame-ancestors` lists the sites allowed to embed it.",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {"example": "<!DOCTYPE html>..."}}},
        404: _404_CITY,
        422: _422,
    },
)
def embed_map(
    request: Request,
    city: City = None,
    q: Q = None,
    layers: Layers = "outlets",
    tiles: Tiles = "osm",
    k: K = 5,
    radius_km: RadiusKm = 50.0,
) -> Response:
    """The self-contained map page with its security headers."""
    svc = _service(request)
    wanted = _parse_layers(layers)
    city_keys = svc.resolve_city(city) if city is not None else None
    text = _clean_q(q)
    place = svc.geocode(text) if text is not None else None
    tile_key = None if tiles == "none" else tiles
    key = (
        "embed",
        tuple(sorted(city_keys)) if city_keys else None,
        tuple(wanted),
        tile_key,
        float(radius_km),
        k,
        (place["lat"], place["lon"], text) if place else None,
    )
    html = svc.cached(
        key, lambda: _render_embed(svc, wanted, city_keys, place, tile_key, k, float(radius_km))
    )
    headers = {
        "Content-Security-Policy": _csp(tile_key, request.app.state.frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cache-Control": "public, max-age=300",
    }
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


def _render_embed(
    svc: LocatorService,
    wanted: list[str],
    city_keys: set[str] | None,
    place: dict[str, Any] | None,
    tiles: str | None,
    k: int,
    radius_km: float,
) -> str:
    """Render the map page for one (cache) key."""
    from . import embed

    mask = svc.authorized.copy()
    if city_keys:
        mask &= svc.city_mask(city_keys)
    shown = svc.outlets[mask]
    areas = gaps = cities = None
    if "coverage" in wanted:
        from .coverage import service_areas

        areas = service_areas(shown, radius_km, by="city").to_geojson() if len(shown) else None
    if "gaps" in wanted or "cities" in wanted:
        # Nationally, the largest gaps only (thousands of circles make a slow page).
        limit = None if city_keys else EMBED_MAX_GAPS
        report = svc.coverage_model().report(radius_km, gap_limit=limit)
        if "gaps" in wanted:
            gaps = report.gaps_frame()
            if city_keys:
                gaps = gaps[gaps["city"].map(_norm_city).isin(city_keys)]
        if "cities" in wanted:
            frame = report.cities_frame()
            coords = svc.cities[["adcode", "lat", "lon"]].astype({"adcode": str})
            cities = frame.astype({"adcode": str}).merge(coords, on="adcode", how="inner")
            cities = cities.rename(columns={"name": "city"})
            if city_keys:
                cities = cities[cities["city"].map(_norm_city).isin(city_keys)]
    origin = results = None
    notes = [SAMPLE_NOTE] if svc.sample else []
    label = ""
    if place is not None:
        origin = (place["lat"], place["lon"])
        rows = svc.nearest(place["lat"], place["lon"], k)
        for row in rows:  # the map builders take categories as the data file has them
            row["categories"] = ";".join(row["categories"])
        results = pd.DataFrame(rows) if rows else None
        label = place.get("query") or ""
        if place.get("ambiguous"):
            notes.append("This place name is ambiguous; the best match is shown.")
    return embed.embed_page(
        shown if "outlets" in wanted else None,
        tiles=tiles,
        service_areas=areas,
        gaps=gaps,
        cities=cities,
        origin=origin,
        results=results,
        origin_label=label,
        note=" ".join(notes) or None,
    )


# HEAD for monitors and link checkers, kept out of the OpenAPI document.
router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/embed/map", embed_map, methods=["HEAD"], include_in_schema=False)


# --------------------------------------------------------------------------- the app


async def _on_api_error(request: Request, exc: Exception) -> Response:
    """An :class:`ApiError` as its JSON body and status."""
    assert isinstance(exc, ApiError)
    return _json(exc.body, status_code=exc.status, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    """422 naming the parameter; never echoes the input (it may hold NaN or a payload)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        # ("query", "kind", 1) for the second kind: name the parameter, not the index
        names = [str(x) for x in loc[1:] if isinstance(x, str)]
        param = names[0] if names else (str(loc[-1]) if loc else None)
        reason = str(err.get("msg", "invalid value"))
        if err.get("type") == "string_pattern_mismatch":
            pattern = (err.get("ctx") or {}).get("pattern")
            reason = _PATTERN_REASONS.get(str(pattern), "has the wrong format")
        problems.append({"parameter": param, "reason": reason})
    first = problems[0] if problems else {"parameter": None, "reason": "invalid request"}
    body: dict[str, Any] = {"error": "invalid parameter", **first}
    if len(problems) > 1:
        body["errors"] = problems
    return _json(body, status_code=422)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    """404/405 and other HTTP errors as ``{"error": ...}`` JSON."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    return _json({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)


async def _on_locator_error(request: Request, exc: Exception) -> Response:
    """A library error that escaped the endpoint's own checks: a bad request, not a crash."""
    log.warning("locator error in %s: %s", request.url.path, exc)
    return _json({"error": "invalid request", "reason": redact(exc)[:300]}, status_code=422)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback; the client gets a JSON 500 without details."""
    log.exception("unexpected error in %s", request.url.path)
    return _json({"error": "internal error"}, status_code=500)


def _load(outlets: pd.DataFrame | str | os.PathLike[str] | None) -> tuple[pd.DataFrame, bool]:
    """The outlets frame and whether it is the bundled sample."""
    from .data import load_outlets

    if outlets is None:
        return load_outlets(), True
    if isinstance(outlets, pd.DataFrame):
        return outlets, False
    if isinstance(outlets, str | Path | os.PathLike):
        return load_outlets(outlets), False
    raise ConfigurationError(
        f"outlets must be a DataFrame, a path or None, got {type(outlets).__name__}"
    )


def create_app(
    outlets: pd.DataFrame | str | os.PathLike[str] | None = None,
    *,
    cors_origins: Iterable[str] = (),
    frame_ancestors: Iterable[str] = ("'self'",),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    geocoder: Geocoder | Callable[[], Geocoder] | None = None,
    places: pd.DataFrame | None = None,
    cities: pd.DataFrame | None = None,
    drive_model: DriveTimeModel | None = None,
) -> FastAPI:
    """The locator HTTP API as a FastAPI app.

    ``outlets``: a frame from :func:`locator.data.load_outlets`, a path to load, or
    ``None`` for the bundled synthetic sample. ``cors_origins``: origins allowed to call
    the API from a browser (``https://www.example.com``; default none, i.e. no CORS
    headers). ``frame_ancestors``: who may embed ``/embed/map`` in a frame (CSP
    ``frame-ancestors``; default ``'self'``). ``max_body_bytes``: request bodies above
    this get 413. ``geocoder``: a geopy-style geocoder or a factory (default: the
    offline geocoder, built on first use). Raises
    :class:`~locator.errors.ConfigurationError` for a bad setting and
    :class:`~locator.errors.DataError` for bad data.
    """
    origins = _check_origins(cors_origins)
    ancestors = _check_frame_ancestors(frame_ancestors)
    if (
        isinstance(max_body_bytes, bool)
        or not isinstance(max_body_bytes, int)
        or max_body_bytes < 0
    ):
        raise ConfigurationError(
            f"max_body_bytes must be a non-negative integer, got {max_body_bytes!r}"
        )
    frame, sample = _load(outlets)
    service = LocatorService(
        frame,
        places=places,
        cities=cities,
        geocoder=geocoder,
        drive_model=drive_model,
        sample=sample,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Warm in the background: the port opens at once and /healthz says 503
        # "warming" until the geocoder (with its index) and coverage model are built;
        # requests meanwhile wait for the one build under the service's locks.
        threading.Thread(target=service.warm, name="locator-warm", daemon=True).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="locator API",
        version=__version__,
        description=(
            "Nearest authorized after-sales outlets, offline geocoding, outlets as GeoJSON, "
            "coverage figures and an embeddable map page. Distances are WGS-84 geodesics; "
            "drive times are estimates. " + (SAMPLE_NOTE if sample else "")
        ),
        default_response_class=StrictJSONResponse,
    )
    app.state.locator = service
    app.state.frame_ancestors = ancestors
    app.state.cors_origins = origins
    app.include_router(router)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(LocatorError, _on_locator_error)
    app.add_exception_handler(Exception, _on_unexpected)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET"],
            allow_headers=[],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    return app


def _env_list(name: str) -> list[str]:
    """A space/comma separated environment variable as a list."""
    return [x for x in re.split(r"[\s,]+", os.environ.get(name, "")) if x]


def create_app_from_env() -> FastAPI:
    """:func:`create_app` configured from the environment (for ``uvicorn --factory``
    and ``locator serve --workers N``): ``LOCATOR_OUTLETS`` (path),
    ``LOCATOR_CORS_ORIGINS`` and ``LOCATOR_FRAME_ANCESTORS`` (space/comma separated),
    ``LOCATOR_MAX_BODY_BYTES``. Also installs the secret-redacting log filter on
    uvicorn's loggers (this runs in every worker process)."""
    install_log_redaction(("geopy", "locator", "uvicorn", "uvicorn.error", "uvicorn.access"))
    kwargs: dict[str, Any] = {"cors_origins": _env_list("LOCATOR_CORS_ORIGINS")}
    if os.environ.get("LOCATOR_FRAME_ANCESTORS"):
        kwargs["frame_ancestors"] = _env_list("LOCATOR_FRAME_ANCESTORS")
    if os.environ.get("LOCATOR_MAX_BODY_BYTES"):
        try:
            kwargs["max_body_bytes"] = int(os.environ["LOCATOR_MAX_BODY_BYTES"])
        except ValueError as err:
            raise ConfigurationError("LOCATOR_MAX_BODY_BYTES must be an integer") from err
    return create_app(os.environ.get("LOCATOR_OUTLETS") or None, **kwargs)


_default_app: FastAPI | None = None
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    """``locator.api.app``: the default app (bundled data, env settings), built on first
    access so that importing this module stays cheap (``uvicorn locator.api:app``)."""
    global _default_app
    if name == "app":
        with _default_lock:
            if _default_app is None:
                _default_app = create_app_from_env()
        return _default_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
