"""Tests for ``locator coverage``, ``locator suggest`` and ``locator gaps``."""

from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app
from locator.coverage import CoverageModel
from locator.data import load_cities, load_outlets, load_places
from locator.index import DriveTimeModel
from locator.outputs import csv_safe_cell

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def strict_json(text: str):
    """Parse JSON, refusing NaN/Infinity (which json.loads would accept)."""

    def refuse(name: str):
        raise AssertionError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def assert_clean_error(result, pattern: str) -> None:
    """Non-zero exit, one 'error:' line on stderr matching ``pattern``, no traceback."""
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert re.search(pattern, lines[0]), lines[0]


@functools.cache
def model() -> CoverageModel:
    return CoverageModel(load_outlets(), load_places(), load_cities())


def write_outlets(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


class TestCoverageCommand:
    def test_json_shape_and_figures(self):
        """--json prints strict JSON with the documented keys, equal to the Python API."""
        result = run("coverage", "--radius-km", "30", "--json")
        assert result.exit_code == 0, result.stderr
        data = strict_json(result.stdout)
        for key in ("radius_km", "population_total", "population_covered", "share_covered",
                    "cities", "provinces", "gaps"):  # fmt: skip
            assert key in data
        want = model().report(30.0)
        assert data["radius_km"] == 30.0
        assert data["population_covered"] == want.population_covered
        assert data["share_covered"] == pytest.approx(want.share_covered)
        assert len(data["cities"]) == 76 and len(data["gaps"]) == len(want.gaps)
        assert data["cities"][0]["name"] == want.cities[0].name

    def test_default_radius_is_50_km(self):
        """Without --radius-km the radius is 50 km."""
        data = strict_json(run("coverage", "--json").stdout)
        assert data["radius_km"] == 50.0
        assert data["population_covered"] == model().population_covered(50.0)

    def test_drive_minutes(self):
        """--drive-minutes converts with the drive-time model and says it is an estimate."""
        data = strict_json(run("coverage", "--drive-minutes", "120", "--json").stdout)
        assert data["radius_km"] == pytest.approx(DriveTimeModel().reach_km(120))
        assert data["drive_minutes"] == 120 and "estimate" in data["note"]

    def test_radius_and_drive_minutes_together(self):
        """Giving both is one clean error line."""
        result = run("coverage", "--radius-km", "30", "--drive-minutes", "60")
        assert_clean_error(result, "not both")

    @pytest.mark.parametrize("bad", ["0", "-5", "nan", "inf"])
    def test_invalid_radius(self, bad):
        """A non-positive or non-finite radius is one clean error naming radius_km."""
        assert_clean_error(run("coverage", "--radius-km", bad), "radius_km")

    def test_geojson_export(self, tmp_path):
        """--geojson writes an RFC 7946 FeatureCollection of city/province/nation areas."""
        out = tmp_path / "areas.geojson"
        result = run("coverage", "--radius-km", "20", "--json", "--geojson", str(out))
        assert result.exit_code == 0, result.stderr
        strict_json(result.stdout)
        fc = strict_json(out.read_text(encoding="utf-8"))
        assert fc["type"] == "FeatureCollection"
        levels = {f["properties"]["level"] for f in fc["features"]}
        assert levels == {"city", "province", "nation"}
        ring = fc["features"][0]["geometry"]["coordinates"][0]
        lon, lat = ring[0] if isinstance(ring[0][0], float) else ring[0][0]
        assert 73 < lon < 136 and 18 < lat < 54  # lon, lat order, inside China

    def test_uploaded_network(self, tmp_path):
        """--outlets uses an uploaded network: one outlet in Beijing covers Beijing only."""
        path = write_outlets(tmp_path / "net.csv", [
            {"outlet_id": "1", "name": "A", "city": "北京", "province": "北京市",
             "lat": 39.9075, "lon": 116.39723, "authorized": "true"},
        ])  # fmt: skip
        data = strict_json(run("coverage", "--outlets", str(path), "--json").stdout)
        assert data["outlets_authorized"] == 1
        by_city = {c["name"]: c for c in data["cities"]}
        assert by_city["北京"]["outlets"] == 1 and by_city["上海"]["population_covered"] == 0
        assert len(data["cities_without_outlet"]) == 75

    def test_missing_outlets_file(self, tmp_path):
        """A missing --outlets file is one clean error line."""
        assert_clean_error(run("coverage", "--outlets", str(tmp_path / "nope.csv")), "no such")

    def test_invalid_outlets_file(self, tmp_path):
        """An outlets file with bad rows fails cleanly (no traceback) naming the problem."""
        path = tmp_path / "bad.csv"
        path.write_text("outlet_id,name,lat,lon\n1,A,abc,116\n", encoding="utf-8")
        result = run("coverage", "--outlets", str(path))
        assert result.exit_code != 0
        assert "Traceback" not in result.stderr and "error:" in result.stderr

    def test_human_output(self):
        """Without --json the command prints tables a planner can read."""
        result = run("coverage", "--radius-km", "100")
        assert result.exit_code == 0, result.stderr
        assert "Coverage within 100.0 km" in result.stdout
        assert "Largest uncovered places" in result.stdout and "Provinces" in result.stdout


class TestSuggestCommand:
    def test_json_shape(self):
        """--json prints sites with lat/lon/nearest place/gain and the before/after totals."""
        result = run("suggest", "--sites", "3", "--radius-km", "50", "--json")
        assert result.exit_code == 0, result.stderr
        data = strict_json(result.stdout)
        assert len(data["sites"]) == 3
        for site in data["sites"]:
            assert {"lat", "lon", "nearest_place", "population_gained"} <= set(site)
        gained = sum(s["population_gained"] for s in data["sites"])
        assert data["population_covered_before"] == model().population_covered(50.0)
        assert data["population_covered_after"] == data["population_covered_before"] + gained

    def test_uploaded_network(self, tmp_path):
        """--outlets: with one outlet in Beijing, the first site goes elsewhere and the
        before figure is Beijing-area coverage only."""
        path = write_outlets(tmp_path / "net.csv", [
            {"outlet_id": "1", "name": "A", "city": "北京", "province": "北京市",
             "lat": 39.9075, "lon": 116.39723, "authorized": "true"},
        ])  # fmt: skip
        result = run("suggest", "--sites", "1", "--outlets", str(path), "--json")
        assert result.exit_code == 0, result.stderr
        data = strict_json(result.stdout)
        one = CoverageModel(load_outlets(path), load_places(), load_cities())
        assert data["population_covered_before"] == one.population_covered(50.0)
        assert data["sites"][0]["population_gained"] > 0

    def test_zero_sites(self):
        """--sites 0 is refused with one clean line."""
        assert_clean_error(run("suggest", "--sites", "0"), "--sites")

    def test_human_output(self):
        """The table lists each site and the before/after line."""
        result = run("suggest", "--sites", "2")
        assert result.exit_code == 0, result.stderr
        assert "suggested site" in result.stdout and "covered before" in result.stdout


class TestGapsCommand:
    def test_table_and_count(self):
        """The table shows the largest gaps and the total count agrees with the API."""
        result = run("gaps", "--radius-km", "50", "--top", "5")
        assert result.exit_code == 0, result.stderr
        n = len(model().gaps(50.0))
        assert f"{n} uncovered place(s)" in result.stdout
        assert model().gaps(50.0)[0].name in result.stdout

    def test_csv_is_complete(self, tmp_path):
        """--csv writes every gap, largest first, with the nearest distance."""
        out = tmp_path / "gaps.csv"
        result = run("gaps", "--radius-km", "80", "--csv", str(out))
        assert result.exit_code == 0, result.stderr
        frame = pd.read_csv(out, dtype={"place_id": str})
        want = model().gaps(80.0)
        assert list(frame["place_id"]) == [g.place_id for g in want]
        assert frame["nearest_km"].iloc[0] == pytest.approx(want[0].nearest_km)

    def test_csv_is_formula_safe_but_keeps_phone_numbers(self, tmp_path):
        """Cells that a spreadsheet would run (=, +, -, @ followed by text) get an
        apostrophe; a phone-number-like id such as +86 755 1234 5678 is kept as is."""
        evil = {
            "name": '=HYPERLINK("http://example.invalid","x")',
            "city": "@SUM(A1:A9)",
            "province": "-cmd|' /C calc'!A0",
        }
        path = write_outlets(tmp_path / "net.csv", [
            {"outlet_id": "+86 755 1234 5678", "lat": 45.0, "lon": 126.6,
             "authorized": "true", **evil},
        ])  # fmt: skip
        out = tmp_path / "gaps.csv"
        result = run("gaps", "--outlets", str(path), "--csv", str(out))
        assert result.exit_code == 0, result.stderr
        with out.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, "expected uncovered places"
        row = rows[0]
        assert row["nearest_outlet_name"] == "'" + evil["name"]
        assert row["nearest_outlet_city"] == "'" + evil["city"]
        assert row["nearest_outlet_id"] == "+86 755 1234 5678"
        for r in rows:
            for value in r.values():
                assert csv_safe_cell(value) == value, value  # nothing left to neutralize

    def test_unwritable_csv(self, tmp_path):
        """A CSV path below a regular file is one clean error line naming that file."""
        blocker = tmp_path / "file"
        blocker.write_text("x")
        out = blocker / "sub" / "g.csv"
        result = run("gaps", "--csv", str(out))
        want = f"cannot write {re.escape(str(out))}: not a directory: {re.escape(str(blocker))}$"
        assert_clean_error(result, want)
