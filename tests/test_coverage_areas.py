"""Tests for locator.coverage's service areas: geodesic circles and RFC 7946 GeoJSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from coverage_cases import GEOD, bundled, synthetic
from shapely.geometry import MultiPolygon, Polygon

from locator.coverage import (
    geodesic_area_km2,
    geodesic_circle,
    geometry_to_geojson,
    service_areas,
)
from locator.errors import ConfigurationError

# --------------------------------------------------------------------------- service areas


def ring_signed_area(ring: list[list[float]]) -> float:
    """Shoelace in lon/lat: > 0 for counter-clockwise."""
    xs = np.array([p[0] for p in ring])
    ys = np.array([p[1] for p in ring])
    return 0.5 * float(np.sum(xs[:-1] * ys[1:] - xs[1:] * ys[:-1]))


def check_rfc7946(fc: dict) -> None:
    """FeatureCollection of (Multi)Polygons: closed rings of >= 4 positions, lon/lat in
    range, <= 6 decimals, exterior rings CCW and holes CW."""
    assert fc["type"] == "FeatureCollection"
    json.dumps(fc, allow_nan=False)
    for feat in fc["features"]:
        assert feat["type"] == "Feature"
        geom = feat["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        assert geom["type"] in ("Polygon", "MultiPolygon")
        for poly in polys:
            for k, ring in enumerate(poly):
                assert len(ring) >= 4 and ring[0] == ring[-1]
                for lon, lat in ring:
                    assert -180 <= lon <= 180 and -90 <= lat <= 90
                    assert round(lon, 6) == lon and round(lat, 6) == lat
                area = ring_signed_area(ring)
                assert area > 0 if k == 0 else area < 0


class TestGeodesicCircle:
    @pytest.mark.parametrize("lat", [0.0, 23.1, 40.0, 53.5, 70.0])
    def test_area_is_pi_r_squared(self, lat):
        """A 50 km circle has an ellipsoidal area within 1 % of π·50² at any latitude."""
        circle = geodesic_circle(lat, 116.4, 50.0)
        assert geodesic_area_km2(circle) == pytest.approx(math.pi * 50**2, rel=0.01)

    def test_vertices_are_at_the_radius_counter_clockwise(self):
        """Every vertex is 50 km (geodesic) from the centre, and the ring is CCW."""
        circle = geodesic_circle(45.0, 120.0, 50.0, n_vertices=128)
        xs, ys = np.asarray(circle.exterior.coords).T
        _, _, d = GEOD.inv(np.full(xs.size, 120.0), np.full(xs.size, 45.0), xs, ys)
        np.testing.assert_allclose(np.asarray(d) / 1000, 50.0, atol=1e-6)
        assert circle.exterior.is_ccw
        assert len(circle.exterior.coords) == 129

    def test_not_a_degree_buffer(self):
        """At 60°N a 100 km circle spans about twice as many degrees of longitude as of
        latitude (a degree buffer would be round in degrees)."""
        minx, miny, maxx, maxy = geodesic_circle(60.0, 30.0, 100.0).bounds
        assert (maxx - minx) / (maxy - miny) == pytest.approx(2.0, rel=0.02)

    def test_antimeridian_circle_is_split(self):
        """A circle across ±180° becomes a MultiPolygon with parts on both sides, all
        longitudes within [-180, 180], and the same area."""
        circle = geodesic_circle(-17.0, 179.9, 50.0)
        assert isinstance(circle, MultiPolygon) and len(circle.geoms) == 2
        minx, _, maxx, _ = circle.bounds
        assert minx == pytest.approx(-180) and maxx == pytest.approx(180)
        assert geodesic_area_km2(circle) == pytest.approx(math.pi * 50**2, rel=0.01)
        check_rfc7946({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": geometry_to_geojson(circle)}
        ]})  # fmt: skip

    def test_circle_around_a_pole_is_refused(self):
        """A circle containing a pole cannot be a lon/lat polygon: ConfigurationError."""
        with pytest.raises(ConfigurationError, match="pole"):
            geodesic_circle(89.9, 0.0, 50.0)

    def test_bad_arguments(self):
        """Too few vertices or an invalid centre raise ConfigurationError."""
        with pytest.raises(ConfigurationError, match="n_vertices"):
            geodesic_circle(30, 110, 50, n_vertices=4)
        with pytest.raises(ConfigurationError, match="centre"):
            geodesic_circle(95, 110, 50)


class TestServiceAreas:
    def test_geojson_is_rfc7946(self):
        """City, province and nation areas export as valid RFC 7946 GeoJSON."""
        outlets, _, _ = synthetic()
        fc = service_areas(outlets, 40.0).to_geojson()
        check_rfc7946(fc)
        levels = {f["properties"]["level"] for f in fc["features"]}
        assert levels == {"city", "province", "nation"}

    def test_bundled_network(self):
        """The bundled network's areas are valid GeoJSON; dissolving never adds area (the
        nation is at most the sum of its provinces, each at most the sum of its cities)."""
        outlets = bundled()[0]
        sa = service_areas(outlets, 50.0)
        check_rfc7946(sa.to_geojson())
        frame = sa.frame()
        by_level = frame.groupby("level")["area_km2"].sum()
        assert by_level["nation"] <= by_level["province"] + 1e-6
        assert by_level["province"] <= by_level["city"] + 1e-6
        n_auth = int(outlets["authorized"].sum())
        assert frame.loc[frame["level"] == "nation", "outlets"].item() == n_auth
        assert by_level["nation"] < n_auth * math.pi * 50**2

    def test_lon_lat_order(self):
        """Coordinates are (lon, lat): a circle around (lat 40, lon 116) has x ≈ 116."""
        outlets = pd.DataFrame({"outlet_id": ["a"], "city": ["x"], "province": ["y"],
                                "lat": [40.0], "lon": [116.0], "authorized": [True]})  # fmt: skip
        fc = service_areas(outlets, 10.0, by="outlet").to_geojson()
        ring = fc["features"][0]["geometry"]["coordinates"][0]
        assert all(115.8 < x < 116.2 and 39.8 < y < 40.2 for x, y in ring)

    def test_dissolve_areas(self):
        """Overlapping circles dissolve to less than their sum; distant ones add up; the
        nation is never larger than the sum of its cities."""
        outlets = pd.DataFrame({
            "outlet_id": ["a", "b", "c"], "city": ["X", "X", "Y"], "province": ["P", "P", "P"],
            "lat": [30.0, 30.3, 40.0], "lon": [110.0, 110.0, 100.0], "authorized": [True] * 3,
        })  # fmt: skip
        sa = service_areas(outlets, 50.0, by=("outlet", "city", "nation"))
        area = {(a.level, a.key): a.area_km2 for a in sa.areas}
        one = math.pi * 50**2
        assert area[("city", "X")] < 2 * one * 0.99
        assert area[("city", "Y")] == pytest.approx(one, rel=0.01)
        assert area[("nation", "all")] == pytest.approx(area[("city", "X")] + area[("city", "Y")])
        assert {a.key: a.outlets for a in sa.areas if a.level == "city"} == {"X": 2, "Y": 1}

    def test_hole_is_clockwise(self):
        """A ring of circles around an uncovered centre leaves a hole, written clockwise."""
        lons, lats, _ = GEOD.fwd(np.full(8, 110.0), np.full(8, 30.0), np.arange(8) * 45.0,
                                 np.full(8, 100_000.0))  # fmt: skip
        outlets = pd.DataFrame({"outlet_id": list("abcdefgh"), "city": ["X"] * 8,
                                "province": ["P"] * 8, "lat": lats, "lon": lons,
                                "authorized": [True] * 8})  # fmt: skip
        fc = service_areas(outlets, 45.0, by="city").to_geojson()
        geom = fc["features"][0]["geometry"]
        assert geom["type"] == "Polygon" and len(geom["coordinates"]) == 2
        check_rfc7946(fc)

    def test_only_authorized_outlets(self):
        """Unauthorized listings draw no service area."""
        outlets, _, _ = synthetic()
        sa = service_areas(outlets, 30.0, by="outlet")
        assert {a.key for a in sa.areas} == set(outlets.loc[outlets["authorized"], "outlet_id"])

    def test_bad_level(self):
        """An unknown level is a ConfigurationError naming 'by'."""
        with pytest.raises(ConfigurationError, match="by must be"):
            service_areas(synthetic()[0], 30.0, by="county")  # type: ignore[arg-type]

    def test_geometry_to_geojson_rounds_and_orients(self):
        """A clockwise polygon with long decimals comes out CCW with <= 6 decimals."""
        cw = Polygon([(0, 0), (0, 1.123456789), (1.987654321, 1), (1, 0)])
        assert not cw.exterior.is_ccw
        geom = geometry_to_geojson(cw)
        ring = geom["coordinates"][0]
        assert ring_signed_area(ring) > 0 and [0.0, 1.123457] in ring
        assert geometry_to_geojson(shapely.Polygon()) is None
