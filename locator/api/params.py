"""Query parameter types of the HTTP API (validation and OpenAPI descriptions with
examples) and the OpenAPI response examples of its endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import StringConstraints

from ..pages import LAYERS
from .service import MAX_API_RADIUS_KM, MAX_K, MAX_Q_LENGTH

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
OpenNow = Annotated[
    bool,
    Query(
        description="Only outlets open at `at` (default now, Asia/Shanghai; Chinese "
        "public holidays and make-up workdays counted). Outlets whose hours are unknown "
        "are never hidden: they are listed after the open ones, labelled.",
        examples=[True],
    ),
]
At = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        description="The moment the opening hours are answered for: ISO 8601 "
        "(`2026-10-01T10:00+08:00`; without an offset, Asia/Shanghai time). Default: now.",
        examples=["2026-10-01T10:00:00+08:00"],
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
By = Annotated[
    Literal["city", "district"],
    Query(
        description="Breakdown of the figures: `city` (listed cities and provinces) or "
        "`district` (also every district, and `districts`: the district polygons with "
        "their figures as an RFC 7946 FeatureCollection, simplified to ~2 km for the "
        "web). A district with no demand data has `has_data: false` and null shares: "
        "no data, not 0 %.",
        examples=["district"],
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
            "hours": "Mo-Su 09:00-18:00; PH off",
            "categories": ["refrigerator", "washer"],
            "authorized": True,
            "lat": 31.23,
            "lon": 121.48,
            "distance_km": 1.234,
            "bearing_deg": 87.5,
            "drive_minutes": 3.3,
            "meets_promise": True,
            "within_max": True,
            "open_now": True,
            "opens_at": None,
            "closes_at": "2026-12-02T18:00:00+08:00",
            "hours_label": "营业中 · 18:00 打烊 / open until 18:00",
            "holidays_known": True,
            "directions": {
                "amap": "https://uri.amap.com/navigation?from=...&to=...&mode=car",
                "baidu": "https://api.map.baidu.com/direction?origin=...&destination=...",
                "osm": "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&route=...",
            },
            "tel": ["tel:0005550042"],
        }
    ],
    "count": 1,
    "coord_sys": "wgs84",
    "note": "Drive times are estimates: ...",
}
