"""Tests for ``locator load``: table, JSON, exports and clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A two-outlet network, assigned orders (A busy on Monday), a capacity file."""
    outlets = tmp_path / "outlets.csv"
    pd.DataFrame(
        {
            "outlet_id": ["A", "B"],
            "name": ["上海店", "北京店"],
            "city": ["上海", "北京"],
            "lat": [31.2, 39.9],
            "lon": [121.5, 116.4],
            "authorized": ["yes", "yes"],
        }
    ).to_csv(outlets, index=False)
    orders = tmp_path / "orders.csv"
    pd.DataFrame(
        {
            "nearest1_outlet_id": ["A", "A", "A", "B", "A"],
            "nearest1_distance_km": [1, 2, 200, 5, 3],
            "下单时间": ["2024-03-04"] * 3 + ["2024-03-06", "2024-03-10"],
        }
    ).to_csv(orders, index=False)
    cap = tmp_path / "capacity.csv"
    cap.write_text("outlet_id,capacity_per_day\nA,2\nB,1\n", encoding="utf-8")
    return {"outlets": outlets, "orders": orders, "capacity": cap, "dir": tmp_path}


def assert_clean_error(result, pattern: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert pattern in result.stderr, result.stderr


class TestLoadCli:
    def test_table_overloaded_first(self, files):
        """With capacity 2, A (p95 2.4/day) is overloaded and listed first."""
        result = run("load", files["orders"], "--outlets", files["outlets"],
                     "--capacity", files["capacity"])  # fmt: skip
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert out.index("上海店") < out.index("北京店")
        assert "OVERLOADED" in out
        assert "1 outlet(s) overloaded" in out
        assert "5 in the file, 5 counted" in out
        assert "20.0% of orders" in out  # 200 km of 5 orders is beyond 2 h

    def test_json(self, files):
        result = run("load", files["orders"], "--outlets", files["outlets"], "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["days"] == 7 and data["date_col"] == "下单时间"
        assert [o["outlet_id"] for o in data["outlets"]] == ["A", "B"]
        assert data["outlets"][0]["orders_total"] == 4

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_output_file(self, files, suffix):
        out = files["dir"] / f"load{suffix}"
        result = run("load", files["orders"], "--outlets", files["outlets"], "-o", out)
        assert result.exit_code == 0, result.output
        back = pd.read_excel(out) if suffix == ".xlsx" else pd.read_csv(out, encoding="utf-8-sig")
        assert back["orders_total"].tolist() == [4, 1]

    def test_daily_weekly_output(self, files):
        out = files["dir"] / "weeks.csv"
        result = run("load", files["orders"], "--outlets", files["outlets"], "--freq", "week",
                     "--daily", "-o", out)  # fmt: skip
        assert result.exit_code == 0, result.output
        back = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
        assert back[["outlet_id", "week", "orders"]].values.tolist() == [
            ["A", "2024-03-04", "4"],
            ["B", "2024-03-04", "1"],
        ]

    def test_bad_date_is_a_clean_error(self, files):
        orders = files["dir"] / "bad.csv"
        orders.write_text("outlet_id,date\nA,2024-03-04\nA,soon\n", encoding="utf-8")
        result = run("load", orders, "--outlets", files["outlets"])
        assert_clean_error(result, "row 3, column 'date'")
        assert "'soon'" in result.stderr

    def test_unknown_outlet_is_a_clean_error(self, files):
        orders = files["dir"] / "bad.csv"
        orders.write_text("outlet_id,date\nZZ,2024-03-04\n", encoding="utf-8")
        assert_clean_error(run("load", orders, "--outlets", files["outlets"]),
                           "row 2, column 'outlet_id'")  # fmt: skip

    def test_skip_undated(self, files):
        orders = files["dir"] / "undated.csv"
        orders.write_text("outlet_id,date\nA,2024-03-04\nA,\n", encoding="utf-8")
        assert_clean_error(run("load", orders, "--outlets", files["outlets"]), "no date")
        result = run("load", orders, "--outlets", files["outlets"], "--skip-undated")
        assert result.exit_code == 0, result.output
        assert "1 without a date left out" in result.stdout

    def test_output_must_not_be_the_input(self, files):
        result = run("load", files["orders"], "--outlets", files["outlets"], "-o", files["orders"])
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert files["orders"].read_text(encoding="utf-8").startswith("nearest1_outlet_id")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--freq", "month"), "--freq must be day or week"),
            (("--date-col", "when"), "'when' not in orders.csv"),
            (("-o", "out.json"), "-o must end in .csv or .xlsx"),
        ],
    )
    def test_bad_options(self, files, args, message):
        args = tuple(str(files["dir"] / a) if a.startswith("out.") else a for a in args)
        assert_clean_error(run("load", files["orders"], "--outlets", files["outlets"], *args),
                           message)  # fmt: skip

    def test_missing_file(self, files):
        assert_clean_error(run("load", files["dir"] / "nope.csv"), "no such file")


