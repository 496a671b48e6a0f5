"""Coverage and gap analysis for planners: population within reach, gaps, service areas, new sites.

Three jobs, one module, plain DataFrames in and small result dataclasses out (the app,
the CLI and the notebooks call the same functions):

* :class:`CoverageModel` / :func:`coverage_report`: who is within reach of an
  **authorized** outlet, nationally, per listed city and per province; backup coverage
  (two outlets in reach); population-weighted distance; the largest uncovered places;
  listed cities with no authorized outlet of their own.
* :func:`service_areas`: geodesic circles around outlets, dissolved per city, province
  and nation, as RFC 7946 GeoJSON with ellipsoidal areas.
* :func:`suggest_sites`: where ``p`` new outlets would newly cover the most people
  (greedy maximal coverage, existing outlets fixed).

Definitions
===========
* **Demand** is the population of the places table (GeoNames places, each a point).
  A place is *covered* at radius ``r`` when its geodesic (WGS-84) distance to the
  nearest authorized outlet is ``<= r`` (inclusive); *backup-covered* when its second
  nearest is too.
* **Drive time** is converted to a radius with
  :meth:`locator.index.DriveTimeModel.reach_km`: an **estimate** (circuity factor and
  speeds), not a routing result.
* **Population-weighted distance percentile** ``q``: the smallest distance ``d`` such
  that the places at distance ``<= d`` hold at least ``q`` of the population (the
  lower weighted quantile, no interpolation). ``max`` is the farthest place's distance.
  With no authorized outlet at all, distances are infinite and reported as ``None``.
* **Per listed city**: places join ``cities`` on ``city_adcode == adcode``; outlets
  belong to a listed city when ``outlets.city`` equals the short city name (``苏州``;
  a trailing ``市`` is ignored, so ``苏州市`` matches too). A listed city's places may be
  covered by an outlet in the next city: coverage counts any authorized outlet.

Speed
=====
:class:`CoverageModel` computes what does not depend on the radius once (each place's
two nearest authorized outlets via :class:`locator.index.OutletIndex`, the places
sorted by distance with cumulative population, group codes, weighted percentiles).
A new radius then costs one vector comparison and a few ``bincount`` calls
(see ``benchmarks/bench_coverage.py``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from scipy import sparse
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from .crs import unit_vectors
from .errors import ConfigurationError, DataError, Problem
from .index import R_LO_KM, DriveTimeModel, OutletIndex

__all__ = [
    "AreaCoverage",
    "CityWithoutOutlet",
    "CoverageModel",
    "CoverageReport",
    "Gap",
    "ServiceArea",
    "ServiceAreas",
    "SiteSuggestion",
    "SuggestedSite",
    "coverage_matrix",
    "coverage_report",
    "gaps_frame",
    "geodesic_area_km2",
    "geodesic_circle",
    "geometry_to_geojson",
    "greedy_max_coverage",
    "radius_for",
    "service_areas",
    "suggest_sites",
]

_GEOD = Geod(ellps="WGS84")
#: Largest radius accepted, km: half the shortest great-ellipse circumference (a circle
#: of that radius is the whole Earth).
MAX_RADIUS_KM = 20_000.0
DEFAULT_RADIUS_KM = 50.0
#: Vertices of a service-area circle. The inscribed 64-gon has 0.16 % less area than
#: the circle; that is far below the uncertainty of a straight-line service radius.
DEFAULT_VERTICES = 64
#: Decimal places of GeoJSON coordinates (1e-6 degree is about 0.1 m).
GEOJSON_DECIMALS = 6
_Q = (0.5, 0.9)  # weighted distance percentiles reported


# --------------------------------------------------------------------------- validation


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _check_radius(value: Any, name: str = "radius_km") -> float:
    """A radius in km: finite, > 0 and <= :data:`MAX_RADIUS_KM`."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise ConfigurationError(f"{name} must be a finite number of km, got {value!r}")
    out = float(value)
    if not 0 < out <= MAX_RADIUS_KM:
        raise ConfigurationError(f"{name} must be > 0 and <= {MAX_RADIUS_KM:g} km, got {value!r}")
    return out


