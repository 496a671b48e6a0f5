"""``OfflineGeocoder``: Chinese addresses and place names to WGS-84, with no network.

How a query is read
-------------------
1. The text is NFKC-normalized (full-width letters, digits, spaces and punctuation
   become their ASCII forms), spaces between Chinese characters are dropped, and
   traditional characters are read as simplified (廣州 = 广州; OpenCC, see
   :func:`fold_text`). Chinese names are found with one Aho-Corasick pass
   (leftmost-longest, so ``海陵区`` beats ``海陵``); a name that is not a full division
   name followed by a street word is the street's (``中山路``, ``焦作市解放路``). This
   step lives in :mod:`._reading`.
   Latin words are folded (no accents, no apostrophes, lower case: ``Xi’an`` =
   ``Xi'an`` = ``xian``) and matched as runs of up to four words joined together
   (``Xi an`` = ``xian``, ``Inner Mongolia``); a following *district*, *city* or
   *province* says which level is meant (``Chaoyang District``).
2. Every name maps to divisions (province, prefecture city, district/county) or to
   GeoNames towns, each with a strength (see :mod:`._gazetteer`): full names, and bare
   names of provinces and cities, are strong; a district's bare name (``朝阳``,
   ``Chaoyang``) is weak; a town that is no division is weakest.
3. Names are combined top-down: provinces first, then cities, then districts. A name
   that fits inside (or around) what is known so far narrows it; a name that fits
   nowhere is ignored as street noise (``北京市中山路``: 中山 is a city in Guangdong,
   so it is ignored). Weak names are used only after the strong ones, and towns (a
   second automaton) only when no district matched, so a town's name never swallows
   a division's (``南阳镇平县`` is 南阳 + 镇平县, not the town 南阳镇). Once a full
   district name (``海淀区``) pins down one district, names after it are street
   detail and are not read. A bare name alone means the prefecture before the
   district, except that districts of the same bare name in *larger* cities are
   candidates too: ``朝阳`` is ambiguous (Beijing's and Changchun's 朝阳区 before
   朝阳市 in Liaoning), ``西安`` is not (辽源's 西安区 is in a smaller city).
4. What remains are the candidates. **More than one means ambiguous**: the result is
   the best guess with ``raw["ambiguous"] = True`` and all candidates listed.

Ranking rule (best guess first)
-------------------------------
Candidates are ranked by the population of the prefecture city they lie in (the
largest GeoNames place of that prefecture in ``data/places.csv``; for a town, its own
population; for a province, its largest city), then the higher administrative level,
then adcode. So bare 朝阳区 gives Beijing's before Changchun's, Suzhou gives 苏州 before
宿州. ``raw["candidates"][i]["rank_population"]`` is that ranking number;
``["population"]`` is the candidate's own figure, or ``None`` for a district or a
province (the data has no population of its own for them).

Hints (``city=``, ``province=``) are read like queries (any language) and constrain the
answer; a hint that names nothing raises :class:`~locator.errors.GeocodeError`, and a
query that fits nowhere inside the hint returns ``None``.

Reverse geocoding answers the district (or city without districts) whose boundary
contains the point (:mod:`locator.boundaries`: point-in-polygon over an STRtree), so a
point near a border gets its own side, not the neighbour with the nearer centre. Points
in no district (at sea, abroad) give ``None``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any, NamedTuple

from geopy.adapters import BaseSyncAdapter
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
    division_short,
    fold_latin,
    gazetteer,
    template,
)
from ._pinyin import spell
from ._reading import (
    HAS_CJK,
    HAS_LATIN,
    LATIN_RUN,
    MAX_QUERY_LENGTH,
    cjk_tokens,
    fold_text,
    street_name,
    typo_heads,
    typo_index,
    unknown_head,
    validate_query,
)

__all__ = ["MAX_QUERY_LENGTH", "OfflineGeocoder", "Resolution", "validate_query"]


def _order(tok: tuple[int, tuple]) -> tuple[int, int]:
    """Tokens top-down: (rank, position)."""
    return tok[1][2], tok[0]


_MEMO_MAX = 50_000  # resolutions remembered per process (~10 MB; cleared when full)
_Token = tuple  # (position, meaning): see cjk_tokens


class Resolution(NamedTuple):
    """What a query resolved to: candidates (best first) and the names that matched;
    ``typo_of`` is the word of the query read as a city's name it is one character
    off (深证 read as 深圳), so the answer is a suggestion, flagged ambiguous."""

    candidates: tuple[Entry, ...]
    matched: tuple[str, ...]
    typo_of: str | None = None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1 or self.typo_of is not None


_MISSING = object()


_tuple_new = tuple.__new__


class _NeedsTowns(NamedTuple):
    """Memo marker: the answer without towns was not at district level; towns decide."""

    without: Resolution | None


_NO_SHORTCUT = object()
_CONTRADICTORY = object()  # hints that exclude each other


def _full_address(tokens: list[Any], cut: int) -> Resolution | None:
    """The common full address: every name before the first full district name is a
    province/city containing it, and that district is unique (江苏省泰州市海陵区). That
    reading is the answer; no search is needed. ``None`` when it does not apply."""
    tiers = tokens[cut][1][1]
    strong = tiers.get(STRONG) or tiers.get(WEAK, ())  # weak: a former city (上虞市)
    if len(strong) != 1:
        return None
    anc = strong[0].anc
    for _, v in tokens[:cut]:
        if anc.isdisjoint(v[6]):  # no strong meaning contains the district
            return None
    names = tuple([v[0] for _, v in tokens[: cut + 1]])
    return _tuple_new(Resolution, (strong, names, None))


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


class NoNetworkAdapter(BaseSyncAdapter):
    """A geopy adapter for geocoders that never go online: cheap, and refuses requests."""

    def get_json(self, url: str, *, timeout: Any, headers: Any) -> Any:
        raise RuntimeError(f"this geocoder makes no network requests ({url})")

    def get_text(self, url: str, *, timeout: Any, headers: Any) -> str:
        raise RuntimeError(f"this geocoder makes no network requests ({url})")


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
        # no HTTP adapter: geopy's default builds a requests session (~25 ms)
        super().__init__(user_agent="locator-offline", adapter_factory=NoNetworkAdapter)
        self._g: Gazetteer | None = None

    @property
    def gazetteer(self) -> Gazetteer:
        """The lazily built, process-wide gazetteer."""
        if self._g is None:
            self._g = gazetteer()
        return self._g

    # ------------------------------------------------------------------ reading
    def _tokens(self, text: str) -> list[Any]:
        """Every name in ``text``: divisions, Latin names, then towns (for hints)."""
        g = self.gazetteer
        tokens = cjk_tokens(text, g.automaton)[0]
        if HAS_LATIN.search(text):
            tokens.extend(self._latin_tokens(text, g))
        tokens.extend(cjk_tokens(text, g.town_automaton)[0])
        return tokens

    @staticmethod
    def _latin_token(g: Gazetteer, pos: int, key: str, level: str = "") -> tuple[int, tuple]:
        """The token for a Latin name; its meaning is computed once per process."""
        value = g.templates.get((key, level))
        if value is None:
            bucket = g.latin[key]
            tiers, rank = template(bucket, g.entries, level)
            if not tiers and level:  # the suffix ruled everything out: read without it
                tiers, rank = template(bucket, g.entries, "")
            strong_ids = frozenset(e.id for e in tiers.get(STRONG, ()))
            value = (key, tiers, rank, False, False, f"{key}:{level}", strong_ids)
            g.templates[(key, level)] = value
        return (pos, value)

    def _latin_tokens(self, text: str, g: Gazetteer) -> list[Any]:
        """Latin names: the longest run of up to four words that is a known name wins
        (``Xi an`` = ``xian``); a level word after it (*district*, *city*...) counts."""
        words = LATIN_RUN.findall(fold_latin(text))
        latin = g.latin
        out: list[Any] = []
        i, n = 0, len(words)
        while i < n:
            for k in range(min(g.max_latin_words, n - i), 0, -1):
                key = words[i] if k == 1 else "".join(words[i : i + k])
                if key not in latin:
                    continue
                nxt = words[i + k] if i + k < n else ""
                level = ""
                if nxt in DISTRICT_WORDS:
                    level = "district"
                elif nxt in CITY_WORDS:
                    level = "city"
                elif nxt in PROVINCE_WORDS:
                    level = "province"
                # after every Chinese name (positions are only compared for ordering)
                out.append(self._latin_token(g, 10_000 + i, key, level))
                i += k
                break
            else:
                i += 1
        return out

    def resolve(
        self, query: str, *, city: str | None = None, province: str | None = None
    ) -> Resolution | None:
        """Read ``query`` (and hints) into candidates; ``None`` when nothing matched.

        When the query starts with words that explain nothing and are one character
        off a city's name (深证市南山区), the reading with that city comes first, with
        ``typo_of`` set (see :func:`._reading.typo_heads`); the reading without it
        follows among the candidates. Raises GeocodeError for invalid input (see
        :func:`validate_query`).
        """
        text = fold_text(validate_query(query), self.gazetteer)
        res = self._resolve_text(text, city, province)
        if text.isascii() or (res is not None and res.matched and text.startswith(res.matched[0])):
            return res  # the common case: the query starts with a name it read
        return self._with_typos(text, res, city, province)

    def _with_typos(
        self, text: str, res: Resolution | None, city: str | None, province: str | None
    ) -> Resolution | None:
        """``res``, or a reading of the start of ``text`` as a mistyped city name; or
        ``None`` when the text starts with a city or province the gazetteer does not
        know (首尔特别市江南区 is in Seoul, not 南宁's 江南区)."""
        g = self.gazetteer
        first = self._first_name_at(text)
        names = typo_heads(text, first, _typo_index(g), _spell)
        if not names:
            return None if unknown_head(text[:first]) else res
        typed = text[:first]
        typed = typed[:-1] if typed.endswith(("市", "省")) else typed
        cands: list[Entry] = []
        matched: tuple[str, ...] = ()
        for name in names:
            alt = self._resolve_text(name + text[len(typed) :], city, province)
            if alt is not None:
                cands.extend(e for e in alt.candidates if e not in cands)
                matched = matched or alt.matched
        if not cands or (res is not None and set(cands) == set(res.candidates)):
            return res  # nothing read, or the same answer as without the typo
        if res is not None:
            cands.extend(e for e in res.candidates if e not in cands)
        return Resolution(tuple(cands), matched, typed)

    def _first_name_at(self, text: str) -> int:
        """Where the first division or town name in ``text`` starts (``len(text)``: none)."""
        g = self.gazetteer
        found = [*cjk_tokens(text, g.automaton)[0], *cjk_tokens(text, g.town_automaton)[0]]
        return min((end - len(v[0]) + 1 for end, v in found), default=len(text))

    def no_match_reason(
        self, query: str, *, city: str | None = None, province: str | None = None
    ) -> str:
        """Why ``query`` answers nothing, for the user: a street alone names no
        place (中山北路 is in almost every city), or no known name was found."""
        text = fold_text(validate_query(query), self.gazetteer)
        head = text[: self._first_name_at(text)] if not text.isascii() else ""
        if unknown_head(head):
            return (
                f"{head!r} is no city or province of China the geocoder knows (abroad, or "
                "misspelt): what follows it cannot be placed"
            )
        street = street_name(text)
        if street is not None:
            return (
                f"{street!r} is a street name, and streets of that name exist in many "
                "cities: add the city or district (e.g. 广州市越秀区中山路)"
            )
        if city is not None or province is not None:
            return "no place of that name lies inside the city/province given"
        return (
            "no place matches this query; try a city, district or address in Chinese, "
            "pinyin or English"
        )

    def _resolve_text(self, text: str, city: str | None, province: str | None) -> Resolution | None:
        """:meth:`resolve` for a folded text, without typo readings."""
        state = self._hint_state(city, province)
        if state is _CONTRADICTORY:
            return None
        g = self._g if self._g is not None else self.gazetteer
        # The answer depends only on which names matched, in order (and the hints):
        # addresses differing only in street and number share one resolution.
        ascii_only = text.isascii()
        tokens: list[Any]
        if ascii_only:  # no Chinese name, no town: Latin words only
            tokens, cut = [], -1
            latin = self._latin_tokens(text, g)
        else:
            tokens, cut = cjk_tokens(text, g.automaton)
            latin = self._latin_tokens(text, g) if HAS_LATIN.search(text) else []
        if not tokens and not latin and state is None:
            # no division, no Latin name: only a town can answer (章凤), or nothing
            return None if ascii_only else self._towns_only(text, g)
        if cut >= 0 and state is None and not latin:
            found = _full_address(tokens, cut)
            if found is not None:
                return found
        hint_sig = "" if state is None else "\x1d" + ",".join([str(e.id) for e in state])
        memo = g.resolutions
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        if not latin and 0 <= cut < len(tokens) - 1:
            hit = self._district_prefix(tokens[: cut + 1], state, hint_sig, memo)
            if hit is not _NO_SHORTCUT:
                return hit
        if latin:
            tokens.extend(latin)
        return self._resolve_all(text, g, tokens, state, hint_sig, ascii_only)

    def _hint_state(self, city: str | None, province: str | None) -> Any:
        """The entries the hints allow (``None``: no hint), or ``_CONTRADICTORY``."""
        state: list[Entry] | None = None
        for hint, what in ((province, "province"), (city, "city")):
            if hint is None:
                continue
            htext = fold_text(validate_query(hint, f"{what} hint"), self.gazetteer)
            res = self._resolve_tokens(self._tokens(htext), None)
            if res is None:
                raise GeocodeError(f"{what} hint {hint!r} names no known place")
            narrowed = _narrow(state, res[0])
            if not narrowed:
                return _CONTRADICTORY
            state = narrowed
        return state

    def _towns_only(self, text: str, g: Gazetteer) -> Resolution | None:
        """Text with no division name: a town (章凤) answers, or nothing."""
        towns = cjk_tokens(text, g.town_automaton)[0]
        if not towns:
            return None
        sig = "\x1c" + "\x1f".join([t[1][5] for t in towns])
        hit = g.resolutions.get(sig, _MISSING)
        if hit is _MISSING:
            hit = g.resolutions[sig] = self._finish(self._resolve_tokens(towns, None))
        return hit  # type: ignore[return-value]

    def _district_prefix(
        self, prefix: list[Any], state: list[Entry] | None, hint_sig: str, memo: dict
    ) -> Any:
        """Addresses run from large to small: once a full district name pins down one
        district, what follows is street detail (北京市海淀区中关村大街 ...). The answer
        from the names up to that district, or ``_NO_SHORTCUT``."""
        psig = "\x1f".join([t[1][5] for t in prefix]) + "\x1b" + hint_sig
        hit = memo.get(psig, _MISSING)
        if hit is _MISSING:
            hit = self._finish(self._resolve_tokens(prefix, state))
            if hit is None or len(hit.candidates) != 1 or hit.candidates[0].rank < 2:
                hit = _NO_SHORTCUT
            memo[psig] = hit
        return hit

    def _resolve_all(
        self,
        text: str,
        g: Gazetteer,
        tokens: list[Any],
        state: list[Entry] | None,
        hint_sig: str,
        ascii_only: bool,
    ) -> Resolution | None:
        """Every name together (memoised by signature); towns only when the answer
        is not down to district level (章凤, 云南章凤)."""
        memo = g.resolutions
        sig = "\x1f".join([t[1][5] for t in tokens]) + hint_sig
        # towns have Chinese names only: text without Chinese never needs them
        no_towns = ascii_only or HAS_CJK.search(text) is None
        if no_towns:
            sig += "\x1a"
        hit = memo.get(sig, _MISSING)
        if hit is _MISSING:
            out = self._finish(self._resolve_tokens(tokens, state))
            if no_towns or (out is not None and all(e.rank >= 2 for e in out.candidates)):
                memo[sig] = out
                return out
            memo[sig] = hit = _NeedsTowns(out)
        if type(hit) is not _NeedsTowns:
            return hit  # type: ignore[return-value]
        towns = cjk_tokens(text, g.town_automaton)[0]
        if not towns:
            return hit.without
        sig2 = sig + "\x1c" + "\x1f".join([t[1][5] for t in towns])
        hit = memo.get(sig2, _MISSING)
        if hit is _MISSING:
            hit = self._finish(self._resolve_tokens(tokens + towns, state))
            memo[sig2] = hit
        return hit  # type: ignore[return-value]

    @staticmethod
    def _finish(res: tuple[list[Entry], list[str]] | None) -> Resolution | None:
        if res is None:
            return None
        cands, matched = res
        if len(cands) > 1:
            cands = sorted(cands, key=_sort_key)
        return Resolution(tuple(cands), tuple(matched))

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
        if len(tokens) == 1 and state is None:  # a name alone: the common case, short-cut
            value = tokens[0][1]
            tiers = value[1]
            for tier in (STRONG, WEAK, PLACE):
                ents = tiers.get(tier)
                if ents:
                    out = list(ents)
                    if tier == STRONG and WEAK in tiers:
                        # A bare name alone that is also a district's, in a larger city
                        # than any strong meaning, is ambiguous (朝阳: 朝阳市 in Liaoning,
                        # or 朝阳区 in Beijing?); districts of smaller cities are not
                        # (西安 is not 辽源's 西安区).
                        top = max(e.population for e in out)
                        out.extend(
                            e for e in tiers[WEAK] if e.level == "district" and e.population > top
                        )
                    return out, [value[0]]
            return None
        order = sorted(tokens, key=_order)
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
                ents = tok[1][1].get(tier)
                if ents:
                    new = list(ents) if state is None else _narrow(state, ents)
                    if new:
                        state = new
                        matched.append(tok[1][0])
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
        """The district (or city without districts) whose **boundary** contains the point.

        ``query`` is anything geopy's ``Point`` accepts: ``(lat, lon)``, ``"lat, lon"``
        or a ``Point``. Invalid coordinates raise GeocodeError; a point in no district
        (at sea, abroad) returns ``None``; :func:`locator.boundaries.miss_reason` says
        why. ``raw["distance_km"]`` is the distance from the point to the district's
        boundary: 0 for the district containing it. ``exactly_one=False`` lists that
        district, then the neighbours within ~5 km of the point, nearest first.
        """
        from .. import boundaries

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # geopy's |lat| > 90 hint
                point = query if isinstance(query, Point) else Point(query)
        except (ValueError, TypeError) as err:
            raise GeocodeError(f"not a valid (lat, lon) point: {query!r} ({err})") from err
        lat, lon = float(point.latitude), float(point.longitude)
        hits = boundaries.districts_near(lon, lat, 0.0 if exactly_one else 0.05)
        out: list[Location] = []
        for row, km in hits[: 1 if exactly_one else 5]:
            e = self._reverse_entry(row)
            loc = _location(e, f"{lat:.6f}, {lon:.6f}", Resolution((e,), ()), [_candidate(e)])
            loc.raw["distance_km"] = round(km, 3)
            loc.raw["boundary_adcode"] = row.adcode
            out.append(loc)
        if not out:
            return None
        return out[0] if exactly_one else out

    def _reverse_entry(self, row: Any) -> Entry:
        """The gazetteer's entry for a boundary row: the same adcode, else (a district the
        table does not know yet) a district entry under its prefecture, else the
        prefecture or region itself (香港, 澳门: one unit in the gazetteer)."""
        g = self.gazetteer
        by_code = getattr(g, "_by_adcode", None)
        if by_code is None:
            by_code = {}
            for e in g.entries:
                if e.level != "place":
                    by_code.setdefault((e.adcode, e.level), e)
            g._by_adcode = by_code  # type: ignore[attr-defined]
        for level in ("district", "city"):
            if (row.adcode, level) in by_code:
                return by_code[(row.adcode, level)]
        city = by_code.get((row.prefecture_adcode, "city"))
        if city is not None and row.adcode != row.prefecture_adcode:
            from dataclasses import replace

            rp = row.geometry.representative_point()
            return replace(
                city,
                id=-1,
                level="district",
                name=row.name,
                adcode=row.adcode,
                district=row.name,
                lat=round(float(rp.y), 6),
                lon=round(float(rp.x), 6),
                name_en=None,
                anc=frozenset(),
            )
        for code, level in ((row.prefecture_adcode, "city"), (row.province_adcode, "province")):
            if (code, level) in by_code:
                return by_code[(code, level)]
        return by_code[(row.province_adcode, "province")]


_typo_indexes: dict[int, dict[str, list[str]]] = {}


def _typo_index(g: Gazetteer) -> dict[str, list[str]]:
    """The bare names of provinces and prefecture cities, for :func:`typo_heads`."""
    index = _typo_indexes.get(id(g))
    if index is None:
        names = [
            division_short(e.name, e.level) for e in g.entries if e.level in ("province", "city")
        ]
        index = _typo_indexes[id(g)] = typo_index([n for n in names if len(n) >= 2])
    return index


def _spell(name: str) -> str | None:
    from ._pinyin_data import PINYIN

    return spell(name, PINYIN)


def renamed_from(e: Entry) -> dict[str, Any] | None:
    """``{"name": "下城区", "successor": "拱墅区", "year": 2021}`` when ``e`` was found by
    a former division's name, else None."""
    if e.renamed_from is None:
        return None
    return {"name": e.renamed_from[0], "successor": e.name, "year": e.renamed_from[1]}


def _candidate(e: Entry) -> dict[str, Any]:
    cand = _candidate_fields(e)
    if e.renamed_from is not None:
        cand["renamed_from"] = renamed_from(e)
    return cand


def _candidate_fields(e: Entry) -> dict[str, Any]:
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
        # The entry's own figure where the data has one (a town, a prefecture city's
        # largest place); a district or province has none. Never the ranking proxy,
        # which for 朝阳区 would show all of Beijing's 18.9 M people.
        "population": e.population if e.level in ("place", "city") else None,
        "rank_population": e.population,
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
    if res.typo_of is not None:
        raw["typo_of"] = res.typo_of  # the word read as a city's name (see resolve)
    if e.renamed_from is not None:
        raw["renamed_from"] = renamed_from(e)
    return Location(e.label(), (e.lat, e.lon), raw)
