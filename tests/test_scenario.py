"""What-if scenarios (locator.scenario): the network they build, their figures, compare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from locator.coverage import CoverageModel, suggest_sites
from locator.data import load_cities, load_network, load_places
from locator.errors import ConfigurationError, DataError
from locator.network import Network
from locator.scenario import Scenario, compare


@pytest.fixture(scope="module")
def net() -> Network:
    return load_network()


@pytest.fixture(scope="module")
def places() -> pd.DataFrame:
    return load_places()


@pytest.fixture(scope="module")
def cities() -> pd.DataFrame:
    return load_cities()


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two outlets 1 degree of longitude apart on the equator; three places."""
    outlets = pd.DataFrame(
        {
            "outlet_id": ["A", "B"],
            "name": ["a", "b"],
            "city": ["X", "Y"],
            "lat": [0.0, 0.0],
            "lon": [0.0, 1.0],
            "authorized": [True, True],
        }
    )
    places = pd.DataFrame(
        {
            "place_id": ["p0", "p1", "p2"],
            "name": ["near A", "near B", "far"],
            "lat": [0.0, 0.0, 0.0],
            "lon": [0.05, 1.05, 5.0],
            "population": [100, 200, 1000],
        }
    )
    return outlets, places


class TestNetwork:
    def test_base_is_never_changed(self, net: Network) -> None:
        """Building a scenario leaves the base network's frame exactly as it was."""
        before = net.frame.copy()
        first = str(net.frame["outlet_id"].iloc[0])
        Scenario(net, add=[{"lat": 30.0, "lon": 110.0}], remove=[first])
        pd.testing.assert_frame_equal(net.frame, before)

    def test_removed_are_gone_and_candidates_added_authorized(self, net: Network) -> None:
        """The network lacks the removed ids and holds the candidates, authorized,
        with ids cand-1, cand-2 ... when none is given."""
        ids = [str(i) for i in net.frame["outlet_id"].iloc[:3]]
        s = Scenario(
            net,
            add=[{"lat": 30.0, "lon": 110.0, "name": "新点"}, {"lat": 31, "lon": 111}],
            remove=ids,
        )
        out = s.network
        assert len(out) == len(net) - 3 + 2
        assert not out["outlet_id"].isin(ids).any()
        cand = out[out["outlet_id"].isin(["cand-1", "cand-2"])]
        assert cand["authorized"].tolist() == [True, True]
        assert cand["name"].tolist() == ["新点", ""]
        assert cand["lat"].tolist() == [30.0, 31.0]

    def test_given_ids_are_kept(self) -> None:
        outlets, _ = _tiny()
        s = Scenario(outlets, add=pd.DataFrame({"candidate_id": ["N1"], "lat": [1], "lon": [1]}))
        assert s.network["outlet_id"].tolist() == ["A", "B", "N1"]

    def test_suggest_sites_rows_are_candidates(self, net: Network, places: pd.DataFrame) -> None:
        """Rows of suggest_sites(...).frame() are accepted as they are, named after the
        nearest place, and add the population the suggestion promised."""
        sug = suggest_sites(net.frame, places, 2, 50)
        s = Scenario(net, add=sug.frame())
        assert s.added["outlet_id"].tolist() == sug.frame()["candidate_id"].tolist()
        f = sug.frame()
        names = [zh or en for zh, en in zip(f["nearest_place_zh"], f["nearest_place"], strict=True)]
        assert s.added["name"].tolist() == names
        res = s.evaluate(places, None, 50)
        assert res.population_covered == sug.population_covered_after

    def test_gcj02_candidate_is_converted(self) -> None:
        """A candidate clicked on a GCJ-02 map is stored in WGS-84 (a few hundred m off)."""
        outlets, _ = _tiny()
        s = Scenario(outlets, add=[{"lat": 39.91, "lon": 116.40, "coord_sys": "gcj02"}])
        lat, lon = s.candidates()[0]["lat"], s.candidates()[0]["lon"]
        assert 0.0005 < abs(lat - 39.91) < 0.01 and 0.0005 < abs(lon - 116.40) < 0.01