def radius_for(
    radius_km: float | None = None,
    drive_minutes: float | None = None,
    drive_model: DriveTimeModel | None = None,
) -> float:
    """The coverage radius in geodesic km, from ``radius_km`` or from ``drive_minutes``.

    Give at most one. ``drive_minutes`` is converted with
    :meth:`DriveTimeModel.reach_km` (an **estimate**: circuity factor and speeds, see
    :class:`~locator.index.DriveTimeModel`). Neither given: :data:`DEFAULT_RADIUS_KM`.
    """
    if radius_km is not None and drive_minutes is not None:
        raise ConfigurationError("give radius_km or drive_minutes, not both")
    if drive_minutes is None:
        return _check_radius(DEFAULT_RADIUS_KM if radius_km is None else radius_km)
    if not _is_real(drive_minutes) or not math.isfinite(float(drive_minutes)):
        raise ConfigurationError(f"drive_minutes must be a finite number, got {drive_minutes!r}")
    model = drive_model or DriveTimeModel()
    if float(drive_minutes) <= model.overhead_minutes:
        raise ConfigurationError(
            f"drive_minutes must be > {model.overhead_minutes:g} (the dispatch overhead), "
            f"got {drive_minutes!r}"
        )
    return _check_radius(model.reach_km(float(drive_minutes)), "drive_minutes (as km)")


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigurationError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _frame(obj: Any, name: str) -> pd.DataFrame:
    if not isinstance(obj, pd.DataFrame):
        raise ConfigurationError(f"{name} must be a pandas DataFrame, got {type(obj).__name__}")
    return obj.reset_index(drop=True)


def _coords(df: pd.DataFrame, source: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Float lat/lon arrays; DataError listing every bad row."""
    missing = [c for c in ("lat", "lon") if c not in df.columns]
    if missing:
        raise DataError([Problem(None, c, None, "missing column") for c in missing], source=source)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        raise DataError(
            [
                Problem(
                    int(i) + 2,
                    "lat/lon",
                    f"{df['lat'].iat[int(i)]!r}, {df['lon'].iat[int(i)]!r}",
                    "coordinates must be finite, |lat| <= 90 and |lon| <= 180",
                )
                for i in np.flatnonzero(bad)
            ],
            source=source,
        )
    return lat, lon


def _population(df: pd.DataFrame, source: str) -> NDArray[np.int64]:
    if "population" not in df.columns:
        raise DataError([Problem(None, "population", None, "missing column")], source=source)
    num = pd.to_numeric(df["population"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(num) & (num >= 0) & (num == np.round(num)))
    if bad.any():
        raise DataError(
            [
                Problem(
                    int(i) + 2,
                    "population",
                    df["population"].iat[int(i)],
                    "must be a non-negative whole number",
                )
                for i in np.flatnonzero(bad)
            ],
            source=source,
        )
    return num.astype(np.int64)


def _authorized_mask(outlets: pd.DataFrame, authorized_only: bool) -> NDArray[np.bool_]:
    if not isinstance(authorized_only, bool | np.bool_):
        raise ConfigurationError(f"authorized_only must be True or False, got {authorized_only!r}")
    if not authorized_only:
        return np.ones(len(outlets), dtype=bool)
    if "authorized" not in outlets.columns:
        raise DataError(
            [
                Problem(
                    None,
                    "authorized",
                    None,
                    "missing column (pass authorized_only=False to count every outlet)",
                )
            ],
            source="outlets",
        )
    col = outlets["authorized"]
    if col.dtype == bool:
        return col.to_numpy(dtype=bool)
    text = col.astype(str).str.strip().str.lower()
    truthy, falsy = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f", ""}
    bad = ~text.isin(truthy | falsy)
    if bad.any():
        raise DataError(
            [
                Problem(int(i) + 2, "authorized", col.iat[int(i)], "not a yes/no value")
                for i in np.flatnonzero(bad.to_numpy())
            ],
            source="outlets",
        )
    return text.isin(truthy).to_numpy()


def _text(df: pd.DataFrame, column: str) -> NDArray[np.object_]:
    """A text column as an object array ('' where missing or absent)."""
    if column not in df.columns:
        return np.full(len(df), "", dtype=object)
    return df[column].fillna("").astype(str).str.strip().to_numpy(dtype=object)


def _short_city(name: str) -> str:
    name = str(name).strip()
    return name[:-1] if len(name) > 1 and name.endswith("市") else name


def _num(value: float) -> float | None:
    """JSON-ready float: non-finite -> None."""
    return float(value) if math.isfinite(value) else None


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole > 0 else None


def _weighted_quantiles(
    dist_sorted: NDArray[np.float64], cum_pop: NDArray[np.int64], qs: Sequence[float]
) -> list[float]:
    """Lower population-weighted quantiles of sorted distances (inf where undefined)."""
    if dist_sorted.size == 0 or cum_pop[-1] <= 0:
        return [math.inf] * len(qs)
    total = cum_pop[-1]
    out = []
    for q in qs:
        i = int(np.searchsorted(cum_pop, q * total, side="left"))
        out.append(float(dist_sorted[min(i, dist_sorted.size - 1)]))
    return out


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AreaCoverage:
    """Coverage of one listed city or one province at the report's radius.

    ``outlets`` counts authorized outlets located in the area (for a city: outlets whose
    ``city`` is the listed city). ``distance_p90_km`` is the population-weighted 90th
    percentile distance from the area's places to the nearest authorized outlet anywhere.
    Shares are ``None`` when the area has no population in the places table.
    """

    name: str
    province: str
    adcode: str | None
    outlets: int
    population_total: int
    population_covered: int
    share_covered: float | None
    population_backup: int
    places_total: int
    places_uncovered: int
    distance_p90_km: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Gap:
    """An uncovered place: who lives there and how far the nearest authorized outlet is."""

    place_id: str
    name: str
    name_zh: str
    province: str
    city: str
    lat: float
    lon: float
    population: int
    nearest_km: float | None
    nearest_outlet_id: str | None
    nearest_outlet_name: str | None
    nearest_outlet_city: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CityWithoutOutlet:
    """A listed city with no authorized outlet of its own (whatever listings it has)."""

    city: str
    name_en: str
    province: str
    adcode: str
    population: int
    unauthorized_listings: int
    nearest_outlet_id: str | None
    nearest_outlet_name: str | None
    nearest_outlet_city: str | None
    nearest_km: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CoverageReport:
    """Coverage at one radius. :meth:`to_dict` is strict-JSON ready (no NaN/inf).

    ``radius_km`` is geodesic km; when the report was asked for by drive time,
    ``drive_minutes`` holds the request and ``note`` says how it was converted.
    """

    radius_km: float
    drive_minutes: float | None
    outlets_authorized: int
    places_total: int
    places_uncovered: int
    population_total: int
    population_covered: int
    share_covered: float | None
    population_backup: int
    share_backup: float | None
    distance_p50_km: float | None
    distance_p90_km: float | None
    distance_max_km: float | None
    cities: list[AreaCoverage] = field(default_factory=list)
    provinces: list[AreaCoverage] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    cities_without_outlet: list[CityWithoutOutlet] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: national figures at the top level, then the tables as lists."""
        tables = ("cities", "provinces", "gaps", "cities_without_outlet")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in tables}
        out["cities"] = [c.to_dict() for c in self.cities]
        out["provinces"] = [p.to_dict() for p in self.provinces]
        out["gaps"] = [g.to_dict() for g in self.gaps]
        out["cities_without_outlet"] = [c.to_dict() for c in self.cities_without_outlet]
        return out

    def gaps_frame(self) -> pd.DataFrame:
        """The gaps as a DataFrame (one row per uncovered place, largest first)."""
        return gaps_frame(self.gaps)

    def cities_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [c.to_dict() for c in self.cities], columns=list(AreaCoverage.__dataclass_fields__)
        )

    def provinces_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [p.to_dict() for p in self.provinces], columns=list(AreaCoverage.__dataclass_fields__)
        )


