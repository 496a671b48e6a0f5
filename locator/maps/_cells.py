"""Reading table cells for the map builders: display text, numbers, yes/no, coordinates.

Kept apart so every layer reads a cell the same way and reports bad coordinates with
one message (row number, column, value, reason).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, Problem


def _text(value: Any) -> str:
    """A display string for a cell: NaN/None -> '', floats that are ints -> int."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if value is pd.NA:
        return ""
    return str(value)


def _float(value: Any) -> float:
    """``float(value)``, or NaN when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with string keys."""
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def _bool(value: Any, default: bool = True) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return bool(value)


def _require(df: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            [Problem(None, c, None, "required column is missing") for c in missing],
            source=source,
        )


def _coords(df: pd.DataFrame, source: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Validated float ``lat``/``lon`` arrays; every bad row is reported at once."""
    _require(df, ("lat", "lon"), source)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        problems = [
            Problem(
                int(i) + 2,
                "lat/lon",
                f"{df['lat'].iloc[i]}, {df['lon'].iloc[i]}",
                "not a valid WGS-84 coordinate",
            )
            for i in np.flatnonzero(bad)
        ]
        raise DataError(problems, source=source)
    return lat, lon


def _bounds(lats: Iterable[float], lons: Iterable[float]) -> list[list[float]] | None:
    la = np.asarray(list(lats), dtype=float)
    lo = np.asarray(list(lons), dtype=float)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not ok.any():
        return None
    return [[float(la[ok].min()), float(lo[ok].min())], [float(la[ok].max()), float(lo[ok].max())]]
