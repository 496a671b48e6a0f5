"""The HTTP API's router: every endpoint, and the router-wide check that refuses
unknown query parameters. The work is done by :class:`~.service.LocatorService`."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from .. import __version__, pages
from ..errors import ConfigurationError
from ..hours import as_local
from .params import (
    _404_CITY,
    _404_Q,
    _NEAREST_EXAMPLE,
    _Q_XOR_LATLON,
    _RADIUS_XOR_MINUTES,
    At,
    BBox,
    By,
    Category,
    City,
    CoordSys,
    DriveMinutes,
    GapLimit,
    IncludeUnauthorized,
    K,
    Kind,
    Lat,
    Layers,
    Level,
    Lon,
    MaxKm,
    OpenNow,
    Q,
    QRequired,
    RadiusKm,
    RadiusKmOptional,
    Tiles,
    _422,
)
from .security import _csp
from .service import (
    MAX_API_RADIUS_KM,
    ApiError,
    LocatorService,
    _clean_q,
    _invalid,
    _parse_bbox,
    _wgs84_point,
    dumps,
)


class StrictJSONResponse(JSONResponse):
    """A JSON response that is always strict JSON: non-finite floats become ``null``."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def _json(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None):
    """A :class:`StrictJSONResponse`."""
    return StrictJSONResponse(content, status_code=status_code, headers=dict(headers or {}))


def _service(request: Request) -> LocatorService:
    """The app's :class:`LocatorService`."""
    return request.app.state.locator


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