def gaps_frame(gaps: Iterable[Gap]) -> pd.DataFrame:
    """Gaps as a DataFrame with the :class:`Gap` fields as columns (empty frame if none)."""
    return pd.DataFrame([g.to_dict() for g in gaps], columns=list(Gap.__dataclass_fields__))


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Groups:
    """Places grouped (per listed city or per province), radius-independent parts."""

    names: list[str]
    provinces: list[str]
    adcodes: list[str | None]
    outlets: NDArray[np.int64]
    codes: NDArray[np.intp]  # per place, -1 = in no group
    pop_total: NDArray[np.int64]
    places_total: NDArray[np.int64]
    p90: NDArray[np.float64]


class CoverageModel:
    """Radius-independent coverage precomputation; :meth:`report` for any radius.

    ``outlets``: a frame with float ``lat``/``lon`` (WGS-84), ``authorized`` (bool or
    yes/no text; needed when ``authorized_only``), and optionally ``outlet_id``, ``name``,
    ``city``, ``province``. ``places``: ``lat``, ``lon``, ``population`` and optionally
    ``place_id``, ``name``, ``name_zh``, ``province``, ``city``, ``city_adcode``.
    ``cities``: the listed cities (``city``, ``adcode``, and optionally ``province``,
    ``name_en``, ``population``, and ``lat``/``lon`` to report the nearest authorized outlet
    of a city that has none); without it there is no per-city table.

    Each place's ``k`` (>= 2) nearest authorized outlets are found once with the exact
    geodesic :class:`~locator.index.OutletIndex`; everything else is vector arithmetic.
    """

    #: The outlets and places as given (with a fresh RangeIndex).
    outlets: pd.DataFrame
    places: pd.DataFrame
    #: The exact nearest-outlet index over ``outlets``.
    index: OutletIndex
    drive_model: DriveTimeModel
    authorized_only: bool
    outlets_authorized: int
    #: Per place: latitude, longitude, population.
    plat: NDArray[np.float64]
    plon: NDArray[np.float64]
    population: NDArray[np.int64]
    #: Per place: row positions (into ``outlets``) and km of its k nearest authorized
    #: outlets, nearest first (-1 / inf where there are fewer than k).
    nearest_pos: NDArray[np.intp]
    nearest_km: NDArray[np.float64]
    #: Per place: km to the nearest and the second-nearest authorized outlet.
    d1: NDArray[np.float64]
    d2: NDArray[np.float64]
    population_total: int
    #: Population-weighted distance percentiles and maximum (radius-independent).
    distance_p50_km: float
    distance_p90_km: float
    distance_max_km: float
    # private, radius-independent precomputation (see __init__)
    _d1_sorted: NDArray[np.float64]
    _cum_pop: NDArray[np.int64]
    _d2_sorted: NDArray[np.float64]
    _cum_pop2: NDArray[np.int64]
    _by_pop: NDArray[np.intp]
    _d1_by_pop: NDArray[np.float64]
    _gap_cache: list[Gap] | None
    _o_city: NDArray[np.object_]
    _o_id: NDArray[np.object_]
    _o_name: NDArray[np.object_]
    _o_city_raw: NDArray[np.object_] | None
    _p_text: dict[str, NDArray[np.object_]]
    _provinces: _Groups
    _cities: _Groups
    _without: list[CityWithoutOutlet]

    def __init__(
        self,
        outlets: pd.DataFrame,
        places: pd.DataFrame,
        cities: pd.DataFrame | None = None,
        *,
        authorized_only: bool = True,
        k: int = 2,
        drive_model: DriveTimeModel | None = None,
    ) -> None:
        outlets = _frame(outlets, "outlets")
        places = _frame(places, "places")
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
            raise ConfigurationError(f"k must be an integer >= 2 (backup coverage), got {k!r}")
        self.drive_model = drive_model or DriveTimeModel()
        self.authorized_only = bool(authorized_only)
        _coords(outlets, "outlets")
        self.plat, self.plon = _coords(places, "places")
        self.population = _population(places, "places")
        auth = _authorized_mask(outlets, authorized_only)
        self.outlets = outlets
        self.places = places
        self.outlet_mask = auth
        self.outlets_authorized = int(auth.sum())

        # the index sees the same authorized flags as the figures (normalized here)
        index = OutletIndex(outlets.assign(authorized=auth) if authorized_only else outlets)
        self.index = index
        pos, km = index.nearest_many(
            self.plat, self.plon, k=int(k), authorized_only=self.authorized_only
        )
        self.nearest_pos = pos
        self.nearest_km = km
        d1 = km[:, 0]
        self.d1 = d1
        self.d2 = km[:, 1]

        # national: places sorted by nearest distance with cumulative population
        order = np.argsort(d1, kind="stable")
        self._d1_sorted = d1[order]
        self._cum_pop = np.cumsum(self.population[order])
        self._d2_sorted = np.sort(self.d2, kind="stable")
        self._cum_pop2 = np.cumsum(self.population[np.argsort(self.d2, kind="stable")])
        self.population_total = int(self.population.sum())
        q = _weighted_quantiles(self._d1_sorted, self._cum_pop, _Q)
        self.distance_p50_km, self.distance_p90_km = q
        self.distance_max_km = float(d1.max()) if d1.size else math.inf

        # gaps are listed largest population first (ties: place order)
        self._by_pop = np.lexsort((np.arange(len(places)), -self.population))
        self._d1_by_pop = d1[self._by_pop]
        self._gap_cache = None

        o_city = np.array([_short_city(c) for c in _text(outlets, "city")], dtype=object)
        o_prov = _text(outlets, "province")
        self._o_city = o_city
        self._o_id, self._o_name = _text(outlets, "outlet_id"), _text(outlets, "name")
        self._o_city_raw = _text(outlets, "city") if "city" in outlets.columns else None
        self._p_text = {
            c: _text(places, c) for c in ("place_id", "name", "name_zh", "province", "city")
        }
        p_prov = _text(places, "province")
        self._provinces = self._groups_by(p_prov, o_prov[auth])
        self._cities = self._city_groups(cities, o_city[auth])
        self._without = self._cities_without_outlet(cities, o_city, auth)
        self._gap_rows()  # built eagerly: report() then never mutates the model

    # ------------------------------------------------------------ precomputation

    def _make_groups(
        self,
        names: list[str],
        provinces: list[str],
        adcodes: list[str | None],
        codes: NDArray[np.intp],
        outlets: NDArray[np.int64],
    ) -> _Groups:
        g = len(names)
        inside = codes >= 0
        pop_total = np.bincount(codes[inside], weights=self.population[inside], minlength=g)
        places_total = np.bincount(codes[inside], minlength=g)
        p90 = np.full(g, math.inf)
        order = np.lexsort((self.d1, codes))  # by group, then distance
        sc = codes[order]
        starts = np.searchsorted(sc, np.arange(g), side="left")
        ends = np.searchsorted(sc, np.arange(g), side="right")
        for j in range(g):
            rows = order[starts[j] : ends[j]]
            if rows.size:
                p90[j] = _weighted_quantiles(
                    self.d1[rows], np.cumsum(self.population[rows]), (0.9,)
                )[0]
        return _Groups(
            names=names,
            provinces=provinces,
            adcodes=adcodes,
            outlets=outlets.astype(np.int64),
            codes=codes,
            pop_total=np.rint(pop_total).astype(np.int64),
            places_total=places_total.astype(np.int64),
            p90=p90,
        )

    def _groups_by(self, place_prov: NDArray, outlet_prov: NDArray) -> _Groups:
        names = sorted({p for p in place_prov if p} | {p for p in outlet_prov if p})
        lookup = {n: i for i, n in enumerate(names)}
        codes = np.array([lookup.get(p, -1) for p in place_prov], dtype=np.intp)
        counts = np.zeros(len(names), dtype=np.int64)
        for p in outlet_prov:
            if p in lookup:
                counts[lookup[p]] += 1
        return self._make_groups(names, names, [None] * len(names), codes, counts)

    def _city_groups(self, cities: pd.DataFrame | None, outlet_city: NDArray) -> _Groups:
        if cities is None:
            empty = np.zeros(0, dtype=np.int64)
            return self._make_groups([], [], [], np.full(len(self.places), -1, np.intp), empty)
        cities = _frame(cities, "cities")
        for col in ("city", "adcode"):
            if col not in cities.columns:
                raise DataError([Problem(None, col, None, "missing column")], source="cities")
        names = [_short_city(c) for c in _text(cities, "city")]
        adcodes = [str(a) for a in _text(cities, "adcode")]
        provinces = list(_text(cities, "province"))
        by_adcode = {a: i for i, a in enumerate(adcodes)}
        codes = np.array(
            [by_adcode.get(a, -1) for a in _text(self.places, "city_adcode")], dtype=np.intp
        )
        counts = np.array([int(np.sum(outlet_city == n)) for n in names], dtype=np.int64)
        return self._make_groups(names, provinces, list(adcodes), codes, counts)

    def _cities_without_outlet(
        self, cities: pd.DataFrame | None, o_city: NDArray, auth: NDArray[np.bool_]
    ) -> list[CityWithoutOutlet]:
        if cities is None:
            return []
        cities = _frame(cities, "cities")
        if {"lat", "lon"} <= set(cities.columns):
            lat, lon = _coords(cities, "cities")
            pos, km = self.index.nearest_many(lat, lon, k=1, authorized_only=self.authorized_only)
        else:  # no centre coordinates: no nearest outlet to report
            pos = np.full((len(cities), 1), -1, dtype=np.intp)
            km = np.full((len(cities), 1), math.inf)
        pops = (
            pd.to_numeric(cities["population"], errors="coerce").fillna(0).astype(np.int64)
            if "population" in cities.columns
            else pd.Series(np.zeros(len(cities), dtype=np.int64))
        )
        out = []
        names_en = _text(cities, "name_en")
        for j, name in enumerate(self._cities.names):
            if self._cities.outlets[j] > 0:
                continue
            p = int(pos[j, 0])
            nearest = self._outlet_fields(p)
            out.append(
                CityWithoutOutlet(
                    city=name,
                    name_en=str(names_en[j]),
                    province=self._cities.provinces[j],
                    adcode=str(self._cities.adcodes[j]),
                    population=int(pops.to_numpy()[j]),
                    unauthorized_listings=int(np.sum((o_city == name) & ~auth)),
                    nearest_outlet_id=nearest[0],
                    nearest_outlet_name=nearest[1],
                    nearest_outlet_city=nearest[2],
                    nearest_km=_num(float(km[j, 0])),
                )
            )
        return out

    def _outlet_fields(self, pos: int) -> tuple[str | None, str | None, str | None]:
        if pos < 0:
            return None, None, None
        city = None if self._o_city_raw is None else str(self._o_city_raw[pos])
        return str(self._o_id[pos]), str(self._o_name[pos]), city

    # ------------------------------------------------------------ per radius

    def radius_for(
        self, radius_km: float | None = None, drive_minutes: float | None = None
    ) -> float:
        """See :func:`radius_for` (uses this model's drive-time model)."""
        return radius_for(radius_km, drive_minutes, self.drive_model)

    def covered(self, radius_km: float) -> NDArray[np.bool_]:
        """Per place: is an authorized outlet within ``radius_km``?"""
        return self.d1 <= _check_radius(radius_km)

    def population_covered(self, radius_km: float) -> int:
        """Population within ``radius_km`` of an authorized outlet (binary search, O(log n))."""
        r = _check_radius(radius_km)
        i = int(np.searchsorted(self._d1_sorted, r, side="right"))
        return int(self._cum_pop[i - 1]) if i else 0

    def population_backup(self, radius_km: float) -> int:
        """Population with at least two authorized outlets within ``radius_km``."""
        r = _check_radius(radius_km)
        i = int(np.searchsorted(self._d2_sorted, r, side="right"))
        return int(self._cum_pop2[i - 1]) if i else 0

    def curve(self, radii: Iterable[float]) -> pd.DataFrame:
        """Population covered (and backed up) for each radius: a coverage curve."""
        rows = []
        for r in radii:
            cov = self.population_covered(r)
            bak = self.population_backup(r)
            rows.append(
                {
                    "radius_km": float(r),
                    "population_covered": cov,
                    "share_covered": _share(cov, self.population_total),
                    "population_backup": bak,
                    "share_backup": _share(bak, self.population_total),
                }
            )
        return pd.DataFrame(rows)

    def _areas(self, g: _Groups, covered: NDArray[np.bool_], backup: NDArray[np.bool_]) -> list:
        n = len(g.names)
        if n == 0:
            return []
        inside = g.codes >= 0
        codes = g.codes[inside]
        pop = self.population[inside]
        cov = np.bincount(codes, weights=np.where(covered[inside], pop, 0), minlength=n)
        bak = np.bincount(codes, weights=np.where(backup[inside], pop, 0), minlength=n)
        unc = np.bincount(codes, weights=~covered[inside], minlength=n)
        out = []
        for j in range(n):
            total = int(g.pop_total[j])
            c = int(np.rint(cov[j]))
            out.append(
                AreaCoverage(
                    name=g.names[j],
                    province=g.provinces[j],
                    adcode=g.adcodes[j],
                    outlets=int(g.outlets[j]),
                    population_total=total,
                    population_covered=c,
                    share_covered=_share(c, total),
                    population_backup=int(np.rint(bak[j])),
                    places_total=int(g.places_total[j]),
                    places_uncovered=int(np.rint(unc[j])),
                    distance_p90_km=_num(float(g.p90[j])),
                )
            )
        return out

    def _gap_rows(self) -> list[Gap]:
        """A :class:`Gap` for every place, largest population first, built once (in
        ``__init__``): a gap's fields do not depend on the radius, only which places are
        gaps does, so a report only selects rows."""
        if self._gap_cache is None:
            t = self._p_text
            rows = []
            for i in self._by_pop.tolist():
                oid, oname, ocity = self._outlet_fields(int(self.nearest_pos[i, 0]))
                rows.append(
                    Gap(
                        place_id=str(t["place_id"][i]),
                        name=str(t["name"][i]),
                        name_zh=str(t["name_zh"][i]),
                        province=str(t["province"][i]),
                        city=str(t["city"][i]),
                        lat=float(self.plat[i]),
                        lon=float(self.plon[i]),
                        population=int(self.population[i]),
                        nearest_km=_num(float(self.d1[i])),
                        nearest_outlet_id=oid,
                        nearest_outlet_name=oname,
                        nearest_outlet_city=ocity,
                    )
                )
            self._gap_cache = rows
        return self._gap_cache

    def gaps(self, radius_km: float, limit: int | None = None) -> list[Gap]:
        """Uncovered places, largest population first (``limit``: at most that many)."""
        r = _check_radius(radius_km)
        if limit is not None:
            limit = _check_count(limit, "limit")
        which = np.flatnonzero(self._d1_by_pop > r)
        if limit is not None:
            which = which[:limit]
        rows = self._gap_rows()
        return [rows[j] for j in which.tolist()]

    def report(
        self,
        radius_km: float | None = None,
        *,
        drive_minutes: float | None = None,
        gap_limit: int | None = None,
    ) -> CoverageReport:
        """Coverage at ``radius_km`` (or the radius reached in ``drive_minutes``, an
        estimate); gaps limited to ``gap_limit`` (default: all)."""
        r = self.radius_for(radius_km, drive_minutes)
        covered = self.d1 <= r
        backup = self.d2 <= r
        cov = self.population_covered(r)
        bak = self.population_backup(r)
        note = ""
        if drive_minutes is not None:
            note = (
                f"{float(drive_minutes):g} min of driving taken as {r:.1f} geodesic km. "
                + self.drive_model.describe()
            )
        return CoverageReport(
            radius_km=r,
            drive_minutes=None if drive_minutes is None else float(drive_minutes),
            outlets_authorized=self.outlets_authorized,
            places_total=int(self.population.size),
            places_uncovered=int((~covered).sum()),
            population_total=self.population_total,
            population_covered=cov,
            share_covered=_share(cov, self.population_total),
            population_backup=bak,
            share_backup=_share(bak, self.population_total),
            distance_p50_km=_num(self.distance_p50_km),
            distance_p90_km=_num(self.distance_p90_km),
            distance_max_km=_num(self.distance_max_km),
            cities=self._areas(self._cities, covered, backup),
            provinces=self._areas(self._provinces, covered, backup),
            gaps=self.gaps(r, gap_limit),
            cities_without_outlet=list(self._without),
            note=note,
        )