class TestSuggestOrders:
    def test_orders_pull_the_site(self, tmp_path: Path):
        """``suggest --orders``: 40 orders around 喀什 (far from the one outlet, in
        Shanghai) pull the one suggested site there; figures count orders."""
        outlets = tmp_path / "outlets.csv"
        outlets.write_text(
            "outlet_id,name,lat,lon,authorized\nA,上海店,31.2,121.5,yes\n", encoding="utf-8"
        )
        orders = tmp_path / "orders.csv"
        rows = ["lat,lon,date"] + [f"{39.47 + i * 0.001},{75.99},2024-01-01" for i in range(40)]
        rows += ["31.21,121.5,2024-01-01"] * 10
        orders.write_text("\n".join(rows) + "\n", encoding="utf-8")
        result = run("suggest", "--sites", "1", "--outlets", outlets, "--orders", orders, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["demand"] == "orders"
        assert data["population_total"] == 50 and data["population_covered_before"] == 10
        site = data["sites"][0]
        assert site["population_gained"] == 40
        assert site["city"].startswith("喀什")

    def test_bad_orders_file(self, tmp_path: Path):
        orders = tmp_path / "orders.csv"
        orders.write_text("lat,lon\n31.2,x\n", encoding="utf-8")
        outlets = tmp_path / "outlets.csv"
        outlets.write_text("outlet_id,name,lat,lon\nA,a,31.2,121.5\n", encoding="utf-8")
        result = run("suggest", "--sites", "1", "--orders", orders, "--outlets", outlets)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "row 2, column 'lon'" in result.stderr


def test_no_capacity_no_capacity_columns(files):
    """Without a capacity the table has no capacity columns (nothing to judge)."""
    result = run("load", files["orders"], "--outlets", files["outlets"])
    assert result.exit_code == 0, result.output
    assert "overloaded" not in result.stdout.lower()
    assert "capacity" not in result.stdout


def test_capacity_column_of_the_outlets_file(tmp_path: Path):
    """A capacity_per_day column in the outlets file is used; a bad one names the row."""
    outlets = tmp_path / "outlets.csv"
    outlets.write_text(
        "outlet_id,name,lat,lon,authorized,capacity_per_day\nA,a,31.2,121.5,yes,2\n"
        "B,b,39.9,116.4,yes,\n",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text("outlet_id,date\nA,2024-01-01\nA,2024-01-01\nA,2024-01-01\n", "utf-8")
    result = run("load", orders, "--outlets", outlets, "--json")
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)["outlets"][0]
    assert top["outlet_id"] == "A" and top["overloaded"] is True
    outlets.write_text(
        "outlet_id,name,lat,lon,authorized,capacity_per_day\nA,a,31.2,121.5,yes,lots\n",
        encoding="utf-8",
    )
    result = run("load", orders, "--outlets", outlets)
    assert_clean_error(result, "outlets")
    assert "row 2, column 'capacity_per_day'" in result.stderr


def test_bundled_sample_is_never_overwritten(files):
    """-o onto the bundled sample orders is refused before any work."""
    from locator.data import DATA_DIR

    target = DATA_DIR / "sample-capacity.csv"
    before = target.read_bytes()
    result = run("load", files["orders"], "--outlets", files["outlets"], "-o", target)
    assert_clean_error(result, "an input is never overwritten")
    assert target.read_bytes() == before


def test_parquet_orders_with_a_datetime_column(files):
    """Parquet keeps types: a real datetime column is used as it is."""
    path = files["dir"] / "orders.parquet"
    pd.DataFrame(
        {
            "outlet_id": ["A", "B"],
            "created_at": pd.to_datetime(["2024-03-04 08:00", "2024-03-05 09:00"]),
        }
    ).to_parquet(path, index=False)
    result = run("load", path, "--outlets", files["outlets"], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["days"] == 2 and data["date_col"] == "created_at"


def test_coord_sys_gcj02(tmp_path: Path, files) -> None:
    """``--coord-sys gcj02``: AMap coordinates of the Shanghai outlet's door are 0 km
    from it; read as WGS-84 they would be ~0.5 km off. A bad system is a clean error."""
    from locator import crs

    lon, lat = crs.from_wgs84(121.5, 31.2, "gcj02")
    raw = tmp_path / "amap-orders.csv"
    raw.write_text(f"lat,lon,date\n{lat},{lon},2024-03-04\n", encoding="utf-8")
    base = ("load", raw, "--outlets", files["outlets"], "--json")
    shifted = json.loads(run(*base).output)["outlets"]
    fixed = json.loads(run(*base, "--coord-sys", "gcj02").output)["outlets"]
    a = next(o for o in fixed if o["outlet_id"] == "A")
    assert a["distance_max_km"] < 0.005
    assert next(o for o in shifted if o["outlet_id"] == "A")["distance_max_km"] > 0.3
    assert_clean_error(run(*base, "--coord-sys", "utm"), "unknown coordinate system 'utm'")
