"""The current division table and its history (#11): addresses that name a former
division resolve to today's successor and say so; new districts exist; duplicated names
stay ambiguous with every candidate; national new areas are known places.

Checked through the library (``OfflineGeocoder``), ``locator geocode`` and ``/v1/geocode``
(and the geocode block of ``/v1/nearest``), each on the bundled data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from locator import reference
from locator.api import create_app
from locator.cli import app as cli_app
from locator.geocode import OfflineGeocoder, origin_from_location, renamed_note

# (query, province, city, district, former name, year)
FORMER = [
    ("宁波江东区", "浙江省", "宁波市", "鄞州区", "江东区", 2016),
    ("浙江省宁波市江东区百丈路100号", "浙江省", "宁波市", "鄞州区", "江东区", 2016),
    ("杭州下城区", "浙江省", "杭州市", "拱墅区", "下城区", 2021),
    ("杭州市下城区武林路1号", "浙江省", "杭州市", "拱墅区", "下城区", 2021),
    ("杭州江干区", "浙江省", "杭州市", "上城区", "江干区", 2021),
    ("莱芜市", "山东省", "济南市", "莱芜区", "莱芜市", 2019),
    ("山东省莱芜市", "山东省", "济南市", "莱芜区", "莱芜市", 2019),
    ("西安户县", "陕西省", "西安市", "鄠邑区", "户县", 2016),
    ("大同城区", "山西省", "大同市", "平城区", "城区", 2018),
    ("长治市城区", "山西省", "长治市", "潞州区", "城区", 2018),
    ("龙华新区创业路汇海广场C座20楼", "广东省", "深圳市", "龙华区", "龙华新区", 2016),
    ("深圳坪山新区", "广东省", "深圳市", "坪山区", "坪山新区", 2016),
]

# (query, province, city, district): divisions created since cpca's table (~2018)
NEW = [
    ("深圳坪山区", "广东省", "深圳市", "坪山区"),
    ("长治潞州区", "山西省", "长治市", "潞州区"),
    ("深圳龙华区", "广东省", "深圳市", "龙华区"),
    ("深圳市光明区", "广东省", "深圳市", "光明区"),
    ("西安鄠邑区", "陕西省", "西安市", "鄠邑区"),
    ("大同平城区", "山西省", "大同市", "平城区"),
    ("济南市莱芜区", "山东省", "济南市", "莱芜区"),
]

# (query, {(city, district or name)}): every candidate must be listed
DUPLICATES = [
    ("龙华区", {("深圳市", "龙华区"), ("海口市", "龙华区")}),
    (
        "鼓楼区",
        {("南京市", "鼓楼区"), ("福州市", "鼓楼区"), ("徐州市", "鼓楼区"), ("开封市", "鼓楼区")},
    ),
    ("朝阳区", {("北京市", "朝阳区"), ("长春市", "朝阳区")}),
    # 重庆's 江北区 became part of 两江新区 in 2025; 宁波's is current; 南京 has 江北新区
    ("江北", {("宁波市", "江北区"), ("重庆市", "两江新区"), ("南京市", "江北新区")}),
    ("江北区", {("宁波市", "江北区"), ("重庆市", "两江新区")}),
]

# (query, province, city or None, name)
NEW_AREAS = [
    ("贵安新区", "贵州省", None, "贵安新区"),
    ("贵州贵安新区大学城", "贵州省", None, "贵安新区"),
    ("江北新区", "江苏省", "南京市", "江北新区"),
    ("雄安新区", "河北省", None, "雄安新区"),
    ("两江新区", "重庆市", "重庆市", "两江新区"),
    ("天府新区", "四川省", "成都市", "天府新区"),
]


def _place(c: dict[str, Any]) -> tuple[str | None, str | None]:
    return c["city"], c["district"] or c["name"]


@pytest.fixture(scope="module")
def geo() -> OfflineGeocoder:
    return OfflineGeocoder()


class TestDivisionTable:
    def test_former_divisions_are_not_current(self) -> None:
        """The table of record is today's: 下城区, 江干区, 江东区 (宁波), 莱芜市 and 户县 are
        gone from it, and the districts that replaced them are there."""
        div = reference.load_divisions()
        names = set(zip(div["city"], div["name"], strict=True))
        for gone in [("杭州市", "下城区"), ("杭州市", "江干区"), ("宁波市", "江东区"),
                     ("莱芜市", "莱芜市"), ("西安市", "户县"), ("大同市", "城区")]:  # fmt: skip
            assert gone not in names
        for now in [("深圳市", "龙华区"), ("深圳市", "坪山区"), ("长治市", "潞州区"),
                    ("杭州市", "拱墅区"), ("济南市", "莱芜区"), ("西安市", "鄠邑区")]:  # fmt: skip
            assert now in names

    def test_every_unit_with_a_centre_says_where_it_comes_from(self) -> None:
        """A centre is taken from cpca, a polygon or the predecessors, and says which;
        a unit with no centre says nothing."""
        div = reference.load_divisions()
        with_centre = div["lat"].notna()
        assert set(div.loc[with_centre, "centre"]) <= {"cpca", "polygon", "predecessor"}
        assert (div.loc[~with_centre, "centre"] == "").all()
        assert with_centre.mean() > 0.99

    def test_new_district_centre_lies_inside_its_city(self) -> None:
        """深圳龙华区 (2016, no cpca centre) gets a centre between 宝安 and 龙岗, in
        Shenzhen, not at 海口's 龙华区 or at Shenzhen's own centre."""
        div = reference.load_divisions()
        lh = div[(div["city"] == "深圳市") & (div["name"] == "龙华区")].iloc[0]
        assert lh["centre"] == "polygon"
        assert 22.6 < lh["lat"] < 22.8 and 113.95 < lh["lon"] < 114.1

    def test_history_names_a_current_successor(self) -> None:
        """Every successor in the history table is a unit of today's table."""
        div = reference.load_divisions()
        current = set(div["adcode"])
        changes = reference.load_division_changes()
        assert len(changes) > 100
        assert set(changes["successor_adcode"]) <= current