def coverage_report(
    outlets: pd.DataFrame,
    places: pd.DataFrame,
    radius_km: float | None = None,
    *,
    drive_minutes: float | None = None,
    cities: pd.DataFrame | None = None,
    authorized_only: bool = True,
    gap_limit: int | None = None,
    drive_model: DriveTimeModel | None = None,
) -> CoverageReport:
    """Coverage of ``places`` by ``outlets`` at one radius (default 50 km).

    A one-shot convenience over :class:`CoverageModel`; build the model once instead
    when several radii are needed. See the module docstring for the definitions.
    """
    radius = radius_for(radius_km, drive_minutes, drive_model)  # validate before the work
    model = CoverageModel(
        outlets, places, cities, authorized_only=authorized_only, drive_model=drive_model
    )
    if drive_minutes is not None:
        return model.report(drive_minutes=drive_minutes, gap_limit=gap_limit)
    return model.report(radius, gap_limit=gap_limit)


# --------------------------------------------------------------------------- service areas


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
    radius_km: float = DEFAULT_RADIUS_KM,
    *,
    by: Level | str | Sequence[Level | str] = ("city", "province", "nation"),
    n_vertices: int = DEFAULT_VERTICES,
    authorized_only: bool = True,
) -> ServiceAreas:
    """Geodesic service circles around (authorized) outlets, dissolved per level.

    ``by`` is one or more of ``"outlet"`` (one circle each, keyed by ``outlet_id``),
    ``"city"`` (``outlets.city``), ``"province"`` and ``"nation"``. Circles are built
    with :func:`geodesic_circle` (never degree buffers) and dissolved with
    :func:`shapely.union_all`; ``area_km2`` is measured on the WGS-84 ellipsoid.
    """
    outlets = _frame(outlets, "outlets")
    r = _check_radius(radius_km)
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


