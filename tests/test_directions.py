"""Directions links (AMap GCJ-02, Baidu BD-09, OpenStreetMap WGS-84) routing from the
customer's origin to the outlet, and ``tel:`` links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from locator.crs import wgs84_to_bd09, wgs84_to_gcj02
from locator.directions import directions_links, phone_links, project, tel_links
from locator.errors import ConfigurationError

ORIGIN = (31.2304, 121.4737)  # WGS-84 lat, lon (Shanghai)
OUTLET = (31.2000, 121.5000)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class TestRoutes:
    @pytest.fixture
    def links(self) -> dict[str, str]:
        return directions_links(OUTLET, origin=ORIGIN, to_name="A&B 中心", origin_name="家")

    def test_amap_routes_in_gcj02(self, links: dict[str, str]) -> None:
        """AMap: from/to are lon,lat,name in GCJ-02, driving, coordinate=gaode."""
        assert links["amap"].startswith("https://uri.amap.com/navigation?")
        q = query(links["amap"])
        olon, olat = wgs84_to_gcj02(ORIGIN[1], ORIGIN[0])
        tlon, tlat = wgs84_to_gcj02(OUTLET[1], OUTLET[0])
        assert q["from"] == f"{olon:.6f},{olat:.6f},家"
        assert q["to"] == f"{tlon:.6f},{tlat:.6f},A&B 中心"
        assert q["mode"] == "car" and q["coordinate"] == "gaode"
        # GCJ-02 differs from the WGS-84 input by a few hundred metres.
        assert f"{OUTLET[1]:.6f}" not in links["amap"]

    def test_baidu_routes_in_bd09(self, links: dict[str, str]) -> None:
        """Baidu: origin/destination latlng:lat,lng|name:.. in BD-09, coord_type=bd09ll."""
        assert links["baidu"].startswith("https://api.map.baidu.com/direction?")
        q = query(links["baidu"])
        olon, olat = wgs84_to_bd09(ORIGIN[1], ORIGIN[0])
        tlon, tlat = wgs84_to_bd09(OUTLET[1], OUTLET[0])
        assert q["origin"] == f"latlng:{olat:.6f},{olon:.6f}|name:家"
        assert q["destination"] == f"latlng:{tlat:.6f},{tlon:.6f}|name:A&B 中心"
        assert q["mode"] == "driving" and q["coord_type"] == "bd09ll"
        assert q["output"] == "html" and q["src"]

    def test_osm_routes_in_wgs84(self, links: dict[str, str]) -> None:
        """OpenStreetMap: route=lat,lon;lat,lon in WGS-84 with a car engine."""
        q = query(links["osm"])
        assert q["engine"] == "fossgis_osrm_car"
        assert q["route"] == "31.230400,121.473700;31.200000,121.500000"

    def test_names_are_percent_encoded(self, links: dict[str, str]) -> None:
        """No raw space, &, or non-ASCII in any link: names are percent-encoded."""
        for url in links.values():
            assert re.fullmatch(r"[A-Za-z0-9:/?&=.,%_~+-]+", url), url
        assert "A%26B%20%E4%B8%AD%E5%BF%83" in links["amap"]

    def test_without_origin(self) -> None:
        """No origin: AMap starts from the device's position (no from), Baidu shows the
        outlet's marker, OSM leaves the start empty."""
        links = directions_links(OUTLET, to_name="X")
        assert "from=" not in links["amap"] and "to=" in links["amap"]
        assert links["baidu"].startswith("https://api.map.baidu.com/marker?")
        assert unquote(query(links["osm"])["route"]).startswith(";31.2")

    @pytest.mark.parametrize(
        "bad", [(91.0, 0.0), (0.0, 181.0), (float("nan"), 0.0), ("x", "y"), "ab", (1.0,)]
    )
    def test_bad_points(self, bad: object) -> None:
        """A bad point is a ConfigurationError naming it, not a broken link."""
        with pytest.raises(ConfigurationError, match="to"):
            directions_links(bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="origin"):
            directions_links(OUTLET, origin=bad)  # type: ignore[arg-type]


class TestProjected:
    """Links from points converted in one vectorised pass are the links of each point."""

    POINTS = (  # Shanghai, Heihe (on the Amur), Hong Kong, Taipei and Tokyo (no offset)
        (31.2304, 121.4737),
        (50.2450, 127.4900),
        (22.2800, 114.1600),
        (25.0330, 121.5654),
        (35.6812, 139.7671),
    )

    def test_project_matches_scalar_conversions(self) -> None:
        ends = project([p[0] for p in self.POINTS], [p[1] for p in self.POINTS])
        for (lat, lon), e in zip(self.POINTS, ends, strict=True):
            assert (e.lat, e.lon) == (lat, lon)
            assert (e.gcj_lon, e.gcj_lat) == wgs84_to_gcj02(lon, lat)
            assert (e.bd_lon, e.bd_lat) == wgs84_to_bd09(lon, lat)
        # the offset applies in China and Hong Kong, not in Taipei or Tokyo
        assert [e.gcj_lat != e.lat for e in ends] == [True, True, True, False, False]

    def test_links_from_ends_equal_links_from_points(self) -> None:
        ends = project([p[0] for p in self.POINTS], [p[1] for p in self.POINTS])
        for point, e in zip(self.POINTS, ends, strict=True):
            for origin, origin_ends in ((ORIGIN, project(*ORIGIN)[0]), (None, None)):
                expected = directions_links(point, origin=origin, to_name="店", origin_name="家")
                got = directions_links(e, origin=origin_ends, to_name="店", origin_name="家")
                assert got == expected

    def test_bad_points_are_named(self) -> None:
        with pytest.raises(ConfigurationError, match="point"):
            project([31.0, 95.0], [121.0, 121.0])

    def test_api_answers_carry_the_same_links(self) -> None:
        """The service projects outlets once; its links are those of each result's point."""
        from locator.api.service import LocatorService
        from locator.data import load_outlets

        svc = LocatorService(load_outlets())
        origin = (30.2741, 120.1551)  # Hangzhou
        results = svc.nearest(*origin, 5, origin_name="家")
        assert len(results) == 5
        for rec in results:
            assert rec["directions"] == directions_links(
                (rec["lat"], rec["lon"]), origin=origin, to_name=rec["name"], origin_name="家"
            )
            assert rec["tel"] == tel_links(rec.get("phone"))


class TestTel:
    @pytest.mark.parametrize(
        ("phone", "links"),
        [
            ("000-555-0042", ["tel:0005550042"]),
            ("(0571) 5550 0100", ["tel:057155500100"]),
            ("+86 571 5550 0100", ["tel:+8657155500100"]),
            ("０５７１－８８８８", ["tel:05718888"]),  # full-width digits
            ("0571-5550 0100 / 400-000-0000", ["tel:057155500100", "tel:4000000000"]),
            ("0571-1111；0571-2222", ["tel:05711111", "tel:05712222"]),
            ("", []),
            (None, []),
            (float("nan"), []),
            ("no phone", []),
        ],
    )
    def test_digits_only(self, phone: object, links: list[str]) -> None:
        """One tel: link per number in the cell, digits only (a leading + kept)."""
        assert tel_links(phone) == links

    def test_shown_as_written(self) -> None:
        """phone_links pairs each link with the number as written."""
        assert phone_links("0571-1111 / 0571-2222") == [
            ("0571-1111", "tel:05711111"),
            ("0571-2222", "tel:05712222"),
        ]
