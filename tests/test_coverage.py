"""Tests for locator.coverage: metrics vs an independent brute force, service areas, siting.

The oracle here never uses :class:`locator.index.OutletIndex` or k-d trees: it measures
every place x outlet pair with :class:`pyproj.Geod` and derives each figure from its
definition.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pulp
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon

from locator.coverage import (
    CoverageModel,
    CoverageReport,
    coverage_matrix,
    coverage_report,
    geodesic_area_km2,
    geodesic_circle,
    geometry_to_geojson,
    greedy_max_coverage,
    radius_for,
    service_areas,
    suggest_sites,
)
from locator.data import load_cities, load_outlets, load_places
from locator.errors import ConfigurationError, DataError
from locator.index import DriveTimeModel

GEOD = Geod(ellps="WGS84")
RADII = (5.0, 10.0, 30.0, 50.0, 100.0, 300.0)


# --------------------------------------------------------------------------- data


def synthetic() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A small synthetic network: 6 listed cities in 3 provinces, ~300 places, 30 outlets.

    City F has only an unauthorized listing; city E has outlets but no places; province
    P3 has places but no outlet at all.
    """
    rng = np.random.default_rng(7)
    centres = {  # city: (province, adcode, lat, lon)
        "甲": ("P1", "100100", 30.0, 110.0),
        "乙": ("P1", "100200", 30.6, 111.2),
        "丙": ("P2", "200100", 35.0, 115.0),
        "丁": ("P2", "200200", 34.2, 116.5),
        "戊": ("P2", "200300", 36.0, 117.0),
        "己": ("P3", "300100", 25.0, 103.0),
    }
    cities = pd.DataFrame(
        [
            {"city": c, "name_en": f"City{i}", "province": p, "adcode": a, "lat": la, "lon": lo,
             "population": 1_000_000 * (i + 1)}
            for i, (c, (p, a, la, lo)) in enumerate(centres.items())
        ]
    )  # fmt: skip
    places = []
    pid = 0
    for c, (p, a, la, lo) in centres.items():
        if c == "戊":
            continue  # a listed city with no demand places
        for _ in range(55):
            pid += 1
            places.append(
                {
                    "place_id": str(1000 + pid),
                    "name": f"Place{pid}",
                    "name_zh": f"地{pid}",
                    "province": p,
                    "city": c + "市",
                    "city_adcode": a,
                    "lat": la + rng.normal(0, 0.8),
                    "lon": lo + rng.normal(0, 0.8),
                    "population": int(rng.integers(1_000, 2_000_000)),
                }
            )
    # places outside every listed city, and an exact tie in population
    for j in range(25):
        pid += 1
        places.append(
            {"place_id": str(1000 + pid), "name": f"Rural{j}", "name_zh": "", "province": "P1",
             "city": "外市", "city_adcode": "109900", "lat": 28 + rng.uniform(0, 4),
             "lon": 106 + rng.uniform(0, 4), "population": 5_000}
        )  # fmt: skip
    places = pd.DataFrame(places)
    outlets = []
    oid = 0
    for c, n in (("甲", 6), ("乙", 4), ("丙", 7), ("丁", 5), ("戊", 3)):
        p, a, la, lo = centres[c]
        for _ in range(n):
            oid += 1
            outlets.append(
                {"outlet_id": f"{oid:04d}", "name": f"O{oid}", "city": c, "province": p,
                 "lat": la + rng.normal(0, 0.3), "lon": lo + rng.normal(0, 0.3),
                 "authorized": bool(rng.random() > 0.15)}
            )  # fmt: skip
    outlets.append(  # a fake listing in 己: not authorized
        {"outlet_id": "9999", "name": "Fake", "city": "己", "province": "P3", "lat": 25.0,
         "lon": 103.0, "authorized": False}
    )  # fmt: skip
    outlets = pd.DataFrame(outlets)
    # every listed city except 己 keeps at least one authorized outlet
    for c in ("甲", "乙", "丙", "丁", "戊"):
        first = outlets.index[outlets["city"] == c][0]
        outlets.loc[first, "authorized"] = True
    return outlets, places, cities


@functools.cache
def bundled() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return load_outlets(), load_places(), load_cities()


# --------------------------------------------------------------------------- the oracle


