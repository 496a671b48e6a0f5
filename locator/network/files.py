"""The file way in: :func:`validate_outlets` turns a user's text table (as
:func:`locator.data.read_table` reads it) into the contract, with the checks that judge
what a person typed (lat/lon swapped, a point outside China)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import DataError, Problem
from .rules import (
    COORDINATE_COLUMNS,
    OUTLET_COLUMNS,
    REQUIRED_OUTLET_COLUMNS,
    Missing,
    _by_row,
    _categories,
    _coord_systems,
    _flags,
    _hours,
    _id_problems,
    _in_extent,
    _kinds,
    _mark,
    _norm_col,
    _text,
    _to_wgs84,
    _warn,
    coordinate_problems,
    valid_coordinates,
)


# --------------------------------------------------------------------------- files
def _parse_number(value: str) -> float | None:
    s = unicodedata.normalize("NFKC", value).strip()
    try:
        return float(s) if s else None
    except ValueError:
        return None


def _coordinate_text(
    raw: pd.DataFrame, missing: Missing, row_offset: int, skip: set[int]
) -> tuple[dict[str, NDArray[np.float64]], dict[str, NDArray[np.bool_]], list[Problem]]:
    """Parse the lat/lon text of a file (empty: missing; not a number): per column the
    numbers (NaN where unreadable), which cells read as a number, and the problems."""
    out = {c: np.full(len(raw), np.nan) for c in COORDINATE_COLUMNS}
    read = {c: np.zeros(len(raw), dtype=bool) for c in COORDINATE_COLUMNS}
    problems: list[Problem] = []
    cells = {c: raw[c].tolist() for c in COORDINATE_COLUMNS}  # not .iat per cell: slow
    for i in range(len(raw)):
        if i in skip:
            continue
        for col in COORDINATE_COLUMNS:
            v = str(cells[col][i])
            f = _parse_number(v)
            if not v.strip():
                problems.append(missing(i, col))
            elif f is None:
                problems.append(Problem(i + row_offset, col, v, "not a number"))
            else:
                out[col][i], read[col][i] = f, True
    return out, read, problems


def _swapped(
    lat: NDArray[np.float64], lon: NDArray[np.float64], shown: pd.Series, row_offset: int
) -> tuple[NDArray[np.bool_], list[Problem]]:
    """File check: rows whose lat/lon look swapped (lat out of range but a valid lon, or
    outside China when as given and inside when swapped)."""
    bad = np.zeros(lat.size, dtype=bool)
    problems = []
    valid = valid_coordinates(lat, lon)  # once for all rows, not per row
    for i in np.flatnonzero(np.isfinite(lat) & np.isfinite(lon)).tolist():
        la, lo = float(lat[i]), float(lon[i])
        if abs(la) > 90 and abs(lo) <= 90 and abs(la) <= 180:
            reason = f"latitude out of range; lat/lon look swapped (lon={lo})"
        elif valid[i] and not _in_extent(lo, la) and _in_extent(la, lo):
            reason = f"lat/lon look swapped: ({la}, {lo}) is outside China, ({lo}, {la}) is inside"
        else:
            continue
        bad[i] = True
        problems.append(Problem(i + row_offset, "lat", shown.iat[i], reason))
    return bad, problems


def _abroad(lat: NDArray[np.float64], lon: NDArray[np.float64], row_offset: int) -> list[Problem]:
    """File check: valid points outside China's rough extent (a warning, not an error)."""
    return [
        Problem(i + row_offset, "lat", f"{lat[i]}, {lon[i]}",
                "outside China's rough extent (kept: outlets abroad are legitimate)")
        for i in np.flatnonzero(valid_coordinates(lat, lon)).tolist()
        if not _in_extent(float(lon[i]), float(lat[i]))
    ]  # fmt: skip


def _separator_hint(headers: list[str]) -> str:
    """A hint when a CSV's one header holds another separator (a ';' export from a
    European-locale Excel, a tab-separated 'Unicode text' export)."""
    if len(headers) != 1:
        return ""
    for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
        if sep in headers[0]:
            return f"; the header is split by {label}: save the file as comma-separated CSV"
    return ""


_MANGLED = re.compile(r"(.+)\.[1-9][0-9]*")


def _display_headers(columns: Iterable[Any]) -> list[str]:
    """The headers as the user wrote them: no BOM or outer spaces, and pandas' renaming
    of a repeated header ("name", "name.1") undone for outlet columns, so a repeat is
    reported as such instead of loading as an extra column."""
    heads = [unicodedata.normalize("NFC", str(c)).lstrip("\ufeff").strip() for c in columns]
    present = set(heads)
    out = []
    for h in heads:
        m = _MANGLED.fullmatch(h)
        if m and m.group(1) in present and _norm_col(m.group(1)) in OUTLET_COLUMNS:
            h = m.group(1)
        out.append(h)
    return out


