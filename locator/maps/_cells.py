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
from ..network import checked_coordinates, parse_flag


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
    """A yes/no cell read by the outlet contract (:func:`locator.network.parse_flag`);
    a missing value (no such column in a results or gaps frame) is ``default``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return default
    return parse_flag(value)


def _require(df: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            [Problem(None, c, None, "required column is missing") for c in missing],
            source=source,
        )


def _coords(df: pd.DataFrame, source: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Validated float ``lat``/``lon`` arrays (the outlet contract's one check,
    :func:`locator.network.checked_coordinates`); every bad row is reported at once."""
    return checked_coordinates(df, source=source)


def _bounds(lats: Iterable[float], lons: Iterable[float]) -> list[list[float]] | None:
    la = np.asarray(list(lats), dtype=float)
    lo = np.asarray(list(lons), dtype=float)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not ok.any():
        return None
    return [[float(la[ok].min()), float(lo[ok].min())], [float(la[ok].max()), float(lo[ok].max())]]