def pair_km(olat, olon, plat, plon) -> np.ndarray:
    """(n_places, n_outlets) geodesic km, every pair, straight from pyproj."""
    n, m = len(plat), len(olat)
    if m == 0:
        return np.zeros((n, 0))
    p_lat = np.repeat(np.asarray(plat, float), m)
    p_lon = np.repeat(np.asarray(plon, float), m)
    o_lat = np.tile(np.asarray(olat, float), n)
    o_lon = np.tile(np.asarray(olon, float), n)
    _, _, d = GEOD.inv(p_lon, p_lat, o_lon, o_lat)
    return np.asarray(d).reshape(n, m) / 1000.0


def lower_weighted_quantile(d: np.ndarray, w: np.ndarray, q: float) -> float:
    """Smallest d* with population(d <= d*) >= q * total, by scanning every candidate."""
    if w.sum() == 0 or d.size == 0:
        return math.inf
    for cand in np.unique(d):
        if w[d <= cand].sum() >= q * w.sum():
            return float(cand)
    raise AssertionError("unreachable")


class Oracle:
    """Every figure of a coverage report, by brute force from the definitions."""

    def __init__(self, outlets, places, cities=None, authorized_only=True):
        auth = outlets["authorized"].astype(bool).to_numpy() if authorized_only else None
        self.o = outlets.reset_index(drop=True)
        self.keep = np.flatnonzero(auth) if auth is not None else np.arange(len(outlets))
        self.p = places.reset_index(drop=True)
        self.c = cities
        km = pair_km(
            self.o["lat"].to_numpy()[self.keep], self.o["lon"].to_numpy()[self.keep],
            self.p["lat"].to_numpy(), self.p["lon"].to_numpy(),
        )  # fmt: skip
        self.km = km
        srt = np.sort(km, axis=1) if km.shape[1] else np.full((len(places), 2), np.inf)
        self.d1 = srt[:, 0] if srt.shape[1] >= 1 else np.full(len(places), np.inf)
        self.d2 = srt[:, 1] if srt.shape[1] >= 2 else np.full(len(places), np.inf)
        self.nearest = self.keep[np.argmin(km, axis=1)] if km.shape[1] else None
        self.pop = self.p["population"].to_numpy().astype(np.int64)

    def national(self, r):
        return {
            "population_total": int(self.pop.sum()),
            "population_covered": int(self.pop[self.d1 <= r].sum()),
            "population_backup": int(self.pop[self.d2 <= r].sum()),
            "places_uncovered": int((self.d1 > r).sum()),
        }

    def area(self, mask, r):
        pop = self.pop[mask]
        return {
            "population_total": int(pop.sum()),
            "population_covered": int(pop[self.d1[mask] <= r].sum()),
            "population_backup": int(pop[self.d2[mask] <= r].sum()),
            "places_total": int(mask.sum()),
            "places_uncovered": int((self.d1[mask] > r).sum()),
            "p90": lower_weighted_quantile(self.d1[mask], pop, 0.9),
        }

    def gaps(self, r):
        idx = [i for i in range(len(self.p)) if self.d1[i] > r]
        return sorted(idx, key=lambda i: (-self.pop[i], i))