# --------------------------------------------------------------------------- site suggestions


def coverage_matrix(
    src_lat: NDArray[np.float64],
    src_lon: NDArray[np.float64],
    dst_lat: NDArray[np.float64],
    dst_lon: NDArray[np.float64],
    radius_km: float,
) -> sparse.csr_matrix:
    """Boolean sparse matrix: ``[i, j]`` is True when ``dst[j]`` is within ``radius_km``
    geodesic km of ``src[i]`` (inclusive).

    Candidates come from a unit-sphere k-d tree with the conservative chord bound of
    :mod:`locator.index` (geodesic >= R_LO x central angle), then every pair is checked
    with the exact WGS-84 geodesic; nothing within the radius is missed.
    """
    r = _check_radius(radius_km)
    n, m = len(src_lat), len(dst_lat)
    if n == 0 or m == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    theta = min(r / R_LO_KM * (1 + 1e-9), math.pi)
    chord = 2.0 * math.sin(theta / 2.0) * (1 + 1e-9) + 1e-12
    tree = cKDTree(unit_vectors(dst_lat, dst_lon))
    hits = tree.query_ball_point(unit_vectors(src_lat, src_lon), chord)
    rows = np.repeat(np.arange(n), [len(h) for h in hits])
    cols = np.fromiter((j for h in hits for j in h), dtype=np.intp, count=rows.size)
    if rows.size == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    _, _, metres = _GEOD.inv(src_lon[rows], src_lat[rows], dst_lon[cols], dst_lat[cols])
    keep = np.asarray(metres) / 1000.0 <= r
    return sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (rows[keep], cols[keep])), shape=(n, m)
    )


