"""Tests for ``locator nearest`` and ``locator assign`` (typer CliRunner, synthetic data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from geopy.location import Location
from typer.testing import CliRunner

from locator.cli import app
from locator.cli import nearest as nearest_cli
from locator.index import RESULT_COLUMNS, OutletIndex

runner = CliRunner()

OUTLETS = [
    # outlet_id, name, kind, city, lat, lon, categories, authorized
    ("A1", "Alpha center", "service_center", "上海", 31.2300, 121.4700, "tv;washer", "true"),
    ("A2", "[bold]Bravo[/bold] point", "repair_point", "上海", 31.2400, 121.4800, "tv", "true"),
    ("A3", "Fake official center", "service_center", "上海", 31.2301, 121.4701, "tv", "false"),
    ("B1", "Beijing center", "service_center", "北京", 39.9000, 116.4000, "washer", "true"),
]
COLUMNS = (
    "outlet_id,name,kind,province,city,district,address,lat,lon,phone,hours,"
    "categories,authorized,coord_sys"
)


@pytest.fixture
def outlets_csv(tmp_path: Path) -> Path:
    """A small synthetic outlets file (fictional names, no real phone numbers)."""
    lines = [COLUMNS]
    for oid, name, kind, city, lat, lon, cats, auth in OUTLETS:
        lines.append(
            f"{oid},{name},{kind},{city},{city},D,{city} road 1,{lat},{lon},000-555-0000,"
            f"09:00-18:00,{cats},{auth},wgs84"
        )
    path = tmp_path / "outlets.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class FakeGeocoder:
    """Stands in for OfflineGeocoder: a fixed table of answers."""

    def __init__(self, answers: dict[str, Location | None]):
        self.answers = answers
        self.calls: list[str] = []

    def geocode(self, query: str):
        self.calls.append(query)
        return self.answers.get(query)


def loc(lat: float, lon: float, **raw) -> Location:
    base = {"province": "上海市", "city": "上海", "district": "", "level": "city",
            "ambiguous": False, "candidates": [], "source": "fake"}  # fmt: skip
    base.update(raw)
    return Location(f"{base['city']}", (lat, lon), base)


@pytest.fixture
def fake_geocoder(monkeypatch) -> FakeGeocoder:
    taizhou = [
        {"province": "浙江省", "city": "台州", "district": "", "lat": 28.66, "lon": 121.42,
         "population": 6_000_000},
        {"province": "江苏省", "city": "泰州", "district": "", "lat": 32.46, "lon": 119.92,
         "population": 4_500_000},
    ]  # fmt: skip
    ambiguous = loc(28.66, 121.42, province="浙江省", city="台州", ambiguous=True)
    ambiguous.raw["candidates"] = taizhou
    fake = FakeGeocoder(
        {"Shanghai": loc(31.2304, 121.4737), "Taizhou": ambiguous, "上海": loc(31.2304, 121.4737)}
    )
    monkeypatch.setattr(nearest_cli, "make_geocoder", lambda: fake)
    return fake


def run(*args: str):
    return runner.invoke(app, list(args))


def assert_clean_error(result, code: int, text: str) -> None:
    """Non-zero exit, message on stderr, no traceback."""
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


class TestNearestCoordinates:
    """``locator nearest --lat --lon``: table, JSON, filters and errors."""

    def test_table(self, outlets_csv):
        """The table lists authorized outlets nearest first and says drive time is an estimate."""
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--outlets", str(outlets_csv))
        assert r.exit_code == 0, r.output
        assert "Alpha center" in r.stdout
        assert "[bold]Bravo[/bold] point" in r.stdout  # markup in data is shown, not applied
        assert "Fake official center" not in r.stdout
        assert r.stdout.index("Alpha center") < r.stdout.index("Bravo")
        assert "estimate" in r.stdout

    def test_all_flags_unauthorized(self, outlets_csv):
        """--all includes unauthorized outlets, flagged in the table."""
        r = run("nearest", "--lat", "31.2301", "--lon", "121.4701", "--all", "-k", "1",
                "--outlets", str(outlets_csv))  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "Fake official center" in r.stdout and "NOT AUTHORIZED" in r.stdout

    def test_json(self, outlets_csv):
        """--json gives origin and results with every outlet and result column."""
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--k", "5", "--json",
                "--outlets", str(outlets_csv))  # fmt: skip
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert doc["origin"]["lat"] == 31.23 and doc["origin"]["source"] == "coordinates"
        ids = [row["outlet_id"] for row in doc["results"]]
        assert ids == ["A1", "A2", "B1"]  # k > count returns all authorized
        assert set(RESULT_COLUMNS) <= set(doc["results"][0])
        km = [row["distance_km"] for row in doc["results"]]
        assert km == sorted(km)
        assert "estimate" in doc["drive_time"]

    def test_json_matches_index(self, outlets_csv):
        """The CLI's answer equals OutletIndex.nearest on the same data."""
        from locator.data import load_outlets

        expected = OutletIndex(load_outlets(str(outlets_csv))).nearest(35.0, 118.0, k=2)
        r = run("nearest", "--lat", "35", "--lon", "118", "--k", "2", "--json",
                "--outlets", str(outlets_csv))  # fmt: skip
        got = json.loads(r.stdout)["results"]
        assert [g["outlet_id"] for g in got] == expected["outlet_id"].tolist()
        assert [g["distance_km"] for g in got] == pytest.approx(expected["distance_km"].tolist())

    def test_max_km_fallback(self, outlets_csv):
        """Nothing within --max-km: the nearest is still shown, with a note."""
        r = run("nearest", "--lat", "45", "--lon", "125", "--max-km", "10", "--json",
                "--outlets", str(outlets_csv))  # fmt: skip
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert len(doc["results"]) == 1 and doc["results"][0]["within_max"] is False
        assert "no matching outlet within 10 km" in doc["note"]
        t = run("nearest", "--lat", "45", "--lon", "125", "--max-km", "10",
                "--outlets", str(outlets_csv))  # fmt: skip
        assert "no matching outlet within 10 km" in t.stdout and "Beijing center" in t.stdout

    def test_filters(self, outlets_csv):
        """--kind and --category restrict the answer."""
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--kind", "repair_point",
                "--json", "--outlets", str(outlets_csv))  # fmt: skip
        assert [x["outlet_id"] for x in json.loads(r.stdout)["results"]] == ["A2"]
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--category", "washer",
                "--category", "tv", "--json", "--outlets", str(outlets_csv))  # fmt: skip
        assert [x["outlet_id"] for x in json.loads(r.stdout)["results"]] == ["A1"]

    def test_filter_matching_nothing(self, outlets_csv):
        """No outlet matches: exit status 1 and a message (JSON: empty results)."""
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--category",
                "water_heater", "--outlets", str(outlets_csv))  # fmt: skip
        assert r.exit_code == 1
        assert "no outlet matches the filters" in r.stdout
        j = run("nearest", "--lat", "31.23", "--lon", "121.47", "--category",
                "water_heater", "--json", "--outlets", str(outlets_csv))  # fmt: skip
        assert j.exit_code == 1 and json.loads(j.stdout)["results"] == []

    def test_gcj02_input(self, outlets_csv):
        """--coord-sys gcj02 converts the point to WGS-84 first."""
        from locator.crs import wgs84_to_gcj02

        glon, glat = wgs84_to_gcj02(121.47, 31.23)
        r = run("nearest", "--lat", str(glat), "--lon", str(glon), "--coord-sys", "gcj02",
                "--json", "-k", "1", "--outlets", str(outlets_csv))  # fmt: skip
        origin = json.loads(r.stdout)["origin"]
        assert origin["lat"] == pytest.approx(31.23, abs=1e-7)
        assert origin["lon"] == pytest.approx(121.47, abs=1e-7)
        assert origin["input"] == {"lat": glat, "lon": glon, "coord_sys": "gcj02"}

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--lat", "31"], "give both --lat and --lon"),
            (["--lat", "nan", "--lon", "121"], "invalid lat nan"),
            (["--lat", "91", "--lon", "121"], "invalid lat 91.0"),
            (["--lat", "31", "--lon", "inf"], "invalid lon inf"),
            (["--lat", "31", "--lon", "121", "--kind", "shop"], "unknown kind 'shop'"),
            (["--lat", "31", "--lon", "121", "--max-km", "-5"], "max_km must be"),
            (["--lat", "31", "--lon", "121", "--coord-sys", "utm"], "unknown coordinate system"),
            ([], "give a QUERY"),
        ],
    )
    def test_errors(self, outlets_csv, args, message):
        """Bad input: exit 2, one clear line on stderr, no traceback."""
        assert_clean_error(run("nearest", *args, "--outlets", str(outlets_csv)), 2, message)

    def test_missing_outlets_file(self, tmp_path):
        """A missing outlets file is a clean error."""
        r = run("nearest", "--lat", "31", "--lon", "121", "--outlets", str(tmp_path / "no.csv"))
        assert_clean_error(r, 2, "no.csv")

    def test_bundled_data(self):
        """Without --outlets the bundled synthetic network answers."""
        r = run("nearest", "--lat", "31.2304", "--lon", "121.4737", "--json")
        assert r.exit_code == 0, r.output
        results = json.loads(r.stdout)["results"]
        assert len(results) == 3 and all(x["authorized"] for x in results)


