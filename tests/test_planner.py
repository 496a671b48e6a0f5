"""Planners' maps and figures (#15 §1-§3): outlines offline, coverage by district, drive time.

The district tests use a small synthetic network (outlets and places at named real
places) against the real bundled district polygons, so every expected figure is
worked out by hand from the inputs, not read back from the code.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from locator import boundaries, maps
from locator.cli import app as cli_app
from locator.coverage import CoverageModel, service_areas, suggest_sites
from locator.crs import wgs84_to_gcj02
from locator.drive import DriveTimeModel
from locator.errors import ConfigurationError
from locator.maps.outlines import outlines_geojson
from locator.reference import data_path

# Points well inside three districts (WGS-84): 北京东城区 (故宫), 上海浦东新区 (陆家嘴), 成都锦江区.
DONGCHENG = (39.9163, 116.3972)
PUDONG = (31.2397, 121.4998)
JINJIANG = (30.6570, 104.0830)


def _outlets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outlet_id": ["O1", "O2"],
            "name": ["北京网点", "上海网点"],
            "city": ["北京", "上海"],
            "province": ["北京市", "上海市"],
            "authorized": [True, True],
            # ~1 km from the Dongcheng point; ~3 km from the Pudong point (across the river)
            "lat": [DONGCHENG[0] + 0.009, PUDONG[0] + 0.027],
            "lon": [DONGCHENG[1], PUDONG[1]],
        }
    )


def _places() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "place_id": ["P1", "P2", "P3", "P4"],
            "name": ["Dongcheng", "Pudong-a", "Pudong-b", "Jinjiang"],
            # Pudong-b: 川沙, inside 浦东新区, ~19 km from the Shanghai outlet
            "lat": [DONGCHENG[0], PUDONG[0], 31.15, JINJIANG[0]],
            "lon": [DONGCHENG[1], PUDONG[1], 121.65, JINJIANG[1]],
            "population": [1000, 300, 700, 5000],
        }
    )


@pytest.fixture(scope="module")
def model() -> CoverageModel:
    return CoverageModel(_outlets(), _places())


class TestDriveTimeModel:
    def test_default_circuity_is_the_published_detour_index(self) -> None:
        """The default circuity is the 25-city mean detour index (1.32), and the docstring
        cites the study."""
        assert DriveTimeModel().circuity == 1.32
        assert "10.1080/19475683.2021.1966503" in (DriveTimeModel.__doc__ or "")

    def test_two_hours_reach(self) -> None:
        """2 h = 30 min for the first 15 road km at 30 km/h + 90 min at 70 km/h = 120 road
        km, i.e. 120 / 1.32 geodesic km."""
        assert DriveTimeModel().reach_km(120) == pytest.approx(120 / 1.32)


class TestDriveMinutesEverywhere:
    """``drive_minutes=120`` gives the same answer as the equivalent radius, everywhere."""

    R = DriveTimeModel().reach_km(120)

    def test_gaps(self, model: CoverageModel) -> None:
        """Gaps by drive time are the gaps at the equivalent radius."""
        by_time = model.gaps(drive_minutes=120)
        assert [g.place_id for g in by_time] == [g.place_id for g in model.gaps(self.R)]
        assert [g.place_id for g in by_time] == ["P4"]  # Chengdu: no outlet within 91 km

    def test_suggest(self) -> None:
        """Suggestions by drive time equal those at the equivalent radius."""
        a = suggest_sites(_outlets(), _places(), 1, drive_minutes=120)
        b = suggest_sites(_outlets(), _places(), 1, self.R)
        assert a.to_dict() == b.to_dict()
        assert a.radius_km == pytest.approx(self.R)

    def test_service_areas(self) -> None:
        """Service areas by drive time are the circles of the equivalent radius."""
        a = service_areas(_outlets(), drive_minutes=120, by="nation")
        b = service_areas(_outlets(), self.R, by="nation")
        assert a.to_geojson() == b.to_geojson()

    def test_districts(self, model: CoverageModel) -> None:
        """Coverage by district by drive time equals that at the equivalent radius."""
        a = model.report(drive_minutes=120, by="district").districts
        b = model.report(self.R, by="district").districts
        assert a == b

    @pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf, "120", True])
    def test_bad_values_are_clear_errors(self, model: CoverageModel, bad: object) -> None:
        """A bad drive time is a ConfigurationError naming drive_minutes."""
        with pytest.raises(ConfigurationError, match="drive_minutes"):
            model.gaps(drive_minutes=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="drive_minutes"):
            suggest_sites(_outlets(), _places(), 1, drive_minutes=bad)  # type: ignore[arg-type]

    def test_both_is_an_error(self) -> None:
        """Radius and drive time together are refused (which one would win?)."""
        with pytest.raises(ConfigurationError, match="not both"):
            service_areas(_outlets(), 50, drive_minutes=120)


class TestCliDriveMinutes:
    runner = CliRunner()

    @pytest.mark.parametrize("cmd", [["gaps", "--top", "5"], ["suggest", "--sites", "1"]])
    def test_equals_the_radius(self, cmd: list[str]) -> None:
        """``--drive-minutes 120`` prints the same table as ``--radius-km <reach>``."""
        r = f"{DriveTimeModel().reach_km(120):.10f}"
        by_time = self.runner.invoke(cli_app, [*cmd, "--drive-minutes", "120"])
        by_km = self.runner.invoke(cli_app, [*cmd, "--radius-km", r])
        assert by_time.exit_code == 0 and by_km.exit_code == 0, by_time.output
        # every line of the radius answer, plus the note on how the time was converted
        assert set(by_km.output.splitlines()) <= set(by_time.output.splitlines())
        assert "1.32 circuity" in by_time.output

    @pytest.mark.parametrize("cmd", ["gaps", "coverage", "suggest --sites 1", "map -o x.html"])
    @pytest.mark.parametrize("bad", ["0", "-5", "nan", "abc"])
    def test_bad_values(self, cmd: str, bad: str, tmp_path: Path) -> None:
        """A bad --drive-minutes exits 2 with one line naming the option, no traceback."""
        args = [*cmd.replace("x.html", str(tmp_path / "x.html")).split(), "--drive-minutes", bad]
        res = self.runner.invoke(cli_app, args)
        assert res.exit_code == 2
        assert "drive-minutes" in res.output or "drive_minutes" in res.output
        assert "Traceback" not in res.output


class TestCoverageByDistrict:
    def test_population_is_located_in_the_polygons(self, model: CoverageModel) -> None:
        """Each district's population is that of the places inside its polygon."""
        rep = model.report(50, by="district")
        rows = {(d.province, d.name): d for d in rep.districts}
        assert rows[("北京市", "东城区")].population_total == 1000
        pudong = rows[("上海市", "浦东新区")]
        assert pudong.population_total == 1000 and pudong.places_total == 2
        assert rows[("四川省", "锦江区")].population_total == 5000

    def test_share_covered_at_a_radius(self, model: CoverageModel) -> None:
        """At 10 km the Pudong point 3 km away is covered, the one ~19 km away is not."""
        rows = {(d.province, d.name): d for d in model.report(10, by="district").districts}
        pudong = rows[("上海市", "浦东新区")]
        assert pudong.population_covered == 300
        assert pudong.share_covered == pytest.approx(0.3)
        assert rows[("北京市", "东城区")].share_covered == 1.0
        assert rows[("四川省", "锦江区")].share_covered == 0.0  # data, and none covered

    def test_no_data_is_not_zero(self, model: CoverageModel) -> None:
        """A district without any place is "no data": shares None, never 0 %."""
        rep = model.report(50, by="district")
        rows = {(d.province, d.name): d for d in rep.districts}
        xicheng = rows[("北京市", "西城区")]
        assert xicheng.has_data is False
        assert xicheng.share_covered is None and xicheng.population_covered is None
        # it still has a nearest outlet (from inside the district): the Beijing one
        assert xicheng.nearest_outlet_id == "O1" and xicheng.nearest_km < 10
        assert len(rep.districts) == len(boundaries.districts())  # every district, data or not

    def test_outlets_counted_inside(self, model: CoverageModel) -> None:
        """An outlet counts for the district whose polygon contains it."""
        rows = model.report(50, by="district").districts
        assert sum(d.outlets for d in rows) == 2

    def test_default_report_has_no_districts(self, model: CoverageModel) -> None:
        """Without by="district" the report stays as before (no districts key)."""
        rep = model.report(50)
        assert rep.districts == [] and "districts" not in rep.to_dict()

    def test_bad_by(self, model: CoverageModel) -> None:
        with pytest.raises(ConfigurationError, match="by must be"):
            model.report(50, by="county")

    def test_geojson_is_rfc7946(self, model: CoverageModel) -> None:
        """One Feature per district, lon/lat, CCW exterior rings, no crs member, figures
        as properties."""
        fc = model.report(drive_minutes=120, by="district").districts_geojson()
        assert fc["type"] == "FeatureCollection" and "crs" not in fc
        assert len(fc["features"]) == len(boundaries.districts())
        dong = next(f for f in fc["features"] if f["properties"]["name"] == "东城区")
        assert dong["properties"]["population_total"] == 1000
        assert dong["properties"]["drive_minutes"] == 120
        geom = shapely.geometry.shape(dong["geometry"])
        assert geom.contains(shapely.Point(DONGCHENG[1], DONGCHENG[0]))  # lon, lat order
        for poly in getattr(geom, "geoms", [geom]):
            assert poly.exterior.is_ccw

    def test_curve_by_radius_and_drive_time(self, model: CoverageModel) -> None:
        """The curve rises with reach; its 120-minute point is the 120-minute report."""
        km = model.curve([0, 2, 5, 50, 300])  # places 1, 3, ~19 and ~1,500 km away
        assert km["population_covered"].tolist() == [0, 1000, 1300, 2000, 2000]
        hours = model.curve(drive_minutes=[0, 60, 120, 360])
        assert hours["population_covered"].is_monotonic_increasing
        at_2h = hours.set_index("drive_minutes").loc[120.0, "population_covered"]
        assert at_2h == model.report(drive_minutes=120).population_covered
        with pytest.raises(ConfigurationError):
            model.curve(drive_minutes=[-1])


