"""Tests for locator.index: exact geodesic k-nearest against a brute-force oracle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from locator.drive import DriveTimeModel
from locator.errors import ConfigurationError, DataError, LocatorError
from locator.index import (
    R_LO_KM,
    RESULT_COLUMNS,
    OutletIndex,
    ecef_km,
    valid_coordinates,
)
from locator.network import DataWarning

GEOD = Geod(ellps="WGS84")
CATS = ["refrigerator", "washer", "air_conditioner", "water_heater", "tv"]


def make_outlets(lat, lon, seed: int = 0, **columns) -> pd.DataFrame:
    """A synthetic outlet frame with every column of the data contract."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    n = lat.size
    rng = np.random.default_rng(seed)
    cats = [";".join(sorted(set(rng.choice(CATS, size=rng.integers(0, 4))))) for _ in range(n)]
    frame = pd.DataFrame(
        {
            "outlet_id": [f"T{i:05d}" for i in range(n)],
            "name": [f"Test outlet {i}" for i in range(n)],
            "kind": rng.choice(["service_center", "repair_point"], size=n),
            "province": "P",
            "city": "C",
            "district": "D",
            "address": "",
            "phone": "",
            "hours": "",
            "categories": cats,
            "authorized": rng.random(n) < 0.8,
            "coord_sys": "wgs84",
            "lat": lat,
            "lon": lon,
        }
    )
    for key, value in columns.items():
        frame[key] = value
    return frame


def oracle(frame: pd.DataFrame, lat: float, lon: float, mask=None):
    """Brute force: every outlet's geodesic km, sorted by (distance, position)."""
    pos = np.arange(len(frame)) if mask is None else np.flatnonzero(np.asarray(mask))
    n = pos.size
    _, _, m = GEOD.inv(
        np.full(n, float(lon)),
        np.full(n, float(lat)),
        frame["lon"].to_numpy(float)[pos],
        frame["lat"].to_numpy(float)[pos],
    )
    km = np.asarray(m) / 1000.0
    order = np.lexsort((pos, km))
    return pos[order], km[order]


def assert_matches_oracle(index, frame, qlat, qlon, k, mask=None, **filters):
    """nearest_many equals the brute-force scan, row by row."""
    pos, km = index.nearest_many(qlat, qlon, k=k, **filters)
    assert pos.shape == km.shape == (len(qlat), k)
    for i in range(len(qlat)):
        opos, okm = oracle(frame, qlat[i], qlon[i], mask)
        m = min(k, opos.size)
        np.testing.assert_array_equal(pos[i, :m], opos[:m], err_msg=f"query {i}")
        np.testing.assert_allclose(km[i, :m], okm[:m], rtol=0, atol=1e-9)
        assert (pos[i, m:] == -1).all() and np.isinf(km[i, m:]).all()


def random_sphere(rng, n):
    """Points uniform on the sphere (so the poles get their share)."""
    z = rng.uniform(-1, 1, n)
    return np.degrees(np.arcsin(z)), rng.uniform(-180, 180, n)


class TestOracleRandom:
    """nearest_many against the brute-force geodesic scan on random data."""

    @pytest.mark.parametrize("k", [1, 2, 5, 17])
    def test_global_uniform(self, k):
        """Uniform outlets over the whole globe: identical positions and distances."""
        rng = np.random.default_rng(k)
        frame = make_outlets(*random_sphere(rng, 1500))
        qlat, qlon = random_sphere(rng, 150)
        assert_matches_oracle(OutletIndex(frame), frame, qlat, qlon, k, authorized_only=False)

    @pytest.mark.parametrize("k", [1, 3, 8])
    def test_china_like(self, k):
        """Outlets and queries spread over China's extent, as in production."""
        rng = np.random.default_rng(100 + k)
        frame = make_outlets(rng.uniform(18, 53, 2000), rng.uniform(73, 135, 2000))
        qlat, qlon = rng.uniform(15, 56, 200), rng.uniform(70, 138, 200)
        assert_matches_oracle(OutletIndex(frame), frame, qlat, qlon, k, authorized_only=False)

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        pts=st.lists(
            st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)),
            min_size=1,
            max_size=40,
        ),
        q=st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)),
        k=st.integers(1, 6),
    )
    def test_property_any_points(self, pts, q, k):
        """For any outlets and any query point, the result equals brute force."""
        lat, lon = np.array(pts).T
        frame = make_outlets(lat, lon)
        assert_matches_oracle(
            OutletIndex(frame), frame, np.array([q[0]]), np.array([q[1]]), k,
            authorized_only=False,
        )  # fmt: skip


