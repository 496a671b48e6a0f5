"""Service areas: geodesic circles around outlets, dissolved per city, province and nation.

Output is RFC 7946 GeoJSON (lon/lat, WGS-84) with ellipsoidal areas.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from ..drive import DriveTimeModel
from ..errors import ConfigurationError
from ._common import (
    _GEOD,
    DEFAULT_VERTICES,
    GEOJSON_DECIMALS,
    _authorized_mask,
    _check_radius,
    _coords,
    _frame,
    _is_real,
    _short_city,
    _text,
    radius_for,
)


def geodesic_circle(
    lat: float, lon: float, radius_km: float, n_vertices: int = DEFAULT_VERTICES
) -> Polygon | MultiPolygon:
    """A geodesic circle on the WGS-84 ellipsoid as a lon/lat polygon.

    Vertices are :meth:`pyproj.Geod.fwd` from the centre at equally spaced azimuths,
    ordered counter-clockwise. A circle crossing the antimeridian is split into two
    parts, one each side of ±180° (a MultiPolygon, as RFC 7946 §3.1.9 asks). A circle
    containing a pole cannot be drawn as a simple lon/lat polygon and raises
    :class:`ConfigurationError` (outlets in China are > 3,800 km from the North Pole).
    """
    r = _check_radius(radius_km)
    if (
        isinstance(n_vertices, bool)
        or not isinstance(n_vertices, numbers.Integral)
        or (n_vertices < 8)
    ):
        raise ConfigurationError(f"n_vertices must be an integer >= 8, got {n_vertices!r}")
    if not (_is_real(lat) and _is_real(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise ConfigurationError(f"invalid centre ({lat!r}, {lon!r})")
    for pole in (90.0, -90.0):
        _, _, to_pole = _GEOD.inv(lon, lat, lon, pole)
        if to_pole / 1000.0 <= r:
            raise ConfigurationError(
                f"a {r:g} km circle around ({lat:g}, {lon:g}) contains a pole; "
                "not supported as a lon/lat polygon"
            )
    n = int(n_vertices)
    az = -np.linspace(0.0, 360.0, n, endpoint=False)  # counter-clockwise
    lons, lats, _ = _GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, r * 1000.0))
    lons = np.asarray(lons, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    # unwrap around the centre so the ring is continuous (it may pass 180 or -180)
    lons = lon + (lons - lon + 180.0) % 360.0 - 180.0
    poly = Polygon(np.column_stack([lons, lats]))
    minx, _, maxx, _ = poly.bounds
    if minx >= -180.0 and maxx <= 180.0:
        return poly
    shift = 360.0 if maxx > 180.0 else -360.0
    world = box(-180.0, -90.0, 180.0, 90.0)
    beyond = box(-180.0 + shift, -90.0, 180.0 + shift, 90.0)
    a = poly.intersection(world)
    b = shapely.transform(poly.intersection(beyond), lambda xy: xy - np.array([shift, 0.0]))
    parts = [g for g in (a, b) if not g.is_empty]
    polys = [p for g in parts for p in getattr(g, "geoms", [g]) if isinstance(p, Polygon)]
    return MultiPolygon(polys)


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """Area on the WGS-84 ellipsoid in km² (orientation-independent)."""
    if geom.is_empty:
        return 0.0
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area)) / 1e6


def _ring(coords: Any, decimals: int) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in np.round(np.asarray(coords)[:, :2], decimals):
        pt = [float(x) + 0.0, float(y) + 0.0]  # + 0.0 turns -0.0 into 0.0
        if not out or out[-1] != pt:
            out.append(pt)
    if out and out[0] != out[-1]:
        out.append(list(out[0]))
    return out


def geometry_to_geojson(geom: BaseGeometry, decimals: int = GEOJSON_DECIMALS) -> dict | None:
    """RFC 7946 geometry: lon,lat order, CCW exterior and CW interior rings, rounded.

    Returns ``None`` for an empty geometry. Rings that degenerate after rounding (fewer
    than 4 positions) are dropped.
    """
    if geom.is_empty:
        return None
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    polys = (
        [geom]
        if isinstance(geom, Polygon)
        else [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    )
    coords = []
    for p in polys:
        ext = _ring(p.exterior.coords, decimals)
        if len(ext) < 4:
            continue
        holes = [r for r in (_ring(i.coords, decimals) for i in p.interiors) if len(r) >= 4]
        coords.append([ext, *holes])
    if not coords:
        return None
    if len(coords) == 1:
        return {"type": "Polygon", "coordinates": coords[0]}
    return {"type": "MultiPolygon", "coordinates": coords}


Level = Literal["outlet", "city", "province", "nation"]
_LEVELS: tuple[str, ...] = ("outlet", "city", "province", "nation")


@dataclass(frozen=True)
class ServiceArea:
    """One dissolved service area: the union of its outlets' circles."""

    level: str
    key: str
    outlets: int
    area_km2: float
    geometry: BaseGeometry

    def to_feature(self, radius_km: float, decimals: int = GEOJSON_DECIMALS) -> dict[str, Any]:
        return {
            "type": "Feature",
            "properties": {
                "level": self.level,
                "key": self.key,
                "outlets": self.outlets,
                "radius_km": radius_km,
                "area_km2": round(self.area_km2, 3),
            },
            "geometry": geometry_to_geojson(self.geometry, decimals),
        }