def greedy_max_coverage(
    cover: sparse.spmatrix | NDArray[np.bool_], weights: NDArray[Any], p: int
) -> tuple[list[int], list[float]]:
    """Greedy maximal coverage on a plain matrix (the core of :func:`suggest_sites`).

    ``cover[i, j]``: candidate ``i`` covers demand ``j``; ``weights[j]``: demand ``j``'s
    weight (0 for demand already covered). Picks up to ``p`` candidates, each time the one
    adding the most uncovered weight (ties: lowest index); stops early when nothing more
    can be gained. Returns ``(chosen, gains)``. The greedy total is at least ``1 - 1/e``
    of the optimum (Nemhauser, Wolsey & Fisher, 1978).
    """
    p = _check_count(p, "p")
    a = sparse.csr_matrix(cover, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64).copy()
    if a.shape[1] != w.size:
        raise ConfigurationError(
            f"cover has {a.shape[1]} demand columns but weights has {w.size} entries"
        )
    chosen: list[int] = []
    gains: list[float] = []
    for _ in range(p):
        if a.shape[0] == 0:
            break
        gain = a @ w
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        w[a.indices[a.indptr[best] : a.indptr[best + 1]]] = 0.0
    return chosen, gains


@dataclass(frozen=True)
class SuggestedSite:
    """One suggested new outlet site and what it adds."""

    rank: int
    lat: float
    lon: float
    candidate_id: str
    nearest_place: str
    nearest_place_zh: str
    province: str
    city: str
    population_gained: int
    places_gained: int
    population_covered_after: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SiteSuggestion:
    """Result of :func:`suggest_sites`; ``sites`` may be shorter than ``p`` when no
    candidate can add anyone (everything reachable is already covered)."""

    radius_km: float
    p: int
    method: str
    population_total: int
    population_covered_before: int
    population_covered_after: int
    share_before: float | None
    share_after: float | None
    sites: list[SuggestedSite]

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sites"}
        out["sites"] = [s.to_dict() for s in self.sites]
        return out

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [s.to_dict() for s in self.sites], columns=list(SuggestedSite.__dataclass_fields__)
        )