class TestCliDistricts:
    def test_geojson_file(self, tmp_path: Path) -> None:
        """``coverage --by district --geojson OUT`` writes the districts with figures."""
        out = tmp_path / "d.geojson"
        res = CliRunner().invoke(
            cli_app,
            ["coverage", "--by", "district", "--drive-minutes", "120", "--geojson", str(out)],
        )
        assert res.exit_code == 0, res.output
        fc = json.loads(out.read_text("utf-8"))
        assert len(fc["features"]) == len(boundaries.districts())
        props = [f["properties"] for f in fc["features"]]
        assert any(p["has_data"] is False and p["share_covered"] is None for p in props)
        assert "no demand data" in res.output
        assert not list(tmp_path.glob("*.tmp*"))  # atomic: no temp file left behind

    def test_bad_by(self) -> None:
        res = CliRunner().invoke(cli_app, ["coverage", "--by", "street"])
        assert res.exit_code == 2 and "--by" in res.output


class TestApiDistricts:
    @pytest.fixture(scope="class")
    @classmethod
    def client(cls) -> TestClient:
        from locator.api import create_app

        return TestClient(create_app())

    def test_by_district(self, client: TestClient) -> None:
        """``/v1/coverage?by=district`` answers districts (figures and GeoJSON), and by drive
        time the same as at the equivalent radius."""
        a = client.get(
            "/v1/coverage", params={"by": "district", "drive_minutes": 120, "level": "none"}
        )
        assert a.status_code == 200
        body = a.json()
        assert len(body["report"]["districts"]) == len(boundaries.districts())
        assert body["districts"]["type"] == "FeatureCollection"
        r = DriveTimeModel().reach_km(120)
        b = client.get("/v1/coverage", params={"by": "district", "radius_km": r, "level": "none"})
        assert b.json()["report"]["districts"] == body["report"]["districts"]

    @pytest.mark.parametrize(
        ("params", "name"),
        [
            ({"by": "county"}, "by"),
            ({"drive_minutes": -1}, "drive_minutes"),
            ({"drive_minutes": "x"}, "drive_minutes"),
        ],
    )
    def test_bad_values_are_422(self, client: TestClient, params: dict, name: str) -> None:
        r = client.get("/v1/coverage", params=params)
        assert r.status_code == 422 and r.json()["parameter"] == name


