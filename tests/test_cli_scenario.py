"""``locator scenario save|list|show|compare|delete`` (#15 §4), on a SQLite store copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app as cli_app
from locator.store import open_store

runner = CliRunner()
# 吴忠 (Wuzhong): the largest place the sample leaves uncovered at 50 km.
WUZHONG = "37.9867,106.201"


@pytest.fixture
def db(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "network.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


def _run(db: str, *args: str) -> Any:
    return runner.invoke(cli_app, ["scenario", *args, "--database", db])


def _first_outlet(db: str) -> str:
    store = open_store(db)
    try:
        return str(store.network().frame["outlet_id"].iloc[0])
    finally:
        store.dispose()


class TestSave:
    def test_save_list_show(self, db: str) -> None:
        oid = _first_outlet(db)
        r = _run(db, "save", "宁夏", "--add", f"{WUZHONG},吴忠点", "--remove", oid, "--note", "试")
        assert r.exit_code == 0, r.output
        assert "1 candidate(s) added, 1 outlet(s) switched off" in r.stdout
        r = _run(db, "list", "--json")
        rows = json.loads(r.stdout)
        assert [x["name"] for x in rows] == ["宁夏"]
        assert rows[0]["add"][0]["name"] == "吴忠点" and rows[0]["remove"] == [oid]
        r = _run(db, "show", "宁夏", "--json")
        assert r.exit_code == 0, r.output
        shown = json.loads(r.stdout)
        live = json.loads(_run(db, "show", "live", "--json").stdout)
        gain = shown["figures"]["population_covered"] - live["figures"]["population_covered"]
        assert gain > 7_000_000  # 吴忠市 alone has 7.2 M people
        assert shown["scenario"]["created_by"].startswith("cli:")

    def test_network_untouched(self, db: str) -> None:
        store = open_store(db)
        try:
            rev, version = store.revision(), store.network().version
            assert _run(db, "save", "x", "--add", WUZHONG).exit_code == 0
            assert store.revision() == rev and store.network().version == version
        finally:
            store.dispose()

    def test_add_file(self, db: str, tmp_path: Path) -> None:
        src = tmp_path / "cand.csv"
        src.write_text("name,lat,lon\n甲,37.9867,106.201\n乙,30.1,110.2\n", encoding="utf-8")
        r = _run(db, "save", "f", "--add-file", str(src), "--add", "31,111")
        assert r.exit_code == 0, r.output
        saved = json.loads(_run(db, "show", "f", "--json").stdout)["scenario"]
        assert [c["name"] for c in saved["add"]] == ["", "甲", "乙"]  # --add first

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--add", "100,2"], "row 1, column 'lat'"),
            (["--add", "abc"], "expected LAT,LON"),
            (["--add", "x,1"], "must be numbers"),
            (["--remove", "nope"], "column 'remove'"),
        ],
    )
    def test_bad_input_is_one_clean_error(self, db: str, args: list[str], message: str) -> None:
        r = _run(db, "save", "bad", *args)
        assert r.exit_code == 2
        assert message in r.output and "Traceback" not in r.output
        assert json.loads(_run(db, "list", "--json").stdout) == []

    def test_same_name_needs_overwrite(self, db: str) -> None:
        assert _run(db, "save", "s", "--add", WUZHONG).exit_code == 0
        r = _run(db, "save", "s", "--add", "30,110")
        assert r.exit_code == 2 and "exists" in r.output
        r = _run(db, "save", "s", "--add", "30,110", "--overwrite")
        assert r.exit_code == 0 and "version 2" in r.stdout

    def test_live_is_reserved_and_unknown_is_clean(self, db: str) -> None:
        r = _run(db, "save", "live", "--add", WUZHONG)
        assert r.exit_code == 2 and "reserved" in r.output
        r = _run(db, "show", "nope")
        assert r.exit_code == 2 and "no scenario named 'nope'" in r.output


class TestCompare:
    def test_compare_live_and_export(self, db: str, tmp_path: Path) -> None:
        assert _run(db, "save", "s", "--add", WUZHONG, "--drive-minutes", "120").exit_code == 0
        out = tmp_path / "cmp.xlsx"
        r = _run(db, "compare", "live", "s", "-o", str(out), "--json")
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert data["a"] == "live" and data["b"] == "s"
        assert data["drive_minutes"] == 120  # the saved scenario's reach
        rows = {(x["scope"], x["area"], x["metric"]): x for x in data["rows"]}
        added = rows[("national", "", "outlets_added")]
        assert (added["A"], added["B"], added["B-A"]) == (0, 1, 1)
        sheet = pd.read_excel(out, dtype=str)
        assert list(sheet.columns) == ["scope", "area", "metric", "A", "B", "B-A"]
        assert len(sheet) == len(data["rows"])

    def test_table_output(self, db: str) -> None:
        assert _run(db, "save", "s", "--add", WUZHONG).exit_code == 0
        r = _run(db, "compare", "live", "s", "--radius-km", "50")
        assert r.exit_code == 0, r.output
        assert "population_covered" in r.stdout and "pp" in r.stdout

    def test_bad_output_suffix(self, db: str, tmp_path: Path) -> None:
        r = _run(db, "compare", "live", "live", "-o", str(tmp_path / "x.txt"))
        assert r.exit_code == 2 and ".csv or .xlsx" in r.output

    def test_delete(self, db: str) -> None:
        assert _run(db, "save", "s", "--add", WUZHONG).exit_code == 0
        assert _run(db, "delete", "s").exit_code == 0
        assert json.loads(_run(db, "list", "--json").stdout) == []
