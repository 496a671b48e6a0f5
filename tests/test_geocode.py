"""Offline geocoder: addresses, names in three scripts, ambiguity, hints, reverse, bad input."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from hypothesis import given, settings
from hypothesis import strategies as st

from locator.errors import GeocodeError, LocatorError
from locator.geocode import OfflineGeocoder


@pytest.fixture(scope="module")
def geo() -> OfflineGeocoder:
    return OfflineGeocoder()


def _labels(loc: Location) -> list[str]:
    return [f"{c['province']}|{c['city']}|{c['district']}" for c in loc.raw["candidates"]]


class TestInterface:
    def test_is_a_geopy_geocoder(self, geo: OfflineGeocoder) -> None:
        """OfflineGeocoder is a geopy Geocoder, so it swaps with Nominatim or BaiduV3."""
        assert isinstance(geo, Geocoder)

    def test_exported_from_package(self) -> None:
        """The package root re-exports OfflineGeocoder."""
        import locator

        assert locator.OfflineGeocoder is OfflineGeocoder

    def test_raw_has_documented_keys(self, geo: OfflineGeocoder) -> None:
        """Location.raw carries province, city, district, adcode, level, ambiguity, source."""
        loc = geo.geocode("北京市朝阳区望京街10号")
        assert isinstance(loc, Location)
        for key in ("province", "city", "district", "adcode", "level", "ambiguous",
                    "candidates", "source", "matched"):  # fmt: skip
            assert key in loc.raw
        assert loc.raw["source"] == "offline"
        cand = loc.raw["candidates"][0]
        assert set(cand) >= {"province", "city", "district", "lat", "lon", "population"}


class TestChineseAddresses:
    @pytest.mark.parametrize(
        ("query", "province", "city", "district", "adcode"),
        [
            ("北京市朝阳区望京街10号", "北京市", "北京市", "朝阳区", "110105"),
            ("深圳南山区科技园", "广东省", "深圳市", "南山区", "440305"),
            ("江苏泰州海陵区", "江苏省", "泰州市", "海陵区", "321202"),
            ("新疆乌鲁木齐市天山区", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "650102"),
            ("上海浦东新区世纪大道100号", "上海市", "上海市", "浦东新区", "310115"),
        ],
    )
    def test_address_to_district(
        self,
        geo: OfflineGeocoder,
        query: str,
        province: str,
        city: str,
        district: str,
        adcode: str,
    ) -> None:
        """Addresses resolve to district level even with the province or city left out."""
        loc = geo.geocode(query)
        assert loc is not None
        assert (loc.raw["province"], loc.raw["city"], loc.raw["district"]) == (
            province,
            city,
            district,
        )
        assert loc.raw["adcode"] == adcode
        assert loc.raw["level"] == "district"
        assert loc.raw["ambiguous"] is False

    def test_full_width_space_and_punctuation(self, geo: OfflineGeocoder) -> None:
        """Full-width spaces and punctuation are tolerated."""
        loc = geo.geocode("北京市　朝阳区，望京街１０号")
        assert loc is not None and loc.raw["district"] == "朝阳区"
        assert loc.raw["city"] == "北京市"

    def test_coordinates_are_wgs84_near_district_centre(self, geo: OfflineGeocoder) -> None:
        """The point is the district's WGS-84 centre (Beijing 朝阳区 ≈ 39.92 N, 116.44 E)."""
        loc = geo.geocode("北京市朝阳区")
        assert loc.latitude == pytest.approx(39.92, abs=0.05)
        assert loc.longitude == pytest.approx(116.44, abs=0.05)

    def test_street_name_equal_to_a_city_is_ignored(self, geo: OfflineGeocoder) -> None:
        """中山路 in Beijing does not move the answer to 中山市 (Guangdong)."""
        assert geo.geocode("北京市中山路").raw["city"] == "北京市"
        assert geo.geocode("中山路, 北京市").raw["city"] == "北京市"

    def test_town_name_does_not_swallow_divisions(self, geo: OfflineGeocoder) -> None:
        """南阳镇平县 is 南阳 + 镇平县, not the town 南阳镇 (a GeoNames place in Gansu)."""
        loc = geo.geocode("南阳镇平县胜利路99号")
        assert (loc.raw["city"], loc.raw["district"]) == ("南阳市", "镇平县")

    def test_street_named_like_a_district(self, geo: OfflineGeocoder) -> None:
        """焦作市解放路 is a road in 焦作, not 解放区; 焦作市解放区 is the district."""
        loc = geo.geocode("焦作市解放路")
        assert loc.raw["level"] == "city" and loc.raw["city"] == "焦作市"
        assert geo.geocode("焦作市解放区").raw["district"] == "解放区"

    @pytest.mark.parametrize("query", ["中山路1号", "北京路", "文化路39号 578室"])
    def test_street_only_address_is_not_found(self, geo: OfflineGeocoder, query: str) -> None:
        """A street named after a city or town (中山路, 北京路) alone names no place."""
        assert geo.geocode(query) is None

    def test_city_street_in_another_city(self, geo: OfflineGeocoder) -> None:
        """广州北京路 is a road in Guangzhou."""
        assert geo.geocode("广州北京路").raw["city"] == "广州市"

    def test_names_after_the_district_are_street_detail(self, geo: OfflineGeocoder) -> None:
        """A city name inside the street part (长春路) does not move the answer."""
        loc = geo.geocode("北京市海淀区长春路8号")
        assert (loc.raw["city"], loc.raw["district"]) == ("北京市", "海淀区")
        assert loc.raw["ambiguous"] is False

    @pytest.mark.parametrize(
        ("query", "adcode"),
        [
            ("济南市中区", "370103"),
            ("青岛市南区", "370202"),
            ("山东省济南市市中区", "370103"),
            ("石家庄桥西区", "130104"),
            ("哈尔滨道里区", "230102"),
        ],
    )
    def test_overlapping_names(self, geo: OfflineGeocoder, query: str, adcode: str) -> None:
        """济南市中区 is 济南 + 市中区, not 济南市 + 中区; 桥西区 and 道里区 start with
        street words but are districts."""
        assert geo.geocode(query).raw["adcode"] == adcode

    def test_every_district_in_the_table(self, geo: OfflineGeocoder) -> None:
        """Every district resolves to its own adcode from '省市区+street' and '市区'."""
        from locator.reference import load_divisions, short_name

        div = load_divisions()
        wrong = []
        for r in div[div["level"] == "district"].itertuples(index=False):
            head = r.province if r.province == r.city else r.province + r.city
            for q in (f"{head}{r.name}人民路1号", short_name(r.city) + r.name):
                loc = geo.geocode(q)
                if loc is None or loc.raw["adcode"] != r.adcode or loc.raw["ambiguous"]:
                    wrong.append(q)
        assert wrong == []

    def test_same_answer_twice(self, geo: OfflineGeocoder) -> None:
        """Memoized resolutions give the same answer, with fresh raw dicts each time."""
        a = geo.geocode("江苏泰州海陵区")
        b = geo.geocode("江苏泰州海陵区")
        assert a.raw == b.raw and a.raw is not b.raw
        a.raw["candidates"].clear()
        assert geo.geocode("江苏泰州海陵区").raw["candidates"]

    def test_city_without_districts(self, geo: OfflineGeocoder) -> None:
        """A prefecture city with no districts (东莞) is a city-level answer."""
        loc = geo.geocode("广东省东莞市长安镇")
        assert loc.raw["city"] == "东莞市" and loc.raw["level"] == "city"


