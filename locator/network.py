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
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from . import crs
from .errors import ConfigurationError, DataError, LocatorError, Problem

__all__ = [
    "CATEGORIES",
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
    "coordinate_problems",
    "normalize_category",
    "normalize_kind",
    "outlets_frame",
    "parse_flag",
    "parse_flags",
    "valid_coordinates",
    "validate_outlets",
]

# --------------------------------------------------------------------------- columns
OUTLET_COLUMNS = (
    "outlet_id", "name", "kind", "province", "city", "district", "address",
    "lat", "lon", "phone", "hours", "categories", "authorized", "coord_sys",
)  # fmt: skip
#: Columns a file must have (a frame built in code needs only ``lat`` and ``lon``).
REQUIRED_OUTLET_COLUMNS = ("outlet_id", "name", "lat", "lon")
COORDINATE_COLUMNS = ("lat", "lon")
#: The dtype of each column of a validated table: text is ``object`` holding ``str``.
OUTLET_DTYPES: dict[str, str] = {
    c: {"lat": "float64", "lon": "float64", "authorized": "bool"}.get(c, "object")
    for c in OUTLET_COLUMNS
}
KINDS = ("service_center", "repair_point")
CATEGORIES = ("refrigerator", "washer", "air_conditioner", "water_heater", "tv")
#: China's rough extent (incl. Hong Kong, Macau, Hainan, the Paracels), lon/lat degrees.
CHINA_EXTENT = (73.4, 15.5, 135.1, 53.6)

#: The outlet file's column names: each canonical column (the key) and the headers read
#: as it. Matching ignores case, spaces, hyphens and underscores and full-width forms
#: ("Outlet name", "outlet-name" and "OUTLET_NAME" are the same header), so only the
#: distinct spellings are listed. docs/outlet-format.md documents the table; a test keeps
#: the two in step.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "outlet_id": ("id", "outlet id", "网点编号", "网点id", "网点代码", "编号"),
    "name": ("outlet name", "名称", "网点名称", "网点名"),
    "kind": ("type", "outlet type", "类型", "网点类型"),
    "province": ("省", "省份"),
    "city": ("市", "城市"),
    "district": ("county", "区", "区县", "县区", "县"),
    "address": ("地址", "详细地址"),
    "lat": ("latitude", "纬度"),
    "lon": ("longitude", "lng", "long", "经度"),
    "phone": ("tel", "telephone", "电话", "联系电话"),
    "hours": ("opening hours", "营业时间"),
    "categories": ("category", "品类", "服务品类"),
    "authorized": ("authorised", "授权", "是否授权"),
    "coord_sys": ("crs", "coordinate system", "坐标系"),
}


class DataWarning(UserWarning):
    """A suspicious but legitimate value (an outlet outside China), or an assumption
    made for the user (no ``authorized`` column: every outlet counts as authorized)."""


def _header_key(name: Any) -> str:
    """The form headers are compared in: NFKC, no BOM, lower case, no spaces/-/_."""
    s = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff").strip().lower()
    return re.sub(r"[\s_\-]+", "", s)


_HEADER_LOOKUP: dict[str, str] = {
    _header_key(alias): col
    for col in OUTLET_COLUMNS
    for alias in (col, *COLUMN_ALIASES.get(col, ()))
}


def _norm_col(name: Any) -> str:
    """The canonical column for a header (see :data:`COLUMN_ALIASES`); other headers come
    back NFKC-normalized, lower case, with spaces and hyphens as underscores."""
    canonical = _HEADER_LOOKUP.get(_header_key(name))
    if canonical is not None:
        return canonical
    s = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff").strip().lower()
    return re.sub(r"[\s\-]+", "_", s)


# --------------------------------------------------------------------------- flags
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "是", "授权", "已授权"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "否", "未授权"})
_FLAG_HINT = "expected yes or no (true/false, yes/no, y/n, 1/0, 是/否, 授权/未授权)"
_EMPTY_FLAG = "empty; say yes or no (a blank never counts as authorized)"
_NO_FLAG_COLUMN = (
    "no 'authorized' column: every outlet counts as authorized "
    "(add the column, yes/no per row, to list unauthorized ones)"
)


