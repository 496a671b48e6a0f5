"""Who is within reach: :class:`CoverageModel`, :func:`coverage_report` and the report dataclasses.

See :mod:`locator.coverage` for the definitions (demand, covered, weighted percentiles).
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..drive import DriveTimeModel
from ..errors import ConfigurationError, DataError, Problem
from ..index import OutletIndex
from ._common import (
    _Q,
    _authorized_mask,
    _check_count,
    _check_radius,
    _coords,
    _frame,
    _is_real,
    _num,
    _population,
    _share,
    _short_city,
    _text,
    _weighted_quantiles,
    radius_for,
)
from .districts import DistrictCoverage, _build_base, _DistrictBase, _rows, districts_geojson

#: What :meth:`CoverageModel.report` can break coverage down by.
REPORT_LEVELS = ("city", "province", "district")

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
    #: Per district (only when the report was asked ``by="district"``; else empty).
    districts: list[DistrictCoverage] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: national figures at the top level, then the tables as lists
        (``districts`` only when the report has them)."""
        tables = ("cities", "provinces", "gaps", "cities_without_outlet", "districts")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in tables}
        out["cities"] = [c.to_dict() for c in self.cities]
        out["provinces"] = [p.to_dict() for p in self.provinces]
        out["gaps"] = [g.to_dict() for g in self.gaps]
        out["cities_without_outlet"] = [c.to_dict() for c in self.cities_without_outlet]
        if self.districts:
            out["districts"] = [d.to_dict() for d in self.districts]
        return out

    def districts_frame(self) -> pd.DataFrame:
        """The districts as a DataFrame (empty unless the report was ``by="district"``)."""
        return pd.DataFrame(
            [d.to_dict() for d in self.districts],
            columns=list(DistrictCoverage.__dataclass_fields__),
        )

    def districts_geojson(self, decimals: int = 4) -> dict[str, Any]:
        """The districts with their figures as an RFC 7946 FeatureCollection (4
        decimals by default: the bundled polygons are on a 1e-4 degree grid)."""
        if not self.districts:
            raise ConfigurationError("this report has no districts: ask report(by='district')")
        return districts_geojson(
            self.districts,
            radius_km=self.radius_km,
            drive_minutes=self.drive_minutes,
            decimals=decimals,
        )

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


def _check_by(by: Any) -> set[str]:
    levels = [by] if isinstance(by, str) else list(by) if isinstance(by, Iterable) else [by]
    bad = [lv for lv in levels if lv not in REPORT_LEVELS]
    if bad or not levels:
        raise ConfigurationError(
            f"by must be one or more of {', '.join(REPORT_LEVELS)}, got {by!r}"
        )
    return set(levels)


def _check_minutes(value: Any) -> float:
    if not _is_real(value) or not 0 <= float(value) <= 24 * 60:
        raise ConfigurationError(
            f"drive_minutes must be a number of minutes from 0 to 1440, got {value!r}"
        )
    return float(value)


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
    _district_base: _DistrictBase | None
    _district_lock: threading.Lock

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
        # by district: built once, on the first report that asks (thread-safe)
        self._district_base = None
        self._district_lock = threading.Lock()

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

    def _curve(self, radii: Iterable[float]) -> pd.DataFrame:
        rows = []
        for r in radii:
            # 0 is a valid point of a curve (who has an outlet on the spot), not a radius
            if not (_is_real(r) and float(r) == 0):
                _check_radius(r, "radii")
            i = int(np.searchsorted(self._d1_sorted, float(r), side="right"))
            cov = int(self._cum_pop[i - 1]) if i else 0
            i = int(np.searchsorted(self._d2_sorted, float(r), side="right"))
            bak = int(self._cum_pop2[i - 1]) if i else 0
            rows.append(
                {
                    "radius_km": float(r),
                    "population_covered": cov,
                    "share_covered": _share(cov, self.population_total),
                    "population_backup": bak,
                    "share_backup": _share(bak, self.population_total),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "radius_km",
                "population_covered",
                "share_covered",
                "population_backup",
                "share_backup",
            ],
        )

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

    def district_base(self) -> _DistrictBase:
        """The radius-independent part of coverage by district, built once (~1 s: the
        district polygons are loaded and every place located in them)."""
        if self._district_base is None:
            with self._district_lock:
                if self._district_base is None:
                    self._district_base = _build_base(self)
        return self._district_base

    def districts(
        self, radius_km: float | None = None, *, drive_minutes: float | None = None
    ) -> list[DistrictCoverage]:
        """Coverage of every district at ``radius_km`` (or ``drive_minutes``, an estimate)."""
        r = self.radius_for(radius_km, drive_minutes)
        return _rows(self, self.district_base(), self.d1 <= r, self.d2 <= r)

    def gaps(
        self,
        radius_km: float | None = None,
        limit: int | None = None,
        *,
        drive_minutes: float | None = None,
    ) -> list[Gap]:
        """Uncovered places, largest population first (``limit``: at most that many), at
        ``radius_km`` or at the radius reached in ``drive_minutes`` (an estimate)."""
        r = self.radius_for(radius_km, drive_minutes)
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
        by: str | Sequence[str] = ("city", "province"),
    ) -> CoverageReport:
        """Coverage at ``radius_km`` (or the radius reached in ``drive_minutes``, an
        estimate); gaps limited to ``gap_limit`` (default: all). ``by`` names the
        breakdowns, among ``city``, ``province`` and ``district``: per city and per
        province are always there (cheap); ``district`` adds :attr:`CoverageReport.districts`."""
        wanted = _check_by(by)
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
            districts=(
                _rows(self, self.district_base(), covered, backup) if "district" in wanted else []
            ),
        )

    def curve(
        self,
        radii: Iterable[float] | None = None,
        *,
        drive_minutes: Iterable[float] | None = None,
    ) -> pd.DataFrame:
        """Population covered (and backed up) per radius, or per drive time: a coverage
        curve. Give ``radii`` (km) or ``drive_minutes`` (each converted with the model's
        :class:`~locator.drive.DriveTimeModel`, an estimate; the frame then has a
        ``drive_minutes`` column too)."""
        if (radii is None) == (drive_minutes is None):
            raise ConfigurationError("give radii or drive_minutes (one of them)")
        if drive_minutes is not None:
            minutes = [_check_minutes(m) for m in drive_minutes]
            frame = self._curve([self.drive_model.reach_km(m) if m >= 0 else -1.0 for m in minutes])
            frame.insert(0, "drive_minutes", minutes)
            return frame
        return self._curve(list(radii or []))


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
    when several radii are needed. See :mod:`locator.coverage` for the definitions.
    """
    radius = radius_for(radius_km, drive_minutes, drive_model)  # validate before the work
    model = CoverageModel(
        outlets, places, cities, authorized_only=authorized_only, drive_model=drive_model
    )
    if drive_minutes is not None:
        return model.report(drive_minutes=drive_minutes, gap_limit=gap_limit)
    return model.report(radius, gap_limit=gap_limit)