class TestOutlines:
    def test_bundled_file(self) -> None:
        """Two features (province, prefecture lines), a few hundred KB at most."""
        raw = data_path(boundaries.OUTLINES_FILE).read_bytes()
        assert len(raw) < 400_000
        fc = json.loads(gzip.decompress(raw))
        assert [f["properties"]["level"] for f in fc["features"]] == ["province", "prefecture"]

    def test_outlines_follow_the_borders(self) -> None:
        """Every province outline vertex lies on (within ~3 km of) a district border."""
        lines = shapely.geometry.shape(outlines_geojson(None)["features"][0]["geometry"])
        d = boundaries.districts()
        borders = shapely.union_all(shapely.boundary(d["geometry"].to_numpy()))
        pts = shapely.points(shapely.get_coordinates(lines)[::200])
        assert float(shapely.distance(pts, borders).max()) < 0.03

    def test_on_every_map_without_tiles(self) -> None:
        """A map without tiles draws the outlines at once (tiles: null)."""
        html = maps.base_map(tiles=None).get_root().render()
        assert (
            "locatorOutlines(map_" in html
            and ", null," in html.split("locatorOutlines(map_")[1][:80]
        )

    def test_with_tiles_on_standby(self) -> None:
        """With tiles, the outlines wait for the tile layer's first error."""
        m = maps.base_map(tiles="osm")
        html = m.get_root().render()
        call = html.split("locatorOutlines(map_")[1][:120]
        assert "tile_layer_" in call

    def test_can_be_left_out(self) -> None:
        assert (
            "locatorOutlines(" not in maps.base_map(tiles=None, outlines=False).get_root().render()
        )

    def test_gcj02_on_amap(self) -> None:
        """On AMap tiles the outlines are drawn in GCJ-02, like every other layer."""
        wgs = outlines_geojson(None)["features"][0]["geometry"]["coordinates"]
        gcj = outlines_geojson("amap")["features"][0]["geometry"]["coordinates"]
        mid = len(wgs) // 2
        lon, lat = wgs[mid][0]
        glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        if shapely.contains_xy(shapely.box(73, 18, 135, 54), lon, lat):
            assert gcj[mid][0] == pytest.approx([float(glon[0]), float(glat[0])], abs=2e-5)