def _flag(value: Any) -> bool | str:
    """``value`` as a flag, or the reason it is not one."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or value is pd.NA:
        return _EMPTY_FLAG
    if isinstance(value, numbers.Real):
        if math.isnan(value):
            return _EMPTY_FLAG
        return bool(value) if value in (0, 1) else _FLAG_HINT
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return _EMPTY_FLAG if not text else _FLAG_HINT


def parse_flag(value: Any, *, column: str = "authorized", row: int | None = None) -> bool:
    """One yes/no value (see the module docstring for the spellings) as a bool.

    Raises :class:`DataError` naming ``column``, ``row`` and the value otherwise (an
    empty value included).
    """
    got = _flag(value)
    if isinstance(got, str):
        raise DataError([Problem(row, column, _shown(value), got)], source=column)
    return got


def _flag_values(
    values: pd.Series, *, column: str, row_offset: int, skip: Iterable[int] = ()
) -> tuple[NDArray[np.bool_], list[Problem]]:
    """Flags of a column and the problem of each bad row (positions in ``skip`` are
    not checked). Each distinct value is parsed once."""
    if values.dtype == bool:
        return values.to_numpy(dtype=bool), []
    parsed = {}
    for v in values.drop_duplicates().tolist():
        parsed[_key(v)] = _flag(v)
    got = [parsed[_key(v)] for v in values.tolist()]
    skipped = set(skip)
    problems = [
        Problem(i + row_offset, column, _shown(values.iat[i]), g)
        for i, g in enumerate(got)
        if isinstance(g, str) and i not in skipped
    ]
    return np.array([g is True for g in got], dtype=bool), problems


def _shown(value: Any) -> Any:
    """A cell as a Problem can show it (pandas' NA has no truth value: None)."""
    return None if value is pd.NA else value


def _key(value: Any) -> Any:
    """A hashable key for a cell (NaN-safe: every NaN is the same key)."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return (type(value).__name__, value)


def parse_flags(
    values: Iterable[Any],
    *,
    column: str = "authorized",
    row_offset: int = 2,
    source: str = "outlets",
) -> NDArray[np.bool_]:
    """A column of yes/no values as a bool array; :class:`DataError` listing every bad
    row (numbered as a spreadsheet shows them: ``row_offset`` is the first row's)."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    flags, problems = _flag_values(series.reset_index(drop=True), column=column,
                                   row_offset=row_offset)  # fmt: skip
    if problems:
        raise DataError(problems, source=source)
    return flags


# --------------------------------------------------------------------------- coordinates
_COORD_RULE = {
    "lat": "latitude must be a finite number within -90..90",
    "lon": "longitude must be a finite number within -180..180",
}
_LIMIT = {"lat": 90.0, "lon": 180.0}


def _as_float(values: ArrayLike) -> NDArray[np.float64]:
    series = pd.Series(np.asarray(values, dtype=object).ravel())
    num = pd.to_numeric(series, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    return np.array(num, dtype=np.float64)  # a writable copy


def valid_coordinates(lats: ArrayLike, lons: ArrayLike) -> NDArray[np.bool_]:
    """Boolean mask of rows whose latitude/longitude are finite and in range.

    Non-numeric entries (text, None) count as invalid. Never raises for bad values.
    """
    la, lo = _as_float(lats), _as_float(lons)
    with np.errstate(invalid="ignore"):
        return np.isfinite(la) & np.isfinite(lo) & (np.abs(la) <= 90) & (np.abs(lo) <= 180)


def coordinate_problems(
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    row_offset: int = 2,
    shown: dict[str, Any] | None = None,
    skip: Iterable[int] = (),
) -> list[Problem]:
    """One :class:`Problem` per bad coordinate (row, column, value, the one rule), row by
    row. ``shown`` gives the values to report per column (the user's text) when they
    differ from the numbers; rows at positions in ``skip`` are not checked."""
    arrays = {"lat": _as_float(lat), "lon": _as_float(lon)}
    skipped = set(skip)
    bad: list[tuple[int, int, Problem]] = []
    for j, col in enumerate(COORDINATE_COLUMNS):
        arr = arrays[col]
        with np.errstate(invalid="ignore"):
            wrong = ~(np.isfinite(arr) & (np.abs(arr) <= _LIMIT[col]))
        for i in np.flatnonzero(wrong).tolist():
            if i in skipped:
                continue
            value = shown[col][i] if shown is not None else arr[i]
            bad.append((i, j, Problem(i + row_offset, col, value, _COORD_RULE[col])))
    return [p for _, _, p in sorted(bad, key=lambda t: (t[0], t[1]))]


def _in_extent(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = CHINA_EXTENT
    return x0 <= lon <= x1 and y0 <= lat <= y1


# --------------------------------------------------------------------------- kinds
_KIND_ALIASES = {
    "service_center": "service_center", "servicecenter": "service_center",
    "center": "service_center", "服务中心": "service_center", "维修中心": "service_center",
    "实体维修中心": "service_center", "repair_point": "repair_point",
    "repairpoint": "repair_point", "repair": "repair_point", "维修点": "repair_point",
    "特约维修点": "repair_point",
}  # fmt: skip
_CATEGORY_ALIASES = {
    "fridge": "refrigerator", "冰箱": "refrigerator", "washing_machine": "washer",
    "air_con": "air_conditioner", "aircon_": "air_conditioner", "电冰箱": "refrigerator",
    "洗衣机": "washer", "ac": "air_conditioner", "aircon": "air_conditioner",
    "空调": "air_conditioner", "热水器": "water_heater", "电视": "tv", "television": "tv",
}  # fmt: skip


def normalize_kind(value: str) -> str:
    """Canonical kind for a spelling users write (服务中心, "Service center", 维修点 ...);
    unknown values come back stripped, for the caller to reject."""
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    key = re.sub(r"[\s\-]+", "_", raw.lower())
    return _KIND_ALIASES.get(key) or _KIND_ALIASES.get(key.replace("_", "")) or raw


def normalize_category(value: str) -> str:
    """Canonical product category for a spelling users write (冰箱, fridge, "air con" ...)."""
    key = re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", str(value)).strip().lower())
    return _CATEGORY_ALIASES.get(key, key)


def _split_categories(value: str) -> list[str]:
    """A categories cell (``;``, ``,``, ``、``, ``|`` or ``/`` separated) as canonical
    names, in order, without repeats."""
    parts = re.split(r"[;,；，、|/]+", unicodedata.normalize("NFKC", value))
    return list(dict.fromkeys(normalize_category(p) for p in parts if p.strip()))


# --------------------------------------------------------------------------- steps
# Each step checks one thing of every row and returns (values, problems); rows at the
# positions in ``skip`` (a structural fault already reported) are not checked.
_Missing = Callable[[int, str], Problem]


def _text(values: pd.Series) -> pd.Series:
    """A text column: ``str`` cells, NFC, stripped, "" for missing."""
    return values.map(
        lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else v
    ).map(lambda v: unicodedata.normalize("NFC", str(v)).strip())


def _id_problems(
    ids: pd.Series, names: pd.Series | None, missing: _Missing, row_offset: int, skip: set[int]
) -> list[Problem]:
    """Every row needs an id (unique) and, when the table has names, a name."""
    out: list[Problem] = []
    seen: dict[str, int] = {}
    for i, oid in enumerate(ids.tolist()):
        if i in skip:
            continue
        row = i + row_offset
        if not oid:
            out.append(missing(i, "outlet_id"))
        elif oid in seen:
            out.append(
                Problem(row, "outlet_id", oid, f"duplicate id (first used in row {seen[oid]})")
            )
        else:
            seen[oid] = row
        if names is not None and not names.iat[i]:
            out.append(missing(i, "name"))
    return out


def _parse_number(value: str) -> float | None:
    s = unicodedata.normalize("NFKC", value).strip()
    try:
        return float(s) if s else None
    except ValueError:
        return None


def _coordinate_text(
    raw: pd.DataFrame, missing: _Missing, row_offset: int, skip: set[int]
) -> tuple[dict[str, NDArray[np.float64]], dict[str, NDArray[np.bool_]], list[Problem]]:
    """Parse the lat/lon text of a file (empty: missing; not a number): per column the
    numbers (NaN where unreadable), which cells read as a number, and the problems."""
    out = {c: np.full(len(raw), np.nan) for c in COORDINATE_COLUMNS}
    read = {c: np.zeros(len(raw), dtype=bool) for c in COORDINATE_COLUMNS}
    problems: list[Problem] = []
    for i in range(len(raw)):
        if i in skip:
            continue
        for col in COORDINATE_COLUMNS:
            v = str(raw[col].iat[i])
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
    for i in np.flatnonzero(np.isfinite(lat) & np.isfinite(lon)).tolist():
        la, lo = float(lat[i]), float(lon[i])
        if abs(la) > 90 and abs(lo) <= 90 and abs(la) <= 180:
            reason = f"latitude out of range; lat/lon look swapped (lon={lo})"
        elif valid_coordinates([la], [lo])[0] and not _in_extent(lo, la) and _in_extent(la, lo):
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


def _kinds(values: pd.Series, row_offset: int, skip: set[int]) -> tuple[list[str], list[Problem]]:
    """Canonical kinds (empty: ``service_center``); an unknown kind is a problem."""
    out, problems = [], []
    for i, v in enumerate(values.tolist()):
        kind = normalize_kind(v) if v else "service_center"
        if kind not in KINDS and i not in skip:
            problems.append(
                Problem(
                    i + row_offset, "kind", v, f"unknown kind; expected one of {', '.join(KINDS)}"
                )
            )
        out.append(kind)
    return out, problems


def _coord_systems(
    values: pd.Series, row_offset: int, skip: set[int]
) -> tuple[NDArray[np.object_], list[Problem]]:
    """Canonical coordinate systems (empty: WGS-84); an unknown one is a problem."""
    out, problems = [], []
    for i, v in enumerate(values.tolist()):
        try:
            out.append(crs.normalize_coord_sys(v) if v else "wgs84")
        except LocatorError:
            out.append("wgs84")
            if i not in skip:
                expected = ", ".join(crs.COORD_SYSTEMS)
                reason = f"unknown coordinate system; expected {expected}"
                problems.append(Problem(i + row_offset, "coord_sys", v, reason))
    return np.array(out, dtype=object), problems


def _to_wgs84(
    lat: NDArray[np.float64], lon: NDArray[np.float64], systems: NDArray[np.object_]
) -> None:
    """Convert the GCJ-02 and BD-09 rows to WGS-84, in place."""
    for name in ("gcj02", "bd09"):
        m = systems == name
        if m.any():
            lon[m], lat[m] = crs.to_wgs84(lon[m], lat[m], name)


def _categories(values: pd.Series, row_offset: int) -> tuple[list[str], list[Problem]]:
    """Canonical ``;``-joined categories; a name outside :data:`CATEGORIES` is kept, with
    a warning."""
    out, notes = [], []
    cache: dict[str, list[str]] = {}
    for i, v in enumerate(values.tolist()):
        parts = cache.get(v)
        if parts is None:
            parts = cache[v] = _split_categories(v)
        unknown = [p for p in parts if p not in CATEGORIES]
        if unknown:
            notes.append(
                Problem(
                    i + row_offset,
                    "categories",
                    ";".join(unknown),
                    "not a standard category (kept)",
                )
            )
        out.append(";".join(parts))
    return out, notes


def _flags(
    values: pd.Series | None, row_offset: int, skip: set[int]
) -> tuple[NDArray[np.bool_] | None, list[Problem], list[str]]:
    """The ``authorized`` flags, their problems, and the note when there is no column
    (``None`` flags: every outlet counts as authorized)."""
    if values is None:
        return None, [], [_NO_FLAG_COLUMN]
    flags, problems = _flag_values(values, column="authorized", row_offset=row_offset, skip=skip)
    return flags, problems, []


def _warn(notes: list[str], source: str) -> None:
    if notes:
        warnings.warn(
            f"{len(notes)} warning(s) in {source}: " + "; ".join(notes[:5]),
            DataWarning,
            stacklevel=4,
        )


def _by_row(problems: list[Problem]) -> list[Problem]:
    """Row problems row by row (stable: within a row, in the order the steps found them)."""
    return sorted(problems, key=lambda p: -1 if p.row is None else p.row)


# --------------------------------------------------------------------------- files
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


def _missing_value(frame: pd.DataFrame, raw: pd.DataFrame, row_offset: int) -> _Missing:
    """The "missing required value" problem maker, saying when a CSV row is short."""
    short: dict[int, int] = frame.attrs.get("short_rows") or {}
    n_header = frame.attrs.get("header_fields")
    position = {c: j for j, c in enumerate(raw.columns)}

    def missing(i: int, col: str) -> Problem:
        reason = "missing required value"
        if i in short and position.get(col, -1) >= short[i]:
            reason += f" (the row has {short[i]} fields, but the header has {n_header})"
        return Problem(i + row_offset, col, "", reason)

    return missing


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
    missing = _missing_value(frame, raw, row_offset)
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
    systems, sys_problems = _coord_systems(out["coord_sys"], row_offset, skip)
    errors += _by_row(
        _id_problems(out["outlet_id"], out["name"], missing, row_offset, skip)
        + found + swaps + ranges + kind_problems + flag_problems + sys_problems
    )  # fmt: skip
    if errors:
        raise DataError(errors, source=source)
    cats, cat_notes = _categories(out["categories"], row_offset)
    _to_wgs84(lat, lon, systems)
    rows = _by_row(_abroad(lat, lon, row_offset) + cat_notes)
    notes = [*frame.attrs.get("warnings", []), *map(str, rows), *flag_notes]
    result = pd.DataFrame(out)
    result["kind"] = kinds
    result["categories"] = cats
    result["authorized"] = np.ones(len(raw), dtype=bool) if flags is None else flags
    result["coord_sys"] = "wgs84"
    result["lat"] = lat
    result["lon"] = lon
    extras = [c for c in result.columns if c not in OUTLET_COLUMNS]
    result = result[[*OUTLET_COLUMNS, *extras]].reset_index(drop=True)
    result.attrs["column_aliases"] = aliases
    _warn(notes, source)
    return _mark(result, source, notes)


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
    text = {c: _text(df[c]) for c in ("outlet_id", "kind", "coord_sys", "categories") if c in df}

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
    # Notes a loader made (kept in attrs of a frame derived from its table) are not
    # repeated: only what this validation finds.
    _warn(notes, source)
    return _mark(out, source, notes)


# --------------------------------------------------------------------------- the value
_MARK = "locator.network"


def _checksum(frame: pd.DataFrame) -> str:
    """A checksum of a frame's content: column names, dtypes and every value."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode("utf-8"))
    try:
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts) in a column of the caller's
        hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    h.update(hashed.tobytes())
    return h.hexdigest()[:16]


def _mark(frame: pd.DataFrame, source: str, notes: list[str]) -> pd.DataFrame:
    frame.attrs["source"] = source
    frame.attrs["warnings"] = list(notes)
    frame.attrs[_MARK] = _checksum(frame)
    return frame


def _validated(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is a validated table, unchanged since (its checksum matches)."""
    mark = frame.attrs.get(_MARK)
    return mark is not None and mark == _checksum(frame)


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
