"""The embeddable locator's search: the compact name index and the page's JavaScript.

The name search, geodesic distance, drive estimate, BD-09 conversion and directions
links of ``locator/maps/js/search.js`` run in node here against the Python functions
they port (``locator.name_index``, pyproj's geodesic, ``DriveTimeModel``,
``locator.crs``, ``locator.directions``). What a person sees in the page is in
``tests/test_embed_search_browser.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pyproj import Geod
from test_maps import node_check

from locator import embed, maps
from locator.data import load_outlets
from locator.directions import directions_links
from locator.drive import DriveTimeModel
from locator.hours import TZ, hours_status
from locator.maps.elements import GCJ02_JS, js_source
from locator.maps.search import hours_timeline, search_panel, search_rows
from locator.name_index import index_size, name_index


def run_node(node: str, tmp_path: Path, code: str) -> Any:
    """Run gcj02.js + search.js + ``code`` (which prints JSON) in node."""
    script = tmp_path / "run.js"
    script.write_text(GCJ02_JS + js_source("search.js") + code, encoding="utf-8")
    out = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[:2000]
    return json.loads(out.stdout)


class TestNameIndex:
    """The compact index of current divisions baked into the page."""

    def test_size_is_a_few_hundred_kb(self) -> None:
        """The index stays under 350 KB of JSON (README states the measured size)."""
        assert 50_000 < index_size() < 350_000

    def test_current_divisions_with_parents(self) -> None:
        """Every division has a centre in China and a parent of a higher level."""
        ix = name_index()
        rows = ix["e"]
        assert len(rows) > 3000
        for name, level, lat, lon, parent, _s, _w in rows:
            assert 3 <= lat / 1e4 <= 54 and 73 <= lon / 1e4 <= 136, name
            if parent >= 0:
                assert rows[parent][1] < level, name
        xihu = [r for r in rows if r[0] == "西湖区"]
        assert sorted(rows[r[4]][0] for r in xihu) == ["南昌市", "杭州市"]


class TestSearchInNode:
    """search.js's name lookup, run in node over the real index."""

    def find(self, node: str, tmp_path: Path, queries: list[str]) -> list[dict[str, Any]]:
        code = (
            f"var n = locatorNameIndex({json.dumps(name_index(), ensure_ascii=False)});"
            f"console.log(JSON.stringify({json.dumps(queries, ensure_ascii=False)}.map("
            "function(q) { var f = n.find(q); return {pick: f.pick < 0 ? null :"
            " n.entry(f.pick).parent + n.entry(f.pick).name, all: f.candidates.map("
            "function(i) { return n.entry(i).parent + n.entry(i).name; })}; })));"
        )
        return run_node(node, tmp_path, code)

    def test_chinese_pinyin_english(self, node: str, tmp_path: Path) -> None:
        """杭州西湖区, 'hangzhou xihu', Xi'an, Xian, XIAN, Hangzhou pick one place each."""
        got = self.find(
            node,
            tmp_path,
            ["杭州西湖区", "浙江杭州西湖区", "hangzhou xihu", "Xi'an", "Xian", "XIAN", "Hangzhou"],
        )
        picks = [g["pick"] for g in got]
        assert picks[:3] == ["浙江省杭州市西湖区"] * 3
        assert picks[3:6] == ["陕西省西安市"] * 3
        assert picks[6] == "浙江省杭州市"

    def test_ambiguous_names_offer_every_candidate(self, node: str, tmp_path: Path) -> None:
        """朝阳区 (Beijing, Changchun) and 鼓楼区 (4 cities) pick nothing, list all."""
        chaoyang, gulou, xihu = self.find(node, tmp_path, ["朝阳区", "鼓楼区", "西湖区"])
        assert chaoyang["pick"] is None
        assert sorted(chaoyang["all"]) == ["北京市朝阳区", "吉林省长春市朝阳区"]
        assert gulou["pick"] is None and len(gulou["all"]) == 4
        assert all(a.endswith("鼓楼区") for a in gulou["all"])
        assert xihu["pick"] is None
        assert sorted(xihu["all"]) == ["江西省南昌市西湖区", "浙江省杭州市西湖区"]

    def test_one_strong_meaning_is_picked_the_others_offered(
        self, node: str, tmp_path: Path
    ) -> None:
        """朝阳 is 朝阳市 (a prefecture's name), and both 朝阳区 stay offered."""
        (chaoyang,) = self.find(node, tmp_path, ["朝阳"])
        assert chaoyang["pick"] == "辽宁省朝阳市"
        assert {"北京市朝阳区", "吉林省长春市朝阳区"} <= set(chaoyang["all"])

    def test_unknown_and_prefix(self, node: str, tmp_path: Path) -> None:
        """Nonsense finds nothing; a prefix being typed ('hangz') suggests, never picks."""
        nothing, typing = self.find(node, tmp_path, ["qqqqzzzz", "hangz"])
        assert nothing == {"pick": None, "all": []}
        assert typing["pick"] is None and "浙江省杭州市" in typing["all"]


