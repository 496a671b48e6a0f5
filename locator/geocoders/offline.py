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
from operator import itemgetter
from typing import Any, NamedTuple

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
    template,
)

__all__ = ["MAX_QUERY_LENGTH", "OfflineGeocoder", "Resolution", "validate_query"]

MAX_QUERY_LENGTH = 500
REVERSE_MAX_KM = 500.0
_ORDER = itemgetter(3, 0)  # tokens top-down: (rank, start)
_MEMO_MAX = 200_000  # resolutions remembered per process (cleared when full)
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


class _Token(NamedTuple):
    start: int
    text: str
    tiers: dict[int, tuple[Entry, ...]]  # tier -> entries
    rank: int  # the highest level among the strongest entries (0 = province)


class Resolution(NamedTuple):
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
        return list(entries)  # a template's entries are already unique
    out: dict[int, Entry] = {}
    for e in entries:
        e_anc, e_id = e.anc, e.id
        for s in state:
            if s.id in e_anc:
                out[e_id] = e
            elif e_id in s.anc:
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
        # leftmost-longest, non-overlapping: 海陵区 beats 海陵
        tokens = [
            _Token(end - len(key) + 1, key, tiers, rank)
            for end, (key, tiers, rank) in g.automaton.iter_long(text)  # type: ignore[attr-defined]
        ]
        if _HAS_LATIN.search(text):
            tokens.extend(self._latin_tokens(text, g))
        return tokens

    @staticmethod
    def _token(g: Gazetteer, table: str, start: int, key: str, level: str = "") -> _Token:
        """The token for a matched name; its meaning is computed once per process."""
        tpl = g.templates.get((table, key, level))
        if tpl is None:
            bucket = (g.cjk if table == "cjk" else g.latin)[key]
            tpl = template(bucket, g.entries, level)
            if not tpl[0] and level:  # the suffix ruled everything out: read without it
                tpl = template(bucket, g.entries, "")
            g.templates[(table, key, level)] = tpl
        return _Token(start, key, tpl[0], tpl[1])

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
                out.append(self._token(g, "latin", words[i][0] + 10_000, key, level))
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
        g = self.gazetteer
        # The answer depends only on which names matched, in order (and the hints):
        # addresses differing only in street and number share one resolution.
        found = list(g.automaton.iter_long(text))  # type: ignore[attr-defined]
        latin = self._latin_tokens(text, g) if _HAS_LATIN.search(text) else []
        sig = "\x1f".join([v[0] for _, v in found])
        if latin:
            sig += "\x1e" + "\x1f".join([f"{t.text}:{id(t.tiers)}" for t in latin])
        if state is not None:
            sig += "\x1d" + ",".join([str(e.id) for e in state])
        memo = g.resolutions
        if sig in memo:
            return memo[sig]  # type: ignore[return-value]
        # plain tuples laid out like _Token (start, text, tiers, rank): cheaper to make
        tokens: list[Any] = [(end - len(v[0]) + 1, *v) for end, v in found]
        tokens.extend(latin)
        res = self._resolve_tokens(tokens, state)
        out = None
        if res is not None:
            cands, matched = res
            if len(cands) > 1:
                cands = sorted(cands, key=_sort_key)
            out = Resolution(tuple(cands), tuple(matched))
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        memo[sig] = out
        return out

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
        if len(tokens) == 1 and state is None:  # the common case, short-cut
            tok = tokens[0]
            for tier in (STRONG, WEAK, PLACE):
                ents = tok[2].get(tier)
                if ents:
                    return list(ents), [tok[1]]
            return None
        order = sorted(tokens, key=_ORDER)
        best = cls._combine(order, state)
        if best is None or len(best[2]) == 0:
            return None if best is None else (best[0], best[1])
        if all(e.rank >= 2 for e in best[0]):
            # Down to district level already: names left over after the last one used
            # are street noise (北京市朝阳区中山路), not worth another reading.
            last = max(t[0] for t in order if t not in best[2])
            if all(t[0] > last for t in best[2]):
                return best[0], best[1]

        def score(res: tuple[list[Entry], list[str], list[_Token]]) -> tuple[int, int]:
            return len(res[1]), sum(map(len, res[1]))  # most names, then longest names

        for tok in best[2]:
            alt = cls._combine([tok, *(t for t in order if t is not tok)], state)
            if alt is not None and score(alt) > score(best):
                best = alt
        return best[0], best[1]

    @staticmethod
    def _combine(
        order: list[_Token], state: list[Entry] | None
    ) -> tuple[list[Entry], list[str], list[_Token]] | None:
        """One top-down reading: (candidates, names used, tokens left unused)."""
        matched: list[str] = []
        pending = order
        for tier in (STRONG, WEAK, PLACE):
            if tier == PLACE and state is not None and any(e.rank >= 2 for e in state):
                break  # towns only refine a province or city, never a district
            rest: list[_Token] = []
            for tok in pending:
                ents = tok[2].get(tier)  # tokens may be plain tuples: index, not name
                if ents:
                    new = list(ents) if state is None else _narrow(state, ents)
                    if new:
                        state = new
                        matched.append(tok[1])
                        continue
                rest.append(tok)
            pending = rest
            if not pending:
                break
        if not matched or state is None:
            return None
        return state, matched, pending

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
