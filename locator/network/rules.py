"""The rules of the outlet contract: columns, yes/no flags, coordinates, kinds and
categories, and the validation steps both ways in share (see :mod:`locator.network`).
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .. import crs
from ..errors import DataError, LocatorError, Problem
from ..hours import to_osm

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


def checked_coordinates(
    frame: pd.DataFrame, *, source: str, row_offset: int = 2
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Float ``lat``/``lon`` arrays of ``frame`` (outlets, places, results, gaps ...),
    or a :class:`DataError` listing each missing column and every bad value by
    :func:`coordinate_problems`: the one coordinate check of every consumer."""
    missing = [c for c in COORDINATE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            [Problem(None, c, None, "required column is missing") for c in missing],
            source=source,
        )
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    problems = coordinate_problems(
        lat,
        lon,
        row_offset=row_offset,
        shown={"lat": frame["lat"].tolist(), "lon": frame["lon"].tolist()},
    )
    if problems:
        raise DataError(problems, source=source)
    return lat, lon


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
Missing = Callable[[int, str], Problem]


def _per_value(values: pd.Series, fn: Callable[[Any], Any]) -> NDArray[np.object_]:
    """``fn`` of every cell, computed once per distinct value (``None`` for missing)."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists): one call per cell
        return np.array([fn(v) for v in values.tolist()] + [None], dtype=object)[:-1]
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [fn(u) for u in uniques]
    table[-1] = fn(None)
    return table[codes]


def _clean_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def _text(values: pd.Series) -> pd.Series:
    """A text column: ``str`` cells, NFC, stripped, "" for missing."""
    return pd.Series(_per_value(values, _clean_text), index=values.index, dtype=object)


def _id_problems(
    ids: pd.Series, names: pd.Series | None, missing: Missing, row_offset: int, skip: set[int]
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


def _kind(value: str) -> str:
    return normalize_kind(value) if value else "service_center"


def _kinds(values: pd.Series, row_offset: int, skip: set[int]) -> tuple[list[str], list[Problem]]:
    """Canonical kinds (empty: ``service_center``); an unknown kind is a problem."""
    out = _per_value(values, _kind)
    expected = f"unknown kind; expected one of {', '.join(KINDS)}"
    problems = [
        Problem(i + row_offset, "kind", values.iat[i], expected)
        for i in np.flatnonzero(~np.isin(out, KINDS)).tolist()
        if i not in skip
    ]
    return out.tolist(), problems


def _coord_sys(value: str) -> str | None:
    try:
        return crs.normalize_coord_sys(value) if value else "wgs84"
    except LocatorError:
        return None


def _coord_systems(
    values: pd.Series, row_offset: int, skip: set[int]
) -> tuple[NDArray[np.object_], list[Problem]]:
    """Canonical coordinate systems (empty: WGS-84); an unknown one is a problem."""
    out = _per_value(values, _coord_sys)
    unknown = np.array([v is None for v in out], dtype=bool)
    reason = f"unknown coordinate system; expected {', '.join(crs.COORD_SYSTEMS)}"
    problems = [
        Problem(i + row_offset, "coord_sys", values.iat[i], reason)
        for i in np.flatnonzero(unknown).tolist()
        if i not in skip
    ]
    out[unknown] = "wgs84"
    return out, problems


def _to_wgs84(
    lat: NDArray[np.float64], lon: NDArray[np.float64], systems: NDArray[np.object_]
) -> None:
    """Convert the GCJ-02 and BD-09 rows to WGS-84, in place."""
    for name in ("gcj02", "bd09"):
        m = systems == name
        if m.any():
            lon[m], lat[m] = crs.to_wgs84(lon[m], lat[m], name)


def _category_cell(value: str | None) -> tuple[str, str]:
    """A categories cell as (canonical ``;``-joined names, the non-standard ones)."""
    parts = _split_categories(value or "")
    return ";".join(parts), ";".join(p for p in parts if p not in CATEGORIES)


def _categories(values: pd.Series, row_offset: int) -> tuple[list[str], list[Problem]]:
    """Canonical ``;``-joined categories; a name outside :data:`CATEGORIES` is kept, with
    a warning."""
    cells = _per_value(values, _category_cell)
    notes = [
        Problem(i + row_offset, "categories", unknown, "not a standard category (kept)")
        for i, (_, unknown) in enumerate(cells.tolist())
        if unknown
    ]
    return [joined for joined, _ in cells.tolist()], notes


#: Why an ``hours`` cell is kept as it is (a warning, never an error).
HOURS_UNREADABLE = "opening hours not readable (kept as text, shown as hours unknown)"


def _hours_cell(value: str | None) -> tuple[str, bool]:
    """An ``hours`` cell as (OSM text, or the cell as it is; whether it is readable)."""
    if not value:
        return "", True
    osm = to_osm(value)
    return (value, False) if osm is None else (osm, True)


def _hours(values: pd.Series, row_offset: int) -> tuple[list[str], list[Problem]]:
    """``hours`` in OSM ``opening_hours`` syntax (the Chinese forms converted, see
    :func:`locator.hours.to_osm`); an unreadable value is kept, with a warning naming
    the row and the value. An empty cell is no hours (shown as unknown, no warning)."""
    cells = _per_value(values, _hours_cell)
    notes = [
        Problem(i + row_offset, "hours", text, HOURS_UNREADABLE)
        for i, (text, ok) in enumerate(cells.tolist())
        if not ok
    ]
    return [text for text, _ in cells.tolist()], notes


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


# --------------------------------------------------------------------------- marks
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