async def reject_unknown_params(request: Request) -> None:
    """422 for a query parameter the endpoint does not declare (``coordsys=gcj02``
    silently ignored would answer for the wrong place). A router-wide dependency: it
    runs before the endpoint's own validation. The name is echoed only when it is a
    plain identifier. Async (microseconds of work): a sync dependency would cost a
    thread-pool hop on every request."""
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
                    "example": {
                        "status": "ok",
                        "ready": True,
                        "version": __version__,
                        "outlets": 391,
                    }
                }
            }
        },
        503: {
            "description": "Still warming up.",
            "content": {
                "application/json": {
                    "example": {"status": "warming", "ready": False, "version": __version__}
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


def _moment(at: str | None) -> dt.datetime:
    """``at`` (ISO 8601) in Asia/Shanghai, or now; a 422 naming ``at`` otherwise."""
    if at is None:
        return as_local(None)
    try:
        parsed = dt.datetime.fromisoformat(at.strip())
    except ValueError:
        raise _invalid("at", "not an ISO 8601 date and time, e.g. 2026-10-01T10:00+08:00") from None
    return as_local(parsed)


@router.get(
    "/v1/nearest",
    summary="The nearest authorized outlets to a point or an address",
    description="Give `lat` and `lon` (in `coord_sys`, default WGS-84), **or** `q` "
    "(geocoded offline), not both. Results are sorted by WGS-84 geodesic distance and "
    "their coordinates are WGS-84; `drive_minutes` is an estimate. An ambiguous `q` "
    "(e.g. Suzhou: 苏州 or 宿州) is answered for the best candidate with "
    "`origin.ambiguous: true` and the candidates listed. Repeated `kind`: any of them; "
    "repeated `category`: all of them. Every result has `open_now`, `opens_at`/"
    "`closes_at` (the next change, ISO 8601 +08:00) and `hours_label` for `at` (default "
    "now, Asia/Shanghai, Chinese holidays and make-up workdays counted), `directions` "
    "(AMap GCJ-02, Baidu BD-09 and OpenStreetMap routes from the origin) and `tel` links. "
    "`open_now=true` drops the outlets closed at that moment; those with unknown hours "
    "are listed after the open ones. Unknown parameters are a 422.",
    responses={
        200: {"content": {"application/json": {"example": _NEAREST_EXAMPLE}}},
        404: _404_Q,
        422: _422,
    },
    openapi_extra={"x-query-constraints": _Q_XOR_LATLON},
)
async def nearest(
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
    open_now: OpenNow = False,
    at: At = None,
) -> Response:
    """The nearest matching outlets to ``lat``/``lon`` or to the geocoded ``q``.

    Geocoding a new query runs in the thread pool (it can take milliseconds, or
    seconds with an online geocoder), so it never blocks the event loop; a remembered
    query does not. The search itself runs on the loop for a network of up to
    :data:`~locator.api.service.INLINE_NEAREST_MAX_OUTLETS` outlets (well under a
    millisecond: a thread-pool hop would cost more than the work, and halve the
    throughput), in the thread pool for a larger one."""
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
    moment = _moment(at)
    if text is not None:
        place = svc.geocode_cached(text)
        if place is None:
            place = await run_in_threadpool(svc.geocode, text)
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
    search = functools.partial(
        svc.nearest,
        olat,
        olon,
        k,
        max_km=max_km,
        kind=kind_,
        category=cat_,
        authorized_only=not include_unauthorized,
        open_at=moment if open_now else None,
        at=moment,
    )
    results = search() if svc.inline_nearest else await run_in_threadpool(search)
    body: dict[str, Any] = {
        "origin": origin,
        "results": results,
        "count": len(results),
        "coord_sys": "wgs84",  # of every coordinate in the answer
    }
    body["at"] = moment.isoformat()
    if not results:
        body["message"] = (
            "no outlet matching these filters is open at this time"
            if open_now
            else "no outlet matches these filters"
        )
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
    "`candidates`. A former division (杭州下城区) answers today's successor with "
    '`renamed_from: {"name": "下城区", "successor": "拱墅区", "year": 2021}` (else null).',
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
    "for the radius an engineer covers in that time (an estimate), not both. "
    "`by=district` adds every district (figures, and their polygons as GeoJSON). Answers "
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
    by: By = "city",
) -> Response:
    """Coverage figures and service areas (cached per radius)."""
    svc = _service(request)
    body = svc.coverage(radius_km, drive_minutes, level, int(gaps), by=by)
    return Response(body, media_type="application/json")


def _parse_layers(text: str) -> list[str]:
    """Validated, de-duplicated layer names from ``a,b,c`` (422 naming ``layers``)."""
    try:
        return pages.parse_layers(text)
    except ConfigurationError:
        raise _invalid(
            "layers", f"choose one or more of {', '.join(pages.LAYERS)}, comma-separated"
        ) from None


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
    drive_minutes: DriveMinutes = None,
) -> Response:
    """The self-contained map page with its security headers."""
    svc = _service(request)
    if drive_minutes is not None:  # the coverage/gaps layers by drive time (an estimate)
        if "radius_km" in request.query_params:
            raise _invalid("drive_minutes", "give radius_km or drive_minutes, not both")
        radius_km = svc.drive_model.reach_km(float(drive_minutes))
        if not 0 < radius_km <= MAX_API_RADIUS_KM:
            raise _invalid("drive_minutes", f"reaches {radius_km:.0f} km, outside the limits")
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
        "Content-Security-Policy": _csp(
            tile_key, request.app.state.frame_ancestors, connect_self=True
        ),
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
    """Render the map page for one (cache) key (:func:`locator.pages.network_page`)."""
    origin = results = None
    notes: list[str] = []
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
        from ..geocode import renamed_note

        former = renamed_note(place.get("renamed_from"))
        if former:
            notes.append(f"Former name: {former}.")
    return pages.network_page(
        svc.outlets[svc.authorized],
        layers=wanted,
        city=city_keys,
        radius_km=radius_km,
        coverage_model=svc.coverage_model,
        listed_cities=svc.cities,
        tiles=tiles,
        origin=origin,
        results=results,
        origin_label=label,
        sample=svc.sample,
        notes=notes,
        search=True,
        search_api=True,
        k=k,
    )


# HEAD for monitors and link checkers, kept out of the OpenAPI document.
router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/embed/map", embed_map, methods=["HEAD"], include_in_schema=False)
