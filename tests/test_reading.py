"""How the offline geocoder reads a query: streets, name boundaries, typos, folding (#11)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from locator.cli import app as cli_app
from locator.geocode import OfflineGeocoder, geocode_batch


@pytest.fixture(scope="module")
def geo() -> OfflineGeocoder:
    return OfflineGeocoder()


class TestStreets:
    @pytest.mark.parametrize(
        "query", ["中山北路1号", "南京东路300号", "解放南路", "中山路88号", "人民大道"]
    )
    def test_a_street_alone_is_no_place(self, geo: OfflineGeocoder, query: str) -> None:
        """A road named after a place (中山, 南京, 解放) is in every city: alone it
        answers None, and the reason names the street."""
        assert geo.geocode(query) is None
        reason = geo.no_match_reason(query)
        assert "street" in reason and query.rstrip("0123456789号") in reason

    def test_a_street_in_a_city_is_that_city(self, geo: OfflineGeocoder) -> None:
        """上海市南京东路300号 is in Shanghai, not Nanjing."""
        loc = geo.geocode("上海市南京东路300号")
        assert loc is not None and loc.raw["city"] == "上海市" and not loc.raw["ambiguous"]

    def test_the_cli_says_why(self) -> None:
        """`locator geocode 中山北路1号` exits 1 and says it is a street."""
        res = CliRunner().invoke(cli_app, ["geocode", "中山北路1号"])
        assert res.exit_code == 1
        assert "street name" in res.stderr and "中山北路1号" in res.stderr

    def test_the_api_says_why(self) -> None:
        """The API's 404 body names the parameter and says the query is a street."""
        from fastapi.testclient import TestClient

        from locator.api import create_app

        client = TestClient(create_app(geocoder=OfflineGeocoder()))
        r = client.get("/v1/geocode", params={"q": "解放南路"})
        assert r.status_code == 404
        body = r.json()
        assert body["parameter"] == "q" and "street name" in body["reason"]

    def test_a_bare_name_after_a_street_word_is_the_street(self, geo: OfflineGeocoder) -> None:
        """开发区上海路南 is 'south of 上海路', not 上海 nor 唐山's 路南区; a full
        district name there still reads (石家庄桥西区)."""
        assert geo.geocode("开发区上海路南现代路西") is None
        assert "上海路" in geo.no_match_reason("开发区上海路南现代路西")
        loc = geo.geocode("石家庄桥西区")
        assert loc is not None and loc.raw["district"] == "桥西区"


class TestForeign:
    @pytest.mark.parametrize("query", ["首尔特别市江南区", "东京都新宿区"])
    def test_a_city_we_do_not_know_before_a_district(
        self, geo: OfflineGeocoder, query: str
    ) -> None:
        """首尔特别市江南区 (Seoul) is not 南宁's 江南区: an unknown 市/都 before a district
        name means the district is there; the reason says so."""
        assert geo.geocode(query) is None
        if query.startswith("首尔"):  # 东京都新宿区 names nothing at all
            assert "no city or province of China" in geo.no_match_reason(query)


class TestBoundaries:
    def test_a_town_name_inside_a_longer_town_name(self, geo: OfflineGeocoder) -> None:
        """白鹿泉乡 (a township of 石家庄) is not the town 白鹿 in Chongqing."""
        loc = geo.geocode("白鹿泉乡")
        assert loc is None or loc.raw["province"] != "重庆市"

    def test_a_town_name_of_its_own_still_reads(self, geo: OfflineGeocoder) -> None:
        """The town 白鹿镇 is still found by its full name."""
        loc = geo.geocode("白鹿镇")
        assert loc is not None and loc.raw["province"] == "重庆市"

    @pytest.mark.parametrize(
        ("query", "not_city"),
        [("贵安新区", "保定市"), ("珠江新城花城大道", "西安市")],
    )
    def test_fragments_of_longer_names(
        self, geo: OfflineGeocoder, query: str, not_city: str
    ) -> None:
        """贵安新区 is not 安新县 (保定); 珠江新城 is not 新城区 (西安)."""
        loc = geo.geocode(query)
        assert loc is None or all(c["city"] != not_city for c in loc.raw["candidates"])

    def test_a_former_county_level_city(self, geo: OfflineGeocoder) -> None:
        """上虞市 (a city until 2013, now 绍兴's 上虞区) is that district; the 杭州湾
        (Hangzhou Bay) in the street detail after it is not 杭州."""
        loc = geo.geocode("上虞市杭州湾上虞工业园区纬一路1号")
        assert loc is not None and not loc.raw["ambiguous"]
        assert (loc.raw["city"], loc.raw["district"]) == ("绍兴市", "上虞区")


class TestTypos:
    def test_a_homophone_typo_is_a_flagged_suggestion(self, geo: OfflineGeocoder) -> None:
        """深证 (a typo of 深圳) is suggested as Shenzhen, flagged: never silently accepted."""
        loc = geo.geocode("深证")
        assert loc is not None and loc.raw["city"] == "深圳市"
        assert loc.raw["typo_of"] == "深证" and loc.raw["ambiguous"] is True

    def test_a_typo_before_a_district(self, geo: OfflineGeocoder) -> None:
        """深证市南山区 suggests Shenzhen's 南山区 first, flagged; not 青岛's 市南区."""
        loc = geo.geocode("深证市南山区")
        assert loc is not None and loc.raw["typo_of"] == "深证" and loc.raw["ambiguous"]
        assert (loc.raw["city"], loc.raw["district"]) == ("深圳市", "南山区")
        assert all(c["district"] != "市南区" for c in loc.raw["candidates"])

    def test_the_cli_asks(self) -> None:
        """`locator geocode 深证` asks 'did you mean 广东省深圳市?' and lists it as a
        candidate, not as the answer."""
        res = CliRunner().invoke(cli_app, ["geocode", "深证"])
        assert res.exit_code == 0
        assert "did you mean 广东省深圳市?" in res.stdout and "ambiguous" in res.stdout

    def test_batch_marks_a_typo_ambiguous(self, geo: OfflineGeocoder) -> None:
        """geocode_batch reports a typo's reading as ambiguous, not ok."""
        assert geocode_batch(["杭洲"], geo)[0].status == "ambiguous"

    @pytest.mark.parametrize("query", ["臺北", "开发区", "南宁", "广东省广州市"])
    def test_no_typo_where_none_is(self, geo: OfflineGeocoder, query: str) -> None:
        """A right name, or a word that does not sound like a city, is no typo
        (台北 tai is not 海北 hai)."""
        loc = geo.geocode(query)
        assert loc is None or "typo_of" not in loc.raw


class TestFolding:
    def test_spaces_and_full_width_digits(self, geo: OfflineGeocoder) -> None:
        """北 京 市 海 淀 区 and full-width digits read as 北京市海淀区."""
        for q in ("北 京 市 海 淀 区", "北京市海淀区中关村大街１２３号"):
            loc = geo.geocode(q)
            assert loc is not None and loc.raw["district"] == "海淀区", q