def close(a, b, tol=1e-6) -> bool:
    if a is None or b is None:
        return a is None and (b is None or not math.isfinite(b))
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def check_report(rep: CoverageReport, oracle: Oracle, r: float) -> None:
    nat = oracle.national(r)
    for key, value in nat.items():
        assert getattr(rep, key) == value, key
    assert rep.places_total == len(oracle.p)
    for q, got in ((0.5, rep.distance_p50_km), (0.9, rep.distance_p90_km)):
        assert close(got, lower_weighted_quantile(oracle.d1, oracle.pop, q))
    assert close(rep.distance_max_km, float(oracle.d1.max()))
    # provinces
    prov = oracle.p["province"].to_numpy()
    auth_prov = oracle.o["province"].to_numpy()[oracle.keep]
    for a in rep.provinces:
        want = oracle.area(prov == a.name, r)
        assert a.outlets == int((auth_prov == a.name).sum())
        for key in ("population_total", "population_covered", "population_backup",
                    "places_total", "places_uncovered"):  # fmt: skip
            assert getattr(a, key) == want[key], (a.name, key)
        assert close(a.distance_p90_km, want["p90"])
    assert {a.name for a in rep.provinces} >= set(prov)
    # listed cities
    if oracle.c is not None:
        adc = oracle.p["city_adcode"].astype(str).to_numpy()
        auth_city = oracle.o["city"].to_numpy()[oracle.keep]
        assert [a.name for a in rep.cities] == list(oracle.c["city"])
        for a in rep.cities:
            want = oracle.area(adc == a.adcode, r)
            assert a.outlets == int((auth_city == a.name).sum())
            for key in ("population_total", "population_covered", "population_backup",
                        "places_total", "places_uncovered"):  # fmt: skip
                assert getattr(a, key) == want[key], (a.name, key)
            assert close(a.distance_p90_km, want["p90"])
    # gaps: every uncovered place, largest first, with its nearest outlet
    want_gaps = oracle.gaps(r)
    assert [g.place_id for g in rep.gaps] == [str(oracle.p["place_id"].iat[i]) for i in want_gaps]
    for g, i in zip(rep.gaps, want_gaps, strict=True):
        assert close(g.nearest_km, oracle.d1[i])
        if oracle.nearest is not None:
            # nearest outlet: the same one, or a tie at the same distance
            j = list(oracle.o["outlet_id"]).index(g.nearest_outlet_id)
            assert close(oracle.km[i, list(oracle.keep).index(j)], oracle.d1[i])


# --------------------------------------------------------------------------- tests


class TestRadiusFor:
    def test_default_radius(self):
        """With neither radius nor drive time, the radius is the 50 km default."""
        assert radius_for() == 50.0

    def test_drive_minutes_uses_drive_time_model_inverse(self):
        """Drive minutes are converted with DriveTimeModel.reach_km (an estimate)."""
        model = DriveTimeModel()
        assert radius_for(drive_minutes=120) == pytest.approx(model.reach_km(120))
        assert model.minutes(radius_for(drive_minutes=90)) == pytest.approx(90)

    def test_both_given_is_an_error(self):
        """Radius and drive time together are ambiguous and refused."""
        with pytest.raises(ConfigurationError, match="radius_km or drive_minutes"):
            radius_for(30, 60)

    @pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, 20_001, "50", True, None])
    def test_invalid_radius_names_the_parameter(self, bad):
        """Non-positive, non-finite, absurd or non-numeric radii raise naming radius_km."""
        if bad is None:
            with pytest.raises(ConfigurationError, match="drive_minutes"):
                radius_for(drive_minutes=math.nan)
            return
        with pytest.raises(ConfigurationError, match="radius_km"):
            radius_for(bad)

    def test_drive_minutes_within_overhead_is_an_error(self):
        """A drive time that does not even cover the dispatch overhead is refused."""
        model = DriveTimeModel(overhead_minutes=10)
        with pytest.raises(ConfigurationError, match="drive_minutes"):
            radius_for(drive_minutes=5, drive_model=model)


@pytest.fixture(scope="module")
def synth() -> tuple[CoverageModel, Oracle]:
    outlets, places, cities = synthetic()
    return CoverageModel(outlets, places, cities), Oracle(outlets, places, cities)


@pytest.fixture(scope="module")
def real() -> tuple[CoverageModel, Oracle]:
    outlets, places, cities = bundled()
    return CoverageModel(outlets, places, cities), Oracle(outlets, places, cities)


