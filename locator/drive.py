"""A drive-time **estimate** from geodesic distance, against the on-site promise.

:class:`DriveTimeModel` turns the exact geodesic km that :class:`~locator.index.OutletIndex`
measures into estimated driving minutes (circuity factor and piecewise speeds) and says
whether the on-site promise is met. It is a planning estimate, not a routing result.
It depends on nothing else in the package (the index imports it, never the reverse).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ConfigurationError

__all__ = ["DEFAULT_CIRCUITY", "DriveTimeModel"]

#: Mean detour index of 25 Chinese cities (Annals of GIS 27(4), 2021; see DriveTimeModel).
DEFAULT_CIRCUITY = 1.32


@dataclass(frozen=True)
class DriveTimeModel:
    """An **estimate** of driving time from geodesic distance.

    Straight-line distance understates road distance, so road km are estimated as
    ``geodesic_km * circuity``. The default circuity, **1.32**, is the mean detour
    index (network distance / straight-line distance) measured across 25 Chinese
    cities in "Quantifying the relationships between network distance and straight-line
    distance: applications in spatial bias correction", *Annals of GIS* 27(4): 351-369
    (2021), doi:10.1080/19475683.2021.1966503 (mean 1.324; the study also finds short
    trips inside a city more circuitous than long ones, so the estimate is optimistic
    for the first few km). Before this it was 1.35, from the 1.2-1.4 range reported for
    national road networks (Ballou, Rahardja & Sakai, 2002, *Transportation Research A*
    36: 843-848).

    Speed is piecewise: the first ``urban_km`` road km (leaving a city centre, where
    outlets are) at ``urban_kmh``, the rest at ``highway_kmh``; ``overhead_minutes``
    is added for dispatch and parking. The on-site promise for business customers is
    2 hours (``promise_minutes=120``; after warranty 4 h, any visit 24 h). With the
    defaults, 2 hours reaches about 91 geodesic km (120 road km).

    These are *estimates* for planning and for ranking answers, not a routing result:
    traffic, ferries, mountain roads and rivers are not modelled.
    """

    circuity: float = DEFAULT_CIRCUITY
    urban_km: float = 15.0
    urban_kmh: float = 30.0
    highway_kmh: float = 70.0
    overhead_minutes: float = 0.0
    promise_minutes: float = 120.0

    def __post_init__(self) -> None:
        checks = {
            "circuity": (self.circuity, 1.0),
            "urban_km": (self.urban_km, 0.0),
            "urban_kmh": (self.urban_kmh, None),
            "highway_kmh": (self.highway_kmh, None),
            "overhead_minutes": (self.overhead_minutes, 0.0),
            "promise_minutes": (self.promise_minutes, 0.0),
        }
        for name, (value, minimum) in checks.items():
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
            ok = ok and (value > 0 if minimum is None else value >= minimum)
            if not ok:
                bound = "> 0" if minimum is None else f">= {minimum:g}"
                raise ConfigurationError(
                    f"DriveTimeModel.{name} must be a finite number {bound}, got {value!r}"
                )

    def minutes(self, geodesic_km: ArrayLike) -> NDArray[np.float64]:
        """Estimated drive minutes for geodesic distances in km (inf stays inf, NaN stays NaN)."""
        km = np.asarray(geodesic_km, dtype=np.float64)
        road = km * self.circuity
        urban = np.minimum(road, self.urban_km)
        rest = np.maximum(road - self.urban_km, 0.0)
        return self.overhead_minutes + 60.0 * (urban / self.urban_kmh + rest / self.highway_kmh)

    def meets_promise(self, geodesic_km: ArrayLike) -> NDArray[np.bool_]:
        """Whether the estimated drive time is within ``promise_minutes``."""
        return self.minutes(geodesic_km) <= self.promise_minutes

    def reach_km(self, minutes: float | None = None) -> float:
        """Geodesic km reachable within ``minutes`` (default: the promise); the inverse of
        :meth:`minutes`, handy for drawing service areas."""
        budget = (self.promise_minutes if minutes is None else float(minutes)) - (
            self.overhead_minutes
        )
        if budget <= 0:
            return 0.0
        urban_minutes = 60.0 * self.urban_km / self.urban_kmh
        if budget <= urban_minutes:
            road = budget / 60.0 * self.urban_kmh
        else:
            road = self.urban_km + (budget - urban_minutes) / 60.0 * self.highway_kmh
        return road / self.circuity

    def describe(self) -> str:
        """One line saying how the estimate is made (for captions and CLI output)."""
        over = f" + {self.overhead_minutes:g} min overhead" if self.overhead_minutes else ""
        return (
            f"Drive times are estimates: geodesic km x {self.circuity:g} circuity, first "
            f"{self.urban_km:g} road km at {self.urban_kmh:g} km/h, then "
            f"{self.highway_kmh:g} km/h{over}; promise = on site within "
            f"{self.promise_minutes:g} min."
        )
