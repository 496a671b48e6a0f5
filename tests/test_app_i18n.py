"""The app speaks Chinese by default and English on request (#14 §4): one catalogue
(locator.labels), units formatted in one place (locator.i18n), no raw column names."""

from __future__ import annotations

import re
import string

import pandas as pd
import pytest
from apptest import start
from streamlit.testing.v1 import AppTest

from locator import i18n
from locator.labels import COLUMNS, LANGUAGES, MESSAGES, column, message

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RAW = frozenset(COLUMNS)  # the library's column names: never a header a person reads
HAN = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


class TestCatalogue:
    @pytest.mark.parametrize("table", [MESSAGES, COLUMNS], ids=["messages", "columns"])
    def test_every_key_has_both_languages(self, table: dict[str, dict[str, str]]) -> None:
        """Every message and header has a non-blank text in each language, with the
        same placeholders (a translation cannot drop the number it should show)."""
        for key, texts in table.items():
            assert set(texts) == set(LANGUAGES), key
            assert all(t.strip() for t in texts.values()), key
            assert _fields(texts["zh"]) == _fields(texts["en"]), key

    def test_chinese_is_chinese(self) -> None:
        """The Chinese side of a header is written in Chinese (or is a proper name)."""
        latin_ok = {"OpenStreetMap 路线"}
        for key, texts in COLUMNS.items():
            assert HAN.search(texts["zh"]) or texts["zh"] in latin_ok, key

    def test_message_fills_placeholders_and_falls_back(self) -> None:
        """message() fills values; an unknown language gets the default (Chinese)."""
        assert message("find.nearest_to", "en", place="X") == "Nearest to X"
        assert message("find.nearest_to", "fr", place="X") == "离 X 最近的网点"
        with pytest.raises(KeyError):
            message("no.such.id", "en")


class TestFormats:
    @pytest.mark.parametrize(
        ("minutes", "zh", "en"),
        [
            (25, "约 25 分钟", "about 25 min"),
            (24.6, "约 25 分钟", "about 25 min"),
            (59.4, "约 59 分钟", "about 59 min"),
            (59.6, "约 1 小时", "about 1 h"),
            (60, "约 1 小时", "about 1 h"),
            (95, "约 1 小时 35 分钟", "about 1 h 35 min"),
            (125, "约 2 小时 5 分钟", "about 2 h 5 min"),
            (None, "-", "-"),
            (float("nan"), "-", "-"),
        ],
    )
    def test_duration(self, minutes: float | None, zh: str, en: str) -> None:
        """Drives under an hour in minutes, from an hour on in hours and minutes."""
        assert i18n.duration(minutes, "zh") == zh
        assert i18n.duration(minutes, "en") == en

    def test_units(self) -> None:
        """Distances with km, shares as percent with one decimal, counts grouped."""
        assert i18n.km(12.34) == "12.3 km"
        assert i18n.km(1234.5, digits=0) == "1,234 km" or i18n.km(1234.5, digits=0) == "1,235 km"
        assert i18n.percent(0.5923) == "59.2 %"
        assert i18n.percent(1) == "100.0 %"
        assert i18n.count(19160968) == "19,160,968"
        assert i18n.km(float("inf")) == "-"

    def test_one_language(self) -> None:
        """A bilingual hours label shows one side; a label without one is kept."""
        label = "营业中 · 18:00 打烊 / open until 18:00"
        assert i18n.one_language(label, "zh") == "营业中 · 18:00 打烊"
        assert i18n.one_language(label, "en") == "open until 18:00"
        assert i18n.one_language("24/7", "en") == "24/7"

    def test_human_table(self) -> None:
        """Headers, labels and units for people; numbers stay numbers (they sort)."""
        frame = pd.DataFrame(
            {
                "name": ["A"],
                "kind": ["repair_point"],
                "share_covered": [0.592],
                "distance_km": [12.345],
                "drive_minutes": [95.0],
                "authorized": [False],
                "categories": ["washer;tv"],
            }
        )
        zh = i18n.human_table(frame, "zh")
        assert list(zh.frame.columns) == [
            "名称",
            "类型",
            "覆盖率",
            "距离",
            "驾车（估算）",
            "授权",
            "维修品类",
        ]
        row = zh.frame.iloc[0]
        assert row["类型"] == "维修点" and row["授权"] == "否" and row["维修品类"] == "洗衣机、电视"
        assert row["覆盖率"] == pytest.approx(59.2) and zh.number_formats["覆盖率"] == "%.1f %%"
        assert row["距离"] == pytest.approx(12.3) and zh.number_formats["距离"] == "%.1f km"
        assert row["驾车（估算）"] == "约 1 小时 35 分钟"
        en = i18n.human_table(frame, "en", ["kind", "drive_minutes"])
        assert en.frame.iloc[0].tolist() == ["Repair point", "about 1 h 35 min"]