class TestNearestQuery:
    """``locator nearest QUERY``: geocoded through the make_geocoder seam."""

    def test_query(self, outlets_csv, fake_geocoder):
        """A text query is geocoded and answered."""
        r = run("nearest", "Shanghai", "--json", "--outlets", str(outlets_csv))
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert fake_geocoder.calls == ["Shanghai"]
        assert doc["origin"]["query"] == "Shanghai" and doc["origin"]["city"] == "上海"
        assert doc["results"][0]["outlet_id"] == "A1"

    def test_ambiguous_table(self, outlets_csv, fake_geocoder):
        """An ambiguous query lists the candidates and says which one was used."""
        r = run("nearest", "Taizhou", "--outlets", str(outlets_csv))
        assert r.exit_code == 0, r.output
        assert "ambiguous" in r.stdout
        assert "used 浙江省 台州" in r.stdout
        assert "江苏省 泰州" in r.stdout

    def test_ambiguous_json(self, outlets_csv, fake_geocoder):
        """JSON carries the ambiguity flag and the candidates."""
        r = run("nearest", "Taizhou", "--json", "--outlets", str(outlets_csv))
        origin = json.loads(r.stdout)["origin"]
        assert origin["ambiguous"] is True
        assert [c["city"] for c in origin["candidates"]] == ["台州", "泰州"]

    def test_not_found(self, outlets_csv, fake_geocoder):
        """An unknown place is a clean error naming the query."""
        assert_clean_error(
            run("nearest", "Atlantis", "--outlets", str(outlets_csv)), 2, "'Atlantis'"
        )

    def test_query_and_coordinates(self, outlets_csv, fake_geocoder):
        """QUERY together with --lat/--lon is refused."""
        r = run("nearest", "Shanghai", "--lat", "1", "--lon", "2", "--outlets", str(outlets_csv))
        assert_clean_error(r, 2, "not both")

    def test_geocoder_error(self, outlets_csv, monkeypatch):
        """A GeocodeError from the geocoder becomes a clean error."""
        from locator.errors import GeocodeError

        class Boom:
            def geocode(self, query):
                raise GeocodeError("query is too long")

        monkeypatch.setattr(nearest_cli, "make_geocoder", Boom)
        assert_clean_error(
            run("nearest", "x" * 10, "--outlets", str(outlets_csv)), 2, "query is too long"
        )