class TestNames:
    @pytest.mark.parametrize("query", ["Xi'an", "xian", "Xi’an", "XIAN", "Xi an", "西安", "西安市"])
    def test_xian_spellings(self, geo: OfflineGeocoder, query: str) -> None:
        """Xi'an is found in Chinese and pinyin, any case, any apostrophe, unambiguously."""
        loc = geo.geocode(query)
        assert loc.raw["city"] == "西安市" and loc.raw["level"] == "city"
        assert loc.raw["ambiguous"] is False

    @pytest.mark.parametrize(
        ("query", "city"),
        [
            ("urumqi", "乌鲁木齐市"),
            ("Ürümqi", "乌鲁木齐市"),
            ("Hohhot", "呼和浩特市"),
            ("HARBIN", "哈尔滨市"),
            ("Peking", "北京市"),
            ("Lhasa", "拉萨市"),
        ],
    )
    def test_english_and_pinyin_city_names(
        self, geo: OfflineGeocoder, query: str, city: str
    ) -> None:
        """English and pinyin city names (GeoNames spellings) resolve to the prefecture."""
        assert geo.geocode(query).raw["city"] == city

    def test_district_in_pinyin_with_context(self, geo: OfflineGeocoder) -> None:
        """A district's pinyin plus its city resolves to the district."""
        loc = geo.geocode("Nanshan, Shenzhen")
        assert (loc.raw["city"], loc.raw["district"]) == ("深圳市", "南山区")
        loc = geo.geocode("Chaoyang, Changchun")
        assert (loc.raw["city"], loc.raw["district"]) == ("长春市", "朝阳区")

    def test_province_in_english(self, geo: OfflineGeocoder) -> None:
        """Province names in English resolve to province level."""
        loc = geo.geocode("Inner Mongolia")
        assert loc.raw["level"] == "province" and loc.raw["province"] == "内蒙古自治区"

    def test_place_outside_listed_cities(self, geo: OfflineGeocoder) -> None:
        """A GeoNames town that is no division is found, as level 'place'."""
        loc = geo.geocode("章凤")
        assert loc.raw["level"] == "place"
        assert loc.raw["province"] == "云南省"
        assert geo.geocode("Zhangfeng").raw["name"] == "章凤"

    def test_county_level_city(self, geo: OfflineGeocoder) -> None:
        """A county-level city (昆山) resolves inside its prefecture (苏州)."""
        loc = geo.geocode("Kunshan")
        assert loc.raw["city"] == "苏州市" and loc.raw["district"] == "昆山市"


