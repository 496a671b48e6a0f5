"""WGS-84 <-> GCJ-02 <-> BD-09, vectorized over numpy arrays.

* **WGS-84**: GPS, OpenStreetMap, GeoNames. Everything this package hands out.
* **GCJ-02**: the offset ("Mars coordinates") mandated in mainland China and used by
  AMap/Gaode and Tencent. WGS-84 -> GCJ-02 is a closed formula; the inverse has no
  closed form, so :func:`gcj02_to_wgs84` iterates the forward formula (fixed point)
  until the residual is below ``tol`` degrees (default 1e-9°, about 0.1 mm; the
  contract is < 1e-7°, about 1 cm).
* **BD-09**: Baidu's further offset of GCJ-02. The usual closed-form inverse is only
  good to ~1e-6°; we refine it by the same iteration.

Outside mainland China (and Hong Kong and Macau, where Chinese providers apply the
offset too) GCJ-02 equals WGS-84. "Inside" (:func:`in_china`) is decided by the district
boundaries (:mod:`locator.boundaries`): a point in a district of mainland China, Hong
Kong or Macau, or within ``COAST_BUFFER_DEG`` (0.03 degrees, ~3 km) of one, so harbours,
reefs and the South China Sea islands (三沙) get the offset, and so do the far north
(黑河) and every land border. Taiwan stays outside, as Chinese providers leave it
unshifted; Kinmen (金门县, in the boundary set as part of Fujian) is inside. Within the
buffer beyond a land border (a few km into Vietnam or Russia) the offset is applied
too: near a border the answer is a few hundred metres off either way.

The conversions (``wgs84_to_gcj02`` ..., :func:`to_wgs84`, :func:`from_wgs84`,
:func:`convert`, :func:`in_china`) take and return ``(lon, lat)`` array pairs *or*
scalars, in degrees, in that order (x, y) like GeoJSON and pyproj with ``always_xy``.
The two sphere helpers, :func:`unit_vectors` and :func:`great_circle_km`, take
**latitude first** (``lat, lon``), like the data frames' ``lat``/``lon`` columns and
scipy/scikit-learn's haversine convention.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

CoordSys = Literal["wgs84", "gcj02", "bd09"]
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the GCJ-02 offset applies: in or within ~3 km of a district of mainland
    China, Hong Kong or Macau, not in Taiwan (see :func:`locator.boundaries.near_china`).

    Vectorised: a bounding box rejects far points, one prepared polygon (the districts'
    union grown by the buffer) decides the rest, ~0.5 µs a point; the polygons load
    once, on first use (~1 s).
    """
    from .boundaries import near_china

    return near_china(lon, lat)


def _offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 point (no region test)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    lo, la = np.broadcast_arrays(lo, la)
    return lo.astype(float, copy=True), la.astype(float, copy=True)


