"""The pinyin table: place names read as they are named, and the table regenerates (#11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from locator.geocode import OfflineGeocoder
from locator.geocoders import _pinyin
from locator.geocoders._pinyin_data import PINYIN

DATA = Path(_pinyin.__file__).with_name("_pinyin_data.py")


class TestReadings:
    @pytest.mark.parametrize(
        ("name", "reading"),
        [
            ("番禺", "panyu"), ("铅山", "yanshan"), ("乐清", "yueqing"), ("歙", "she"),
            ("洪洞", "hongtong"), ("句容", "jurong"), ("六安", "luan"), ("蚌埠", "bengbu"),
            ("丽水", "lishui"), ("东阿", "donge"), ("尉氏", "weishi"), ("大埔", "dabu"),
            ("长治", "changzhi"), ("朝阳", "chaoyang"), ("成都", "chengdu"),
            ("漯河", "luohe"), ("闵行", "minhang"), ("长沙", "changsha"),
        ],
    )  # fmt: skip
    def test_place_names_read_as_named(self, name: str, reading: str) -> None:
        """Names whose reading is not their characters' common one (番 fan, 铅 qian,
        乐 le, 歙 xi, 洞 dong, 句 gou) are spelt as the places are named."""
        assert _pinyin.spell(name, PINYIN) == reading

    @pytest.mark.parametrize(
        ("query", "district"),
        [("Hongtong", "洪洞县"), ("Yueqing", "乐清市"), ("Jurong", "句容市"), ("Dabu", "大埔县")],
    )
    def test_pinyin_queries_find_them(self, query: str, district: str) -> None:
        """A pinyin query with the place's own reading finds it."""
        loc = OfflineGeocoder().geocode(query)
        assert loc is not None
        assert district in {c["district"] for c in loc.raw["candidates"]}


class TestGenerated:
    def test_committed_table_is_what_the_generator_builds(self) -> None:
        """_pinyin_data.py is exactly what `python -m locator.geocoders._pinyin` writes
        from pypinyin and the override table: nobody edited it by hand, and it is not
        stale (after the division table changes, regenerate it)."""
        pytest.importorskip("pypinyin")
        assert _pinyin.pinyin_module_text() == DATA.read_text(encoding="utf-8")