class TestBadInput:
    def test_bad_coordinates_name_candidate_and_column(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(DataError) as err:
            Scenario(
                outlets, add=[{"lat": 1, "lon": 1}, {"lat": "abc", "lon": 200, "name": "坏点"}]
            )
        text = str(err.value)
        assert "row 2, column 'lat'" in text and "row 2, column 'lon'" in text
        assert "candidate 'cand-2' (坏点)" in text
        assert len(err.value.errors) == 2

    def test_bad_row_in_a_table_is_counted_like_a_spreadsheet(self) -> None:
        outlets, _ = _tiny()
        table = pd.DataFrame({"lat": [1.0, 95.0], "lon": [1.0, 1.0]})
        with pytest.raises(DataError, match=r"row 3, column 'lat'"):
            Scenario(outlets, add=table)

    def test_missing_lat_column(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(DataError, match="column 'lat': missing column"):
            Scenario(outlets, add=[{"lon": 1}])

    def test_unknown_kind(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(DataError, match="row 1, column 'kind': unknown kind"):
            Scenario(outlets, add=[{"lat": 1, "lon": 1, "kind": "shop"}])

    def test_unknown_removal_is_an_error(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(DataError, match=r"column 'remove'.*'Z'"):
            Scenario(outlets, remove=["A", "Z"])

    def test_candidate_id_clashing_with_an_outlet(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(DataError, match=r"candidate_id.*an outlet of the network has this id"):
            Scenario(outlets, add=[{"candidate_id": "A", "lat": 1, "lon": 1}])

    def test_duplicate_candidate_ids(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(DataError, match=r"row 2, column 'candidate_id'.*same id"):
            Scenario(outlets, add=[{"candidate_id": "N", "lat": 1, "lon": 1}] * 2)

    def test_unstorable_text_is_refused(self) -> None:
        """A NUL or a lone surrogate in a candidate's name or the note (no file or
        database can hold it) is a DataError naming the candidate and column."""
        outlets, _ = _tiny()
        with pytest.raises(DataError, match=r"row 1, column 'name': candidate 'cand-1'.*NUL"):
            Scenario(outlets, add=[{"lat": 1, "lon": 1, "name": "a\x00b"}])
        with pytest.raises(DataError, match=r"column 'city'.*surrogate"):
            Scenario(outlets, add=[{"lat": 1, "lon": 1, "city": "x\ud800"}])
        with pytest.raises(DataError, match=r"column 'note'.*NUL"):
            Scenario(outlets, note="\x00")

    def test_remove_as_a_string_is_refused(self) -> None:
        """remove='A' would otherwise be read as the ids 'A' (or letters): refuse it."""
        outlets, _ = _tiny()
        with pytest.raises(ConfigurationError, match="remove must be a list"):
            Scenario(outlets, remove="A")

    def test_add_of_non_dicts(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(ConfigurationError, match="candidate 1 is a tuple"):
            Scenario(outlets, add=[(1.0, 2.0)])  # type: ignore[list-item]


class TestEvaluate:
    def test_tiny_figures(self) -> None:
        """Switching off B uncovers 'near B'; a candidate at 'far' covers it."""
        outlets, places = _tiny()
        base = Scenario(outlets).evaluate(places, None, 20)
        assert base.population_covered == 300 and base.places_uncovered == 1
        off = Scenario(outlets, remove=["B"]).evaluate(places, None, 20)
        assert off.population_covered == 100
        assert [g.place_id for g in off.gaps] == ["p2", "p1"]
        add = Scenario(outlets, add=[{"lat": 0, "lon": 5.0}]).evaluate(places, None, 20)
        assert add.population_covered == 1300 and add.share_covered == 1.0
        assert add.outlets == 3 and add.outlets_added == 1

    def test_equals_a_model_of_the_edited_file(
        self, net: Network, places: pd.DataFrame, cities: pd.DataFrame
    ) -> None:
        """A scenario's figures are those of a CoverageModel built from the network
        edited by hand (rows dropped, rows appended)."""
        gap = Scenario(net).evaluate(places, cities, 50).gaps[0]
        drop = [str(i) for i in net.frame["outlet_id"].iloc[[0, 5, 40]]]
        s = Scenario(net, add=[{"lat": gap.lat, "lon": gap.lon}], remove=drop)
        res = s.evaluate(places, cities, drive_minutes=120, gap_limit=None)
        edited = net.frame[~net.frame["outlet_id"].isin(drop)]
        new = pd.DataFrame([{"outlet_id": "x", "lat": gap.lat, "lon": gap.lon, "authorized": True}])
        manual = pd.concat([edited, new], ignore_index=True).fillna("")
        rep = CoverageModel(manual, places, cities).report(drive_minutes=120)
        assert res.population_covered == rep.population_covered
        assert res.population_backup == rep.population_backup
        assert res.places_uncovered == rep.places_uncovered == len(res.gaps)
        assert [c.population_covered for c in res.cities] == [
            c.population_covered for c in rep.cities
        ]
        assert res.drive_minutes == 120 and res.radius_km == rep.radius_km

    def test_closing_the_only_outlets_of_a_city(
        self, net: Network, places: pd.DataFrame, cities: pd.DataFrame
    ) -> None:
        """Switching off every authorized outlet of a listed city shows 0 outlets there
        and less population covered nationally."""
        frame = net.frame
        city = "银川"
        ids = frame.loc[(frame["city"] == city), "outlet_id"].astype(str).tolist()
        assert ids
        base = Scenario(net).evaluate(places, cities, 20)
        off = Scenario(net, remove=ids).evaluate(places, cities, 20)
        row = {c.name: c for c in off.cities}[city]
        assert row.outlets == 0
        assert row.population_covered < {c.name: c for c in base.cities}[city].population_covered
        assert off.population_covered < base.population_covered

    def test_scenario_reach_is_the_default(self) -> None:
        outlets, places = _tiny()
        s = Scenario(outlets, radius_km=1000)
        assert s.evaluate(places).radius_km == 1000  # places given, bundled cities not needed
        assert s.evaluate(places, radius_km=20).population_covered == 300

    def test_both_reaches_refused(self) -> None:
        outlets, _ = _tiny()
        with pytest.raises(ConfigurationError, match="not both"):
            Scenario(outlets, radius_km=10, drive_minutes=60)

    def test_change_is_fast_enough(self, net: Network, places: pd.DataFrame, cities) -> None:
        """The app's goal: one change (new scenario + figures) within 0.5 s on the
        bundled data (the median of three, with headroom for a shared machine)."""
        import time

        times = []
        for i in range(3):
            t = time.perf_counter()
            Scenario(net, add=[{"lat": 30 + i, "lon": 110}]).evaluate(places, cities, 50)
            times.append(time.perf_counter() - t)
        assert sorted(times)[1] < 1.0

    def test_result_json_is_strict(self) -> None:
        import json

        outlets, places = _tiny()
        res = Scenario(outlets, remove=["A", "B"]).evaluate(places, None, 20)
        text = json.dumps(res.to_dict(), allow_nan=False)
        assert '"population_covered": 0' in text


class TestCompare:
    def test_side_by_side(self) -> None:
        outlets, places = _tiny()
        a = Scenario(outlets, remove=["B"], name="关B")
        b = Scenario(outlets, add=[{"lat": 0, "lon": 5}], name="加远点")
        cmp = compare(a, b, places, None, radius_km=20)
        f = cmp.frame.set_index(["scope", "metric"])
        assert f.loc[("scenario", "name"), "A"] == "关B"
        assert f.loc[("scenario", "name"), "B"] == "加远点"
        row = f.loc[("national", "population_covered")]
        assert (row["A"], row["B"], row["B-A"]) == (100, 1300, 1200)
        assert f.loc[("national", "outlets"), "B-A"] == 2

    def test_live_network_and_per_city(self, net: Network, places, cities) -> None:
        ids = net.frame.loc[net.frame["city"] == "银川", "outlet_id"].astype(str).tolist()
        cmp = compare(net, Scenario(net, remove=ids, name="s"), places, cities, radius_km=20)
        f = cmp.frame
        assert f.iloc[0]["A"] == "live"
        yc = f[(f["scope"] == "city") & (f["area"] == "银川") & (f["metric"] == "outlets")]
        assert yc["A"].item() > 0
        assert yc["B"].item() == 0
        assert set(f.loc[f["scope"] == "city", "area"]) == set(cities["city"].str.rstrip("市"))

    def test_csv_and_xlsx(self, tmp_path) -> None:
        outlets, places = _tiny()
        cmp = compare(outlets, Scenario(outlets, remove=["A"], name="=1+1"), places, None, 20)
        cmp.to_csv(tmp_path / "c.csv")
        cmp.to_xlsx(tmp_path / "c.xlsx")
        back = pd.read_csv(tmp_path / "c.csv", encoding="utf-8-sig", dtype=str)
        assert back.iloc[0]["B"] == "'=1+1"
        xl = pd.read_excel(tmp_path / "c.xlsx", dtype=str)
        assert xl.iloc[0]["B"] == "'=1+1"
        assert np.isclose(float(back.set_index("metric").loc["population_covered", "B-A"]), -100)