class TestAmbiguity:
    def test_chaoyang_district_is_ambiguous(self, geo: OfflineGeocoder) -> None:
        """Bare 朝阳区 is Beijing's or Changchun's: flagged, Beijing (larger) first."""
        loc = geo.geocode("朝阳区")
        assert loc.raw["ambiguous"] is True
        assert _labels(loc) == ["北京市|北京市|朝阳区", "吉林省|长春市|朝阳区"]
        assert loc.raw["city"] == "北京市"

    def test_gulou_lists_all_four(self, geo: OfflineGeocoder) -> None:
        """鼓楼区 lists Nanjing, Fuzhou, Xuzhou and Kaifeng, ranked by city population;
        no district is shown with its whole city's population as its own."""
        loc = geo.geocode("鼓楼区")
        assert all(c["population"] is None for c in loc.raw["candidates"])
        assert loc.raw["ambiguous"] is True
        cities = [c["city"] for c in loc.raw["candidates"]]
        assert sorted(cities) == sorted(["南京市", "福州市", "徐州市", "开封市"])
        pops = [c["rank_population"] for c in loc.raw["candidates"]]
        assert pops == sorted(pops, reverse=True)

    @pytest.mark.parametrize(
        ("query", "cities"),
        [
            ("Taizhou", {"台州市", "泰州市"}),
            ("Suzhou", {"苏州市", "宿州市"}),
            ("suzhou", {"苏州市", "宿州市"}),
        ],
    )
    def test_pinyin_homonyms(self, geo: OfflineGeocoder, query: str, cities: set[str]) -> None:
        """Taizhou and Suzhou are two prefecture cities each: both are candidates."""
        loc = geo.geocode(query)
        assert loc.raw["ambiguous"] is True
        assert {c["city"] for c in loc.raw["candidates"]} == cities

    def test_bare_name_of_a_smaller_city_and_bigger_districts(self, geo: OfflineGeocoder) -> None:
        """Bare 朝阳 is 朝阳市 (Liaoning) or the 朝阳区 of Beijing/Changchun (larger
        cities): ambiguous, Beijing first; bare 西安 is just 西安市."""
        loc = geo.geocode("朝阳")
        assert loc.raw["ambiguous"] is True
        assert [c["city"] for c in loc.raw["candidates"]] == ["北京市", "长春市", "朝阳市"]
        assert geo.geocode("西安").raw["ambiguous"] is False

    def test_suzhou_best_guess_is_the_larger(self, geo: OfflineGeocoder) -> None:
        """The best guess for Suzhou is 苏州 (far larger than 宿州)."""
        assert geo.geocode("Suzhou").raw["city"] == "苏州市"

    def test_exactly_one_false_returns_all_candidates(self, geo: OfflineGeocoder) -> None:
        """exactly_one=False returns one Location per candidate (geopy convention)."""
        locs = geo.geocode("朝阳区", exactly_one=False)
        assert isinstance(locs, list) and len(locs) == 2
        assert [loc.raw["city"] for loc in locs] == ["北京市", "长春市"]
        assert all(loc.raw["ambiguous"] for loc in locs)

    def test_context_in_query_resolves(self, geo: OfflineGeocoder) -> None:
        """Naming the province resolves the homonym: Suzhou, Anhui is 宿州."""
        loc = geo.geocode("Suzhou, Anhui")
        assert loc.raw["city"] == "宿州市" and loc.raw["ambiguous"] is False