class TestOracleClustered:
    """Dense clusters, exact duplicates and near-ties still give the exact answer."""

    def test_clusters_with_near_ties(self):
        """Outlets jittered by micro-degrees around a few centres; queries inside them."""
        rng = np.random.default_rng(7)
        centres = np.array([[31.23, 121.47], [39.9, 116.4], [0.0, 179.999], [89.99, 10.0]])
        c = centres[rng.integers(0, len(centres), 3000)]
        lat = c[:, 0] + rng.normal(0, 1e-4, 3000)
        lon = c[:, 1] + rng.normal(0, 1e-4, 3000)
        lon = (lon + 180) % 360 - 180
        frame = make_outlets(lat, lon)
        qc = centres[rng.integers(0, len(centres), 120)]
        qlat = qc[:, 0] + rng.normal(0, 2e-4, 120)
        qlon = (qc[:, 1] + rng.normal(0, 2e-4, 120) + 180) % 360 - 180
        for k in (1, 4, 25):
            assert_matches_oracle(OutletIndex(frame), frame, qlat, qlon, k, authorized_only=False)

    def test_exact_duplicates_tie_by_position(self):
        """Outlets at the very same point tie; ties are broken by row position."""
        lat = np.r_[np.full(10, 30.0), 30.001]
        lon = np.r_[np.full(10, 120.0), 120.0]
        frame = make_outlets(lat, lon)
        pos, km = OutletIndex(frame).nearest_many([30.0], [120.0], k=11, authorized_only=False)
        assert pos[0].tolist() == list(range(11))
        assert (km[0, :10] == 0).all() and km[0, 10] > 0

    def test_ring_of_equidistant_outlets(self):
        """Outlets on a ring around the query (great-circle near-ties) rank geodesically."""
        lon0, lat0 = 100.0, 45.0
        az = np.linspace(0, 360, 72, endpoint=False)
        lon, lat, _ = GEOD.fwd(np.full(72, lon0), np.full(72, lat0), az, np.full(72, 50_000.0))
        lon2, lat2, _ = GEOD.fwd(np.full(72, lon0), np.full(72, lat0), az, np.full(72, 50_400.0))
        frame = make_outlets(np.r_[lat, lat2], np.r_[lon, lon2])
        assert_matches_oracle(
            OutletIndex(frame), frame, np.array([lat0]), np.array([lon0]), 80,
            authorized_only=False,
        )  # fmt: skip


class TestGeographyEdges:
    """Correct everywhere: antimeridian and poles."""

    def test_antimeridian(self):
        """Across ±180° the nearest outlet is the one on the other side of the seam."""
        frame = make_outlets([0.0, 0.0, 0.0], [179.99, -179.99, 170.0])
        idx = OutletIndex(frame)
        res = idx.nearest(0.0, -179.995, k=3, authorized_only=False)
        assert res["outlet_id"].tolist() == ["T00001", "T00000", "T00002"]
        assert res["distance_km"].iloc[1] == pytest.approx(1.6697, abs=1e-3)
        assert res["bearing_deg"].iloc[1] == pytest.approx(270.0, abs=1e-6)

    def test_antimeridian_oracle(self):
        """Random outlets and queries straddling the antimeridian match brute force."""
        rng = np.random.default_rng(3)
        frame = make_outlets(
            rng.uniform(-60, 60, 800), rng.choice([-1, 1], 800) * rng.uniform(175, 180, 800)
        )
        qlat = rng.uniform(-60, 60, 100)
        qlon = rng.choice([-1, 1], 100) * rng.uniform(178, 180, 100)
        assert_matches_oracle(OutletIndex(frame), frame, qlat, qlon, 3, authorized_only=False)

    @pytest.mark.parametrize("pole", [90.0, -90.0])
    def test_pole_query(self, pole):
        """A query at a pole gets the same answer whatever its longitude."""
        rng = np.random.default_rng(5)
        lat = np.sign(pole) * rng.uniform(85, 90, 300)
        frame = make_outlets(lat, rng.uniform(-180, 180, 300))
        idx = OutletIndex(frame)
        a = idx.nearest_many([pole, pole], [0.0, 137.0], k=5, authorized_only=False)
        np.testing.assert_array_equal(a[0][0], a[0][1])
        assert_matches_oracle(
            idx, frame, np.array([pole]), np.array([-45.0]), 5, authorized_only=False
        )

    def test_outlet_at_pole(self):
        """An outlet exactly at the pole is found from near the pole on any meridian."""
        frame = make_outlets([90.0, 80.0], [0.0, 0.0])
        res = OutletIndex(frame).nearest(89.5, -170.0, authorized_only=False)
        assert res["outlet_id"].iloc[0] == "T00000"
        assert res["distance_km"].iloc[0] == pytest.approx(55.8, abs=0.1)

    def test_antipodal_query(self):
        """The bound holds at maximal range: a single far outlet is found antipodally."""
        frame = make_outlets([30.0], [120.0])
        pos, km = OutletIndex(frame).nearest_many([-30.0], [-60.0], k=1, authorized_only=False)
        assert pos[0, 0] == 0
        assert km[0, 0] == pytest.approx(20003.9, abs=5)