class TestFormerNames:
    @pytest.mark.parametrize(("query", "province", "city", "district", "old", "year"), FORMER)
    def test_resolves_to_successor_and_says_so(
        self,
        geo: OfflineGeocoder,
        query: str,
        province: str,
        city: str,
        district: str,
        old: str,
        year: int,
    ) -> None:
        """An address naming a former division answers today's successor, not
        ambiguous, with raw["renamed_from"] naming the old one and the year."""
        loc = geo.geocode(query)
        assert loc is not None
        raw = loc.raw
        assert (raw["province"], raw["city"], raw["district"]) == (province, city, district)
        assert raw["ambiguous"] is False
        assert raw["renamed_from"] == {"name": old, "successor": district, "year": year}

    def test_former_division_never_answers_reverse(self, geo: OfflineGeocoder) -> None:
        """Reverse geocoding answers current units only: at the old centre of 下城区
        (cpca's, in WGS-84) the answer is one of today's 杭州 districts, not 下城区."""
        loc = geo.reverse((30.284044, 120.176258))
        assert loc is not None
        div = reference.load_divisions()
        current = set(div[div["city"] == "杭州市"]["name"])
        assert loc.raw["district"] in current and loc.raw["district"] != "下城区"
        assert "renamed_from" not in loc.raw

    def test_longhua_new_area_is_never_haikou(self, geo: OfflineGeocoder) -> None:
        """龙华新区… (Shenzhen's former functional area) is never 海口's 龙华区."""
        loc = geo.geocode("龙华新区创业路汇海广场C座20楼", exactly_one=False)
        assert loc and all(c.raw["city"] != "海口市" for c in loc)

    def test_origin_and_note_carry_the_rename(self, geo: OfflineGeocoder) -> None:
        """The origin every front end shows carries renamed_from, and the one wording."""
        origin = origin_from_location(geo.geocode("杭州下城区"), "杭州下城区")
        assert origin["renamed_from"] == {"name": "下城区", "successor": "拱墅区", "year": 2021}
        assert renamed_note(origin["renamed_from"]) == "下城区 is now 拱墅区 (since 2021)"
        assert renamed_note(None) is None


class TestNewDistricts:
    @pytest.mark.parametrize(("query", "province", "city", "district"), NEW)
    def test_new_district_found(
        self, geo: OfflineGeocoder, query: str, province: str, city: str, district: str
    ) -> None:
        """Districts created since ~2018 answer themselves, in the right city."""
        loc = geo.geocode(query)
        assert loc is not None
        raw = loc.raw
        assert (raw["province"], raw["city"], raw["district"]) == (province, city, district)
        assert raw["ambiguous"] is False and "renamed_from" not in raw


class TestDuplicatedNames:
    def test_every_candidate_listed(self, geo: OfflineGeocoder) -> None:
        """A name shared by several places (new ones included: Shenzhen's 龙华区) is
        ambiguous and lists each of them."""
        got = {}
        for query, _ in DUPLICATES:
            loc = geo.geocode(query)
            assert loc is not None
            got[query] = (loc.raw["ambiguous"], {_place(c) for c in loc.raw["candidates"]})
        assert got == {q: (True, expected) for q, expected in DUPLICATES}