class TestHints:
    def test_city_hint_resolves(self, geo: OfflineGeocoder) -> None:
        """city= resolves an ambiguous district, in Chinese or English."""
        assert geo.geocode("朝阳区", city="长春").raw["city"] == "长春市"
        loc = geo.geocode("鼓楼区", city="Fuzhou")
        assert loc.raw["city"] == "福州市" and loc.raw["ambiguous"] is False

    def test_province_hint_resolves(self, geo: OfflineGeocoder) -> None:
        """province= resolves a pinyin homonym."""
        loc = geo.geocode("Taizhou", province="浙江")
        assert loc.raw["city"] == "台州市" and loc.raw["ambiguous"] is False

    def test_contradicting_hint_gives_none(self, geo: OfflineGeocoder) -> None:
        """A query that fits nowhere inside the hint is not found."""
        assert geo.geocode("朝阳区", city="上海") is None

    def test_unknown_hint_is_an_error(self, geo: OfflineGeocoder) -> None:
        """A hint that names nothing is invalid input."""
        with pytest.raises(GeocodeError, match="city hint"):
            geo.geocode("朝阳区", city="Atlantis")


class TestMissesAndBadInput:
    @pytest.mark.parametrize("query", ["asdfgh", "hello world", "123", "!!!", "qwertyuiop"])
    def test_junk_returns_none(self, geo: OfflineGeocoder, query: str) -> None:
        """Text that names no place returns None."""
        assert geo.geocode(query) is None

    @pytest.mark.parametrize(
        ("query", "message"),
        [("", "empty"), ("   \u3000 ", "empty"), (None, "must be text"), (42, "must be text"),
         ("北" * 501, "longer than 500")],
    )  # fmt: skip
    def test_invalid_input_raises(self, geo: OfflineGeocoder, query: object, message: str) -> None:
        """Empty, non-text or over-long queries raise GeocodeError."""
        with pytest.raises(GeocodeError, match=message):
            geo.geocode(query)  # type: ignore[arg-type]

    def test_error_is_locator_and_value_error(self, geo: OfflineGeocoder) -> None:
        """GeocodeError is both a LocatorError and a ValueError."""
        with pytest.raises(LocatorError):
            geo.geocode("")
        with pytest.raises(ValueError, match="empty"):
            geo.geocode("")