class TestFilters:
    """kinds, categories and authorized_only are exact and validated."""

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls):
        rng = np.random.default_rng(11)
        frame = make_outlets(rng.uniform(20, 45, 1500), rng.uniform(100, 125, 1500))
        return frame, OutletIndex(frame)

    def test_authorized_only_is_default(self, data):
        """By default only authorized outlets are returned."""
        frame, idx = data
        pos, _ = idx.nearest_many(np.full(50, 30.0), np.linspace(100, 125, 50), k=5)
        assert frame["authorized"].to_numpy()[pos].all()
        assert_matches_oracle(idx, frame, np.full(50, 30.0), np.linspace(100, 125, 50), 5,
                              mask=frame["authorized"])  # fmt: skip

    def test_kind_filter(self, data):
        """kinds keeps outlets of any listed kind, exactly."""
        frame, idx = data
        mask = (frame["kind"] == "repair_point") & frame["authorized"]
        assert_matches_oracle(idx, frame, np.array([25.0, 40.0]), np.array([110.0, 120.0]), 4,
                              mask=mask, kinds="repair_point")  # fmt: skip
        both = idx.nearest_many([25.0], [110.0], k=3, kinds=["repair_point", "service_center"])
        np.testing.assert_array_equal(both[0], idx.nearest_many([25.0], [110.0], k=3)[0])

    def test_categories_require_all(self, data):
        """categories keeps outlets repairing every listed category."""
        frame, idx = data
        sets = frame["categories"].str.split(";").map(set)
        mask = sets.map(lambda s: {"tv", "washer"} <= s) & ~frame["authorized"]
        mask = mask | (sets.map(lambda s: {"tv", "washer"} <= s) & frame["authorized"])
        assert_matches_oracle(idx, frame, np.array([30.0, 35.0]), np.array([115.0, 105.0]), 3,
                              mask=mask, categories=["tv", "washer"],
                              authorized_only=False)  # fmt: skip

    def test_empty_selection_is_no_filter(self, data):
        """kinds=[] and categories=() mean no filter, like None."""
        _, idx = data
        plain = idx.nearest_many([30.0], [110.0], k=3)
        empty = idx.nearest_many([30.0], [110.0], k=3, kinds=[], categories=())
        np.testing.assert_array_equal(plain[0], empty[0])

    def test_unknown_kind_is_named(self, data):
        """An unknown kind raises ConfigurationError naming it."""
        _, idx = data
        with pytest.raises(ConfigurationError, match="unknown kind 'spaceport'"):
            idx.nearest(30.0, 110.0, kinds="spaceport")

    def test_unknown_category_is_named(self, data):
        """An unknown category raises ConfigurationError naming it."""
        _, idx = data
        with pytest.raises(ConfigurationError, match="unknown category 'toaster'"):
            idx.nearest_many([30.0], [110.0], categories=["tv", "toaster"])

    def test_filter_matching_nothing(self):
        """No match: nearest() gives an empty frame with all columns; nearest_many pads."""
        frame = make_outlets([30.0, 31.0], [120.0, 121.0], authorized=False)
        idx = OutletIndex(frame)
        res = idx.nearest(30.0, 120.0, k=3)
        assert res.empty
        assert list(res.columns) == [*frame.columns, *RESULT_COLUMNS]
        pos, km = idx.nearest_many([30.0, 10.0], [120.0, 10.0], k=2)
        assert (pos == -1).all() and np.isinf(km).all()
        assert idx.count() == 0 and idx.count(authorized_only=False) == 2

    def test_missing_filter_column(self):
        """Filtering on a column the outlets lack raises, naming the column."""
        frame = pd.DataFrame({"lat": [1.0], "lon": [2.0]})
        with pytest.warns(DataWarning, match="no 'authorized' column"):
            idx = OutletIndex(frame)
        with pytest.raises(ConfigurationError, match="cannot filter on 'kind'"):
            idx.nearest(1.0, 2.0, kinds="repair_point")
        assert idx.nearest(1.0, 2.0, authorized_only=False)["distance_km"].iloc[0] == 0

    def test_missing_authorized_column_is_decided_at_construction(self):
        """No 'authorized' column: every outlet counts as authorized, said by a warning
        when the index is built (as the loader and the API do), not an error at the
        first query."""
        frame = pd.DataFrame({"lat": [1.0, 3.0], "lon": [2.0, 2.0]})
        with pytest.warns(DataWarning, match="every outlet counts as authorized"):
            idx = OutletIndex(frame)
        assert idx.count() == 2
        assert idx.nearest(1.0, 2.0)["distance_km"].iloc[0] == 0

    def test_chinese_flags_are_understood(self):
        """授权/是 and 未授权/否 are yes and no, as in a loaded file (was a DataError)."""
        frame = pd.DataFrame(
            {
                "lat": [1.0, 2.0, 3.0, 4.0],
                "lon": [2.0] * 4,
                "authorized": ["未授权", "否", "是", "授权"],
            }
        )
        assert OutletIndex(frame).nearest(1.0, 2.0, k=4)["lat"].tolist() == [3.0, 4.0]

    def test_authorized_as_text(self):
        """An 'authorized' column of yes/no text is understood; junk is a DataError."""
        frame = pd.DataFrame(
            {"lat": [1.0, 2.0], "lon": [2.0, 2.0], "authorized": ["false", "true"]}
        )
        assert OutletIndex(frame).nearest(1.0, 2.0)["lat"].iloc[0] == 2.0
        frame["authorized"] = ["maybe", "true"]
        with pytest.raises(DataError, match="maybe"):
            OutletIndex(frame).nearest(1.0, 2.0)


