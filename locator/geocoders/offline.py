"""``OfflineGeocoder``: Chinese addresses and place names to WGS-84, with no network.

How a query is read
-------------------
1. The text is NFKC-normalized (full-width letters, digits, spaces and punctuation
   become their ASCII forms). Chinese names are found with one Aho-Corasick pass
   (leftmost-longest, so ``海陵区`` beats ``海陵``); Latin words are folded (no accents,
   no apostrophes, lower case: ``Xi’an`` = ``Xi'an`` = ``xian``) and matched as runs of
   up to four words joined together (``Xi an`` = ``xian``, ``Inner Mongolia``).
2. Every name maps to divisions (province, prefecture city, district/county) or to
   GeoNames towns, each with a strength (see :mod:`._gazetteer`): full names, and bare
   names of provinces and cities, are strong; a district's bare name (``朝阳``,
   ``Chaoyang``) is weak; a town that is no division is weakest.
3. Names are combined top-down: provinces first, then cities, then districts. A name
   that fits inside (or around) what is known so far narrows it; a name that fits
   nowhere is ignored as street noise (``北京市中山路``: 中山 is a city in Guangdong,
   so it is ignored). Weak names are used only after the strong ones, and towns only
   when no district matched.
4. What remains are the candidates. **More than one means ambiguous**: the result is
   the best guess with ``raw["ambiguous"] = True`` and all candidates listed.

Ranking rule (best guess first)
-------------------------------
Candidates are ranked by the population of the prefecture city they lie in (the
largest GeoNames place of that prefecture in ``data/places.csv``; for a town, its own
population; for a province, its largest city), then the higher administrative level,
then adcode. So bare 朝阳区 gives Beijing's before Changchun's, Suzhou gives 苏州 before
宿州. ``raw["candidates"][i]["population"]`` is that ranking number.

Hints (``city=``, ``province=``) are read like queries (any language) and constrain the
answer; a hint that names nothing raises :class:`~locator.errors.GeocodeError`, and a
query that fits nowhere inside the hint returns ``None``.

Reverse geocoding returns the district (or city without districts) whose **centre** is
nearest to the point: the division table has centres, not boundaries, so near a border
the answer can be the neighbour. Points outside mainland China, Hong Kong and Macau
(or over 500 km from any centre) give ``None``.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from ..errors import GeocodeError
from ._gazetteer import (
    CITY_WORDS,
    DISTRICT_WORDS,
    PLACE,
    PROVINCE_WORDS,
    STRONG,
    WEAK,
    Entry,
    Gazetteer,
    fold_latin,
    gazetteer,
)

__all__ = ["MAX_QUERY_LENGTH", "OfflineGeocoder", "Resolution", "validate_query"]

MAX_QUERY_LENGTH = 500
REVERSE_MAX_KM = 500.0
_LATIN_RUN = re.compile(r"[a-z0-9]+")
_HAS_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_EARTH_KM = 6371.0088


def validate_query(query: Any, what: str = "query") -> str:
    """Return ``query`` NFKC-normalized and stripped; raise GeocodeError if unusable."""
    if not isinstance(query, str):
        raise GeocodeError(f"{what} must be text, not {type(query).__name__}")
    if len(query) > MAX_QUERY_LENGTH:
        raise GeocodeError(f"{what} is longer than {MAX_QUERY_LENGTH} characters ({len(query)})")
    text = unicodedata.normalize("NFKC", query).strip()
    if not text:
        raise GeocodeError(f"{what} is empty")
    return text


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    text: str
    tiers: dict[int, tuple[Entry, ...]]  # tier -> entries
    rank: int  # the highest level among the strongest entries (0 = province)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a query resolved to: candidates (best first) and the names that matched."""

    candidates: tuple[Entry, ...]
    matched: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def _sort_key(e: Entry) -> tuple:
    return (-e.population, e.rank, e.adcode, e.id)


def _narrow(state: list[Entry] | None, entries: Iterable[Entry]) -> list[Entry]:
    """Entries consistent with ``state``: the more specific of each nested pair."""
    if state is None:
        return list(dict.fromkeys(entries))
    out: dict[int, Entry] = {}
    for e in entries:
        for s in state:
            if s.contains(e):
                out[e.id] = e
            elif e.contains(s):
                out[s.id] = s
    return list(out.values())


