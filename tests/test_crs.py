"""WGS-84 <-> GCJ-02 <-> BD-09."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from locator import crs
from locator.errors import ConfigurationError

GEOD = Geod(ellps="WGS84")

# Reference pairs published with the widely used `coordtransform` library
# (wandergis/coordtransform, test/app.js), input (116.404, 39.915).
REF_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
REF_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
REF_BD_TO_GCJ_APPROX = (116.39762729119315, 39.90865673957631)  # one-step closed form


class TestForward:
    def test_wgs_to_gcj_matches_published_pair(self) -> None:
        """WGS-84 -> GCJ-02 reproduces the published reference to 1e-9 degrees."""
        lon, lat = crs.wgs84_to_gcj02(116.404, 39.915)
        assert lon == pytest.approx(REF_WGS_TO_GCJ[0], abs=1e-9)
        assert lat == pytest.approx(REF_WGS_TO_GCJ[1], abs=1e-9)

    def test_gcj_to_bd_matches_published_pair(self) -> None:
        """GCJ-02 -> BD-09 reproduces the published reference."""
        lon, lat = crs.gcj02_to_bd09(116.404, 39.915)
        assert (lon, lat) == pytest.approx(REF_GCJ_TO_BD, abs=1e-9)

    def test_offset_is_a_few_hundred_metres_in_china(self) -> None:
        """The GCJ-02 offset in Beijing is a few hundred metres, not kilometres."""
        lon, lat = crs.wgs84_to_gcj02(116.404, 39.915)
        _, _, d = GEOD.inv(116.404, 39.915, lon, lat)
        assert 100 < d < 1000

    def test_outside_china_unchanged(self) -> None:
        """Seoul, Taipei, Hanoi, Tokyo and London keep their WGS-84 coordinates."""
        lons = np.array([126.978, 121.565, 105.834, 139.692, -0.128])
        lats = np.array([37.566, 25.033, 21.028, 35.690, 51.507])
        glon, glat = crs.wgs84_to_gcj02(lons, lats)
        np.testing.assert_array_equal(glon, lons)
        np.testing.assert_array_equal(glat, lats)

    def test_vectorized_equals_scalar(self) -> None:
        """Array input gives the same numbers as point-by-point calls."""
        rng = np.random.default_rng(1)
        lons = rng.uniform(75, 134, 50)
        lats = rng.uniform(19, 52, 50)
        vlon, vlat = crs.wgs84_to_gcj02(lons, lats)
        for i in range(50):
            assert (vlon[i], vlat[i]) == crs.wgs84_to_gcj02(float(lons[i]), float(lats[i]))


class TestInverse:
    def test_gcj_round_trip_below_1e7_degrees(self) -> None:
        """GCJ-02 -> WGS-84 inverts the forward formula to < 1e-7 degrees (about 1 cm)."""
        rng = np.random.default_rng(7)
        # A box wholly inside the GCJ-02 region (borders are tested separately).
        lons = rng.uniform(100, 119, 5000)
        lats = rng.uniform(23, 40, 5000)
        g = crs.wgs84_to_gcj02(lons, lats)
        back_lon, back_lat = crs.gcj02_to_wgs84(*g)
        assert np.max(np.abs(back_lon - lons)) < 1e-7
        assert np.max(np.abs(back_lat - lats)) < 1e-7

    def test_bd_round_trip_below_1e7_degrees(self) -> None:
        """WGS-84 -> BD-09 -> WGS-84 returns to the start within 1e-7 degrees."""
        rng = np.random.default_rng(8)
        lons = rng.uniform(100, 119, 2000)
        lats = rng.uniform(23, 40, 2000)
        back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lons, lats))
        assert np.max(np.abs(back[0] - lons)) < 1e-7
        assert np.max(np.abs(back[1] - lats)) < 1e-7

    def test_bd_inverse_refines_the_published_approximation(self) -> None:
        """The iterated BD-09 inverse lies within 1e-6 degrees of the one-step formula
        and, unlike it, maps back onto the input exactly."""
        lon, lat = crs.bd09_to_gcj02(116.404, 39.915)
        assert (lon, lat) == pytest.approx(REF_BD_TO_GCJ_APPROX, abs=1e-6)
        assert crs.gcj02_to_bd09(lon, lat) == pytest.approx((116.404, 39.915), abs=1e-9)

    def test_inverse_is_self_consistent_at_the_border(self) -> None:
        """Across the region border, converting the inverse forward again gives back
        the GCJ-02 input (within 1e-7 degrees) wherever a consistent answer exists."""
        rng = np.random.default_rng(9)
        lons = rng.uniform(97.5, 98.7, 4000)  # straddles the Yunnan (德宏) - Myanmar
        lats = rng.uniform(24.0, 24.6, 4000)  # border and its 3 km buffer
        w = crs.gcj02_to_wgs84(lons, lats)
        f = crs.wgs84_to_gcj02(*w)
        ok = (np.abs(f[0] - lons) < 1e-7) & (np.abs(f[1] - lats) < 1e-7)
        outside = ~crs.in_china(lons, lats)
        assert ok[outside].all()
        assert ok.mean() > 0.99

    def test_nan_passes_through(self) -> None:
        """A NaN coordinate stays NaN instead of looping or raising."""
        lon, _ = crs.gcj02_to_wgs84(np.array([np.nan, 116.4]), np.array([39.9, 39.9]))
        assert np.isnan(lon[0]) and np.isfinite(lon[1])


class TestConvert:
    @pytest.mark.parametrize("name", ["WGS-84", "gcj-02", "BD09", "gaode", "baidu", "gps"])
    def test_aliases(self, name: str) -> None:
        """Common spellings of the three systems are understood."""
        assert crs.normalize_coord_sys(name) in crs.COORD_SYSTEMS

    def test_unknown_system_is_named(self) -> None:
        """An unknown system raises ConfigurationError naming it."""
        with pytest.raises(ConfigurationError, match="utm50"):
            crs.convert(116.4, 39.9, "utm50", "wgs84")

    def test_convert_chain(self) -> None:
        """convert(bd09 -> gcj02) agrees with the direct function."""
        assert crs.convert(116.41, 39.92, "bd09", "gcj02") == pytest.approx(
            crs.bd09_to_gcj02(116.41, 39.92), abs=1e-12
        )


class TestSphereHelpers:
    def test_unit_vectors_are_unit_and_order_like_distance(self) -> None:
        """unit_vectors gives norm-1 rows whose chord grows with great-circle distance."""
        rng = np.random.default_rng(3)
        lat, lon = rng.uniform(-89, 89, 200), rng.uniform(-180, 180, 200)
        v = crs.unit_vectors(lat, lon)
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-12)
        chord = np.linalg.norm(v - v[0], axis=1)
        gc = crs.great_circle_km(lat[0], lon[0], lat, lon)
        assert (np.argsort(chord, kind="stable") == np.argsort(gc, kind="stable")).mean() > 0.99

    def test_great_circle_is_within_half_a_percent_of_the_geodesic(self) -> None:
        """The spherical helper stays within 0.6% of the WGS-84 geodesic (its documented use:
        thresholds and prefilters only)."""
        rng = np.random.default_rng(4)
        lat1, lon1 = rng.uniform(18, 53, 500), rng.uniform(73, 135, 500)
        lat2, lon2 = rng.uniform(18, 53, 500), rng.uniform(73, 135, 500)
        _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
        gc = crs.great_circle_km(lat1, lon1, lat2, lon2)
        assert np.max(np.abs(gc - d / 1000) / (d / 1000)) < 0.006
        assert isinstance(crs.great_circle_km(30, 120, 31, 121), float)

    def test_unit_vectors_take_latitude_first(self) -> None:
        """unit_vectors(lat, lon), as documented: (90, 0) is the north pole (z = 1) and
        (0, 90) lies on the equator at 90° E (y = 1)."""
        np.testing.assert_allclose(crs.unit_vectors([90.0], [0.0])[0], [0, 0, 1], atol=1e-12)
        np.testing.assert_allclose(crs.unit_vectors([0.0], [90.0])[0], [0, 1, 0], atol=1e-12)

    def test_great_circle_takes_latitude_first(self) -> None:
        """great_circle_km(lat1, lon1, lat2, lon2), as documented: two points at 80° N,
        180° of longitude apart, are 20° of arc apart over the pole (~2,224 km), not the
        half-circumference that reading them as (lon, lat) would give."""
        km = crs.great_circle_km(80.0, 0.0, 80.0, 180.0)
        assert km == pytest.approx(20 * np.pi / 180 * crs.MEAN_RADIUS_KM, rel=1e-9)

    def test_module_docs_state_the_argument_orders(self) -> None:
        """The module docs no longer claim every function takes (lon, lat): they name the
        two sphere helpers as latitude first."""
        doc = crs.__doc__ or ""
        assert "All functions take" not in doc
        assert "**latitude first**" in doc and "unit_vectors" in doc and "great_circle_km" in doc