class TestCoverageModelBruteForce:
    @pytest.mark.parametrize("r", RADII)
    def test_synthetic_report_matches_brute_force(self, synth, r):
        """Every national, city, province and gap figure equals the brute-force value."""
        model, oracle = synth
        check_report(model.report(r), oracle, r)

    @pytest.mark.parametrize("r", [30.0, 50.0, 100.0])
    def test_bundled_report_matches_brute_force(self, real, r):
        """On the bundled network and every place of the demand layer (load_places),
        figures equal a full pair scan."""
        model, oracle = real
        check_report(model.report(r), oracle, r)

    def test_radius_exactly_at_a_distance_is_covered(self, synth):
        """Coverage is inclusive: a place exactly at the radius counts as covered."""
        model, oracle = synth
        r = float(np.sort(oracle.d1)[40])
        assert model.population_covered(r) == oracle.national(r)["population_covered"]
        assert model.population_covered(np.nextafter(r, 0)) < model.population_covered(r)
        check_report(model.report(r), oracle, r)

    def test_weighted_percentile_on_an_exact_boundary(self):
        """p50 of two equal places at 1 km and 2 km is 1 km: half the population is
        within 1 km (lower weighted quantile, no interpolation)."""
        outlets = pd.DataFrame({"lat": [30.0], "lon": [110.0], "authorized": [True]})
        lons, lats, _ = GEOD.fwd([110.0, 110.0], [30.0, 30.0], [0.0, 90.0], [1000.0, 2000.0])
        places = pd.DataFrame({"lat": lats, "lon": lons, "population": [7, 7]})
        rep = CoverageModel(outlets, places).report(1.5)
        assert rep.distance_p50_km == pytest.approx(1.0)
        assert rep.distance_p90_km == pytest.approx(2.0)
        assert rep.population_covered == 7 and rep.population_backup == 0

    def test_report_does_not_search_again(self, synth, monkeypatch):
        """A new radius reuses the precomputation: no nearest search runs in report()."""
        model, _ = synth

        def boom(*a, **k):
            raise AssertionError("nearest search during report()")

        monkeypatch.setattr(model.index, "nearest_many", boom)
        model.report(12.5)
        model.report(77.0)

    def test_drive_minutes_report(self, synth):
        """A drive-time report uses the converted radius and says it is an estimate."""
        model, oracle = synth
        rep = model.report(drive_minutes=60)
        r = DriveTimeModel().reach_km(60)
        assert rep.radius_km == pytest.approx(r)
        assert rep.drive_minutes == 60
        assert "estimate" in rep.note
        check_report(rep, oracle, rep.radius_km)

    def test_gap_limit(self, synth):
        """gap_limit keeps the largest uncovered places only."""
        model, _ = synth
        full = model.report(10.0)
        top = model.report(10.0, gap_limit=3)
        assert [g.place_id for g in top.gaps] == [g.place_id for g in full.gaps[:3]]

    def test_curve_matches_reports(self, synth):
        """curve() lists the same covered population as report() at each radius."""
        model, _ = synth
        curve = model.curve(RADII)
        assert list(curve["population_covered"]) == [
            model.report(r).population_covered for r in RADII
        ]

    def test_authorized_only_false_counts_every_outlet(self):
        """With authorized_only=False, unauthorized listings count as outlets too."""
        outlets, places, cities = synthetic()
        model = CoverageModel(outlets, places, cities, authorized_only=False)
        check_report(model.report(50.0), Oracle(outlets, places, cities, False), 50.0)


@functools.cache
def synth_model() -> CoverageModel:
    return CoverageModel(*synthetic())


class TestMonotonicity:
    @settings(max_examples=60, deadline=None)
    @given(
        st.floats(min_value=0.1, max_value=2000, allow_nan=False),
        st.floats(min_value=0.1, max_value=2000, allow_nan=False),
    )
    def test_larger_radius_never_covers_less(self, a, b):
        """Coverage, backup coverage and per-area coverage never shrink as the radius grows;
        backup <= covered <= total and uncovered places never grow."""
        lo, hi = sorted((a, b))
        small, big = synth_model().report(lo), synth_model().report(hi)
        assert small.population_covered <= big.population_covered <= big.population_total
        assert small.population_backup <= big.population_backup <= big.population_covered
        assert small.places_uncovered >= big.places_uncovered
        for s, g in zip(small.cities + small.provinces, big.cities + big.provinces, strict=True):
            assert s.population_covered <= g.population_covered
            assert s.population_backup <= s.population_covered
        assert {x.place_id for x in big.gaps} <= {x.place_id for x in small.gaps}


