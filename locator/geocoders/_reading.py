"""How the offline geocoder reads text: validation, folding, and Chinese names found.

* :func:`validate_query`: a query (or hint) is text of at most
  :data:`MAX_QUERY_LENGTH` characters, NFKC-normalized (full-width letters, digits,
  spaces and punctuation become ASCII) and stripped, and not blank.
* :func:`fold_text`: spaces between Chinese characters dropped, traditional characters
  read as simplified (OpenCC), for the characters no gazetteer name uses.
* :func:`cjk_tokens`: the gazetteer's Chinese names in a text (one Aho-Corasick pass,
  leftmost-longest), without names that are a street's (``中山路``, ``解放南路``) and
  without bare names inside a longer word (``贵安新区`` is not 安新, ``白鹿泉乡`` is
  not the town 白鹿).
* :func:`street_name`: the street a query names (``中山北路``), to say why a query
  that is only a street answers nothing.
* :func:`typo_heads`: a city name one character off what the query starts with
  (``深证`` for 深圳), offered as a flagged candidate, never silently accepted.

Combining the names into an answer is :mod:`.offline`'s job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from ..errors import GeocodeError
from ._gazetteer import PLACE, STREET_CHARS, STRONG, WEAK, Gazetteer

MAX_QUERY_LENGTH = 500
LATIN_RUN = re.compile(r"[a-z0-9]+")
HAS_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Spaces typed between Chinese characters ("北 京 市 海 淀 区") are not separators.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_t2s_tables: dict[int, tuple[dict[int, str], re.Pattern[str]]] = {}


def _t2s_table(g: Gazetteer) -> tuple[dict[int, str], re.Pattern[str]]:
    """``str.translate`` table: traditional character -> simplified, for every CJK
    character OpenCC's ``t2s`` changes and no gazetteer name contains.

    OpenCC (a maintained converter, not a hand-made table) decides the mapping; it is
    applied only to characters the gazetteer does not know, because every gazetteer
    name is simplified already and t2s would also rewrite valid simplified names
    (乾县 -> 干县, a real county). Built once per gazetteer (~30 ms). Returned with a
    pattern matching any of its characters: most queries have none, and a regex search
    (~0.5 us) is much cheaper than a translate (~2.5 us).
    """
    cached = _t2s_tables.get(id(g))
    if cached is None:
        import opencc

        conv = opencc.OpenCC("t2s")
        known = set("".join(g.cjk))
        table: dict[int, str] = {}
        for lo, hi in ((0x3400, 0x9FFF), (0xF900, 0xFAFF)):
            chars = "".join(map(chr, range(lo, hi + 1)))
            out = conv.convert(chars)
            if len(out) != len(chars):  # a phrase rule fired: go by character
                out = "".join(conv.convert(c) for c in chars)
            for c, o in zip(chars, out, strict=True):
                if o != c and c not in known:
                    table[ord(c)] = o
        pattern = re.compile("[" + "".join(re.escape(chr(k)) for k in table) + "]")
        cached = _t2s_tables[id(g)] = (table, pattern)
    return cached


def fold_text(text: str, g: Gazetteer) -> str:
    """How the geocoder reads a (validated) query: spaces between Chinese characters
    dropped ("北 京 市" = 北京市), traditional characters and variants as simplified
    ones (廣州 = 广州, 瀋陽 = 沈阳; see :func:`_t2s_table`)."""
    if text.isascii():
        return text
    if " " in text or "\t" in text:
        text = _CJK_GAP.sub("", text)
    table, pattern = _t2s_table(g)
    return text.translate(table) if pattern.search(text) else text


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


_STREET_CHARS = STREET_CHARS
_DIRECTIONS = frozenset("东西南北中")


def street_after(text: str, end: int) -> bool:
    """A street word follows position ``end``: 路/街/道/巷..., or a direction then one
    (中山北路, 南京东路, 解放南路: roads named after places, in every city)."""
    nxt = text[end + 1 : end + 2]  # "" at the end of the text: in neither set
    if nxt in _STREET_CHARS:
        return True
    return nxt in _DIRECTIONS and text[end + 2 : end + 3] in _STREET_CHARS


def cjk_tokens(text: str, automaton: Any) -> tuple[list[Any], int]:
    """Leftmost-longest names in ``text`` and the index of the first full district name
    (``海淀区``; -1 if none).

    A token is ``(end position, meaning)``, ``meaning`` being the automaton's value
    (see :func:`._gazetteer.name_value`). A street-sensitive name right before a street
    word, or before a direction and a street word, is the street's name and is dropped
    (焦作市解放路 is a road in 焦作, not 解放区; 中山路 and 中山北路 are not 中山市;
    南京东路 is not 南京), unless another name starts right there (石家庄桥西区).
    A district's bare name must sit on a name boundary (see :func:`_on_boundaries`).
    """
    found = _on_boundaries(text, automaton)
    cut = -1
    street = False
    for i, (end, v) in enumerate(found):
        if v[3] and street_after(text, end):
            street = True
        elif cut < 0 and (v[4] or _former_city(text, end, v)):
            cut = i
    if street:
        out: list[Any] = []
        cut = -1
        street_end = -2  # where the last street's name ended
        for i, (end, v) in enumerate(found):
            starts_at = end - len(v[0]) + 1
            if starts_at == street_end + 1 and STRONG not in v[1]:
                continue  # a bare name starting with the street word (上海路南: 路南)
            if v[3] and street_after(text, end):
                # ... unless a full name starts right there (石家庄桥西区, 哈尔滨道里区;
                # not a bare one: 上海路南 is a road, not 上海 + 唐山's 路南区)
                nxt = found[i + 1] if i + 1 < len(found) else None
                if nxt is None or nxt[0] - len(nxt[1][0]) != end or STRONG not in nxt[1][1]:
                    street_end = end
                    continue
            elif cut < 0 and (v[4] or _former_city(text, end, v)):
                cut = len(out)
            out.append((end, v))
        found = out
    return found, cut


def _former_city(text: str, end: int, v: Any) -> bool:
    """A district's bare name followed by 市 (上虞市, 江都市): the county-level city it
    was, a full name like 上虞区; what follows it is street detail (上虞市杭州湾...
    is not in 杭州)."""
    tiers = v[1]
    return (
        text[end + 1 : end + 2] == "市"
        and STRONG not in tiers
        and any(e.name.endswith(("区", "市")) for e in tiers.get(WEAK, ()))
    )


# A division suffix: a bare name followed by one that is not its own is part of a longer
# name (贵安新区 is not 安新 + 区: 安新县 would have matched as a whole).
_SUFFIX_CHARS = frozenset("区县市旗盟州省")


def _off_boundary(text: str, start: int, end: int, prev_end: int, weak: Any = ()) -> bool:
    """A bare name at ``text[start:end+1]`` that is part of a longer word: a Chinese
    character no other name explains stands right before it (珠江新城 is not 新城区),
    or a division suffix right after it (贵安新区 is not 安新县). 市 after the bare
    name of a 区 or county-level 市 is the name it had as a city (上虞市, now 上虞区;
    江都市, now 江都区), not a longer word; ``weak`` are the name's district entries."""
    before = text[start - 1] if start > 0 else ""
    if before and prev_end != start - 1 and "\u3400" <= before <= "\u9fff":
        return True
    after = text[end + 1 : end + 2]
    if after == "市" and any(e.name.endswith(("区", "市")) for e in weak):
        return False  # see _former_city
    return after in _SUFFIX_CHARS