@dataclass(frozen=True)
class ServiceAreas:
    """Service areas at one radius, one or more levels; :meth:`to_geojson` for export."""

    radius_km: float
    n_vertices: int
    areas: list[ServiceArea]

    def to_geojson(self, decimals: int = GEOJSON_DECIMALS) -> dict[str, Any]:
        """An RFC 7946 FeatureCollection (features with empty geometry are left out)."""
        feats = [a.to_feature(self.radius_km, decimals) for a in self.areas]
        return {"type": "FeatureCollection", "features": [f for f in feats if f["geometry"]]}

    def to_dict(self) -> dict[str, Any]:
        return self.to_geojson()

    def frame(self) -> pd.DataFrame:
        """level, key, outlets, area_km2 per area (no geometry)."""
        return pd.DataFrame(
            [
                {"level": a.level, "key": a.key, "outlets": a.outlets, "area_km2": a.area_km2}
                for a in self.areas
            ],
            columns=["level", "key", "outlets", "area_km2"],
        )


def service_areas(
    outlets: pd.DataFrame,
    radius_km: float | None = None,
    *,
    by: Level | str | Sequence[Level | str] = ("city", "province", "nation"),
    n_vertices: int = DEFAULT_VERTICES,
    authorized_only: bool = True,
    drive_minutes: float | None = None,
    drive_model: DriveTimeModel | None = None,
) -> ServiceAreas:
    """Geodesic service circles around (authorized) outlets, dissolved per level.

    ``by`` is one or more of ``"outlet"`` (one circle each, keyed by ``outlet_id``),
    ``"city"`` (``outlets.city``), ``"province"`` and ``"nation"``. Circles are built
    with :func:`geodesic_circle` (never degree buffers) and dissolved with
    :func:`shapely.union_all`; ``area_km2`` is measured on the WGS-84 ellipsoid.
    Give ``radius_km`` (default 50) or ``drive_minutes`` (the radius reached in that
    time by ``drive_model``: an estimate, see :class:`~locator.drive.DriveTimeModel`).
    """
    outlets = _frame(outlets, "outlets")
    r = radius_for(radius_km, drive_minutes, drive_model)
    levels = [by] if isinstance(by, str) else list(by)
    for lv in levels:
        if lv not in _LEVELS:
            raise ConfigurationError(f"by must be among {list(_LEVELS)}, got {lv!r}")
    lat, lon = _coords(outlets, "outlets")
    mask = _authorized_mask(outlets, authorized_only)
    idx = np.flatnonzero(mask)
    circles = [geodesic_circle(float(lat[i]), float(lon[i]), r, n_vertices) for i in idx]
    keys = {
        "outlet": _text(outlets, "outlet_id")[idx],
        "city": np.array([_short_city(c) for c in _text(outlets, "city")[idx]], dtype=object),
        "province": _text(outlets, "province")[idx],
        "nation": np.full(idx.size, "all", dtype=object),
    }
    areas: list[ServiceArea] = []
    for lv in levels:
        groups: dict[str, list[int]] = {}
        for j, key in enumerate(keys[lv]):
            groups.setdefault(str(key), []).append(j)
        for key in sorted(groups):
            members = groups[key]
            geom = shapely.union_all([circles[j] for j in members])
            areas.append(ServiceArea(lv, key, len(members), geodesic_area_km2(geom), geom))
    return ServiceAreas(radius_km=r, n_vertices=int(n_vertices), areas=areas)