def _shown(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader]
    parts += [x.value for x in [*at.warning, *at.error, *at.info, *at.success, *at.caption]]
    parts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    parts += [t.label for t in at.tabs]
    parts += [w.label for w in [*at.text_input, *at.checkbox, *at.radio, *at.slider]]
    return "\n".join(str(p) for p in parts)


def _views(at: AppTest, lang: str) -> list[str]:
    """The labels of the four views (at.tabs also holds the Coverage view's own tabs)."""
    names = {message(v, lang) for v in ("tab.find", "tab.coverage", "tab.data", "tab.embed")}
    return [t.label for t in at.tabs if t.label in names]


def _raw_headers(at: AppTest) -> set[str]:
    return {str(c) for d in at.dataframe for c in d.value.columns} & RAW


@pytest.mark.slow
class TestAppLanguage:
    def test_chinese_by_default(self) -> None:
        """With no choice made the app is Chinese: tabs, the sample notice, the search."""
        at = start(lang=None)
        assert _views(at, "zh") == ["查找网点", "覆盖分析", "网点数据", "嵌入"]
        assert any("示例数据" in w.value for w in at.sidebar.warning)
        assert at.text_input(key="query").label == "地址、区县或城市"

    def test_switch_keeps_the_view(self) -> None:
        """Switching to English relabels everything and stays on the open view."""
        at = start(lang=None, view="coverage")
        assert at.metric[0].label == "人口覆盖率"
        at.radio(key="lang-choice").set_value("en").run()
        assert not at.exception, [e.value for e in at.exception]
        assert _views(at, "en") == ["Find a center", "Coverage", "Network data", "Embed"]
        assert at.metric[0].label == "Population covered"  # still the Coverage view

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_find_view_reads_naturally(self, lang: str) -> None:
        """Results as cards and a table with human headers, km and minutes in words;
        a long drive in hours and minutes; no raw column name anywhere."""
        at = start(lang)
        at.text_input(key="query").input("拉萨").run()  # the nearest outlets are far away
        assert not at.exception, [e.value for e in at.exception]
        shown = _shown(at)
        hours = "小时" if lang == "zh" else " h "
        assert re.search(r"\d+\.\d km", shown) and hours in shown
        assert not _raw_headers(at)
        table = next(d.value for d in at.dataframe if column("distance_km", lang) in d.value)
        assert table[column("drive_minutes", lang)].str.contains(hours).all()
        if lang == "en":
            assert not HAN.search(at.text_input(key="query").label)
            assert "Nearest to" in shown and "drive (est.)" in shown
        else:
            assert "最近的网点" in shown and "驾车约" in shown

    @pytest.mark.parametrize("lang", LANGUAGES)
    @pytest.mark.parametrize("view", ["coverage", "data", "embed"])
    def test_views_show_no_raw_column_names(self, lang: str, view: str) -> None:
        """Coverage, Network data and Embed show human headers only, and the coverage
        figures with their units (59.2 %, 17.5 km)."""
        at = start(lang, view=view)
        assert not _raw_headers(at), _raw_headers(at)
        shown = _shown(at)
        # (the upload help names the file's columns, `outlet_id, name, lat, lon`: that
        # is the file format, not a header)
        shown = shown.replace("`outlet_id, name", "")
        for raw in ("share_covered", "population_covered", "outlet_id", "distance_p90_km"):
            assert raw not in shown
        if view == "coverage":
            assert re.fullmatch(r"\d+\.\d %", at.metric[0].value)
            assert re.fullmatch(r"\d+\.\d km", at.metric[2].value)
            assert at.dataframe, "the coverage tables are shown"


class TestMapLanguage:
    """The map legend and layer names use the same catalogue, in one language or both."""

    @staticmethod
    def _legend_and_layers(lang: str | None) -> tuple[str, str]:
        import json

        from locator.data import load_outlets
        from locator.maps import build_map

        outlets = load_outlets().head(40)
        m = build_map(outlets, origin=(30.25, 120.14), results=outlets.head(2), lang=lang)
        page = m.get_root().render()
        found = re.search(r"locatorAddLegend\(\w+, (\".*?\")\);", page)
        assert found is not None
        control = re.search(r"overlays :\s*\{(.*?)\}", page, re.S)
        assert control is not None
        names = re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', control.group(1))
        return json.loads(found.group(1)), " | ".join(json.loads(f'"{n}"') for n in names)

    def test_chinese(self) -> None:
        legend, layers = self._legend_and_layers("zh")
        assert "服务中心" in legend and "查询位置" in legend
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]*>", "", legend))
        assert "网点" in layers and "搜索结果" in layers and "Outlets" not in layers

    def test_english(self) -> None:
        legend, layers = self._legend_and_layers("en")
        assert "Service center" in legend and "Search origin" in legend
        assert not HAN.search(legend) and not HAN.search(layers)

    def test_both_by_default(self) -> None:
        """Pages for both audiences (the embeddable map) keep the bilingual legend."""
        legend, layers = self._legend_and_layers(None)
        assert "Service center 服务中心" in legend and "Outlets 网点" in layers
