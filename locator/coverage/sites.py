"""Site suggestions: where ``p`` new outlets would newly cover the most people.

Greedy maximal coverage on a plain sparse matrix (:func:`greedy_max_coverage`), with
existing outlets fixed; :func:`suggest_sites` is the DataFrame convenience over it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from ..crs import unit_vectors
from ..drive import DriveTimeModel
from ..errors import ConfigurationError
from ..index import R_LO_KM, OutletIndex
from ._common import (
    _GEOD,
    _authorized_mask,
    _check_count,
    _check_radius,
    _coords,
    _frame,
    _population,
    _share,
    _text,
    radius_for,
)


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


def order_demand(orders: pd.DataFrame, *, grid_deg: float = 0.01) -> pd.DataFrame:
    """Orders as demand points for :func:`suggest_sites`: one point per grid cell of
    ``grid_deg`` degrees (0.01 deg: about 1 km) holding orders, at the orders' mean
    position, weighted by their count (``population`` column = orders; a ``weight``
    column, when present, is summed instead of counting 1 per order).

    ``orders`` needs WGS-84 ``lat``/``lon`` (the input columns of ``locator assign``'s
    output are kept, so assigned orders qualify); a missing or bad coordinate is a
    :class:`~locator.errors.DataError` naming the row, never a dropped order."""
    orders = _frame(orders, "orders")
    lat, lon = _coords(orders, "orders")
    if not (isinstance(grid_deg, int | float) and math.isfinite(grid_deg) and grid_deg > 0):
        raise ConfigurationError(f"grid_deg must be a number > 0, got {grid_deg!r}")
    if "weight" in orders.columns:
        w = pd.to_numeric(orders["weight"], errors="coerce").to_numpy(np.float64)
        bad = ~(np.isfinite(w) & (w >= 0))
        if bad.any():
            from ..errors import DataError, Problem

            raise DataError(
                [Problem(int(i) + 2, "weight", orders["weight"].iat[int(i)],
                         "weight must be a number >= 0") for i in np.flatnonzero(bad)],
                source="orders",
            )  # fmt: skip
    else:
        w = np.ones(lat.size)
    cells = pd.DataFrame(
        {
            "gy": np.floor(lat / grid_deg).astype(np.int64),
            "gx": np.floor(lon / grid_deg).astype(np.int64),
            "lat": lat,
            "lon": lon,
            "w": w,
        }
    )
    out = cells.groupby(["gy", "gx"], sort=True).agg(
        lat=("lat", "mean"), lon=("lon", "mean"), population=("w", "sum"), orders=("w", "size")
    )
    out = out.reset_index(drop=True)
    out["population"] = np.round(out["population"].to_numpy()).astype(np.int64)
    return out


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
    #: What the weights are: "population" (places) or "orders" (``demand=`` orders;
    #: then every ``population_*`` figure counts orders).
    demand: str = "population"

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
    radius_km: float | None = None,
    candidates: pd.DataFrame | None = None,
    *,
    authorized_only: bool = True,
    drive_minutes: float | None = None,
    drive_model: DriveTimeModel | None = None,
    demand: pd.DataFrame | None = None,
) -> SiteSuggestion:
    """Add ``p`` sites to the existing (authorized) outlets, maximising newly covered people.

    ``candidates`` is a frame with ``lat``/``lon`` (and optionally ``candidate_id`` or
    ``place_id``); default: every place. Existing outlets stay fixed; a place counts as
    covered when any outlet or chosen site is within ``radius_km`` geodesic km. Solved by
    :func:`greedy_max_coverage` (exact optimum is NP-hard; the tests compare the greedy
    answer with an exact PuLP/CBC model on small instances). Each site reports the nearest
    place (name, province, city) so a planner can find it on a map.

    Give ``radius_km`` (default 50) or ``drive_minutes`` (the radius reached in that
    time by ``drive_model``, default :class:`~locator.drive.DriveTimeModel`: an estimate).

    ``demand``: orders (a frame with ``lat``/``lon``, see :func:`order_demand`) to weight
    by instead of the places' population: sites then go where the orders not yet within
    reach are, and every ``population_*`` figure counts orders (``demand="orders"`` in
    the result). Candidates stay the places unless ``candidates`` is given.
    """
    p = _check_count(p, "p")
    r = radius_for(radius_km, drive_minutes, drive_model)
    outlets = _frame(outlets, "outlets")
    places = _frame(places, "places")
    if demand is None:
        plat, plon = _coords(places, "places")
        pop = _population(places, "places")
    else:
        points = order_demand(demand)
        plat = points["lat"].to_numpy(np.float64)
        plon = points["lon"].to_numpy(np.float64)
        pop = points["population"].to_numpy(np.int64)
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
        near_pos, _ = OutletIndex(places.assign(authorized=True), workers=1).nearest_many(
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
        demand="population" if demand is None else "orders",
    )
