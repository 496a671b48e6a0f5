"""The one outlet contract: what an outlet table is, checked in one place.

Every decision about an outlet row is made here and nowhere else:

* the columns (:data:`OUTLET_COLUMNS`, :data:`REQUIRED_OUTLET_COLUMNS`,
  :data:`OUTLET_DTYPES`) and the headers read as them (:data:`COLUMN_ALIASES`);
* what counts as yes or no (:func:`parse_flag`, :func:`parse_flags`): ``true/false``,
  ``yes/no``, ``y/n``, ``t/f``, ``1/0``, ``是/否``, ``授权/已授权/未授权`` in any case, real
  booleans and the numbers 1 and 0; anything else, an empty cell included, is a
  :class:`~locator.errors.DataError` naming the row and the value. Authorization is
  the flag the product is about ("authorized outlets only"), so a blank never grants
  it. A table with **no** ``authorized`` column at all (a brand's own network, the
  common case) counts every outlet as authorized, and says so in a
  :class:`DataWarning` (also in ``attrs["warnings"]``);
* what a valid coordinate is (:func:`valid_coordinates`, :func:`coordinate_problems`):
  finite, ``|lat| <= 90``, ``|lon| <= 180``, one message per column;
* the kind and category spellings (:func:`normalize_kind`, :func:`normalize_category`).

Two ways in, one contract out:

* :func:`validate_outlets` checks a raw *text* table as read from a user's file (the
  loaders in :mod:`locator.data` call it): every rule above, plus the file checks
  that judge what a person typed (lat/lon swapped, a point outside China: a warning).
* :func:`outlets_frame` (also :meth:`Network.coerce`) is the entry point for every
  consumer (:class:`~locator.index.OutletIndex`, :func:`~locator.audit.audit_outlets`,
  coverage, maps, the API, the app). A frame the loader produced carries its checksum
  in ``attrs`` and comes back as it is (no re-validation; a frame changed since fails
  the checksum and is validated again). Any other frame, e.g. one built in code, is
  validated by the same step functions: ``lat``/``lon`` are required, the other
  outlet columns are checked and normalized when present, and a missing
  ``authorized`` column is added (all authorized, with the warning above). The file
  checks are left out: a frame built in code may hold points anywhere on Earth.

A :class:`Network` is that validated frame with its ``source`` and ``version`` (a
checksum of the content).

Layout: :mod:`.rules` holds the decisions and the steps both ways share,
:mod:`.files` the file way in, this module the frame way in and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import ConfigurationError, DataError, Problem
from . import files, rules  # noqa: F401 (the submodules, e.g. for tests)
from .files import validate_outlets
from .rules import (
    _MARK,
    CATEGORIES,
    CHINA_EXTENT,
    COLUMN_ALIASES,
    COORDINATE_COLUMNS,
    FALSE_WORDS,
    KINDS,
    OUTLET_COLUMNS,
    OUTLET_DTYPES,
    REQUIRED_OUTLET_COLUMNS,
    TRUE_WORDS,
    DataWarning,
    _as_float,
    _by_row,
    _categories,
    _coord_systems,
    _flags,
    _hours,
    _id_problems,
    _kinds,
    _mark,
    _text,
    _to_wgs84,
    _validated,
    _warn,
    checked_coordinates,
    coordinate_problems,
    normalize_category,
    normalize_kind,
    parse_flag,
    parse_flags,
    valid_coordinates,
)

__all__ = [
    "CATEGORIES",
    "CHINA_EXTENT",
    "COLUMN_ALIASES",
    "COORDINATE_COLUMNS",
    "FALSE_WORDS",
    "KINDS",
    "OUTLET_COLUMNS",
    "OUTLET_DTYPES",
    "REQUIRED_OUTLET_COLUMNS",
    "TRUE_WORDS",
    "DataWarning",
    "Network",
    "checked_coordinates",
    "coordinate_problems",
    "normalize_category",
    "normalize_kind",
    "outlets_frame",
    "parse_flag",
    "parse_flags",
    "valid_coordinates",
    "validate_outlets",
]


# --------------------------------------------------------------------------- frames
def _frame_columns(frame: Any, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(f"outlets must be a pandas DataFrame, got {type(frame).__name__}")
    if not frame.columns.is_unique:
        dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise DataError([Problem(None, c, None, "duplicate column") for c in dups], source=source)
    missing = [c for c in COORDINATE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            [Problem(None, c, None, "missing column (required: lat, lon)") for c in missing],
            source=source,
        )
    return frame.reset_index(drop=True)


def _validate_frame(frame: Any, source: str = "outlets") -> pd.DataFrame:
    """A frame built in code, checked by the same steps as a file (the file checks
    left out): lat/lon required, other outlet columns checked when present, column
    order and other columns kept. See the module docstring."""
    df = _frame_columns(frame, source)
    skip: set[int] = set()
    lat = _as_float(df["lat"].to_numpy(dtype=object))
    lon = _as_float(df["lon"].to_numpy(dtype=object))
    shown = {"lat": df["lat"].tolist(), "lon": df["lon"].tolist()}
    errors = coordinate_problems(lat, lon, shown=shown)
    text = {
        c: _text(df[c])
        for c in ("outlet_id", "kind", "coord_sys", "categories", "hours")
        if c in df
    }

    def missing(i: int, col: str) -> Problem:
        return Problem(i + 2, col, "", "missing required value")

    if "outlet_id" in text:
        errors += _id_problems(text["outlet_id"], None, missing, 2, skip)
    flags, flag_problems, notes = _flags(df.get("authorized"), 2, skip)
    errors += flag_problems
    if "kind" in text:
        kinds, kind_problems = _kinds(text["kind"], 2, skip)
        errors += kind_problems
    if "coord_sys" in text:
        systems, sys_problems = _coord_systems(text["coord_sys"], 2, skip)
        errors += sys_problems
    if errors:
        raise DataError(_by_row(errors), source=source)
    out = df.copy(deep=False)
    if "coord_sys" in text:
        _to_wgs84(lat, lon, systems)
        out["coord_sys"] = "wgs84"
    out["lat"], out["lon"] = lat, lon
    out["authorized"] = np.ones(len(df), dtype=bool) if flags is None else flags
    if "kind" in text:
        out["kind"] = kinds
    if "categories" in text:
        cats, cat_notes = _categories(text["categories"], 2)
        out["categories"] = cats
        notes += [str(p) for p in cat_notes]
    if "hours" in text:
        hours, hour_notes = _hours(text["hours"], 2)
        out["hours"] = hours
        notes += [str(p) for p in hour_notes]
    # Notes a loader made (kept in attrs of a frame derived from its table) are not
    # repeated: only what this validation finds.
    _warn(notes, source)
    return _mark(out, source, notes)


# --------------------------------------------------------------------------- the value
@dataclass(frozen=True, eq=False)
class Network:
    """A validated outlet table (:data:`OUTLET_DTYPES` for the outlet columns), where it
    came from (``source``) and ``version``, a checksum of its content (equal content,
    equal version). Made by the loaders (:func:`locator.data.load_network`) or
    :meth:`coerce`; pass it (or its ``frame``) to any consumer."""

    frame: pd.DataFrame
    source: str
    version: str

    @classmethod
    def coerce(cls, obj: Network | pd.DataFrame, *, source: str = "outlets") -> Network:
        """``obj`` as a Network: a Network or a validated frame as it is (no checks
        repeated), any other frame validated (see the module docstring)."""
        if isinstance(obj, Network):
            if _validated(obj.frame):
                return obj
            obj = obj.frame
        if isinstance(obj, pd.DataFrame) and _validated(obj):
            frame = obj
        else:
            frame = _validate_frame(obj, source)
        return cls(frame, str(frame.attrs.get("source", source)), frame.attrs[_MARK])

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def authorized(self) -> NDArray[np.bool_]:
        """Per outlet: is it authorized?"""
        return self.frame["authorized"].to_numpy(dtype=bool)

    @property
    def warnings(self) -> list[str]:
        """Notes for the user (outlets abroad, the no-``authorized``-column assumption)."""
        return list(self.frame.attrs.get("warnings", []))


def outlets_frame(obj: Network | pd.DataFrame, *, source: str = "outlets") -> pd.DataFrame:
    """The validated outlet frame of a :class:`Network` or a frame: **the** entry point
    for every consumer (see the module docstring). Cheap for what a loader produced;
    any other frame is validated (raises :class:`DataError` listing every bad row,
    :class:`~locator.errors.ConfigurationError` for something that is not a frame)."""
    return Network.coerce(obj, source=source).frame