class TestReverse:
    def test_point_in_beijing_chaoyang(self, geo: OfflineGeocoder) -> None:
        """A point near Beijing's 朝阳区 centre reverse-geocodes to it."""
        loc = geo.reverse((39.93, 116.45))
        assert (loc.raw["city"], loc.raw["district"]) == ("北京市", "朝阳区")
        assert loc.raw["distance_km"] < 5

    def test_string_point(self, geo: OfflineGeocoder) -> None:
        """A 'lat, lon' string works like a tuple."""
        loc = geo.reverse("22.54, 113.93")
        assert loc.raw["city"] == "深圳市"

    def test_roundtrip_geocode_reverse(self, geo: OfflineGeocoder) -> None:
        """Reverse of a district's own centre returns that district."""
        loc = geo.geocode("江苏泰州海陵区")
        back = geo.reverse((loc.latitude, loc.longitude))
        assert back.raw["adcode"] == loc.raw["adcode"]

    def test_hong_kong_and_macau(self, geo: OfflineGeocoder) -> None:
        """Points in Hong Kong and Macau answer those regions, not Shenzhen or Zhuhai."""
        assert geo.reverse((22.28, 114.16)).raw["province"] == "香港特别行政区"
        assert geo.reverse((22.19, 113.54)).raw["province"] == "澳门特别行政区"

    def test_outside_china_is_none(self, geo: OfflineGeocoder) -> None:
        """A point in Paris is not in the gazetteer's area."""
        assert geo.reverse((48.85, 2.35)) is None

    @pytest.mark.parametrize("point", [(95.0, 116.0), "not a point", (float("nan"), 1.0)])
    def test_invalid_point_raises(self, geo: OfflineGeocoder, point: object) -> None:
        """Invalid coordinates raise GeocodeError."""
        with pytest.raises(GeocodeError, match="not a valid"):
            geo.reverse(point)

    def test_reverse_many(self, geo: OfflineGeocoder) -> None:
        """exactly_one=False returns the nearest few units, nearest first."""
        locs = geo.reverse((39.93, 116.45), exactly_one=False)
        dists = [loc.raw["distance_km"] for loc in locs]
        assert len(locs) > 1 and dists == sorted(dists)


# --------------------------------------------------------------------------- batch
class CountingGeocoder:
    """Wraps the offline geocoder, records every query, and can crash at call ``crash_at``."""

    def __init__(self, crash_at: int | None = None, exc: BaseException | None = None,
                 fail_on: set[str] | None = None) -> None:  # fmt: skip
        self.inner = OfflineGeocoder()
        self.calls: list[str] = []
        self.crash_at = crash_at
        self.exc = exc or RuntimeError("simulated crash")
        self.fail_on = fail_on or set()

    def geocode(self, query: str, **kw: object) -> Location | None:
        from locator.errors import GeocoderServiceError

        if self.crash_at is not None and len(self.calls) + 1 == self.crash_at:
            raise self.exc
        self.calls.append(query)
        if query in self.fail_on:
            raise GeocoderServiceError(f"service down for {query}")
        return self.inner.geocode(query, **kw)


ADDRESSES = [
    "北京市朝阳区望京街10号", "深圳南山区科技园", "江苏泰州海陵区", "朝阳区", "Xi'an",
    "asdfgh", "", "Suzhou", "北京市朝阳区望京街10号", "urumqi", "鼓楼区", "Hohhot",
]  # fmt: skip


def _write_input(path: Path, rows: list[str], encoding: str = "utf-8") -> None:
    import pandas as pd

    pd.DataFrame({"id": [f"{i:03d}" for i in range(len(rows))], "address": rows}).to_csv(
        path, index=False, encoding=encoding
    )


class TestGeocodeBatch:
    def test_statuses_and_duplicates(self) -> None:
        """Each row gets a status; a repeated query is geocoded once."""
        from locator.geocode import geocode_batch

        geo = CountingGeocoder()
        res = geocode_batch(ADDRESSES, geo)
        assert [r.status for r in res] == [
            "ok", "ok", "ok", "ambiguous", "ok", "not_found", "not_found", "ambiguous", "ok",
            "ok", "ambiguous", "ok",
        ]  # fmt: skip
        assert geo.calls.count("北京市朝阳区望京街10号") == 1
        assert "" not in geo.calls
        assert "吉林省长春市朝阳区" in res[3].candidates

    def test_service_failure_is_failed_not_missing(self) -> None:
        """A service error marks the row 'failed', distinct from 'not_found'."""
        from locator.geocode import geocode_batch

        res = geocode_batch(["Hohhot", "urumqi"], CountingGeocoder(fail_on={"urumqi"}))
        assert [r.status for r in res] == ["ok", "failed"]
        assert "service down" in (res[1].error or "")


