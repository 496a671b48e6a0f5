"""Coverage and gap analysis for planners: population within reach, gaps, service areas, new sites.

Three jobs, one module each, plain DataFrames in and small result dataclasses out (the
app, the CLI and the notebooks call the same functions; import them from here):

* :mod:`~locator.coverage.report`: :class:`CoverageModel` / :func:`coverage_report`, who
  is within reach of an **authorized** outlet, nationally, per listed city and per
  province; backup coverage (two outlets in reach); population-weighted distance; the
  largest uncovered places; listed cities with no authorized outlet of their own; per
  district with ``report(by="district")`` (:mod:`~locator.coverage.districts`: demand
  located in the district polygons, "no data" where none is; RFC 7946 export); the
  coverage curve against radius or drive time (:meth:`CoverageModel.curve`).
* :mod:`~locator.coverage.areas`: :func:`service_areas`, geodesic circles around outlets,
  dissolved per city, province and nation, as RFC 7946 GeoJSON with ellipsoidal areas.
* :mod:`~locator.coverage.sites`: :func:`suggest_sites`, where ``p`` new outlets would
  newly cover the most people (greedy maximal coverage, existing outlets fixed).

Limits, input checks and small helpers shared by the three live in
:mod:`~locator.coverage._common`.

Definitions
===========
* **Demand** is the population of the places table (GeoNames places, each a point).
  A place is *covered* at radius ``r`` when its geodesic (WGS-84) distance to the
  nearest authorized outlet is ``<= r`` (inclusive); *backup-covered* when its second
  nearest is too.
* **Drive time** is converted to a radius with
  :meth:`locator.drive.DriveTimeModel.reach_km`: an **estimate** (circuity factor and
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

# Importable as before (not part of __all__): the limits and the Level type.
from ._common import (  # noqa: F401
    DEFAULT_RADIUS_KM,
    DEFAULT_VERTICES,
    GEOJSON_DECIMALS,
    MAX_RADIUS_KM,
    radius_for,
)
from .areas import (
    Level,  # noqa: F401
    ServiceArea,
    ServiceAreas,
    geodesic_area_km2,
    geodesic_circle,
    geometry_to_geojson,
    service_areas,
)
from .districts import DistrictCoverage, districts_geojson
from .report import (
    AreaCoverage,
    CityWithoutOutlet,
    CoverageModel,
    CoverageReport,
    Gap,
    coverage_report,
    gaps_frame,
)
from .sites import (
    SiteSuggestion,
    SuggestedSite,
    coverage_matrix,
    greedy_max_coverage,
    order_demand,
    suggest_sites,
)

__all__ = [
    "AreaCoverage",
    "CityWithoutOutlet",
    "CoverageModel",
    "CoverageReport",
    "DistrictCoverage",
    "Gap",
    "ServiceArea",
    "ServiceAreas",
    "SiteSuggestion",
    "SuggestedSite",
    "coverage_matrix",
    "coverage_report",
    "districts_geojson",
    "gaps_frame",
    "geodesic_area_km2",
    "geodesic_circle",
    "geometry_to_geojson",
    "greedy_max_coverage",
    "order_demand",
    "radius_for",
    "service_areas",
    "suggest_sites",
]