class TestNoAuthorizedOutlet:
    def test_no_authorized_outlet_anywhere(self):
        """With no authorized outlet, nobody is covered, distances are None (not NaN/inf),
        every place is a gap and every listed city lacks an outlet; JSON stays strict."""
        outlets, places, cities = synthetic()
        outlets = outlets.assign(authorized=False)
        rep = coverage_report(outlets, places, 100.0, cities=cities)
        assert rep.population_covered == 0 and rep.population_backup == 0
        assert rep.share_covered == 0.0
        assert rep.distance_p50_km is None and rep.distance_max_km is None
        assert len(rep.gaps) == len(places)
        assert all(g.nearest_km is None and g.nearest_outlet_id is None for g in rep.gaps)
        assert [c.city for c in rep.cities_without_outlet] == list(cities["city"])
        assert all(c.nearest_km is None for c in rep.cities_without_outlet)
        json.dumps(rep.to_dict(), allow_nan=False)

    def test_empty_outlet_table(self):
        """An empty outlet table (with the columns) is a network with no coverage, not a crash."""
        outlets, places, cities = synthetic()
        rep = coverage_report(outlets.iloc[:0], places, 50.0, cities=cities)
        assert rep.population_covered == 0 and rep.outlets_authorized == 0

    def test_one_outlet_has_no_backup(self):
        """With a single authorized outlet, backup coverage is zero at any radius."""
        outlets, places, _ = synthetic()
        rep = coverage_report(outlets.iloc[:1].assign(authorized=True), places, 2000.0)
        assert rep.population_backup == 0 and rep.population_covered > 0

    def test_listed_city_with_only_a_fake_listing(self):
        """A listed city whose only listing is unauthorized is reported, with its listing
        count and the nearest authorized outlet elsewhere (checked by brute force)."""
        outlets, places, cities = synthetic()
        rep = coverage_report(outlets, places, 50.0, cities=cities)
        [gap] = rep.cities_without_outlet
        assert gap.city == "己" and gap.unauthorized_listings == 1
        auth = outlets[outlets["authorized"]].reset_index(drop=True)
        km = pair_km(auth["lat"], auth["lon"], [25.0], [103.0])[0]
        assert gap.nearest_km == pytest.approx(km.min())
        assert gap.nearest_outlet_id == auth["outlet_id"].iat[int(np.argmin(km))]

    def test_city_without_places_has_no_share(self):
        """A listed city with no demand places reports share None rather than dividing by 0."""
        outlets, places, cities = synthetic()
        rep = coverage_report(outlets, places, 50.0, cities=cities)
        [e] = [c for c in rep.cities if c.name == "戊"]
        assert e.population_total == 0 and e.share_covered is None and e.outlets > 0


class TestInputValidation:
    def test_missing_population_column(self):
        """Places without a population column are rejected naming the column."""
        outlets, places, _ = synthetic()
        with pytest.raises(DataError, match="population"):
            CoverageModel(outlets, places.drop(columns="population"))

    def test_bad_place_coordinates_list_rows(self):
        """Bad place coordinates raise DataError with the spreadsheet row number."""
        outlets, places, _ = synthetic()
        places.loc[3, "lat"] = 123.0
        with pytest.raises(DataError, match="row 5"):
            CoverageModel(outlets, places)

    def test_missing_authorized_column(self):
        """Without an authorized column the model refuses to guess (authorized_only)."""
        outlets, places, _ = synthetic()
        with pytest.raises(DataError, match="authorized"):
            CoverageModel(outlets.drop(columns="authorized"), places)

    def test_k_below_two(self):
        """k < 2 cannot measure backup coverage and is refused."""
        outlets, places, _ = synthetic()
        with pytest.raises(ConfigurationError, match="k must be"):
            CoverageModel(outlets, places, k=1)

    def test_not_a_frame(self):
        """Passing something other than a DataFrame raises ConfigurationError."""
        with pytest.raises(ConfigurationError, match="places must be a pandas DataFrame"):
            CoverageModel(synthetic()[0], [1, 2, 3])  # type: ignore[arg-type]


class TestReportDict:
    def test_to_dict_is_strict_json_with_the_cli_keys(self):
        """to_dict() has the documented keys, and json.dumps(allow_nan=False) accepts it."""
        outlets, places, cities = synthetic()
        d = coverage_report(outlets, places, 30.0, cities=cities).to_dict()
        for key in ("radius_km", "population_total", "population_covered", "share_covered",
                    "population_backup", "distance_p50_km", "distance_p90_km", "distance_max_km",
                    "cities", "provinces", "gaps", "cities_without_outlet"):  # fmt: skip
            assert key in d
        json.loads(json.dumps(d, allow_nan=False))
        assert set(d["gaps"][0]) >= {"place_id", "name", "population", "nearest_km"}

    def test_frames(self):
        """gaps_frame/cities_frame/provinces_frame have one row per entry."""
        outlets, places, cities = synthetic()
        rep = coverage_report(outlets, places, 30.0, cities=cities)
        assert len(rep.gaps_frame()) == len(rep.gaps)
        assert len(rep.cities_frame()) == len(cities)
        assert list(rep.provinces_frame()["name"]) == [p.name for p in rep.provinces]


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