def _out(lon: NDArray, lat: NDArray, scalar: bool) -> tuple:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _is_scalar(lon: ArrayLike, lat: ArrayLike) -> bool:
    return np.ndim(lon) == 0 and np.ndim(lat) == 0


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple:
    """WGS-84 -> GCJ-02 (closed formula). Points outside China are returned unchanged."""
    scalar = _is_scalar(lon, lat)
    lo, la = _as_arrays(lon, lat)
    inside = in_china(lo, la)
    dlon, dlat = _offset(lo, la)
    lo = np.where(inside, lo + dlon, lo)
    la = np.where(inside, la + dlat, la)
    return _out(lo, la, scalar)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-9, max_iter: int = 30
) -> tuple:
    """GCJ-02 -> WGS-84 by fixed-point iteration of the forward formula.

    Each step moves the estimate by the residual ``gcj - wgs84_to_gcj02(estimate)``;
    the offset's derivative is tiny (~1e-5), so the error shrinks by that factor per
    step and 3-4 steps reach 1e-9 degrees.
    """
    scalar = _is_scalar(lon, lat)
    glo, gla = _as_arrays(lon, lat)
    wlo, wla = glo.copy(), gla.copy()
    for _ in range(max_iter):
        dlon, dlat = _offset(wlo, wla)
        rlo = glo - (wlo + dlon)
        rla = gla - (wla + dlat)
        wlo, wla = wlo + rlo, wla + rla
        if not np.any(np.maximum(np.abs(rlo), np.abs(rla)) > tol):  # NaN: stop, NaN out
            break
    # Near the region border (a band ~0.01 degrees wide) the forward map is not
    # one-to-one: a GCJ point outside the region is its own preimage (the identity is
    # always consistent there), and may have a second, offset one inside. We keep the
    # identity outside and the iterated answer inside; far from borders the inverse
    # is exact (tested to < 1e-7 degrees).
    inside = in_china(glo, gla)
    wlo = np.where(inside, wlo, glo)
    wla = np.where(inside, wla, gla)
    return _out(wlo, wla, scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple:
    """GCJ-02 -> BD-09 (Baidu's closed formula)."""
    scalar = _is_scalar(lon, lat)
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-9, max_iter: int = 30
) -> tuple:
    """BD-09 -> GCJ-02: the closed-form approximation, refined by iteration."""
    scalar = _is_scalar(lon, lat)
    blo, bla = _as_arrays(lon, lat)
    x = blo - 0.0065
    y = bla - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glo, gla = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        flo, fla = gcj02_to_bd09(glo, gla)
        rlo, rla = blo - flo, bla - fla
        glo, gla = glo + rlo, gla + rla
        if not np.any(np.maximum(np.abs(rlo), np.abs(rla)) > tol):
            break
    return _out(glo, gla, scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple:
    """WGS-84 -> BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple:
    """BD-09 -> WGS-84 (via GCJ-02, both steps iterated)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points (degrees, **latitude first**) as unit vectors on the sphere, shape (n, 3).

    Chord length between two of them orders points exactly like great-circle distance,
    which is what the KD-tree prefilters across the package rely on (final distances
    are ellipsoidal geodesics, see :mod:`locator.index`).
    """
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    c = np.cos(la)
    return np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


#: Mean Earth radius (IUGG), for spherical approximations only.
MEAN_RADIUS_KM = 6371.0088


def great_circle_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> Any:
    """Haversine distance in km on the mean sphere between (``lat1``, ``lon1``) and
    (``lat2``, ``lon2``), degrees, **latitude first** (broadcasts; scalars in, float out).

    Within ~0.5% of the WGS-84 geodesic: for thresholds and prefilters (data build,
    gazetteer heuristics), never for distances shown to users.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    km = 2 * MEAN_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return float(km) if np.ndim(km) == 0 else km


_TO_WGS = {
    "wgs84": lambda lo, la: _out(*_as_arrays(lo, la), _is_scalar(lo, la)),
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS = {
    "wgs84": lambda lo, la: _out(*_as_arrays(lo, la), _is_scalar(lo, la)),
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def normalize_coord_sys(name: str) -> str:
    """Canonical name for a coordinate-system label (``WGS-84`` -> ``wgs84``)."""
    key = str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    aliases = {
        "wgs84": "wgs84",
        "wgs": "wgs84",
        "gps": "wgs84",
        "epsg4326": "wgs84",
        "gcj02": "gcj02",
        "gcj": "gcj02",
        "amap": "gcj02",
        "gaode": "gcj02",
        "mars": "gcj02",
        "bd09": "bd09",
        "bd09ll": "bd09",
        "baidu": "bd09",
    }
    if key not in aliases:
        from .errors import ConfigurationError

        raise ConfigurationError(
            f"unknown coordinate system {name!r}; expected one of {', '.join(COORD_SYSTEMS)}"
        )
    return aliases[key]


def to_wgs84(lon: ArrayLike, lat: ArrayLike, coord_sys: str) -> tuple:
    """Convert from ``coord_sys`` (wgs84|gcj02|bd09) to WGS-84."""
    return _TO_WGS[normalize_coord_sys(coord_sys)](lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, coord_sys: str) -> tuple:
    """Convert from WGS-84 to ``coord_sys`` (wgs84|gcj02|bd09)."""
    return _FROM_WGS[normalize_coord_sys(coord_sys)](lon, lat)


def convert(lon: ArrayLike, lat: ArrayLike, src: str, dst: str) -> tuple:
    """Convert between any two of wgs84, gcj02 and bd09."""
    wlon, wlat = to_wgs84(lon, lat, src)
    return from_wgs84(wlon, wlat, dst)