def suggest_sites(
    outlets: pd.DataFrame,
    places: pd.DataFrame,
    p: int,
    radius_km: float = DEFAULT_RADIUS_KM,
    candidates: pd.DataFrame | None = None,
    *,
    authorized_only: bool = True,
) -> SiteSuggestion:
    """Add ``p`` sites to the existing (authorized) outlets, maximising newly covered people.

    ``candidates`` is a frame with ``lat``/``lon`` (and optionally ``candidate_id`` or
    ``place_id``); default: every place. Existing outlets stay fixed; a place counts as
    covered when any outlet or chosen site is within ``radius_km`` geodesic km. Solved by
    :func:`greedy_max_coverage` (exact optimum is NP-hard; the tests compare the greedy
    answer with an exact PuLP/CBC model on small instances). Each site reports the nearest
    place (name, province, city) so a planner can find it on a map.
    """
    p = _check_count(p, "p")
    r = _check_radius(radius_km)
    outlets = _frame(outlets, "outlets")
    places = _frame(places, "places")
    plat, plon = _coords(places, "places")
    pop = _population(places, "places")
    _coords(outlets, "outlets")
    auth = _authorized_mask(outlets, authorized_only)
    if auth.any():
        index = OutletIndex(outlets.iloc[np.flatnonzero(auth)], workers=1)
        _, km = index.nearest_many(plat, plon, 1, authorized_only=False)
        covered = km[:, 0] <= r
    else:
        covered = np.zeros(plat.size, dtype=bool)
    cand = places if candidates is None else _frame(candidates, "candidates")
    clat, clon = _coords(cand, "candidates")
    if "candidate_id" in cand.columns:
        cids = _text(cand, "candidate_id")
    elif "place_id" in cand.columns:
        cids = _text(cand, "place_id")
    else:
        cids = np.array([str(i) for i in range(len(cand))], dtype=object)
    unc = np.flatnonzero(~covered)
    cover = coverage_matrix(clat, clon, plat[unc], plon[unc], r)
    chosen, _ = greedy_max_coverage(cover, pop[unc], p)

    before = int(pop[covered].sum())
    total = int(pop.sum())
    sites: list[SuggestedSite] = []
    if chosen:
        where = np.array(chosen)
        near_pos, _ = OutletIndex(places, workers=1).nearest_many(
            clat[where], clon[where], 1, authorized_only=False
        )
        names, zh = _text(places, "name"), _text(places, "name_zh")
        prov, city = _text(places, "province"), _text(places, "city")
        done = np.zeros(unc.size, dtype=bool)
        running = before
        for rank, (c, npos) in enumerate(zip(chosen, near_pos[:, 0], strict=True), start=1):
            cols = cover.indices[cover.indptr[c] : cover.indptr[c + 1]]
            new = cols[~done[cols]]
            done[new] = True
            gained = int(pop[unc[new]].sum())
            running += gained
            sites.append(
                SuggestedSite(
                    rank=rank,
                    lat=float(clat[c]),
                    lon=float(clon[c]),
                    candidate_id=str(cids[c]),
                    nearest_place=str(names[npos]),
                    nearest_place_zh=str(zh[npos]),
                    province=str(prov[npos]),
                    city=str(city[npos]),
                    population_gained=gained,
                    places_gained=int(new.size),
                    population_covered_after=running,
                )
            )
    after = before + sum(s.population_gained for s in sites)
    return SiteSuggestion(
        radius_km=r,
        p=p,
        method="greedy",
        population_total=total,
        population_covered_before=before,
        population_covered_after=after,
        share_before=_share(before, total),
        share_after=_share(after, total),
        sites=sites,
    )