# --------------------------------------------------------------------------- siting


_CBC_DEPRECATION = pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated")


def exact_mclp(cover: np.ndarray, weights: np.ndarray, p: int) -> float:
    """Maximal covering location problem solved exactly with PuLP's CBC."""
    n, m = cover.shape
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [prob.add_variable(f"x{i}", cat="Binary") for i in range(n)]
    y = [prob.add_variable(f"y{j}", lowBound=0, upBound=1) for j in range(m)]
    prob += pulp.lpSum(float(weights[j]) * y[j] for j in range(m))
    for j in range(m):
        prob += y[j] <= pulp.lpSum(x[i] for i in np.flatnonzero(cover[:, j]))
    prob += pulp.lpSum(x) <= p
    # PULP_CBC_CMD is the CBC binary bundled in the pulp wheel (deprecated in favour of a
    # separately installed CBC in PuLP 4; its DeprecationWarning is filtered below).
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[status] == "Optimal"
    return float(pulp.value(prob.objective) or 0.0)


def greedy_value(cover: np.ndarray, weights: np.ndarray, chosen: list[int]) -> float:
    hit = cover[chosen].any(axis=0) if chosen else np.zeros(cover.shape[1], bool)
    return float(weights[hit].sum())


@_CBC_DEPRECATION
class TestGreedyMaxCoverage:
    def test_against_exact_on_random_instances(self):
        """On 25 random instances greedy reaches >= 1 - 1/e of the CBC optimum, and
        equals it on most of them (the gap is reported in the assertion message)."""
        rng = np.random.default_rng(3)
        ratios = []
        for _ in range(25):
            cover = rng.random((14, 30)) < 0.15
            w = rng.integers(1, 100, 30).astype(float)
            p = int(rng.integers(1, 5))
            chosen, gains = greedy_max_coverage(cover, w, p)
            got = greedy_value(cover, w, chosen)
            assert got == pytest.approx(sum(gains))
            ratios.append(got / exact_mclp(cover, w, p))
        ratios = np.array(ratios)
        msg = f"greedy/optimum: min {ratios.min():.3f}, mean {ratios.mean():.4f}"
        assert ratios.min() >= 1 - 1 / math.e, msg
        assert (ratios > 1 - 1e-9).mean() >= 0.6, msg

    def test_classic_suboptimal_instance(self):
        """Greedy can be suboptimal: a big overlapping set first gives 5 of an optimal 6."""
        cover = np.zeros((3, 6), bool)
        cover[0, [1, 2, 4, 5]] = True
        cover[1, [0, 1, 2]] = True
        cover[2, [3, 4, 5]] = True
        w = np.ones(6)
        chosen, _ = greedy_max_coverage(cover, w, 2)
        assert chosen[0] == 0 and greedy_value(cover, w, chosen) == 5
        assert exact_mclp(cover, w, 2) == 6

    def test_stops_when_nothing_to_gain_and_breaks_ties_by_index(self):
        """Greedy stops early when no candidate adds weight; ties go to the lowest index."""
        cover = np.array([[1, 0], [1, 0], [0, 0]], bool)
        chosen, gains = greedy_max_coverage(cover, np.array([5.0, 0.0]), 3)
        assert chosen == [0] and gains == [5.0]
        assert greedy_max_coverage(cover, np.array([5.0, 1.0]), 0) == ([], [])

    def test_shape_mismatch_and_bad_p(self):
        """Mismatched weights or a negative p raise ConfigurationError."""
        with pytest.raises(ConfigurationError, match="weights"):
            greedy_max_coverage(np.ones((2, 3), bool), np.ones(2), 1)
        with pytest.raises(ConfigurationError, match="p must be"):
            greedy_max_coverage(np.ones((2, 3), bool), np.ones(3), -1)