class TestK:
    """k: larger than the count returns all; invalid values raise."""

    def test_k_larger_than_count(self):
        """k above the number of matches returns them all, padded in nearest_many."""
        frame = make_outlets([30.0, 31.0, 32.0], [120.0, 120.0, 120.0])
        idx = OutletIndex(frame)
        res = idx.nearest(29.0, 120.0, k=10, authorized_only=False)
        assert res["outlet_id"].tolist() == ["T00000", "T00001", "T00002"]
        pos, km = idx.nearest_many([29.0], [120.0], k=5, authorized_only=False)
        assert pos[0].tolist() == [0, 1, 2, -1, -1]
        assert np.isinf(km[0, 3:]).all()

    @pytest.mark.parametrize("k", [0, -1, 1.5, True, "3", None])
    def test_invalid_k(self, k):
        """k must be a positive integer; the bad value is named."""
        idx = OutletIndex(make_outlets([30.0], [120.0]))
        with pytest.raises(ConfigurationError, match=f"k must be a positive integer, got {k!r}"):
            idx.nearest(30.0, 120.0, k=k)

    def test_numpy_integer_k(self):
        """A numpy integer is a valid k."""
        idx = OutletIndex(make_outlets([30.0, 31.0], [120.0, 120.0]))
        assert len(idx.nearest(30.0, 120.0, k=np.int64(2), authorized_only=False)) == 2


class TestInvalidCoordinates:
    """Invalid query coordinates raise a LocatorError/ValueError naming the value."""

    @pytest.fixture(scope="class")
    @classmethod
    def idx(cls):
        return OutletIndex(make_outlets([30.0], [120.0], authorized=True))

    @pytest.mark.parametrize(
        ("lat", "lon", "match"),
        [
            (float("nan"), 120.0, "invalid lat nan"),
            (30.0, float("inf"), "invalid lon inf"),
            (90.5, 120.0, "invalid lat 90.5"),
            (-91, 120.0, "invalid lat -91"),
            (30.0, 180.01, "invalid lon 180.01"),
            ("31.2", 120.0, "lat must be a number, got '31.2'"),
            (30.0, None, "lon must be a number, got None"),
            (True, 120.0, "lat must be a number, got True"),
        ],
    )
    def test_scalar(self, idx, lat, lon, match):
        """nearest() and within() refuse a bad coordinate, naming it."""
        with pytest.raises(ConfigurationError, match=match) as info:
            idx.nearest(lat, lon)
        assert isinstance(info.value, LocatorError) and isinstance(info.value, ValueError)
        with pytest.raises(ConfigurationError, match=match):
            idx.within(lat, lon, 10.0)

    def test_array_names_index_and_value(self, idx):
        """nearest_many names each bad entry with its index."""
        with pytest.raises(
            ConfigurationError, match=r"2 invalid lat value\(s\).*lat\[1\]=nan, \[3\]=95.0"
        ):
            idx.nearest_many([1.0, np.nan, 2.0, 95.0], [0.0, 0.0, 0.0, 0.0])

    def test_array_with_strings(self, idx):
        """Text in a coordinate array is refused, naming the index and value."""
        with pytest.raises(ConfigurationError, match=r"lon\[1\] must be a number, got 'x'"):
            idx.nearest_many([1.0, 2.0], [3.0, "x"])

    def test_length_mismatch(self, idx):
        """lat and lon arrays must have the same length."""
        with pytest.raises(ConfigurationError, match="same length, got 2 and 1"):
            idx.nearest_many([1.0, 2.0], [3.0])

    @pytest.mark.parametrize("bad", [-1.0, float("nan"), "5"])
    def test_bad_max_km(self, idx, bad):
        """max_km must be a finite number >= 0."""
        with pytest.raises(ConfigurationError, match="max_km must be"):
            idx.nearest(30.0, 120.0, max_km=bad)

    def test_valid_coordinates_mask(self):
        """valid_coordinates screens a batch without raising."""
        mask = valid_coordinates([1, "x", None, 91, 45, np.inf], [1, 2, 3, 4, -181, 5])
        assert mask.tolist() == [True, False, False, False, False, False]