def _file_columns(
    frame: pd.DataFrame, errors: list[Problem], flagged: set[int], source: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table with canonical column names, and the headers read as another name.
    Raises (with ``errors`` so far) for a repeated or a missing required column."""
    headers = _display_headers(frame.columns)
    raw = frame.copy()
    raw.columns = [_norm_col(h) for h in headers]
    by_column: dict[str, list[str]] = {}
    for h, c in zip(headers, raw.columns, strict=True):
        by_column.setdefault(c, []).append(h)
    for c, hs in by_column.items():
        if len(hs) > 1:
            names = ", ".join(map(repr, hs[:-1])) + f" and {hs[-1]!r}"
            errors.append(Problem(None, c, None, f"headers {names} both mean {c!r}; keep one"))
    repeated = any(len(hs) > 1 for hs in by_column.values())
    missing = [c for c in REQUIRED_OUTLET_COLUMNS if c not in raw.columns]
    if len(flagged) < len(raw) or not flagged:
        found = ", ".join(map(str, frame.columns)) or "none"
        hint = _separator_hint(headers)
        for c in missing:
            errors.append(
                Problem(None, c, None, f"required column is missing (found: {found}){hint}")
            )
    if missing or repeated:
        raise DataError(errors, source=source)
    aliases = {
        h: c for h, c in zip(headers, raw.columns, strict=True) if c in OUTLET_COLUMNS and h != c
    }
    return raw, aliases


def _short_row(frame: pd.DataFrame, raw: pd.DataFrame) -> Callable[[int, str], str]:
    """``note(i, col)``: why the cell is empty when row ``i`` of a CSV is too short to
    reach ``col`` ("" otherwise)."""
    short: dict[int, int] = frame.attrs.get("short_rows") or {}
    n_header = frame.attrs.get("header_fields")
    position = {c: j for j, c in enumerate(raw.columns)}

    def note(i: int, col: str) -> str:
        if i in short and position.get(col, -1) >= short[i]:
            return f" (the row has {short[i]} fields, but the header has {n_header})"
        return ""

    return note


def validate_outlets(
    frame: pd.DataFrame,
    *,
    source: str = "outlets",
    problems: Iterable[Problem] = (),
    row_offset: int = 2,
) -> pd.DataFrame:
    """Validate and normalize a raw text table of outlets (every cell a string, as
    :func:`locator.data.read_table` gives); see :func:`locator.data.load_outlets`.

    ``row_offset`` maps the frame's positional index to the row numbers users see
    (2 for a CSV/XLSX with a header row, 1 for GeoJSON feature numbers). ``problems``
    (structural faults found while reading) are reported with the rows' own; rows
    they name get no row-level checks. Returns the validated table, marked as such
    (see :func:`outlets_frame`); raises :class:`DataError` listing every problem.
    """
    errors: list[Problem] = list(problems)
    skip = {p.row - row_offset for p in errors if p.row is not None}
    raw, aliases = _file_columns(frame, errors, skip, source)
    short = _short_row(frame, raw)

    def missing(i: int, col: str) -> Problem:
        return Problem(i + row_offset, col, "", "missing required value" + short(i, col))

    raw = raw.fillna("").astype(str)
    has_flags = "authorized" in raw.columns
    for c in OUTLET_COLUMNS:
        if c not in raw.columns:
            raw[c] = ""
    out = {c: _text(raw[c]) for c in raw.columns if c not in (*COORDINATE_COLUMNS, "authorized")}
    coords, read, found = _coordinate_text(raw, missing, row_offset, skip)
    lat, lon = coords["lat"], coords["lon"]
    swapped, swaps = _swapped(lat, lon, raw["lat"], row_offset)
    # The one range check, on the cells that read as numbers (0 stands in for the rest)
    # of the rows not already reported as swapped.
    ranges = coordinate_problems(
        *(np.where(read[c], coords[c], 0.0) for c in COORDINATE_COLUMNS),
        row_offset=row_offset,
        shown={c: raw[c].tolist() for c in COORDINATE_COLUMNS},
        skip=skip | set(np.flatnonzero(swapped).tolist()),
    )
    kinds, kind_problems = _kinds(out["kind"], row_offset, skip)
    flags, flag_problems, flag_notes = _flags(raw["authorized"] if has_flags else None,
                                              row_offset, skip)  # fmt: skip
    flag_problems = [
        replace(p, reason=p.reason + short(p.row - row_offset, "authorized"))
        if p.row is not None and p.value == "" else p
        for p in flag_problems
    ]  # fmt: skip
    systems, sys_problems = _coord_systems(out["coord_sys"], row_offset, skip)
    errors += _by_row(
        _id_problems(out["outlet_id"], out["name"], missing, row_offset, skip)
        + found + swaps + ranges + kind_problems + flag_problems + sys_problems
    )  # fmt: skip
    if errors:
        raise DataError(errors, source=source)
    cats, cat_notes = _categories(out["categories"], row_offset)
    hours, hour_notes = _hours(out["hours"], row_offset)
    _to_wgs84(lat, lon, systems)
    rows = _by_row(_abroad(lat, lon, row_offset) + cat_notes + hour_notes)
    notes = [*frame.attrs.get("warnings", []), *map(str, rows), *flag_notes]
    result = pd.DataFrame(out)
    result["kind"] = kinds
    result["categories"] = cats
    result["hours"] = hours
    result["authorized"] = np.ones(len(raw), dtype=bool) if flags is None else flags
    result["coord_sys"] = "wgs84"
    result["lat"] = lat
    result["lon"] = lon
    extras = [c for c in result.columns if c not in OUTLET_COLUMNS]
    result = result[[*OUTLET_COLUMNS, *extras]].reset_index(drop=True)
    result.attrs["column_aliases"] = aliases
    _warn(notes, source)
    return _mark(result, source, notes)
