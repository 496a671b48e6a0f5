"""Tests for locator.coverage's siting: greedy maximal coverage vs an exact PuLP/CBC model."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pulp
import pytest
from coverage_cases import pair_km, synthetic

from locator.coverage import (
    coverage_matrix,
    greedy_max_coverage,
    suggest_sites,
)
from locator.errors import ConfigurationError

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


class TestOrderDemand:
    """``suggest_sites(..., demand=orders)``: orders, not population, decide."""

    outlets = pd.DataFrame(
        {"outlet_id": ["O1"], "name": ["o"], "lat": [30.0], "lon": [110.0], "authorized": [True]}
    )
    places = pd.DataFrame(
        {
            "name": ["Big", "Small", "Near"],
            "name_zh": ["大", "小", "近"],
            "province": ["P1", "P2", "P3"],
            "city": ["c1", "c2", "c3"],
            "population": [10_000_000, 1_000, 500_000],
            "lat": [40.0, 25.0, 30.1],
            "lon": [100.0, 120.0, 110.0],
        }
    )

    def _orders(self) -> pd.DataFrame:
        rng = np.random.default_rng(5)
        far = pd.DataFrame(
            {"lat": 25.0 + rng.normal(0, 0.05, 60), "lon": 120.0 + rng.normal(0, 0.05, 60)}
        )
        near = pd.DataFrame({"lat": [30.05] * 500, "lon": [110.0] * 500})  # already covered
        return pd.concat([far, near], ignore_index=True)

    def test_population_picks_the_big_place(self):
        result = suggest_sites(self.outlets, self.places, 1, 50)
        assert result.sites[0].nearest_place == "Big"
        assert result.demand == "population"

    def test_a_far_cluster_of_orders_pulls_the_site(self):
        """60 orders around Small (far from the one outlet) outweigh Big's population
        and the 500 orders the outlet already reaches."""
        result = suggest_sites(self.outlets, self.places, 1, 50, demand=self._orders())
        site = result.sites[0]
        assert site.nearest_place == "Small"
        assert site.population_gained == 60  # orders, not people
        assert result.population_total == 560
        assert result.population_covered_before == 500
        assert result.demand == "orders" and result.to_dict()["demand"] == "orders"

    def test_order_demand_aggregates_and_checks(self):
        from locator.coverage import order_demand
        from locator.errors import DataError

        orders = pd.DataFrame({"lat": [30.001, 30.002, 31.0], "lon": [110.001, 110.002, 111.0]})
        cells = order_demand(orders)
        assert sorted(cells["population"].tolist()) == [1, 2]
        assert cells["population"].sum() == 3
        with pytest.raises(DataError, match="row 3"):
            order_demand(pd.DataFrame({"lat": ["30", "x"], "lon": ["110", "110"]}))