class TestNearestFrame:
    """nearest() returns outlet columns plus distance, bearing and drive-time estimates."""

    @pytest.fixture(scope="class")
    @classmethod
    def idx(cls):
        rng = np.random.default_rng(21)
        frame = make_outlets(rng.uniform(30, 32, 300), rng.uniform(120, 122, 300), authorized=True)
        frame["extra"] = "kept"
        return OutletIndex(frame)

    def test_columns_and_order(self, idx):
        """All outlet columns plus the result columns, sorted by distance."""
        res = idx.nearest(31.0, 121.0, k=5)
        assert list(res.columns) == [*idx.outlets.columns, *RESULT_COLUMNS]
        assert res["distance_km"].is_monotonic_increasing
        assert (res["extra"] == "kept").all()
        assert res["within_max"].all()
        assert ((res["bearing_deg"] >= 0) & (res["bearing_deg"] < 360)).all()

    def test_distance_and_bearing_are_geodesic(self, idx):
        """distance_km and bearing_deg equal pyproj's WGS-84 inverse solution."""
        row = idx.nearest(31.0, 121.0).iloc[0]
        az, _, m = GEOD.inv(121.0, 31.0, row["lon"], row["lat"])
        assert row["distance_km"] == pytest.approx(m / 1000, abs=1e-9)
        assert row["bearing_deg"] == pytest.approx(az % 360, abs=1e-9)

    def test_drive_columns_use_model(self, idx):
        """drive_minutes and meets_promise come from the index's DriveTimeModel."""
        res = idx.nearest(31.0, 121.0, k=3)
        model = idx.drive_model
        np.testing.assert_allclose(res["drive_minutes"], model.minutes(res["distance_km"]))
        assert (res["meets_promise"] == model.meets_promise(res["distance_km"])).all()

    def test_max_km_keeps_those_within(self, idx):
        """max_km drops outlets beyond it when some are within."""
        full = idx.nearest(31.0, 121.0, k=10)
        limit = float(full["distance_km"].iloc[4]) + 1e-9
        res = idx.nearest(31.0, 121.0, k=10, max_km=limit)
        assert len(res) == 5 and res["within_max"].all()

    def test_max_km_never_empty(self, idx):
        """Nothing within max_km: the single nearest comes back with within_max=False."""
        res = idx.nearest(45.0, 121.0, k=3, max_km=50)
        assert len(res) == 1
        assert not res["within_max"].iloc[0]
        assert res["distance_km"].iloc[0] > 50

    def test_empty_index(self):
        """An index over zero outlets answers with empty results, not errors."""
        idx = OutletIndex(make_outlets([], []))
        assert idx.nearest(0.0, 0.0, authorized_only=False).empty
        pos, _ = idx.nearest_many([0.0], [0.0], k=2, authorized_only=False)
        assert pos.tolist() == [[-1, -1]]
        assert idx.within(0.0, 0.0, 100.0, authorized_only=False).empty


class TestWithin:
    """within() returns every matching outlet inside a geodesic radius."""

    def test_matches_oracle(self):
        """Exactly the outlets with geodesic distance <= radius, nearest first."""
        rng = np.random.default_rng(31)
        frame = make_outlets(rng.uniform(29, 33, 2000), rng.uniform(119, 123, 2000))
        idx = OutletIndex(frame)
        for radius in (0.5, 12.0, 80.0):
            res = idx.within(31.0, 121.0, radius, authorized_only=False)
            opos, okm = oracle(frame, 31.0, 121.0)
            expected = opos[okm <= radius]
            assert res["outlet_id"].tolist() == frame["outlet_id"].iloc[expected].tolist()

    def test_radius_zero_and_bad(self):
        """Radius 0 finds a coincident outlet; a negative radius raises naming it."""
        idx = OutletIndex(make_outlets([30.0, 30.1], [120.0, 120.0]))
        assert len(idx.within(30.0, 120.0, 0.0, authorized_only=False)) == 1
        with pytest.raises(ConfigurationError, match=r"radius_km must be .* got -3"):
            idx.within(30.0, 120.0, -3)


class TestBound:
    """The pruning bound: geodesic >= R_LO * central angle, for any pair."""

    def test_bound_holds_on_random_pairs(self):
        """Over random pairs (incl. polar and near-antipodal), the ratio stays >= R_LO."""
        rng = np.random.default_rng(41)
        lat1, lon1 = random_sphere(rng, 20000)
        lat2, lon2 = random_sphere(rng, 20000)
        _, _, m = GEOD.inv(lon1, lat1, lon2, lat2)
        p1, p2, l1, l2 = map(np.radians, (lat1, lat2, lon1, lon2))
        cosang = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(l1 - l2)
        theta = np.arccos(np.clip(cosang, -1, 1))
        ratio = m / 1000 / theta
        assert ratio.min() >= R_LO_KM
        assert abs(R_LO_KM - 6335.439) < 1e-3

    def test_sphere_nearest_is_not_geodesic_nearest(self):
        """Where the unit-sphere nearest differs from the ellipsoid nearest, the ellipsoid wins.

        At the equator a degree of latitude is ~0.7 % shorter than a degree of longitude,
        so an outlet 0.1005° north is geodesically nearer than one 0.1° east although its
        central angle (and chord) is larger: only the candidate margin finds it.
        """
        frame = make_outlets([0.0, 0.1005], [0.1, 0.0])
        angles = np.radians([0.1, 0.1005])  # central angles from (0, 0)
        assert angles[0] < angles[1]
        pos, km = OutletIndex(frame).nearest_many([0.0], [0.0], k=1, authorized_only=False)
        assert pos.tolist() == [[1]]
        assert km[0, 0] == pytest.approx(oracle(frame, 0.0, 0.0)[1][0], abs=1e-12)