class OfflineGeocoder(Geocoder):
    """A geopy geocoder over the bundled division table and GeoNames places.

    Swappable with geopy's ``Nominatim`` or ``BaiduV3``: same ``geocode``/``reverse``
    signatures, ``Location`` results in WGS-84. No network, no rate limit.

    ``Location.raw`` keys: ``province``, ``city``, ``district`` (None above district),
    ``adcode``, ``level`` (province|city|district, or ``place`` for a GeoNames town that
    is no division), ``name``, ``name_en``, ``ambiguous``, ``candidates`` (dicts with
    province, city, district, adcode, level, name, lat, lon, population; best first),
    ``matched`` (the names read in the query), ``query`` and ``source`` ("offline").
    """

    source = "offline"

    def __init__(self) -> None:
        super().__init__(user_agent="locator-offline")

    @property
    def gazetteer(self) -> Gazetteer:
        """The lazily built, process-wide gazetteer."""
        return gazetteer()

    # ------------------------------------------------------------------ reading
    def _tokens(self, text: str) -> list[_Token]:
        g = self.gazetteer
        entries = g.entries
        found: list[tuple[int, int, str]] = []
        for end, key in g.automaton.iter(text):  # type: ignore[attr-defined]
            found.append((end - len(key) + 1, -len(key), key))
        tokens: list[_Token] = []
        if found:
            found.sort()
            pos = 0
            for start, neg_len, key in found:
                if start < pos:
                    continue
                pos = start - neg_len
                tokens.append(self._make_token(start, key, g.cjk[key], entries))
        if _HAS_LATIN.search(text):
            tokens.extend(self._latin_tokens(text, g))
        return tokens

    @staticmethod
    def _make_token(
        start: int, text: str, bucket: dict[int, int], entries: list[Entry], level: str = ""
    ) -> _Token:
        tiers: dict[int, list[Entry]] = {}
        for eid, tier in bucket.items():
            e = entries[eid]
            if level == "district" and e.level in ("province", "city"):
                continue
            if level == "city" and e.level not in ("city",):
                continue
            if level == "province" and e.level != "province" and e.prov_code + "0000" != e.adcode:
                continue
            if level == "district" and tier == WEAK:
                tier = STRONG  # "Chaoyang District": the suffix makes the district explicit
            tiers.setdefault(tier, []).append(e)
        best = min(tiers) if tiers else PLACE
        rank = min((e.rank for e in tiers.get(best, ())), default=3)
        return _Token(start, text, {t: tuple(v) for t, v in tiers.items()}, rank)

    def _latin_tokens(self, text: str, g: Gazetteer) -> list[_Token]:
        folded = fold_latin(text)
        words = [(m.start(), m.group()) for m in _LATIN_RUN.finditer(folded)]
        out: list[_Token] = []
        i, n = 0, len(words)
        while i < n:
            for k in range(min(g.max_latin_words, n - i), 0, -1):
                key = "".join(w for _, w in words[i : i + k])
                bucket = g.latin.get(key)
                if bucket is None:
                    continue
                nxt = words[i + k][1] if i + k < n else ""
                level = ""
                if nxt in DISTRICT_WORDS:
                    level = "district"
                elif nxt in CITY_WORDS:
                    level = "city"
                elif nxt in PROVINCE_WORDS:
                    level = "province"
                tok = self._make_token(words[i][0] + 10_000, key, bucket, g.entries, level)
                if not tok.tiers:  # the suffix ruled everything out: read without it
                    tok = self._make_token(words[i][0] + 10_000, key, bucket, g.entries)
                out.append(tok)
                i += k
                break
            else:
                i += 1
        return out

    def resolve(
        self, query: str, *, city: str | None = None, province: str | None = None
    ) -> Resolution | None:
        """Read ``query`` (and hints) into candidates; ``None`` when nothing matched.

        Raises GeocodeError for invalid input (see :func:`validate_query`).
        """
        text = validate_query(query)
        state: list[Entry] | None = None
        for hint, what in ((province, "province"), (city, "city")):
            if hint is None:
                continue
            htext = validate_query(hint, f"{what} hint")
            res = self._resolve_tokens(self._tokens(htext), None)
            if res is None:
                raise GeocodeError(f"{what} hint {hint!r} names no known place")
            narrowed = _narrow(state, res[0])
            if not narrowed:
                return None  # contradictory hints
            state = narrowed
        res = self._resolve_tokens(self._tokens(text), state)
        if res is None:
            return None
        cands, matched = res
        return Resolution(tuple(sorted(cands, key=_sort_key)), tuple(matched))

    @classmethod
    def _resolve_tokens(
        cls, tokens: list[_Token], state: list[Entry] | None
    ) -> tuple[list[Entry], list[str]] | None:
        """Combine tokens top-down; when some name had to be ignored, also try reading
        each ignored name first and keep the reading that uses the most names
        (``Chaoyang, Changchun``: Changchun first makes Chaoyang the district); ties go
        to the reading whose names are longer (``中山路, 北京市``: 北京市)."""
        if not tokens:
            return None
        order = sorted(range(len(tokens)), key=lambda i: (tokens[i].rank, tokens[i].start))
        best = cls._combine(tokens, order, state)
        if best is None or len(best[1]) == len(tokens):
            return best

        def score(res: tuple[list[Entry], list[str]]) -> tuple[int, int]:
            return len(res[1]), sum(map(len, res[1]))  # most names, then longest names

        used = set(best[1])
        for j in order:
            if tokens[j].text in used:
                continue
            alt = cls._combine(tokens, [j, *(i for i in order if i != j)], state)
            if alt is not None and score(alt) > score(best):
                best = alt
        return best

    @staticmethod
    def _combine(
        tokens: list[_Token], order: list[int], state: list[Entry] | None
    ) -> tuple[list[Entry], list[str]] | None:
        matched: list[str] = []
        used: set[int] = set()
        for tier in (STRONG, WEAK, PLACE):
            if tier == PLACE and state is not None and any(e.rank >= 2 for e in state):
                break  # towns only refine a province or city, never a district
            for i in order:
                if i in used:
                    continue
                ents = tokens[i].tiers.get(tier)
                if not ents:
                    continue
                new = _narrow(state, ents)
                if new:
                    state = new
                    used.add(i)
                    matched.append(tokens[i].text)
        if not matched or state is None:
            return None
        return state, matched

    # ------------------------------------------------------------------ geopy API
    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: Any = DEFAULT_SENTINEL,
        city: str | None = None,
        province: str | None = None,
    ) -> Location | list[Location] | None:
        """Geocode ``query``: a Location (best guess), or all candidates if not ``exactly_one``.

        ``None`` when nothing matches. ``timeout`` is accepted for geopy compatibility
        and ignored (no network).
        """
        res = self.resolve(query, city=city, province=province)
        if res is None:
            return None
        cands = [_candidate(e) for e in res.candidates]
        if exactly_one:
            return _location(res.candidates[0], query, res, cands)
        return [_location(e, query, res, cands) for e in res.candidates]

    def reverse(
        self,
        query: Any,
        *,
        exactly_one: bool = True,
        timeout: Any = DEFAULT_SENTINEL,
    ) -> Location | list[Location] | None:
        """The district (or city without districts) whose centre is nearest the point.

        ``query`` is anything geopy's ``Point`` accepts: ``(lat, lon)``, ``"lat, lon"``
        or a ``Point``. Invalid coordinates raise GeocodeError; a point outside China
        returns ``None``.
        """
        from ..crs import in_china

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # geopy's |lat| > 90 hint
                point = query if isinstance(query, Point) else Point(query)
        except (ValueError, TypeError) as err:
            raise GeocodeError(f"not a valid (lat, lon) point: {query!r} ({err})") from err
        lat, lon = float(point.latitude), float(point.longitude)
        if not bool(in_china(lon, lat)):
            return None
        g = self.gazetteer
        la, lo = math.radians(lat), math.radians(lon)
        vec = (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))
        k = 1 if exactly_one else 5
        chord, idx = g.tree.query(vec, k=k)  # type: ignore[attr-defined]
        chords = [float(chord)] if k == 1 else [float(c) for c in chord]
        idxs = [int(idx)] if k == 1 else [int(i) for i in idx]
        out: list[Location] = []
        for c, i in zip(chords, idxs, strict=True):
            km = 2 * _EARTH_KM * math.asin(min(c / 2, 1.0))
            if km > REVERSE_MAX_KM:
                continue
            e = g.entries[g.lowest[i]]
            res = Resolution((e,), ())
            loc = _location(e, f"{lat:.6f}, {lon:.6f}", res, [_candidate(e)])
            loc.raw["distance_km"] = round(km, 3)
            out.append(loc)
        if not out:
            return None
        return out[0] if exactly_one else out


def _candidate(e: Entry) -> dict[str, Any]:
    return {
        "province": e.province,
        "city": e.city,
        "district": e.district,
        "adcode": e.adcode,
        "level": e.level,
        "name": e.name,
        "name_en": e.name_en,
        "lat": e.lat,
        "lon": e.lon,
        "population": e.population,
    }


def _location(e: Entry, query: str, res: Resolution, cands: list[dict[str, Any]]) -> Location:
    raw: dict[str, Any] = {
        "query": query,
        "province": e.province,
        "city": e.city,
        "district": e.district,
        "adcode": e.adcode,
        "level": e.level,
        "name": e.name,
        "name_en": e.name_en,
        "ambiguous": res.ambiguous,
        "candidates": cands,
        "matched": list(res.matched),
        "source": OfflineGeocoder.source,
    }
    if e.place_id:
        raw["place_id"] = e.place_id
    return Location(e.label(), (e.lat, e.lon), raw)