class TestPortsInNode:
    """The page's distance, drive estimate and links are the Python ones."""

    PAIRS: ClassVar[list[tuple[tuple[float, float], tuple[float, float]]]] = [
        ((30.2617, 120.1254), (30.27, 120.15)),
        ((34.3431, 108.9351), (39.9, 116.4)),
        ((45.75, 126.63), (18.25, 109.5)),
        ((43.8, 87.6), (22.54, 114.06)),
    ]

    def test_geodesic_matches_pyproj(self, node: str, tmp_path: Path) -> None:
        """Vincenty in JS is within 1 mm of pyproj's (Karney's) WGS-84 geodesic."""
        code = f"console.log(JSON.stringify({json.dumps(self.PAIRS)}.map(function(p) {{"
        code = code.replace("{{", "{")
        code += " return locatorGeodesicKm(p[0][0], p[0][1], p[1][0], p[1][1]); })));"
        got = run_node(node, tmp_path, code)
        geod = Geod(ellps="WGS84")
        for ((a, b), (c, d)), km in zip(self.PAIRS, got, strict=True):
            want = geod.inv(b, a, d, c)[2] / 1000
            assert km == pytest.approx(want, abs=1e-6)

    def test_drive_minutes_match_the_model(self, node: str, tmp_path: Path) -> None:
        """The page's drive estimate is DriveTimeModel.minutes with the page's factors."""
        model = DriveTimeModel(circuity=1.3, overhead_minutes=5.0)
        panel = search_panel(load_outlets().head(3), name_index(), drive=model)
        factors = json.loads(panel.data_json)["drive"]
        kms = [0.0, 3.0, 11.0, 80.0, 400.0]
        code = f"var m = {json.dumps(factors)};"
        code += f"console.log(JSON.stringify({kms}.map(function(k) "
        code += "{ return locatorDriveMinutes(k, m); })));"
        got = run_node(node, tmp_path, code)
        assert got == pytest.approx(list(model.minutes(kms)), abs=1e-9)

    def test_directions_links_match_python(self, node: str, tmp_path: Path) -> None:
        """AMap/Baidu/OSM links built in the page equal locator.directions' links, with
        and without an origin, names with spaces, quotes and brackets."""
        cases = [
            ([30.27, 120.15], [30.2617, 120.1254], "ACME (西湖) it's", "浙江省杭州市西湖区"),
            ([39.9, 116.4], None, "A&B <x> 100%", ""),
            ([22.54, 114.06], [23.13, 113.26], "!*'()~", ""),
        ]
        code = f"console.log(JSON.stringify({json.dumps(cases, ensure_ascii=False)}.map("
        code += "function(c) { return locatorDirections(c[0], c[1], c[2], c[3]); })));"
        got = run_node(node, tmp_path, code)
        for (to, origin, name, oname), links in zip(cases, got, strict=True):
            want = directions_links(
                tuple(to), origin=tuple(origin) if origin else None, to_name=name, origin_name=oname
            )
            assert links == want

    def test_search_js_parses_and_holds_no_jinja_tag(self, node: str, tmp_path: Path) -> None:
        """search.js parses on its own and can never open a Jinja tag."""
        node_check([js_source("search.js")], tmp_path, node)
        assert not re.search(r"\{[{%#]", js_source("search.js"))