class TestGeocodeFile:
    def test_gb18030_input(self, tmp_path: Path) -> None:
        """A GB18030-encoded CSV is read and geocoded; other columns are kept as text."""
        import pandas as pd

        from locator.geocode import RESULT_COLUMNS, geocode_file

        src, out = tmp_path / "in.csv", tmp_path / "out.csv"
        _write_input(src, ADDRESSES, encoding="gb18030")
        report = geocode_file(src, out, column="address", geocoder=OfflineGeocoder())
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert list(df.columns) == ["id", "address", *RESULT_COLUMNS]
        assert df["id"].iloc[0] == "000"
        assert df["district"].iloc[2] == "海陵区"
        assert report.counts == {"ok": 7, "ambiguous": 3, "not_found": 2}
        assert report.checkpoint is None and not any(tmp_path.glob(".*checkpoint*"))

    def test_missing_column_names_available_ones(self, tmp_path: Path) -> None:
        """A missing column raises DataError listing the columns that exist."""
        from locator.errors import DataError
        from locator.geocode import geocode_file

        src = tmp_path / "in.csv"
        _write_input(src, ADDRESSES)
        with pytest.raises(DataError, match="available columns: id, address"):
            geocode_file(src, tmp_path / "o.csv", column="addr", geocoder=OfflineGeocoder())

    def test_crash_then_resume_repeats_no_call(self, tmp_path: Path) -> None:
        """After a crash mid-run, a rerun resumes: no query is asked twice, output complete."""
        from locator.geocode import checkpoint_path, geocode_file

        src, out, clean = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "clean.csv"
        _write_input(src, ADDRESSES)
        first = CountingGeocoder(crash_at=6)
        with pytest.raises(RuntimeError, match="simulated crash"):
            geocode_file(src, out, column="address", geocoder=first)
        assert not out.exists()  # nothing half-written
        assert checkpoint_path(out).exists()
        second = CountingGeocoder()
        report = geocode_file(src, out, column="address", geocoder=second)
        assert set(first.calls).isdisjoint(second.calls)
        assert report.resumed == 5 and report.calls == len(second.calls)
        geocode_file(src, clean, column="address", geocoder=OfflineGeocoder())
        assert out.read_text("utf-8") == clean.read_text("utf-8")
        assert not checkpoint_path(out).exists()

    def test_ctrl_c_then_resume(self, tmp_path: Path) -> None:
        """Ctrl-C keeps finished rows; the rerun only geocodes the rest."""
        from locator.geocode import geocode_file

        src, out = tmp_path / "in.csv", tmp_path / "out.csv"
        _write_input(src, ADDRESSES)
        first = CountingGeocoder(crash_at=3, exc=KeyboardInterrupt())
        with pytest.raises(KeyboardInterrupt):
            geocode_file(src, out, column="address", geocoder=first)
        second = CountingGeocoder()
        geocode_file(src, out, column="address", geocoder=second)
        assert set(first.calls).isdisjoint(second.calls)
        assert len(first.calls) == 2

    def test_torn_checkpoint_line_is_redone(self, tmp_path: Path) -> None:
        """A checkpoint line cut short by a crash is ignored and that row redone."""
        from locator.geocode import checkpoint_path, geocode_file

        src, out = tmp_path / "in.csv", tmp_path / "out.csv"
        _write_input(src, ADDRESSES)
        with pytest.raises(RuntimeError):
            geocode_file(src, out, column="address", geocoder=CountingGeocoder(crash_at=4))
        cp = checkpoint_path(out)
        cp.write_text(cp.read_text("utf-8") + '{"i": 3, "r": {"stat', "utf-8")
        report = geocode_file(src, out, column="address", geocoder=CountingGeocoder())
        assert report.resumed == 3
        assert report.counts == {"ok": 7, "ambiguous": 3, "not_found": 2}

    def test_failed_rows_stay_pending(self, tmp_path: Path) -> None:
        """Rows that failed are written as 'failed' and only they are retried next run."""
        import pandas as pd

        from locator.geocode import checkpoint_path, geocode_file

        src, out = tmp_path / "in.csv", tmp_path / "out.csv"
        _write_input(src, ADDRESSES)
        report = geocode_file(
            src, out, column="address", geocoder=CountingGeocoder(fail_on={"urumqi"})
        )
        assert report.counts["failed"] == 1 and checkpoint_path(out).exists()
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert df.loc[df["address"] == "urumqi", "geocode_status"].item() == "failed"
        again = CountingGeocoder()
        geocode_file(src, out, column="address", geocoder=again)
        assert again.calls == ["urumqi"]
        assert not checkpoint_path(out).exists()

    def test_changed_input_discards_checkpoint(self, tmp_path: Path) -> None:
        """A checkpoint made for other input is not reused."""
        from locator.geocode import geocode_file

        src, out = tmp_path / "in.csv", tmp_path / "out.csv"
        _write_input(src, ADDRESSES)
        with pytest.raises(RuntimeError):
            geocode_file(src, out, column="address", geocoder=CountingGeocoder(crash_at=4))
        _write_input(src, ADDRESSES[::-1])
        report = geocode_file(src, out, column="address", geocoder=CountingGeocoder())
        assert report.checkpoint_reset and report.resumed == 0

    def test_input_columns_are_never_overwritten(self, tmp_path: Path) -> None:
        """An input column named like a result column is kept as <name>_input."""
        import pandas as pd

        from locator.geocode import geocode_file

        src, out = tmp_path / "in.csv", tmp_path / "out.csv"
        pd.DataFrame({"address": ["江苏泰州海陵区"], "city": ["泰州"]}).to_csv(src, index=False)
        report = geocode_file(src, out, column="address", geocoder=OfflineGeocoder())
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert df["city_input"].item() == "泰州" and df["city"].item() == "泰州市"
        assert report.renamed == {"city": "city_input"}

    def test_xlsx_input(self, tmp_path: Path) -> None:
        """An .xlsx input is read like a CSV."""
        import pandas as pd

        from locator.geocode import geocode_file

        src, out = tmp_path / "in.xlsx", tmp_path / "out.csv"
        pd.DataFrame({"address": ["江苏泰州海陵区", "Hohhot"]}).to_excel(src, index=False)
        report = geocode_file(src, out, column="address", geocoder=OfflineGeocoder())
        assert report.counts == {"ok": 2}