class TestChoropleth:
    def test_layer(self, model: CoverageModel) -> None:
        """Shares as colours, no data in grey, the hover card's fields, a legend."""
        rep = model.report(10, by="district")
        html = maps.build_map(_outlets(), tiles=None, districts=rep).get_root().render()
        html = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), html)  # JSON
        assert maps.choropleth.NO_DATA_COLOR in html
        assert "no data 无数据" in html
        assert "Nearest outlet 最近网点" in html and "北京网点" in html
        assert "30% (300)" in html  # Pudong at 10 km
        assert "Share of population covered" in html

    def test_amap_polygons_are_gcj02(self, model: CoverageModel) -> None:
        """On AMap the district polygons are converted to GCJ-02."""
        rep = model.report(10, by="district")
        wgs = maps.districts_layer(rep, tiles=None)
        gcj = maps.districts_layer(rep, tiles="amap")

        def first_ring(layer):
            gj = next(c for c in layer._children.values() if hasattr(c, "data"))
            f = gj.data["features"][0]["geometry"]["coordinates"]
            while isinstance(f[0][0], list):
                f = f[0]
            return f[0]

        lon, lat = first_ring(wgs)
        glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        assert first_ring(gcj) == pytest.approx([float(glon[0]), float(glat[0])], abs=2e-6)


class TestApiEmbedDriveMinutes:
    @pytest.fixture(scope="class")
    @classmethod
    def client(cls) -> TestClient:
        from locator.api import create_app

        return TestClient(create_app())

    def test_equals_the_radius(self, client: TestClient) -> None:
        """``/embed/map?drive_minutes=120`` draws the page of the equivalent radius."""
        r = DriveTimeModel().reach_km(120)
        base = {"layers": "coverage", "tiles": "none", "city": "杭州"}
        a = client.get("/embed/map", params={**base, "drive_minutes": 120})
        b = client.get("/embed/map", params={**base, "radius_km": r})
        assert a.status_code == b.status_code == 200
        strip = re.compile(r"\b(map|feature_group|geo_json|layer_control|tile_layer)_[0-9a-f]{32}")
        assert strip.sub("x", a.text) == strip.sub("x", b.text)

    @pytest.mark.parametrize(
        "params", [{"drive_minutes": -1}, {"drive_minutes": 120, "radius_km": 50}]
    )
    def test_bad_values_are_422(self, client: TestClient, params: dict) -> None:
        r = client.get("/embed/map", params=params)
        assert r.status_code == 422 and r.json()["parameter"] == "drive_minutes"