class TestCoverageMatrix:
    @pytest.mark.parametrize("r", [20.0, 80.0, 500.0])
    def test_equals_brute_force(self, r):
        """The k-d-tree-filtered matrix equals the all-pairs geodesic test exactly."""
        _, places, _ = synthetic()
        lat, lon = places["lat"].to_numpy(), places["lon"].to_numpy()
        got = coverage_matrix(lat[:80], lon[:80], lat, lon, r).toarray()
        want = pair_km(lat, lon, lat[:80], lon[:80]) <= r
        np.testing.assert_array_equal(got, want)


@pytest.fixture(scope="module")
def case() -> tuple[pd.DataFrame, pd.DataFrame]:
    outlets, places, _ = synthetic()
    return outlets, places


@_CBC_DEPRECATION
class TestSuggestSites:
    @pytest.mark.parametrize(("p", "r"), [(1, 30.0), (3, 30.0), (4, 60.0)])
    def test_totals_match_brute_force_and_exact_mclp(self, case, p, r):
        """before/after equal a brute-force recount with the new sites added, each site's
        gain adds up, and greedy is within (1 - 1/e) of the exact CBC optimum."""
        outlets, places = case
        res = suggest_sites(outlets, places, p, r)
        auth = outlets[outlets["authorized"]]
        pop = places["population"].to_numpy()
        d_out = pair_km(auth["lat"], auth["lon"], places["lat"], places["lon"]).min(axis=1)
        before = d_out <= r
        assert res.population_covered_before == int(pop[before].sum())
        site_lat = [s.lat for s in res.sites]
        site_lon = [s.lon for s in res.sites]
        d_new = pair_km(site_lat, site_lon, places["lat"], places["lon"]).min(axis=1)
        assert res.population_covered_after == int(pop[before | (d_new <= r)].sum())
        gained = sum(s.population_gained for s in res.sites)
        assert res.population_covered_before + gained == res.population_covered_after
        assert [s.population_covered_after for s in res.sites][-1] == res.population_covered_after
        # exact optimum over the same candidates (all places) on the uncovered demand
        unc = ~before
        cover = pair_km(places["lat"], places["lon"], places["lat"][unc], places["lon"][unc]) <= r
        opt = exact_mclp(cover.T, pop[unc].astype(float), p)
        assert gained >= (1 - 1 / math.e) * opt - 1e-6
        assert gained <= opt + 1e-6

    def test_site_names_the_nearest_place(self, case):
        """Each site reports the nearest place's name, province and city (brute force)."""
        outlets, places = case
        cand = pd.DataFrame({"candidate_id": ["k1", "k2"], "lat": [31.0, 34.5],
                             "lon": [110.5, 115.5]})  # fmt: skip
        res = suggest_sites(outlets, places, 2, 80.0, candidates=cand)
        assert res.sites, "no site suggested: the loop below would check nothing"
        for s in res.sites:
            d = pair_km([s.lat], [s.lon], places["lat"], places["lon"])[:, 0]
            i = int(np.argmin(d))
            assert s.nearest_place == places["name"].iat[i]
            assert s.province == places["province"].iat[i]
            assert s.candidate_id in {"k1", "k2"}

    def test_nothing_left_to_cover(self, case):
        """When every place is already covered, no site is suggested."""
        outlets, places = case
        res = suggest_sites(outlets, places, 3, 5000.0)
        assert res.sites == [] and res.population_covered_after == res.population_covered_before
        json.dumps(res.to_dict(), allow_nan=False)

    def test_no_authorized_outlet(self, case):
        """With no authorized outlet, the first site covers a positive population."""
        outlets, places = case
        res = suggest_sites(outlets.assign(authorized=False), places, 1, 50.0)
        assert res.population_covered_before == 0 and res.sites[0].population_gained > 0

    @pytest.mark.parametrize(("kwargs", "match"), [
        ({"p": -1}, "p must be"), ({"p": 1.5}, "p must be"), ({"radius_km": 0}, "radius_km"),
    ])  # fmt: skip
    def test_invalid_arguments(self, case, kwargs, match):
        """Bad p or radius raise ConfigurationError naming the parameter."""
        outlets, places = case
        args = {"p": 1, "radius_km": 30.0} | kwargs
        with pytest.raises(ConfigurationError, match=match):
            suggest_sites(outlets, places, args["p"], args["radius_km"])