_GEO = OfflineGeocoder()  # shared by the property tests (hypothesis re-runs the body)


class TestRobustness:
    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=120))
    def test_any_text_gives_location_none_or_geocode_error(self, text: str) -> None:
        """Arbitrary text never crashes: a Location, None, or GeocodeError (empty)."""
        try:
            loc = _GEO.geocode(text)
        except GeocodeError:
            assert not unicodedata.normalize("NFKC", text).strip()
            return
        assert loc is None or (-90 <= loc.latitude <= 90 and loc.raw["source"] == "offline")

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.sampled_from(["北京", "朝阳区", "江苏", "泰州", "海陵区", "中山", "路", "Suzhou",
                             "鼓楼区", "章凤", "市", "区", "1号", " ", "，", "Xi'an"]),
            max_size=8,
        )
    )  # fmt: skip
    def test_address_fragments(self, parts: list[str]) -> None:
        """Any mix of real name fragments resolves consistently: candidates are distinct,
        best first by the documented rank, and ambiguity means more than one."""
        text = "".join(parts)
        if not text.strip(" ，"):
            return
        loc = _GEO.geocode(text)
        if loc is None:
            return
        cands = loc.raw["candidates"]
        assert loc.raw["ambiguous"] == (len(cands) > 1)
        keys = [(c["adcode"], c["level"], c["name"]) for c in cands]
        assert len(keys) == len(set(keys))
        pops = [c["rank_population"] for c in cands]
        assert pops == sorted(pops, reverse=True)