# A town's bare name followed by one or two more characters and a township suffix is
# the start of another town's name (白鹿泉乡 is not the town 白鹿 + 泉乡).
_LONGER_TOWN = re.compile(rf"[{_CJK}]{{1,2}}(?:乡|镇)")
_TOWN_SUFFIXES = ("镇", "乡", "街道")


def _inside_word(text: str, start: int, end: int, v: Any, prev_end: int) -> bool:
    """The name ``v`` at ``text[start:end+1]`` is only part of a longer word."""
    tiers = v[1]
    if STRONG in tiers:
        return False
    if WEAK in tiers:
        return _off_boundary(text, start, end, prev_end, tiers[WEAK])
    if PLACE in tiers and not v[0].endswith(_TOWN_SUFFIXES):
        return _LONGER_TOWN.match(text, end + 1) is not None
    return False


def _on_boundaries(text: str, automaton: Any) -> list[Any]:
    """Leftmost-longest names, except that a bare name inside a longer word is not a
    name: a district's (weak only, such as 新城, 市南, 安新; see :func:`_off_boundary`)
    or a town's followed by the rest of another township's name (白鹿泉乡 is not
    白鹿). It is dropped and the text after its first character is read again, so an
    overlapping real name is found (深证市南山区: 市南 is dropped, 南山区 is read)."""
    found: list[Any] = list(automaton.iter_long(text))
    i = 0
    while i < len(found):
        end, v = found[i]
        start = end - len(v[0]) + 1
        prev_end = found[i - 1][0] if i else -1
        if not _inside_word(text, start, end, v, prev_end):
            i += 1
            continue
        rest = [(e + start + 1, w) for e, w in automaton.iter_long(text[start + 1 :])]
        found = found[:i] + rest
    return found