class TestNationalNewAreas:
    @pytest.mark.parametrize(("query", "province", "city", "name"), NEW_AREAS)
    def test_known_with_parent(
        self, geo: OfflineGeocoder, query: str, province: str, city: str | None, name: str
    ) -> None:
        """A national new area answers itself under its province (and managing city),
        not a county whose name it contains (贵安新区 is not 保定's 安新县)."""
        loc = geo.geocode(query)
        assert loc is not None
        raw = loc.raw
        assert (raw["province"], raw["city"], raw["name"]) == (province, city, name)
        assert raw["ambiguous"] is False


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


class TestCli:
    def test_table_shows_former_name(self, runner: CliRunner) -> None:
        """`locator geocode 杭州下城区` prints the successor and the former name."""
        res = runner.invoke(cli_app, ["geocode", "杭州下城区"])
        assert res.exit_code == 0, res.output
        assert "浙江省杭州市拱墅区" in res.stdout
        assert "former name: 下城区 is now 拱墅区 (since 2021)" in res.stdout

    def test_json_has_renamed_from(self, runner: CliRunner) -> None:
        """`--json` carries renamed_from as the library gives it."""
        res = runner.invoke(cli_app, ["geocode", "莱芜市", "--json"])
        assert res.exit_code == 0, res.output
        obj = json.loads(res.stdout)
        assert obj["district"] == "莱芜区" and obj["city"] == "济南市"
        assert obj["renamed_from"] == {"name": "莱芜市", "successor": "莱芜区", "year": 2019}

    def test_ambiguous_candidates_show_former_name(self, runner: CliRunner) -> None:
        """An ambiguous answer marks the candidate found by a former name."""
        res = runner.invoke(cli_app, ["geocode", "江北区"])
        assert res.exit_code == 0, res.output
        assert "former name: 江北区 is now 两江新区 (since 2025)" in res.stdout
        assert "浙江省宁波市江北区" in res.stdout

    def test_nearest_shows_former_name(self, runner: CliRunner) -> None:
        """`locator nearest 杭州江干区` says where it searched from and the rename."""
        res = runner.invoke(cli_app, ["nearest", "杭州江干区", "-k", "1"])
        assert res.exit_code == 0, res.output
        assert "上城区" in res.stdout and "江干区 is now 上城区 (since 2021)" in res.stdout


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())  # the offline geocoder on the bundled data


class TestApi:
    def test_geocode_renamed_from(self, client: TestClient) -> None:
        """/v1/geocode answers the successor with renamed_from."""
        r = client.get("/v1/geocode", params={"q": "杭州下城区"})
        assert r.status_code == 200
        body = r.json()
        assert body["district"] == "拱墅区"
        assert body["renamed_from"] == {"name": "下城区", "successor": "拱墅区", "year": 2021}

    def test_geocode_current_name_has_null_renamed_from(self, client: TestClient) -> None:
        """A current name's answer has renamed_from null."""
        r = client.get("/v1/geocode", params={"q": "深圳坪山区"})
        assert r.status_code == 200
        assert r.json()["district"] == "坪山区" and r.json()["renamed_from"] is None

    def test_geocode_duplicate_lists_candidates(self, client: TestClient) -> None:
        """/v1/geocode?q=龙华区 is ambiguous with Shenzhen's and Haikou's."""
        body = client.get("/v1/geocode", params={"q": "龙华区"}).json()
        assert body["ambiguous"] is True
        assert {c["city"] for c in body["candidates"]} == {"深圳市", "海口市"}

    def test_nearest_origin_renamed_from(self, client: TestClient) -> None:
        """/v1/nearest's origin block carries renamed_from."""
        r = client.get("/v1/nearest", params={"q": "西安户县", "k": 1})
        assert r.status_code == 200
        origin = r.json()["origin"]
        assert origin["district"] == "鄠邑区"
        assert origin["renamed_from"] == {"name": "户县", "successor": "鄠邑区", "year": 2016}


class TestApp:
    @pytest.mark.filterwarnings("ignore::DeprecationWarning")
    def test_find_view_says_former_name(self) -> None:
        """The app's Find view, given 杭州下城区, searches from 拱墅区 and says the
        district was renamed."""
        from pathlib import Path

        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"))
        at.default_timeout = 180
        at.run()
        at.text_input(key="query").input("杭州下城区").run()
        assert not at.exception, [e.value for e in at.exception]
        infos = [str(i.value) for i in at.info]
        assert any("下城区 is now 拱墅区" in i and "2021" in i for i in infos), infos
