"""Batch assignment: every row of a table to its nearest outlet(s).

The one per-chunk function of ``locator assign``, whatever the engine: the pandas
engine (the CLI's chunked CSV reader, :mod:`locator.cli._assign`) and the Dask engine
(:mod:`locator.batch_dask`) both call :func:`assign_block` on each chunk or partition,
so the two give the same columns, values and statuses.

:func:`assign_block` checks a chunk's columns, assigns the rows with valid coordinates
(exact WGS-84 geodesic, :meth:`locator.index.OutletIndex.nearest_many`), keeps every
other row with a status (``bad_coordinates``, ``address_not_found``) and empty result
columns, and returns the chunk with the result columns of :func:`added_columns`, in
output order, with the mask of unassigned rows (for row numbers in messages).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigurationError

__all__ = [
    "STATUS_AMBIGUOUS",
    "STATUS_BAD",
    "STATUS_NOT_FOUND",
    "STATUS_OK",
    "AssignSpec",
    "Block",
    "Geocache",
    "added_columns",
    "assign_block",
]

STATUS_OK = "ok"
STATUS_AMBIGUOUS = "ok_ambiguous_address"
STATUS_BAD = "bad_coordinates"
STATUS_NOT_FOUND = "address_not_found"
_ADDRESS_CACHE_MAX = 100_000
_OUT_FIELDS = ("outlet_id", "name", "kind", "city", "district")


class Geocache:
    """Geocode each distinct address once (bounded memory)."""

    def __init__(self, geocoder: Any) -> None:
        self.geocoder = geocoder
        self.cache: dict[str, tuple[float, float, bool] | None] = {}

    def lookup(self, text: str) -> tuple[float, float, bool] | None:
        text = text.strip()
        if not text:
            return None
        if text in self.cache:
            return self.cache[text]
        from .errors import GeocodeError

        try:
            loc = self.geocoder.geocode(text)
        except GeocodeError:
            loc = None
        value = None
        if loc is not None:
            raw = getattr(loc, "raw", None) or {}
            value = (float(loc.latitude), float(loc.longitude), bool(raw.get("ambiguous")))
        if len(self.cache) >= _ADDRESS_CACHE_MAX:
            self.cache.clear()
        self.cache[text] = value
        return value


def added_columns(k: int, address_col: str | None) -> tuple[str, ...]:
    """The columns assign adds to each row, in output order."""
    fields = (*_OUT_FIELDS, "distance_km", "drive_minutes", "meets_promise")
    out_names = [f"nearest{r}_{f}" for r in range(1, k + 1) for f in fields]
    added = ["assign_status", *out_names]
    if address_col:
        added[1:1] = ["geocoded_lat", "geocoded_lon"]
    return tuple(added)


@dataclasses.dataclass(frozen=True)
class AssignSpec:
    """What each chunk is assigned with (small and picklable: sent to Dask workers)."""

    source: str  # the input's name, for messages
    k: int = 1
    filters: dict = dataclasses.field(default_factory=dict)
    lat_col: str = "lat"
    lon_col: str = "lon"
    address_col: str | None = None
    coord_sys: str = "wgs84"

    @property
    def added(self) -> tuple[str, ...]:
        return added_columns(self.k, self.address_col)


class Block:
    """One assigned chunk: ``frame`` (input columns, then :func:`added_columns`), the
    mask ``bad`` of its unassigned rows and the number of ambiguous addresses."""

    __slots__ = ("ambiguous", "bad", "frame")

    def __init__(self, frame: pd.DataFrame, bad: np.ndarray, ambiguous: int) -> None:
        self.frame = frame
        self.bad = bad
        self.ambiguous = ambiguous


def check_columns(columns: list[str], spec: AssignSpec) -> None:
    """Refuse a chunk that lacks an input column or already has an output column
    (:class:`~locator.errors.ConfigurationError` naming them)."""
    needed = [spec.address_col] if spec.address_col else [spec.lat_col, spec.lon_col]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ConfigurationError(
            f"column(s) {', '.join(map(repr, missing))} not in {spec.source}; "
            f"columns are: {', '.join(map(str, columns))}"
        )
    clash = [c for c in spec.added if c in columns]
    if clash:
        raise ConfigurationError(f"{spec.source} already has output column(s): {', '.join(clash)}")


def assign_block(
    chunk: pd.DataFrame, index: Any, spec: AssignSpec, geocache: Geocache | None = None
) -> Block:
    """Assign one chunk (see the module docstring); ``index`` is an
    :class:`~locator.index.OutletIndex`, ``geocache`` is needed with ``address_col``."""
    columns = [str(c) for c in chunk.columns]
    check_columns(columns, spec)
    block, bad, ambiguous = _assign_chunk(chunk, index, spec, geocache)
    return Block(block[[*chunk.columns, *spec.added]], bad, ambiguous)


def _numbers(values: pd.Series) -> np.ndarray:
    """A column as float64: numbers as they are (Parquet), text parsed (CSV), anything
    else NaN (a bad coordinate)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(np.float64, na_value=np.nan)
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    return pd.to_numeric(text, errors="coerce").to_numpy(np.float64)