# A street: a name, maybe a direction, a street word, maybe a number (中山北路1号,
# 南京东路300号, 人民大道, 解放南路). Used only to explain an empty answer.
_STREET = re.compile(
    rf"(?<=[{_CJK}])[东西南北中]?(?:大道|大街|路|街|巷|道|弄|胡同)"
    r"(?:[0-9一二三四五六七八九十百]+(?:号|弄|巷)?)?"
)
_WORD_ENDS = frozenset("区县市镇乡省州盟旗 ,，、:：")


def street_name(text: str) -> str | None:
    """The first street named in ``text`` (``中山北路1号``; from 开发区上海路5号,
    ``上海路5号``), or ``None``."""
    m = _STREET.search(text)
    if m is None:
        return None
    start = m.start()
    while start > 0 and text[start - 1] not in _WORD_ENDS and m.start() - start < 6:
        start -= 1
    return text[start : m.end()]


_HEAD = re.compile(rf"[{_CJK}]{{2,4}}")


# Fuzzy pinyin as input methods offer it (模糊音): zh/z, ch/c, sh/s, n/l, f/h initials;
# -ang/-an, -eng/-en, -ing/-in finals. A syllable typed for another that sounds the same
# under these is the commonest typo in Chinese text (深证 shenzheng for 深圳 shenzhen).
_FUZZY = (
    (re.compile(r"^(z|c|s)h"), r"\1"),
    (re.compile(r"^l"), "n"),
    (re.compile(r"^h(?=[aeiou])"), "f"),
    (re.compile(r"(a|e|i)ng$"), r"\1n"),
)


def _fuzzy(syllable: str) -> str:
    for pattern, repl in _FUZZY:
        syllable = pattern.sub(repl, syllable)
    return syllable


def sounds_alike(a: str | None, b: str | None) -> bool:
    """Two pinyin syllables an input method confuses (``zheng``/``zhen``, ``zhou``/``zhou``)."""
    return a is not None and b is not None and _fuzzy(a) == _fuzzy(b)


def typo_index(names: list[str]) -> dict[str, list[str]]:
    """Each name with one character masked (``深\\x00``, ``\\x00圳``) -> the names."""
    index: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        for i in range(len(name)):
            index.setdefault(name[:i] + "\x00" + name[i + 1 :], []).append(name)
    return index


def typo_heads(
    text: str, first: int, index: dict[str, list[str]], pinyin: Callable[[str], str | None]
) -> list[str]:
    """City names the start of ``text`` may be a typo of (深证 -> 深圳).

    ``first`` is where the first name read in ``text`` starts (``len(text)`` if none):
    the words before it explain nothing. They are a typo candidate when they are two
    to four Chinese characters, maybe followed by 市 or 省, and one character away
    from a province's or city's bare name (``index``: see :func:`typo_index`), that
    character sounding the same (see :func:`sounds_alike`: 深证 for 深圳, 杭洲 for 杭州;
    not 台北 for 海北). ``pinyin`` spells one character.
    """
    head = text[:first]
    typed = head[:-1] if head.endswith(("市", "省")) else head
    if not 2 <= len(typed) <= 4 or _HEAD.fullmatch(typed) is None:
        return []
    out: set[str] = set()
    for i in range(len(typed)):
        for name in index.get(typed[:i] + "\x00" + typed[i + 1 :], ()):
            if name != typed and sounds_alike(pinyin(typed[i]), pinyin(name[i])):
                out.add(name)
    return sorted(out)


# Chinese words ending like a city or province (首尔特别市, 东京都, 加利福尼亚州 are not
# Chinese divisions: 州 and 都 end foreign names in Chinese text).
_UNKNOWN_HEAD = re.compile(rf"[{_CJK}]{{2,}}(?:市|省|都|州)")


def unknown_head(head: str) -> bool:
    """``head`` (the words before the first known name) names a city or province the
    gazetteer does not have: what follows is in that place, not in ours."""
    return _UNKNOWN_HEAD.fullmatch(head) is not None