def write_rows(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


class TestAssign:
    """``locator assign``: streaming, statuses, row numbers, atomic output."""

    @pytest.fixture
    def orders(self, tmp_path: Path) -> Path:
        rows = [
            "o1,31.2301,121.4701,=HYPERLINK(1)",
            "o2,not-a-number,121.47,x",
            "o3,39.9,116.4,y",
            "o4,,,z",
            "o5,95,100,w",
            "o6,31.24,121.48,0012",
        ]
        return write_rows(tmp_path / "orders.csv", "order,lat,lon,note", rows)

    def test_statuses_and_row_numbers(self, orders, outlets_csv, tmp_path):
        """Bad rows are kept with a status and listed by row number (header = row 1)."""
        out = tmp_path / "out.csv"
        r = run("assign", str(orders), "-o", str(out), "--outlets", str(outlets_csv),
                "--no-progress")  # fmt: skip
        assert r.exit_code == 0, r.output
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert df["assign_status"].tolist() == [
            "ok", "bad_coordinates", "ok", "bad_coordinates", "bad_coordinates", "ok",
        ]  # fmt: skip
        assert df["nearest1_outlet_id"].tolist() == ["A1", "", "B1", "", "", "A2"]
        assert "rows 3, 5, 6" in r.stderr
        assert "estimate" in r.stderr

    def test_input_passthrough_and_formula_safety(self, orders, outlets_csv, tmp_path):
        """Input cells pass through as text; formula-like cells are neutralized."""
        out = tmp_path / "out.csv"
        run("assign", str(orders), "-o", str(out), "--outlets", str(outlets_csv))
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert df["note"].tolist()[0] == "'=HYPERLINK(1)"
        assert df["note"].tolist()[5] == "0012"
        assert df["lat"].tolist()[1] == "not-a-number"
        assert list(df.columns[:5]) == ["order", "lat", "lon", "note", "assign_status"]

    def test_chunks_do_not_change_the_answer(self, outlets_csv, tmp_path):
        """Tiny chunks give the same file as one chunk, and match the index."""
        rng = np.random.default_rng(1)
        lat, lon = rng.uniform(25, 42, 57), rng.uniform(110, 125, 57)
        rows = [f"{i},{a:.6f},{b:.6f}" for i, (a, b) in enumerate(zip(lat, lon, strict=True))]
        src = write_rows(tmp_path / "in.csv", "id,lat,lon", rows)
        one, many = tmp_path / "one.csv", tmp_path / "many.csv"
        base = ["--outlets", str(outlets_csv), "-k", "2"]
        assert run("assign", str(src), "-o", str(one), *base).exit_code == 0
        assert run("assign", str(src), "-o", str(many), "--chunksize", "5", *base).exit_code == 0
        assert one.read_bytes() == many.read_bytes()
        from locator.data import load_outlets

        frame = load_outlets(str(outlets_csv))
        pos, km = OutletIndex(frame).nearest_many(np.round(lat, 6), np.round(lon, 6), k=2)
        df = pd.read_csv(one, dtype={"nearest1_outlet_id": str, "nearest2_outlet_id": str})
        assert df["nearest1_outlet_id"].tolist() == frame["outlet_id"].iloc[pos[:, 0]].tolist()
        assert df["nearest2_outlet_id"].tolist() == frame["outlet_id"].iloc[pos[:, 1]].tolist()
        np.testing.assert_allclose(df["nearest1_distance_km"], km[:, 0], atol=5e-4)

    def test_strict_writes_nothing(self, orders, outlets_csv, tmp_path):
        """--strict fails listing the bad rows and leaves no output (atomic write)."""
        out = tmp_path / "out.csv"
        r = run("assign", str(orders), "-o", str(out), "--strict", "--outlets", str(outlets_csv))
        assert_clean_error(r, 2, "rows 3, 5, 6")
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    def test_custom_columns_and_missing_column(self, outlets_csv, tmp_path):
        """--lat-col/--lon-col pick the columns; a missing column is named."""
        src = write_rows(tmp_path / "in.csv", "y,x", ["31.23,121.47"])
        out = tmp_path / "out.csv"
        ok = run("assign", str(src), "-o", str(out), "--lat-col", "y", "--lon-col", "x",
                 "--outlets", str(outlets_csv))  # fmt: skip
        assert ok.exit_code == 0, ok.output
        bad = run("assign", str(src), "-o", str(out), "--outlets", str(outlets_csv))
        assert_clean_error(bad, 2, "column(s) 'lat', 'lon' not in in.csv; columns are: y, x")

    def test_address_column(self, outlets_csv, tmp_path, fake_geocoder):
        """--address-col geocodes each distinct address once; unknown ones get a status."""
        src = write_rows(tmp_path / "in.csv", "id,addr",
                         ["1,Shanghai", "2,Atlantis", "3,Shanghai", "4,Taizhou"])  # fmt: skip
        out = tmp_path / "out.csv"
        r = run("assign", str(src), "-o", str(out), "--address-col", "addr",
                "--outlets", str(outlets_csv))  # fmt: skip
        assert r.exit_code == 0, r.output
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert df["assign_status"].tolist() == [
            "ok", "address_not_found", "ok", "ok_ambiguous_address",
        ]  # fmt: skip
        assert df["nearest1_outlet_id"].iloc[0] == "A1"
        assert fake_geocoder.calls == ["Shanghai", "Atlantis", "Taizhou"]
        assert "row 3" not in r.stderr and "rows 3" in r.stderr

    def test_wrong_encoding(self, outlets_csv, tmp_path):
        """A GB18030 file is detected with no flag; forcing --encoding utf-8 on it fails
        cleanly, suggesting gb18030."""
        src = write_rows(tmp_path / "in.csv", "城市,lat,lon", ["上海,31.2,121.4"], "gb18030")
        out = tmp_path / "out.csv"
        r = run("assign", str(src), "-o", str(out), "--outlets", str(outlets_csv),
                "--encoding", "utf-8")  # fmt: skip
        assert_clean_error(r, 2, "--encoding gb18030")
        ok = run("assign", str(src), "-o", str(out), "--outlets", str(outlets_csv))
        assert ok.exit_code == 0, ok.output
        assert pd.read_csv(out)["城市"].tolist() == ["上海"]

    def test_header_only_and_empty(self, outlets_csv, tmp_path):
        """A header-only file gives a header-only output; an empty file is an error."""
        src = write_rows(tmp_path / "in.csv", "lat,lon", [])
        out = tmp_path / "out.csv"
        assert run("assign", str(src), "-o", str(out), "--outlets", str(outlets_csv)).exit_code == 0
        assert out.read_text(encoding="utf-8-sig").startswith(
            "lat,lon,assign_status,nearest1_outlet_id"
        )
        empty = tmp_path / "empty.csv"
        empty.write_text("")
        r = run("assign", str(empty), "-o", str(out), "--outlets", str(outlets_csv))
        assert_clean_error(r, 2, "empty")

    def test_filter_matching_nothing(self, orders, outlets_csv, tmp_path):
        """A filter no outlet matches is an error before anything is read."""
        r = run("assign", str(orders), "-o", str(tmp_path / "o.csv"), "--category",
                "water_heater", "--outlets", str(outlets_csv))  # fmt: skip
        assert_clean_error(r, 2, "no outlet matches the filters")

    def test_output_column_clash(self, outlets_csv, tmp_path):
        """An input that already has an output column is refused, naming it."""
        src = write_rows(tmp_path / "in.csv", "lat,lon,assign_status", ["31,121,x"])
        r = run("assign", str(src), "-o", str(tmp_path / "o.csv"), "--outlets", str(outlets_csv))
        assert_clean_error(r, 2, "already has output column(s): assign_status")


class TestDistrictCandidates:
    def test_district_is_not_given_its_citys_population(self) -> None:
        """`locator nearest 朝阳区` lists Beijing's and Changchun's 朝阳区 without the
        whole city's population as if it were the district's (it said 18,960,744)."""
        from typer.testing import CliRunner

        from locator.cli import app

        result = CliRunner().invoke(app, ["nearest", "朝阳区"])
        assert result.exit_code == 0, result.output
        assert "长春市 朝阳区" in result.output and "北京市 朝阳区" in result.output
        assert "18,960,744" not in result.output and "population" not in result.output


class TestNearestHours:
    """``--open-now`` and ``--at`` (issue #14), on a file with known hours."""

    @pytest.fixture
    def hours_csv(self, tmp_path: Path) -> Path:
        rows = [
            ("H1", "Weekdays", 31.2300, 121.4700, "周一至周五 09:00-18:00；法定节假日休息"),
            ("H2", "Always", 31.2400, 121.4800, "24/7"),
            ("H3", "Mystery", 31.2500, 121.4900, "看心情"),
        ]
        lines = [COLUMNS]
        for oid, name, lat, lon, hours in rows:
            lines.append(
                f"{oid},{name},service_center,上海,上海,D,road 1,{lat},{lon},000-555-0001,"
                f"{hours},tv,true,wgs84"
            )
        path = tmp_path / "hours.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def nearest(self, path: Path, *extra: str):
        return run("nearest", "--lat", "31.23", "--lon", "121.47", "--outlets", str(path),
                   "--json", *extra)  # fmt: skip

    def test_open_now_on_a_holiday(self, hours_csv: Path) -> None:
        """On National Day the weekday outlet (closed on holidays) is left out; the 24/7
        one is listed, then the one with unknown hours."""
        r = self.nearest(hours_csv, "--open-now", "--at", "2026-10-01T10:00")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert [x["outlet_id"] for x in doc["results"]] == ["H2", "H3"]
        assert doc["results"][1]["open_now"] is None
        assert doc["results"][1]["hours_label"] == "营业时间未知 / hours unknown"
        assert doc["at"] == "2026-10-01T10:00:00+08:00"

    def test_at_answers_for_another_moment(self, hours_csv: Path) -> None:
        """--at without --open-now labels every outlet for that moment."""
        r = self.nearest(hours_csv, "--at", "2026-12-02T10:00+08:00")
        doc = json.loads(r.stdout)
        first = doc["results"][0]
        assert first["outlet_id"] == "H1" and first["open_now"] is True
        assert first["closes_at"] == "2026-12-02T18:00:00+08:00"
        assert first["hours_label"] == "营业中 · 18:00 打烊 / open until 18:00"
        assert first["hours"] == "Mo-Fr 09:00-18:00; PH off"  # converted on load
        assert first["holidays_known"] is True

    def test_year_without_holiday_data_is_flagged(self, hours_csv: Path) -> None:
        """2027 is not in chinese-calendar 1.11: answered as ordinary days, flagged."""
        doc = json.loads(self.nearest(hours_csv, "--at", "2027-10-01T10:00").stdout)
        assert doc["results"][0]["open_now"] is True
        assert {r["holidays_known"] for r in doc["results"]} == {False}

    def test_json_has_routes_and_tel(self, hours_csv: Path) -> None:
        """--json results carry directions from the origin and tel: links."""
        doc = json.loads(self.nearest(hours_csv).stdout)
        res = doc["results"][0]
        assert res["directions"]["amap"].startswith("https://uri.amap.com/navigation?from=")
        assert "origin=latlng:" in res["directions"]["baidu"]
        assert "route=31.230000,121.470000%3B" in res["directions"]["osm"]
        assert res["tel"] == ["tel:0005550001"]

    def test_table_shows_the_label(self, hours_csv: Path) -> None:
        """The table shows the open-now label, unknown hours included."""
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--outlets", str(hours_csv),
                "--at", "2026-10-01T10:00", "-k", "3")  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "今日休息" in r.stdout and "营业时间未知" in r.stdout

    def test_bad_at(self, hours_csv: Path) -> None:
        """A bad --at is a clear error naming the option, exit 2, no traceback."""
        r = run("nearest", "--lat", "31.23", "--lon", "121.47", "--outlets", str(hours_csv),
                "--at", "next tuesday")  # fmt: skip
        assert_clean_error(r, 2, "--at")
        assert "not an ISO 8601 date and time" in r.stderr
