"""Load and validate the network's data: cities, demand places and outlets.

Every loader refuses bad rows loudly: all problems are collected and raised together
as one :class:`~locator.errors.DataError` whose ``errors`` list names the row (as a
spreadsheet shows it: header = row 1), the column, the value and the reason. Nothing
is dropped silently. Everything handed out is WGS-84.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from . import crs
from .errors import DataError, LocatorError, Problem

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

OUTLET_COLUMNS = (
    "outlet_id", "name", "kind", "province", "city", "district", "address",
    "lat", "lon", "phone", "hours", "categories", "authorized", "coord_sys",
)  # fmt: skip
REQUIRED_OUTLET_COLUMNS = ("outlet_id", "name", "lat", "lon")
KINDS = ("service_center", "repair_point")
CATEGORIES = ("refrigerator", "washer", "air_conditioner", "water_heater", "tv")

_COLUMN_ALIASES = {
    "id": "outlet_id", "outletid": "outlet_id", "latitude": "lat", "纬度": "lat",
    "longitude": "lon", "lng": "lon", "long": "lon", "经度": "lon", "名称": "name",
    "地址": "address", "电话": "phone", "类型": "kind", "营业时间": "hours",
    "coordsys": "coord_sys", "crs": "coord_sys", "坐标系": "coord_sys",
}  # fmt: skip
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
_TRUE = {"true", "t", "yes", "y", "1", "是", "授权", "已授权"}
_FALSE = {"false", "f", "no", "n", "0", "否", "未授权"}

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


# China's rough extent (incl. Hong Kong, Macau, Hainan, the Paracels), lon/lat degrees.
CHINA_EXTENT = (73.4, 15.5, 135.1, 53.6)


class DataWarning(UserWarning):
    """A suspicious but legitimate value (e.g. an outlet outside China)."""


# --------------------------------------------------------------------------- reading
def _norm_col(name: Any) -> str:
    s = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff").lower()
    s = re.sub(r"[\s\-]+", "_", s)
    return _COLUMN_ALIASES.get(s.replace("_", ""), _COLUMN_ALIASES.get(s, s))


def _decode(raw: bytes, source: str) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(
        [Problem(None, None, None, "file is neither UTF-8 nor GB18030/GBK text")], source=source
    )


def _read_geojson(text: str, source: str) -> tuple[pd.DataFrame, list[Problem]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            [Problem(err.lineno, None, None, f"invalid JSON: {err.msg}")], source=source
        ) from err
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise DataError(
            [Problem(None, None, None, "GeoJSON must be a FeatureCollection with 'features'")],
            source=source,
        )
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for i, feat in enumerate(feats, start=1):
        props = dict((feat or {}).get("properties") or {})
        geom = (feat or {}).get("geometry") or {}
        coords = geom.get("coordinates")
        if geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            problems.append(
                Problem(i, "geometry", geom.get("type"), "feature must have a Point geometry")
            )
            coords = [None, None]
        props.setdefault("lon", coords[0])
        props.setdefault("lat", coords[1])
        rows.append({k: "" if v is None else str(v) for k, v in props.items()})
    return pd.DataFrame(rows), problems


def read_table(
    source: str | os.PathLike[str] | IO[bytes], *, name: str | None = None
) -> tuple[pd.DataFrame, list[Problem], str, bool]:
    """Read a CSV (UTF-8, UTF-8 BOM, GB18030), XLSX or GeoJSON file as text columns.

    Returns ``(frame, problems, label, geojson)``: every cell is a string ("" when
    empty), so ids and phone numbers keep their leading zeros.
    """
    if hasattr(source, "read"):
        label = name or getattr(source, "name", None) or "<upload>"
        raw = source.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    else:
        label = name or str(source)
        raw = Path(source).read_bytes()
    suffix = Path(str(label)).suffix.lower()
    problems: list[Problem] = []
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except Exception as err:  # openpyxl raises many types for corrupt files
            raise DataError(
                [Problem(None, None, None, f"cannot read Excel file: {err}")], source=label
            ) from err
        return frame.fillna(""), problems, label, False
    text = _decode(raw, label)
    if suffix in (".geojson", ".json") or text.lstrip().startswith("{"):
        frame, problems = _read_geojson(text, label)
        return frame, problems, label, True
    if not text.strip():
        raise DataError([Problem(None, None, None, "file is empty")], source=label)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.ParserError as err:
        raise DataError(
            [Problem(None, None, None, f"not a readable CSV table: {err}")], source=label
        ) from err
    return frame, problems, label, False


# --------------------------------------------------------------------------- validation
def _parse_float(value: str) -> float | None:
    s = unicodedata.normalize("NFKC", value).strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _in_extent(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = CHINA_EXTENT
    return x0 <= lon <= x1 and y0 <= lat <= y1


def _split_categories(value: str) -> list[str]:
    parts = re.split(r"[;,；，、|/]+", unicodedata.normalize("NFKC", value))
    out = []
    for p in parts:
        key = re.sub(r"[\s\-]+", "_", p.strip().lower())
        if key:
            out.append(_CATEGORY_ALIASES.get(key, key))
    return out


def validate_outlets(
    frame: pd.DataFrame,
    *,
    source: str = "outlets",
    problems: Iterable[Problem] = (),
    row_offset: int = 2,
) -> pd.DataFrame:
    """Validate and normalize a raw text table of outlets; see :func:`load_outlets`.

    ``row_offset`` maps the frame's positional index to the row numbers users see
    (2 for a CSV/XLSX with a header row, 1 for GeoJSON feature numbers).
    """
    errors: list[Problem] = list(problems)
    raw = frame.copy()
    raw.columns = [_norm_col(c) for c in raw.columns]
    dup_cols = raw.columns[raw.columns.duplicated()].tolist()
    for c in dup_cols:
        errors.append(Problem(None, c, None, "column appears more than once"))
    missing = [c for c in REQUIRED_OUTLET_COLUMNS if c not in raw.columns]
    for c in missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        errors.append(Problem(None, c, None, f"required column is missing (found: {found})"))
    if missing or dup_cols:
        raise DataError(errors, source=source)
    raw = raw.fillna("").astype(str)
    for c in OUTLET_COLUMNS:
        if c not in raw.columns:
            raw[c] = ""
    n = len(raw)
    out: dict[str, Any] = {}
    text_cols = [c for c in raw.columns if c not in ("lat", "lon", "authorized")]
    for c in text_cols:
        out[c] = raw[c].map(lambda v: unicodedata.normalize("NFC", v).strip())
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    authorized = np.ones(n, dtype=bool)
    kinds: list[str] = []
    systems: list[str] = []
    cats: list[str] = []
    warn_rows: list[Problem] = []
    seen_ids: dict[str, int] = {}
    for i in range(n):
        row = i + row_offset
        oid = out["outlet_id"].iat[i]
        if not oid:
            errors.append(Problem(row, "outlet_id", "", "missing required value"))
        elif oid in seen_ids:
            errors.append(
                Problem(row, "outlet_id", oid, f"duplicate id (first used in row {seen_ids[oid]})")
            )
        else:
            seen_ids[oid] = row
        if not out["name"].iat[i]:
            errors.append(Problem(row, "name", "", "missing required value"))
        ok = True
        vals: dict[str, float] = {}
        for col in ("lat", "lon"):
            v = str(raw[col].iat[i])
            f = _parse_float(v)
            if not v.strip():
                errors.append(Problem(row, col, "", "missing required value"))
                ok = False
            elif f is None:
                errors.append(Problem(row, col, v, "not a number"))
                ok = False
            elif not math.isfinite(f):
                errors.append(Problem(row, col, v, "not a finite number"))
                ok = False
            else:
                vals[col] = f
        la_v, lo_v = vals.get("lat"), vals.get("lon")
        swapped = (
            la_v is not None
            and lo_v is not None
            and abs(la_v) > 90
            and abs(lo_v) <= 90
            and abs(la_v) <= 180
        )
        if swapped:
            errors.append(
                Problem(
                    row,
                    "lat",
                    raw["lat"].iat[i],
                    f"latitude out of range; lat/lon look swapped (lon={lo_v})",
                )
            )
            ok = False
        else:
            if la_v is not None and abs(la_v) > 90:
                errors.append(Problem(row, "lat", raw["lat"].iat[i], "latitude outside -90..90"))
                ok = False
            if lo_v is not None and abs(lo_v) > 180:
                errors.append(Problem(row, "lon", raw["lon"].iat[i], "longitude outside -180..180"))
                ok = False
        if ok and la_v is not None and lo_v is not None:
            la, lo = la_v, lo_v
            if not _in_extent(lo, la) and _in_extent(la, lo):
                errors.append(
                    Problem(
                        row,
                        "lat",
                        raw["lat"].iat[i],
                        f"lat/lon look swapped: ({la}, {lo}) is outside China, "
                        f"({lo}, {la}) is inside",
                    )
                )
            else:
                lat[i], lon[i] = la, lo
                if not _in_extent(lo, la):
                    warn_rows.append(
                        Problem(
                            row,
                            "lat",
                            f"{la}, {lo}",
                            "outside China's rough extent (kept: outlets abroad are legitimate)",
                        )
                    )
        kv = out["kind"].iat[i]
        key = re.sub(r"[\s\-]+", "_", kv.lower())
        if not kv:
            kinds.append("service_center")
        elif key in _KIND_ALIASES or key.replace("_", "") in _KIND_ALIASES:
            kinds.append(_KIND_ALIASES.get(key) or _KIND_ALIASES[key.replace("_", "")])
        else:
            kinds.append(kv)
            errors.append(
                Problem(row, "kind", kv, f"unknown kind; expected one of {', '.join(KINDS)}")
            )
        av = str(raw["authorized"].iat[i]).strip().lower()
        if av in _TRUE or av == "":
            authorized[i] = True
        elif av in _FALSE:
            authorized[i] = False
        else:
            errors.append(Problem(row, "authorized", raw["authorized"].iat[i],
                                  "expected true/false (yes/no, 1/0, 是/否)"))  # fmt: skip
        cv = out["coord_sys"].iat[i]
        if not cv:
            systems.append("wgs84")
        else:
            try:
                systems.append(crs.normalize_coord_sys(cv))
            except LocatorError:
                systems.append("wgs84")
                expected = ", ".join(crs.COORD_SYSTEMS)
                errors.append(
                    Problem(row, "coord_sys", cv, f"unknown coordinate system; expected {expected}")
                )
        parts = _split_categories(out["categories"].iat[i])
        unknown = [p for p in parts if p not in CATEGORIES]
        if unknown:
            warn_rows.append(
                Problem(row, "categories", ";".join(unknown), "not a standard category (kept)")
            )
        cats.append(";".join(dict.fromkeys(parts)))
    if errors:
        raise DataError(errors, source=source)
    sys_arr = np.array(systems, dtype=object)
    for name in ("gcj02", "bd09"):
        m = sys_arr == name
        if m.any():
            lo2, la2 = crs.to_wgs84(lon[m], lat[m], name)
            lon[m], lat[m] = lo2, la2
    result = pd.DataFrame(out)
    result["kind"] = kinds
    result["categories"] = cats
    result["authorized"] = authorized
    result["coord_sys"] = "wgs84"
    result["lat"] = lat
    result["lon"] = lon
    extras = [c for c in result.columns if c not in OUTLET_COLUMNS]
    result = result[[*OUTLET_COLUMNS, *extras]].reset_index(drop=True)
    result.attrs["source"] = source
    result.attrs["warnings"] = [str(p) for p in warn_rows]
    if warn_rows:
        warnings.warn(
            f"{len(warn_rows)} warning(s) in {source}: " + "; ".join(map(str, warn_rows[:5])),
            DataWarning,
            stacklevel=3,
        )
    return result


def load_outlets(
    path: str | os.PathLike[str] | IO[bytes] | None = None, *, name: str | None = None
) -> pd.DataFrame:
    """Load an outlets table (CSV in UTF-8/UTF-8-BOM/GB18030, XLSX, or GeoJSON).

    ``path`` may be a path, a binary file object (give ``name`` so the format can be
    told from its extension), or ``None`` for the bundled *synthetic* sample network.
    Required columns: ``outlet_id, name, lat, lon``; others default (kind
    ``service_center``, authorized ``true``, coord_sys ``wgs84``). Rows in GCJ-02 or
    BD-09 are converted to WGS-84. Raises :class:`DataError` listing every bad row;
    points outside China only warn (:class:`DataWarning`, also in ``df.attrs``).
    """
    src = DATA_DIR / "outlets.csv" if path is None else path
    frame, problems, label, geojson = read_table(src, name=name)
    return validate_outlets(frame, source=label, problems=problems, row_offset=1 if geojson else 2)


def _load_bundled(path: Path, int_cols: Iterable[str], float_cols: Iterable[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    errors: list[Problem] = []
    for col in [*int_cols, *float_cols]:
        if col not in frame.columns:
            errors.append(Problem(None, col, None, "required column is missing"))
            continue
        num = pd.to_numeric(frame[col], errors="coerce")
        for i in np.flatnonzero(num.isna().to_numpy()):
            errors.append(Problem(int(i) + 2, col, frame[col].iat[int(i)], "not a number"))
        frame[col] = num
    if errors:
        raise DataError(errors, source=str(path))
    for col in int_cols:
        frame[col] = frame[col].astype("int64")
    for col in float_cols:
        frame[col] = frame[col].astype("float64")
    return frame


def load_cities(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The listed cities: city, name_en, province, adcode, lat, lon, population, geonameid."""
    return _load_bundled(Path(path or DATA_DIR / "cities.csv"), ["population"], ["lat", "lon"])


def load_places(
    path: str | os.PathLike[str] | None = None, *, include_nested: bool = False
) -> pd.DataFrame:
    """GeoNames populated places in mainland China with population >= 1,000: the demand
    layer for coverage.

    Columns: place_id, name, name_zh, province, city, city_adcode, lat, lon, population,
    nested_in. By default places *inside* a more populous place's urban area (浦东 inside
    上海, whose figure already counts them; see ``nested_in`` and data/README.md) are left
    out, so populations can be summed; ``include_nested=True`` returns every place (for
    name look-ups).
    """
    frame = _load_bundled(Path(path or DATA_DIR / "places.csv"), ["population"], ["lat", "lon"])
    if "nested_in" in frame.columns and not include_nested:
        frame = frame[frame["nested_in"] == ""].reset_index(drop=True)
    return frame