def _locate(
    chunk: pd.DataFrame, spec: AssignSpec, geocache: Geocache | None, block: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The WGS-84 (lat, lon) of each row, its status so far, the bad mask and the
    number of ambiguous addresses (geocoded columns are added to ``block``)."""
    from .crs import to_wgs84
    from .index import valid_coordinates

    status = np.full(len(chunk), STATUS_OK, dtype=object)
    if spec.address_col:
        if geocache is None:
            raise ConfigurationError("address_col needs a geocoder")
        found = [geocache.lookup(str(v)) for v in chunk[spec.address_col].tolist()]
        lat = np.array([f[0] if f else np.nan for f in found], dtype=np.float64)
        lon = np.array([f[1] if f else np.nan for f in found], dtype=np.float64)
        amb = np.array([bool(f and f[2]) for f in found], dtype=bool)
        status[amb] = STATUS_AMBIGUOUS
        bad = ~valid_coordinates(lat, lon)
        status[bad] = STATUS_NOT_FOUND
        block["geocoded_lat"] = np.round(lat, 6)
        block["geocoded_lon"] = np.round(lon, 6)
        return lat, lon, status, bad, int(amb.sum())
    lat = _numbers(chunk[spec.lat_col])
    lon = _numbers(chunk[spec.lon_col])
    bad = ~valid_coordinates(lat, lon)
    status[bad] = STATUS_BAD
    if spec.coord_sys != "wgs84" and (~bad).any():
        wlon, wlat = to_wgs84(lon[~bad], lat[~bad], spec.coord_sys)
        lon = lon.copy()
        lat = lat.copy()
        lon[~bad] = wlon
        lat[~bad] = wlat
    return lat, lon, status, bad, 0


def _assign_chunk(
    chunk: pd.DataFrame, index: Any, spec: AssignSpec, geocache: Geocache | None
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Assign one chunk; returns (chunk with result columns, bad-row mask, n ambiguous)."""
    n, k = len(chunk), spec.k
    block = chunk.copy()
    lat, lon, status, bad, ambiguous = _locate(chunk, spec, geocache, block)
    good = np.flatnonzero(~bad)
    pos = np.full((n, k), -1, dtype=np.intp)
    km = np.full((n, k), np.nan)
    if good.size:
        p, d = index.nearest_many(lat[good], lon[good], k=k, **spec.filters)
        pos[good] = p
        km[good] = np.where(np.isfinite(d), d, np.nan)
    block["assign_status"] = status
    outlets = index.outlets
    minutes = index.drive_model.minutes(km)
    for r in range(k):
        col = pos[:, r]
        has = col >= 0
        for field in _OUT_FIELDS:
            values = np.full(n, "", dtype=object)
            if field in outlets.columns and has.any():
                values[has] = outlets[field].to_numpy(dtype=object)[col[has]]
            block[f"nearest{r + 1}_{field}"] = values
        block[f"nearest{r + 1}_distance_km"] = np.round(km[:, r], 3)
        block[f"nearest{r + 1}_drive_minutes"] = np.round(minutes[:, r], 1)
        meets = np.full(n, "", dtype=object)
        meets[has] = np.where(minutes[has, r] <= index.drive_model.promise_minutes, "true", "false")
        block[f"nearest{r + 1}_meets_promise"] = meets
    return block, bad, ambiguous
