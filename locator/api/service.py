"""The locator service behind the HTTP API: no FastAPI here.

:class:`LocatorService` holds everything the endpoints share, built once per app
(the index, JSON-ready records and GeoJSON features, the city aliases, the geocoder
and the coverage model, an LRU cache of rendered answers). :class:`ApiError` is an
error answered as JSON; :func:`dumps` writes strict JSON.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..crs import to_wgs84
from ..data import normalize_category, normalize_kind
from ..directions import Destination, project, tel_links
from ..drive import DriveTimeModel
from ..errors import ConfigurationError, GeocodeError, GeocoderServiceError, LocatorError
from ..geocoders.redact import install_log_redaction, redact
from ..hours import as_local, hours_status
from ..index import CATEGORIES, KINDS, OutletIndex
from ..network import OUTLET_COLUMNS, OUTLET_DTYPES, outlets_frame
from ..outputs import jsonable
from ..pages import SAMPLE_NOTE
from ..pages import norm_city as _norm_city

# One logger for the whole package, as before the split into modules.
log = logging.getLogger("locator.api")
# Messages and tracebacks of library errors can carry a geocoding service's key.
install_log_redaction()

#: Largest ``k`` accepted by ``/v1/nearest`` and ``/embed/map``.
MAX_K = 50
#: Longest ``q`` accepted (characters).
MAX_Q_LENGTH = 500
#: Largest coverage radius the API computes (km); larger is a 422 (the library allows
#: up to 20,000 km, but a service area that size is useless and costly to draw).
MAX_API_RADIUS_KM = 1000.0
#: Uncached map pages / coverage answers computed at the same time (more get 503).
MAX_HEAVY = 2
#: Rendered coverage answers / embed pages kept (LRU).
_CACHE_SIZE = 32
#: Geocoded queries remembered (answers only; a miss or an error is asked again).
GEOCODE_CACHE_SIZE = 4096
#: Up to this many outlets, a lat/lon ``/v1/nearest`` is answered on the event loop
#: (the exact search and the records take well under a millisecond, less than a
#: thread-pool hop costs); a larger network's searches go to the thread pool.
INLINE_NEAREST_MAX_OUTLETS = 50_000
#: The outlet's text fields in an answer, in the contract's column order (categories,
#: coordinates and the flag are added apart by _record).
_OUTLET_FIELDS = tuple(
    c
    for c in OUTLET_COLUMNS
    if OUTLET_DTYPES[c] == "object" and c not in ("categories", "coord_sys")
)


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


class Geocoder(Protocol):
    """What the API needs from a geocoder (geopy's interface)."""

    def geocode(self, query: str) -> Any: ...


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
        closed: pd.DataFrame | None = None,
    ) -> None:
        from ..data import load_cities

        # The outlet contract decides every flag and coordinate (the same answer as
        # the loader, the index, coverage and the app): see locator.network.
        self.outlets = outlets_frame(outlets).reset_index(drop=True)
        self.sample = sample
        #: Closed outlets (from the store): ``/v1/verify`` answers a match on one as closed.
        self.closed = closed
        self.drive_model = drive_model or DriveTimeModel()
        # One query point per request: a single-threaded k-d tree query is fastest.
        self.index = OutletIndex(self.outlets, drive_model=self.drive_model, workers=1)
        self._places = places
        self.cities = load_cities() if cities is None else cities.reset_index(drop=True)
        self.lat = pd.to_numeric(self.outlets["lat"]).to_numpy(np.float64)
        self.lon = pd.to_numeric(self.outlets["lon"]).to_numpy(np.float64)
        n = len(self.outlets)
        self.authorized = self.outlets["authorized"].to_numpy(dtype=bool)
        self.records = [
            self._record(row, bool(auth))
            for row, auth in zip(self.outlets.to_dict("records"), self.authorized, strict=True)
        ]
        # Per outlet, once: the outlet's half of the direction links (GCJ-02 / BD-09,
        # from the rounded lat/lon each answer shows) and its tel: links.
        ends = (
            project([r["lat"] for r in self.records], [r["lon"] for r in self.records]) if n else []
        )
        self._dest = [
            Destination(e, rec.get("name") or "") for e, rec in zip(ends, self.records, strict=True)
        ]
        self._tel = [tel_links(rec.get("phone")) for rec in self.records]
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
        self._geocoded: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._geocoded_lock = threading.Lock()
        #: Whether the API may run a nearest search on its event loop (see
        #: :data:`INLINE_NEAREST_MAX_OUTLETS`).
        self.inline_nearest = n <= INLINE_NEAREST_MAX_OUTLETS

    def successor(
        self, outlets: pd.DataFrame | Any, *, closed: pd.DataFrame | None = None
    ) -> LocatorService:
        """A service for a changed network (the store's live refresh): what does not
        depend on the outlets (the geocoder once built, places, cities, the drive model)
        is shared, the rest is built anew. Ready at once (the geocoder is warm; the
        coverage model is built on first use)."""
        from ..network import Network

        frame = outlets.frame if isinstance(outlets, Network) else outlets
        geocoder = self._geocoder if self._geocoder is not None else self._geocoder_arg
        new = LocatorService(
            frame,
            places=self._places,
            cities=self.cities,
            geocoder=geocoder,
            drive_model=self.drive_model,
            sample=self.sample,
            closed=closed,
        )
        new._ready.set()
        return new

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
                        from ..geocode import OfflineGeocoder

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

    def geocode_cached(self, q: str) -> dict[str, Any] | None:
        """The remembered answer for ``q`` (a copy), or None: never calls the geocoder."""
        with self._geocoded_lock:
            hit = self._geocoded.get(q)
            if hit is None:
                return None
            self._geocoded.move_to_end(q)
        return copy.deepcopy(hit)

    def geocode(self, q: str, parameter: str = "q") -> dict[str, Any]:
        """The best match for ``q`` as a JSON-ready dict; 404 if nothing matches.

        Answers are remembered (LRU, :data:`GEOCODE_CACHE_SIZE` queries; the geocoder
        is built once and does not change while the service runs), so a repeated
        query (a city name) costs a dictionary look-up."""
        hit = self.geocode_cached(q)
        if hit is not None:
            return hit
        out = self._geocode(q, parameter)
        with self._geocoded_lock:
            self._geocoded[q] = copy.deepcopy(out)
            while len(self._geocoded) > GEOCODE_CACHE_SIZE:
                self._geocoded.popitem(last=False)
        return out

    def _geocode(self, q: str, parameter: str) -> dict[str, Any]:
        geocoder = self.geocoder()
        try:
            loc = geocoder.geocode(q)
        except GeocodeError as err:
            raise _invalid(parameter, redact(err)[:200]) from None
        except (GeocoderServiceError, Exception) as err:  # a geocoder bug must not be a 500
            log.exception("geocoder failed for a query")  # redacted by the log filter
            raise ApiError(503, "geocoding failed", reason=type(err).__name__) from None
        if loc is None:
            why = getattr(geocoder, "no_match_reason", None)  # offline: a street alone...
            raise ApiError(
                404,
                "no match",
                parameter=parameter,
                reason=(why(q) if why is not None else "no place matches this query")
                + "; or give lat and lon",
            )
        from ..geocode import origin_from_location

        try:
            out = origin_from_location(loc, q)
        except GeocoderServiceError as err:
            raise ApiError(503, "geocoding failed", reason=str(err)) from err
        out["candidates"] = jsonable(out["candidates"][:20])
        raw = getattr(loc, "raw", None)
        raw = raw if isinstance(raw, Mapping) else {}
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
        open_at: dt.datetime | None = None,
        at: dt.datetime | None = None,
        origin_name: str = "",
    ) -> list[dict[str, Any]]:
        """Result records, nearest first: :meth:`OutletIndex.nearest_arrays` (the rows,
        order and values of :meth:`OutletIndex.nearest`) as JSON-ready records, rounded
        to metres, 0.1 degree and 0.1 minute. ``kind``: any of these kinds;
        ``category``: repairing all of these categories (the index does the filtering).

        With ``max_km`` and nothing inside it, the single nearest is returned with
        ``within_max: false``.

        ``open_at`` keeps the outlets open then (unknown hours listed after, see
        :mod:`locator.index`); every record carries ``open_now``, ``opens_at``,
        ``closes_at``, ``hours_label`` and ``holidays_known`` at ``at`` (default
        ``open_at``, else now), ``directions`` (AMap, Baidu, OSM links from the origin,
        see :mod:`locator.directions`) and ``tel`` links.
        """
        found = self.index.nearest_arrays(
            lat,
            lon,
            k,
            max_km=max_km,
            kinds=kind,
            categories=category,
            authorized_only=authorized_only,
            open_at=open_at,
        )
        moment = as_local(at if at is not None else open_at)
        start = project(lat, lon)[0] if found.positions.size else None
        out = []
        for row, km, bearing, minutes, meets, within in zip(
            found.positions.tolist(),
            found.distance_km.tolist(),
            found.bearing_deg.tolist(),
            found.drive_minutes.tolist(),
            found.meets_promise.tolist(),
            found.within_max.tolist(),
            strict=True,
        ):
            rec = dict(self.records[row])  # the index's rows are self.outlets' rows
            rec["distance_km"] = round(km, 3)
            rec["bearing_deg"] = round(bearing, 1)
            rec["drive_minutes"] = round(minutes, 1)
            rec["meets_promise"] = meets
            rec["within_max"] = within
            rec.update(hours_status(rec.get("hours"), moment).as_dict())
            rec["directions"] = self._dest[row].links(start, origin_name)
            rec["tel"] = list(self._tel[row])
            out.append(rec)
        return out

    # ------------------------------------------------------------ coverage

    def coverage_model(self) -> Any:
        """The radius-independent :class:`~locator.coverage.CoverageModel`, built once."""
        if self._coverage is None:
            with self._coverage_lock:
                if self._coverage is None:
                    from ..coverage import CoverageModel
                    from ..data import load_places

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
        by: str = "city",
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
            from ..coverage import service_areas

            levels = ("city", "province", "district") if by == "district" else ("city",)
            if drive_minutes is not None:
                report = model.report(drive_minutes=drive_minutes, gap_limit=gap_limit, by=levels)
            else:
                report = model.report(radius, gap_limit=gap_limit, by=levels)
            areas = (
                {"type": "FeatureCollection", "features": []}
                if level == "none"
                else service_areas(self.outlets, radius, by=level).to_geojson()
            )
            body = {
                "radius_km": radius,
                "drive_minutes": drive_minutes,
                "level": level,
                "by": by,
                "report": report.to_dict(),
                "service_areas": areas,
                "note": self.note(),
            }
            if by == "district":
                from ..coverage.districts import CHOROPLETH_SIMPLIFY_DEG, districts_geojson

                body["districts"] = districts_geojson(
                    report.districts,
                    radius_km=radius,
                    drive_minutes=drive_minutes,
                    decimals=3,
                    simplify_deg=CHOROPLETH_SIMPLIFY_DEG,
                )
            return dumps(body)

        return self.cached(("coverage", radius, drive_minutes, level, gap_limit, by), make)

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