class TestChordBound:
    """The bound the search prunes with: chord <= geodesic <= 2 R_LO asin(chord / 2 R_LO)."""

    @staticmethod
    def pairs(rng, n):
        """Random pairs: uniform, short (metres to 100 km), near the poles and antipodal."""
        lat1, lon1 = random_sphere(rng, n)
        lat2, lon2 = random_sphere(rng, n)
        az = rng.uniform(0, 360, n)
        short = 10 ** rng.uniform(-3, 5, n)  # 1 mm .. 100 km, in metres
        slon, slat, _ = GEOD.fwd(lon1, lat1, az, short)
        plat1 = rng.uniform(89.0, 90.0, n) * rng.choice([-1, 1], n)
        plat2 = rng.uniform(88.0, 90.0, n) * np.sign(plat1)
        lat_a = np.r_[lat1, lat1, plat1, lat1]
        lon_a = np.r_[lon1, lon1, lon1, lon1]
        lat_b = np.r_[lat2, slat, plat2, -lat1 + rng.normal(0, 0.01, n)]
        lon_b = np.r_[lon2, slon, lon2, (lon1 + 180 + rng.normal(0, 0.01, n) + 180) % 360 - 180]
        _, _, m = GEOD.inv(lon_a, lat_a, lon_b, lat_b)
        chord = np.linalg.norm(ecef_km(lat_a, lon_a) - ecef_km(lat_b, lon_b), axis=1)
        return chord, np.asarray(m) / 1000.0

    def test_chord_never_exceeds_geodesic(self):
        """Over 80k pairs (short, polar, near-antipodal), the ECEF chord is <= the geodesic."""
        chord, km = self.pairs(np.random.default_rng(43), 20000)
        assert (chord <= km * (1 + 1e-12) + 1e-9).all()
        assert (km > 0.999 * chord).all() and chord.max() > 12700  # the pairs span the Earth

    def test_geodesic_exceeds_chord_by_at_most_the_circle_margin(self):
        """Schur's comparison: a geodesic (space curvature <= 1 / R_LO) is at most as long as
        the circular arc of radius R_LO over its chord; at 100 km that is about 1 m more."""
        chord, km = self.pairs(np.random.default_rng(44), 20000)
        ok = km < np.pi * R_LO_KM  # where the comparison applies (all but ~100 km of it)
        arc = 2 * R_LO_KM * np.arcsin(np.minimum(chord[ok] / (2 * R_LO_KM), 1.0))
        assert (km[ok] <= arc * (1 + 1e-12) + 1e-9).all()
        short = km < 100
        assert ((km - chord)[short] < 1.1e-3).all()  # km: within 1.1 m at 100 km

    @pytest.mark.parametrize("lat0", [0.0, 31.2, 60.0, 89.9])
    def test_near_ties_in_every_direction(self, lat0):
        """Outlets in every direction at geodesic distances equal to within micrometres
        (where chord and geodesic rank them differently) come back in geodesic order,
        exact ties by position."""
        rng = np.random.default_rng(int(lat0 * 10))
        n = 360
        az = rng.uniform(0, 360, n)
        dist = 40_000.0 + rng.choice([0.0, 1e-6, 2e-6, 1e-3], n)  # metres: exact and near ties
        lon, lat, _ = GEOD.fwd(np.full(n, 117.0), np.full(n, lat0), az, dist)
        frame = make_outlets(np.r_[lat, lat[:20]], np.r_[lon, lon[:20]])  # + 20 duplicates
        index = OutletIndex(frame)
        for k in (1, 2, 7, 60):
            assert_matches_oracle(
                index, frame, np.array([lat0]), np.array([117.0]), k, authorized_only=False
            )
            one = index.nearest_arrays(lat0, 117.0, k, authorized_only=False)
            opos, okm = oracle(frame, lat0, 117.0)
            np.testing.assert_array_equal(one.positions, opos[:k])
            np.testing.assert_array_equal(one.distance_km, okm[:k])


class TestOracleProperty:
    """Hypothesis: random networks (with duplicates, hence exact ties) against brute force,
    through the batch path and the one-query path."""

    point = st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False))

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        base=st.lists(point, min_size=1, max_size=30),
        dup=st.lists(st.integers(0, 29), max_size=10),
        spread=st.sampled_from([1e-6, 1e-3, 1.0, 60.0]),
        seed=st.integers(0, 2**32 - 1),
        k=st.integers(1, 6),
    )
    def test_network_equals_oracle(self, base, dup, spread, seed, k):
        """Outlets jittered around random centres, some duplicated; queries among them."""
        rng = np.random.default_rng(seed)
        centres = np.array(base)
        lat = np.clip(centres[:, 0] + rng.normal(0, spread, len(centres)), -90, 90)
        lon = (centres[:, 1] + rng.normal(0, spread, len(centres)) + 180) % 360 - 180
        extra = [i % len(centres) for i in dup]  # exact duplicates: ties by position
        frame = make_outlets(np.r_[lat, lat[extra]], np.r_[lon, lon[extra]])
        index = OutletIndex(frame)
        pick = rng.integers(0, len(centres), 8)
        qlat = np.clip(centres[pick, 0] + rng.normal(0, spread, 8), -90, 90)
        qlon = (centres[pick, 1] + rng.normal(0, spread, 8) + 180) % 360 - 180
        qlat, qlon = np.r_[qlat, lat[:2]], np.r_[qlon, lon[:2]]  # and at outlets
        assert_matches_oracle(index, frame, qlat, qlon, k, authorized_only=False)
        for i in range(qlat.size):
            one = index.nearest_arrays(qlat[i], qlon[i], k, authorized_only=False)
            opos, okm = oracle(frame, qlat[i], qlon[i])
            np.testing.assert_array_equal(one.positions, opos[:k])
            np.testing.assert_array_equal(one.distance_km, okm[:k])

    def test_large_batch_keeps_the_callers_order(self):
        """A batch big enough to be answered in spatial order comes back row for row."""
        rng = np.random.default_rng(71)
        frame = make_outlets(rng.uniform(18, 53, 600), rng.uniform(73, 135, 600))
        qlat, qlon = rng.uniform(18, 53, 3000), rng.uniform(73, 135, 3000)
        qlat[::7], qlon[::7] = frame["lat"].to_numpy()[:429], frame["lon"].to_numpy()[:429]
        assert_matches_oracle(OutletIndex(frame), frame, qlat, qlon, 3, authorized_only=False)