class TestTimelines:
    """Open-now labels the page shows are locator.hours' labels."""

    def test_each_stretch_has_the_label_of_its_start_and_middle(self) -> None:
        """Over a week with a lunch break, the label of every stretch is hours_status's
        at its start and at any minute inside it (no change is missed)."""
        text = "Mo-Fr 09:00-12:00,13:30-18:00; Sa 10:00-16:00; PH off"
        start = dt.datetime(2026, 12, 2, 7, 31, tzinfo=TZ)
        tl = hours_timeline(text, start)
        assert tl[-1][1] is None and len(tl) > 20
        for (a, label), (b, _) in itertools.pairwise(tl):
            for t in (a, (a + b) // 2 // 60 * 60, b - 60):
                moment = dt.datetime.fromtimestamp(t, TZ)
                assert hours_status(text, at=moment).label == label, moment

    def test_rows_share_timelines_and_unknown_hours(self) -> None:
        """Outlets with the same hours share one timeline; unreadable hours have none."""
        frame = load_outlets().head(6).copy()
        frame["hours"] = ["Mo-Su 09:00-18:00"] * 3 + ["not hours"] * 3
        rows, tls = search_rows(frame)
        assert len(tls) == 1
        assert [r["hours"] for r in rows] == [0, 0, 0, -1, -1, -1]


class TestPage:
    """The page with a search box: assets, policy and escaping."""

    def test_offline_page_parses_and_cannot_connect(self, node: str, tmp_path: Path) -> None:
        """From `locator map` the page's policy forbids any connection; every script
        parses."""
        from test_maps import parse

        page = embed.embed_page(load_outlets().head(20), search=load_outlets().head(20))
        assert "connect-src 'none'" in page and '"api":false' in page
        node_check(parse(page).scripts, tmp_path, node)

    def test_served_page_may_ask_its_own_server(self) -> None:
        """search_api=True lets the page fetch from its own origin only."""
        page = embed.embed_page(search=load_outlets().head(5), search_api=True)
        assert "connect-src 'self'" in page and '"api":true' in page

    def test_only_authorized_outlets_are_listed(self) -> None:
        """Unauthorized listings never reach the search data."""
        frame = load_outlets().head(4).copy()
        frame["authorized"] = [True, False, True, False]
        rows, _ = search_rows(frame)
        assert [r["name"] for r in rows] == [maps.escape_text(n) for n in frame["name"][::2]]


class TestFrontEnds:
    """`locator map` and `/embed/map` carry the search box."""

    def test_cli_map_has_search_by_default(self, tmp_path: Path) -> None:
        """`locator map` writes the box (reported in its JSON); --no-search leaves it out."""
        from typer.testing import CliRunner

        from locator.cli import app

        runner = CliRunner()
        on, off = tmp_path / "on.html", tmp_path / "off.html"
        r = runner.invoke(app, ["map", "-o", str(on), "--tiles", "none"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["search"] is True
        assert "locatorSearchPanel(" in on.read_text(encoding="utf-8")
        r = runner.invoke(app, ["map", "-o", str(off), "--tiles", "none", "--no-search"])
        assert r.exit_code == 0, r.output
        assert "locatorSearchPanel(" not in off.read_text(encoding="utf-8")

    def test_embed_map_route_has_search_and_may_ask_the_api(self) -> None:
        """/embed/map serves the box with the API fallback on, k results, and a policy
        allowing connections to its own origin only."""
        from fastapi.testclient import TestClient

        from locator.api import create_app

        r = TestClient(create_app()).get("/embed/map", params={"tiles": "none", "k": 7})
        assert r.status_code == 200
        assert "locatorSearchPanel(" in r.text
        assert '"api":true' in r.text and '"k":7' in r.text
        assert "connect-src 'self'" in r.headers["content-security-policy"]
