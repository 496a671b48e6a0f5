"""Shared pieces of :mod:`locator.coverage`: limits, input checks, small numeric helpers.

Every public function of the package validates its arguments with these, so a bad
radius, count, coordinate, population or ``authorized`` value gets the same message
whichever entry point it came through.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Geod

from ..drive import DriveTimeModel
from ..errors import ConfigurationError, DataError, Problem
from ..network import checked_coordinates, outlets_frame

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
    :class:`~locator.drive.DriveTimeModel`). Neither given: :data:`DEFAULT_RADIUS_KM`.
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
    """Float lat/lon arrays; DataError listing every bad row (the outlet contract's one
    coordinate check, :func:`locator.network.checked_coordinates`)."""
    return checked_coordinates(df, source=source)


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
    """Which outlets count: the outlet contract decides (:func:`locator.network.outlets_frame`:
    one flag parser; no ``authorized`` column means every outlet, with a warning)."""
    if not isinstance(authorized_only, bool | np.bool_):
        raise ConfigurationError(f"authorized_only must be True or False, got {authorized_only!r}")
    if not authorized_only:
        return np.ones(len(outlets), dtype=bool)
    return outlets_frame(outlets)["authorized"].to_numpy(dtype=bool)


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
