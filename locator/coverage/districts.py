"""Coverage by district: the rows, their radius-independent part, RFC 7946 export.

Districts are the bundled polygons (:func:`locator.boundaries.districts`, 2,891
districts, counties and county-level cities). A district's demand is the population
of the places (the demand layer) that lie inside its polygon; a district with no
place has **no data** (``has_data`` false, shares ``None``), never 0 % covered.

The nearest authorized outlet of a district is measured from its representative
point (``shapely.point_on_surface``, always inside the polygon), so districts with no
data get one too. :class:`~locator.coverage.CoverageModel` builds this part once, on
the first report asked for ``by="district"``.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._common import GEOJSON_DECIMALS

__all__ = ["DistrictCoverage", "districts_geojson"]

#: Simplification (degrees) of the district polygons drawn in a choropleth: ~2 km,
#: enough at country-to-city zoom and 3x fewer vertices than the bundled file.
CHOROPLETH_SIMPLIFY_DEG = 0.02


@dataclass(frozen=True)
class DistrictCoverage:
    """Coverage of one district at the report's radius.

    ``has_data`` is false when no place of the demand layer lies in the district: then
    ``population_covered``, ``share_covered`` and ``population_backup`` are ``None``
    ("no data", not 0 %). ``outlets`` counts authorized outlets inside the polygon;
    ``nearest_km`` is the geodesic km from the district's representative point to the
    nearest authorized outlet (``None`` with no authorized outlet at all).
    """

    adcode: str
    name: str
    prefecture: str
    province: str
    has_data: bool
    population_total: int
    population_covered: int | None
    share_covered: float | None
    population_backup: int | None
    places_total: int
    places_uncovered: int
    outlets: int
    nearest_outlet_id: str | None
    nearest_outlet_name: str | None
    nearest_km: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _DistrictBase:
    """The radius-independent part: per place its district row, per district the rest."""

    adcode: list[str]
    name: list[str]
    prefecture: list[str]
    province: list[str]
    codes: NDArray[np.intp]  # per place: district row, -1 outside every district
    pop_total: NDArray[np.int64]
    places_total: NDArray[np.int64]
    outlets: NDArray[np.int64]
    nearest_pos: NDArray[np.intp]
    nearest_km: NDArray[np.float64]


def _build_base(model: Any) -> _DistrictBase:
    """District codes of ``model``'s places and outlets, and each district's nearest."""
    import shapely

    from .. import boundaries

    d = boundaries.districts()
    codes = boundaries.locate(model.plon, model.plat).astype(np.intp)
    n = len(d)
    inside = codes >= 0
    pop_total = np.bincount(codes[inside], weights=model.population[inside], minlength=n)
    places_total = np.bincount(codes[inside], minlength=n)
    auth = np.flatnonzero(model.outlet_mask)
    o_lat = model.outlets["lat"].to_numpy(dtype=float)[auth]
    o_lon = model.outlets["lon"].to_numpy(dtype=float)[auth]
    o_codes = boundaries.locate(o_lon, o_lat)
    outlets = np.bincount(o_codes[o_codes >= 0], minlength=n)
    rep = shapely.point_on_surface(d["geometry"].to_numpy())
    xy = shapely.get_coordinates(rep)
    pos, km = model.index.nearest_many(
        xy[:, 1], xy[:, 0], k=1, authorized_only=model.authorized_only
    )
    return _DistrictBase(
        adcode=d["adcode"].astype(str).tolist(),
        name=d["name"].astype(str).tolist(),
        prefecture=d["prefecture"].astype(str).tolist(),
        province=d["province"].astype(str).tolist(),
        codes=codes,
        pop_total=np.rint(pop_total).astype(np.int64),
        places_total=places_total.astype(np.int64),
        outlets=outlets.astype(np.int64),
        nearest_pos=pos[:, 0],
        nearest_km=km[:, 0],
    )


def _rows(
    model: Any, base: _DistrictBase, covered: NDArray[np.bool_], backup: NDArray[np.bool_]
) -> list[DistrictCoverage]:
    n = len(base.adcode)
    inside = base.codes >= 0
    codes = base.codes[inside]
    pop = model.population[inside]
    cov = np.rint(np.bincount(codes, weights=np.where(covered[inside], pop, 0), minlength=n))
    bak = np.rint(np.bincount(codes, weights=np.where(backup[inside], pop, 0), minlength=n))
    unc = np.bincount(codes, weights=~covered[inside], minlength=n)
    out = []
    for j in range(n):
        has = bool(base.places_total[j] > 0)
        total = int(base.pop_total[j])
        oid, oname, _ = model._outlet_fields(int(base.nearest_pos[j]))
        km = float(base.nearest_km[j])
        out.append(
            DistrictCoverage(
                adcode=base.adcode[j],
                name=base.name[j],
                prefecture=base.prefecture[j],
                province=base.province[j],
                has_data=has,
                population_total=total,
                population_covered=int(cov[j]) if has else None,
                share_covered=(float(cov[j]) / total if total > 0 else None) if has else None,
                population_backup=int(bak[j]) if has else None,
                places_total=int(base.places_total[j]),
                places_uncovered=int(np.rint(unc[j])),
                outlets=int(base.outlets[j]),
                nearest_outlet_id=oid,
                nearest_outlet_name=oname,
                nearest_km=km if np.isfinite(km) else None,
            )
        )
    return out


@functools.lru_cache(maxsize=2)
def _geometries(simplify_deg: float | None) -> dict[str, Any]:
    """adcode -> shapely geometry (simplified along shared edges when asked)."""
    import shapely

    from .. import boundaries

    d = boundaries.districts()
    geoms = d["geometry"].to_numpy()
    if simplify_deg:
        geoms = shapely.coverage_simplify(geoms, simplify_deg)
    return dict(zip(d["adcode"].astype(str), geoms, strict=True))


@functools.lru_cache(maxsize=2)
def _geometry_dicts(simplify_deg: float | None, decimals: int) -> dict[str, Any]:
    """adcode -> RFC 7946 geometry dict. Cached: treat the dicts as read-only."""
    from .areas import geometry_to_geojson

    return {a: geometry_to_geojson(g, decimals) for a, g in _geometries(simplify_deg).items()}


def districts_geojson(
    rows: list[DistrictCoverage],
    *,
    radius_km: float | None = None,
    drive_minutes: float | None = None,
    decimals: int = GEOJSON_DECIMALS,
    simplify_deg: float | None = None,
) -> dict[str, Any]:
    """The districts as an RFC 7946 FeatureCollection (WGS-84 lon/lat, CCW exteriors),
    one Feature per row, its properties the row's figures (plus ``radius_km`` and
    ``drive_minutes`` when given). ``simplify_deg`` draws lighter polygons (maps).
    Geometries are shared with a per-process cache: copy one before changing it."""
    geoms = _geometry_dicts(simplify_deg, decimals)
    feats = []
    for r in rows:
        props = r.to_dict()
        if radius_km is not None:
            props["radius_km"] = float(radius_km)
        props["drive_minutes"] = None if drive_minutes is None else float(drive_minutes)
        geom = geoms.get(r.adcode)
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": geom,
            }
        )
    return {"type": "FeatureCollection", "features": feats}