class TestDriveTimeModel:
    """The drive-time estimate: circuity x piecewise speed, against the 2-hour promise."""

    def test_piecewise_minutes(self):
        """Urban km at urban speed, the rest at highway speed, plus overhead."""
        m = DriveTimeModel(
            circuity=1.5, urban_km=15, urban_kmh=30, highway_kmh=60, overhead_minutes=5
        )
        assert m.minutes(10.0) == pytest.approx(5 + 30.0)
        assert m.minutes(0.0) == pytest.approx(5.0)
        assert m.minutes(float("inf")) == math.inf

    def test_promise_and_reach_are_consistent(self):
        """reach_km inverts minutes; meets_promise flips exactly there."""
        m = DriveTimeModel()
        reach = m.reach_km()
        assert m.minutes(reach) == pytest.approx(m.promise_minutes)
        assert m.meets_promise([reach * 0.999, reach * 1.001]).tolist() == [True, False]
        assert 60 < reach < 120
        assert m.reach_km(5) == pytest.approx(2.5 / 1.32)

    def test_describe_says_estimate(self):
        """The description says it is an estimate and shows the circuity."""
        text = DriveTimeModel().describe()
        assert "estimate" in text and "1.32" in text

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"circuity": 0.9}, r"circuity must be a finite number >= 1, got 0.9"),
            ({"urban_kmh": 0}, r"urban_kmh must be a finite number > 0, got 0"),
            ({"highway_kmh": float("nan")}, r"highway_kmh .* got nan"),
            ({"promise_minutes": "120"}, r"promise_minutes .* got '120'"),
        ],
    )
    def test_invalid_settings(self, kwargs, match):
        """Bad settings raise ConfigurationError naming the setting and value."""
        with pytest.raises(ConfigurationError, match=match):
            DriveTimeModel(**kwargs)

    def test_old_import_paths_still_work(self):
        """The model moved to locator.drive; locator.index and locator still export it."""
        import locator
        import locator.index

        assert locator.index.DriveTimeModel is DriveTimeModel
        assert locator.DriveTimeModel is DriveTimeModel
        assert "DriveTimeModel" in locator.index.__all__

    def test_index_uses_custom_model(self):
        """An index built with a custom model reports its drive times."""
        model = DriveTimeModel(circuity=2.0, urban_km=0, highway_kmh=60)
        idx = OutletIndex(make_outlets([30.0, 30.5], [120.0, 120.0]), drive_model=model)
        row = idx.nearest(30.0, 120.0, k=2, authorized_only=False).iloc[1]
        assert row["drive_minutes"] == pytest.approx(row["distance_km"] * 2.0)


class TestConstruction:
    """Building the index validates the outlet table."""

    def test_missing_columns(self):
        """A frame without lat/lon is a DataError naming the column."""
        with pytest.raises(DataError, match="column 'lon': missing column"):
            OutletIndex(pd.DataFrame({"lat": [1.0]}))

    def test_bad_outlet_coordinates_listed(self):
        """Bad outlet coordinates are listed by row (header = row 1)."""
        frame = pd.DataFrame({"lat": [1.0, np.nan, 95.0], "lon": [1.0, 2.0, 3.0]})
        with pytest.raises(
            DataError, match=r"(?s)2 problem\(s\).*row 3, column 'lat'.*nan.*row 4, column 'lat'"
        ):
            OutletIndex(frame)

    def test_not_a_frame(self):
        """Passing something other than a DataFrame is a ConfigurationError."""
        with pytest.raises(ConfigurationError, match="must be a pandas DataFrame, got list"):
            OutletIndex([(1.0, 2.0)])  # type: ignore[arg-type]

    def test_non_range_index_uses_positions(self):
        """Positions refer to rows, whatever the frame's index labels are."""
        frame = make_outlets([30.0, 40.0], [120.0, 120.0]).set_index(pd.Index([10, 20]))
        pos, _ = OutletIndex(frame).nearest_many([39.0], [120.0], authorized_only=False)
        assert pos.tolist() == [[1]]


