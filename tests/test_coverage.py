"""Tests for locator.coverage's report: metrics vs an independent brute force.

The oracle here never uses :class:`locator.index.OutletIndex` or k-d trees: it measures
every place x outlet pair with :class:`pyproj.Geod` and derives each figure from its
definition. Service areas and siting are tested in test_coverage_areas.py and
test_coverage_sites.py.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pytest
from coverage_cases import GEOD, bundled, pair_km, synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

from locator.coverage import (
    CoverageModel,
    CoverageReport,
    coverage_report,
    radius_for,
)
from locator.errors import ConfigurationError, DataError
from locator.index import DriveTimeModel

RADII = (5.0, 10.0, 30.0, 50.0, 100.0, 300.0)


# --------------------------------------------------------------------------- the oracle


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
        """Without an authorized column the outlet contract decides, as for every
        consumer: every outlet counts, and a warning says that this was assumed."""
        from locator.network import DataWarning

        outlets, places, _ = synthetic()
        with pytest.warns(DataWarning, match="authorized"):
            model = CoverageModel(outlets.drop(columns="authorized"), places)
        assert model.outlets_authorized == len(outlets)

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