class TestTraditionalAndSpacing:
    """Traditional characters and spaced-out names read as the simplified names
    (addresses typed in Hong Kong, Macau, Taiwan and overseas)."""

    @pytest.mark.parametrize(
        ("query", "address"),
        [
            ("廣州", "广东省广州市"),
            ("蘇州市", "江苏省苏州市"),
            ("瀋陽市", "辽宁省沈阳市"),
            ("烏魯木齊", "新疆维吾尔自治区乌鲁木齐市"),
            ("澳門", "澳门特别行政区"),
            ("廣東省深圳市南山區", "广东省深圳市南山区"),
            ("北 京 市 海 淀 区", "北京市海淀区"),
        ],
    )
    def test_reads_as_simplified(self, geo: OfflineGeocoder, query: str, address: str) -> None:
        """Each traditional or spaced query gives the same place as its simplified form."""
        loc = geo.geocode(query)
        assert loc is not None and loc.address == address
        assert loc.raw["query"] == query  # the answer still says what the user typed

    def test_simplified_names_are_not_converted(self, geo: OfflineGeocoder) -> None:
        """A converter would turn 乾县 (a real county) into 干县: names the gazetteer
        knows are never converted."""
        loc = geo.geocode("乾县")
        assert loc is not None and loc.address == "陕西省咸阳市乾县"

    def test_traditional_hint(self, geo: OfflineGeocoder) -> None:
        """Hints are read the same way."""
        loc = geo.geocode("鼓樓區", city="南京")
        assert loc is not None and loc.raw["city"] == "南京市"


class TestRoadsNamedAfterPlaces:
    """Roads named after places exist in almost every city: a road is not the place."""

    @pytest.mark.parametrize("query", ["中山北路1号", "南京东路300号", "解放南路", "中山路"])
    def test_a_road_alone_is_no_place(self, geo: OfflineGeocoder, query: str) -> None:
        """A query that is only a road (with or without a direction) answers None, not
        中山市, 大连中山区, 南京 or 焦作解放区."""
        assert geo.geocode(query) is None

    @pytest.mark.parametrize(
        ("query", "address"),
        [
            ("上海市南京东路300号", "上海市"),
            ("北京市中山北路", "北京市"),
            ("河北省石家庄市桥西区中华北大街", "河北省石家庄市桥西区"),
            ("石家庄桥西区", "河北省石家庄市桥西区"),
        ],
    )
    def test_the_city_before_the_road_counts(
        self, geo: OfflineGeocoder, query: str, address: str
    ) -> None:
        """The city named before the road is the answer; a district whose name starts
        right after a place name (桥西区) is still read."""
        loc = geo.geocode(query)
        assert loc is not None and loc.address == address


class TestNameBoundaries:
    """A district's bare name inside a longer word is not that district (#11)."""

    @pytest.mark.parametrize(
        ("query", "not_this"),
        [
            ("贵安新区", "安新县"),  # 贵安新区 (贵州) is not 保定's 安新县
            ("珠江新城", "新城区"),  # 珠江新城 is a CBD in 广州, not 西安's 新城区
            ("两河口", "河口区"),
            ("中平乡", "平乡县"),
            ("黄柏乡", "柏乡县"),
        ],
    )
    def test_inside_a_longer_word(self, geo: OfflineGeocoder, query: str, not_this: str) -> None:
        """No candidate is the division whose bare name is a fragment of the query."""
        loc = geo.geocode(query)
        names = [] if loc is None else [c["name"] for c in loc.raw["candidates"]]
        assert not_this not in names

    def test_a_typo_does_not_make_another_district(self, geo: OfflineGeocoder) -> None:
        """深证市南山区 (a typo of 深圳) read 市南 and answered 青岛's 市南区; now the
        overlapping real name 南山区 is read, with Shenzhen's first."""
        loc = geo.geocode("深证市南山区")
        assert loc is not None and loc.raw["city"] == "深圳市"
        assert "市南区" not in [c["name"] for c in loc.raw["candidates"]]

    @pytest.mark.parametrize(
        ("query", "address"),
        [
            ("北京朝阳", "北京市朝阳区"),
            ("浙江杭州上城", "浙江省杭州市上城区"),
            ("南京鼓楼", "江苏省南京市鼓楼区"),
            ("青岛市南区", "山东省青岛市市南区"),
        ],
    )
    def test_bare_names_after_a_place_still_read(
        self, geo: OfflineGeocoder, query: str, address: str
    ) -> None:
        """A bare name right after another name (or at the start) is still read."""
        loc = geo.geocode(query)
        assert loc is not None and loc.address == address