class TestBundledData:
    """The engine on the bundled synthetic network."""

    @pytest.fixture(scope="class")
    @classmethod
    def bundled(cls):
        from locator.data import load_outlets

        frame = load_outlets()
        return frame, OutletIndex(frame)

    def test_oracle_on_bundled(self, bundled):
        """Random points over China: identical to brute force over authorized outlets."""
        frame, idx = bundled
        rng = np.random.default_rng(51)
        qlat, qlon = rng.uniform(18, 53, 150), rng.uniform(73, 135, 150)
        assert_matches_oracle(idx, frame, qlat, qlon, 3, mask=frame["authorized"])

    def test_shanghai_answer(self, bundled):
        """Central Shanghai's nearest authorized outlet is in Shanghai, within 2 h."""
        _, idx = bundled
        res = idx.nearest(31.2304, 121.4737, k=3)
        assert len(res) == 3
        assert res["authorized"].all()
        assert res["city"].iloc[0] == "上海"
        assert res["meets_promise"].iloc[0]


class TestBlocks:
    """nearest_many processes huge batches in blocks without changing the answer."""

    def test_blocked_equals_unblocked(self, monkeypatch):
        """Forcing tiny blocks gives exactly the single-block result."""
        import locator.index as index_module

        rng = np.random.default_rng(61)
        frame = make_outlets(rng.uniform(20, 45, 500), rng.uniform(100, 125, 500))
        idx = OutletIndex(frame)
        qlat, qlon = rng.uniform(20, 45, 300), rng.uniform(100, 125, 300)
        whole = idx.nearest_many(qlat, qlon, k=3, authorized_only=False)
        monkeypatch.setattr(index_module, "_BLOCK_CELLS", 40)
        blocked = idx.nearest_many(qlat, qlon, k=3, authorized_only=False)
        np.testing.assert_array_equal(whole[0], blocked[0])
        np.testing.assert_array_equal(whole[1], blocked[1])

    def test_threaded_geodesics_equal_serial(self, monkeypatch):
        """Splitting the geodesics across threads gives exactly the serial result."""
        import locator.index as index_module

        rng = np.random.default_rng(62)
        frame = make_outlets(rng.uniform(20, 45, 400), rng.uniform(100, 125, 400))
        qlat, qlon = rng.uniform(20, 45, 500), rng.uniform(100, 125, 500)
        serial = OutletIndex(frame, workers=1).nearest_many(qlat, qlon, k=4, authorized_only=False)
        monkeypatch.setattr(index_module, "_PARALLEL_GEODESIC_MIN", 10)
        monkeypatch.setattr(index_module, "_PARALLEL_MIN", 10)
        threaded = OutletIndex(frame, workers=3).nearest_many(
            qlat, qlon, k=4, authorized_only=False
        )
        np.testing.assert_array_equal(serial[0], threaded[0])
        np.testing.assert_array_equal(serial[1], threaded[1])

    @pytest.mark.parametrize("workers", [0, 1.5, True, "2"])
    def test_invalid_workers(self, workers):
        """workers must be -1 or a positive integer."""
        with pytest.raises(ConfigurationError, match=f"workers must be .* got {workers!r}"):
            OutletIndex(make_outlets([1.0], [2.0]), workers=workers)


class TestFilterAliases:
    """Filters accept the spellings users type, as data files may."""

    def test_chinese_and_english_aliases_equal_canonical_names(self) -> None:
        """kinds=维修点 / "Repair point" and categories=冰箱 give the same answer as
        repair_point / refrigerator."""
        from locator.data import load_outlets

        idx = OutletIndex(load_outlets())
        want = idx.nearest(30.27, 120.15, k=5, kinds="repair_point", categories="refrigerator")
        for kinds, cats in (
            ("维修点", "冰箱"),
            ("Repair point", "fridge"),
            ("特约维修点", "电冰箱"),
        ):
            got = idx.nearest(30.27, 120.15, k=5, kinds=kinds, categories=cats)
            assert got["outlet_id"].tolist() == want["outlet_id"].tolist()

    def test_unknown_alias_is_still_refused(self) -> None:
        """A spelling that maps to nothing is an error naming it."""
        from locator.data import load_outlets

        idx = OutletIndex(load_outlets())
        with pytest.raises(ConfigurationError, match="洗碗机"):
            idx.nearest(30.27, 120.15, categories="洗碗机")


class TestPickle:
    """An index pickles (``assign --engine dask`` sends it once to every worker)."""

    def test_round_trip_answers_the_same(self) -> None:
        """The unpickled index gives the same answers, filters included, and can be
        queried from several threads (its lock is made anew)."""
        import pickle
        from concurrent.futures import ThreadPoolExecutor

        from locator.data import load_outlets

        idx = OutletIndex(load_outlets())
        idx.nearest(30.27, 120.15, kinds="repair_point")  # a cached subset travels too
        copy = pickle.loads(pickle.dumps(idx))
        lats, lons = [30.27, 22.54, 34.26, 45.75], [120.15, 114.06, 108.94, 126.63]
        for kw in ({}, {"kinds": "service_center"}, {"categories": "washer"}):
            want = idx.nearest_many(lats, lons, k=3, **kw)
            with ThreadPoolExecutor(4) as pool:
                got = list(pool.map(lambda f: copy.nearest_many(lats, lons, k=3, **f), [kw] * 4))
            for pos, km in got:
                np.testing.assert_array_equal(pos, want[0])
                np.testing.assert_array_equal(km, want[1])
