"""How the CLI reads users' input files: `locator validate`/`audit` (--sheet, the header
report, malformed GeoJSON), `locator assign`'s streamed reader (encoding detection,
rows with extra fields) and geocode-csv's reader."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app

OUTLETS = (
    "outlet_id,name,kind,city,lat,lon,authorized\n"
    "A1,Alpha center,service_center,上海,31.2300,121.4700,true\n"
    "B1,Beijing center,service_center,北京,39.9000,116.4000,true\n"
)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOCATOR_NO_PROGRESS", "1")
    return CliRunner()


@pytest.fixture
def outlets_csv(tmp_path: Path) -> Path:
    p = tmp_path / "outlets.csv"
    p.write_text(OUTLETS, encoding="utf-8")
    return p


def clean_error(res, text: str, code: int = 2) -> None:
    """Exit ``code``, ``text`` in an ``error:`` message on stderr, no traceback."""
    assert res.exit_code == code, res.output
    assert res.stderr.startswith("error: ") and text in res.stderr, res.stderr
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    for n, (title, rows) in enumerate(sheets.items()):
        ws = wb.active if n == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = title
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


ROWS = [
    ["outlet_id", "name", "lat", "lon", "authorized"],
    ["W1", "Workbook center", 31.23, 121.47, "yes"],
]


class TestValidate:
    def test_column_shift_is_refused(self, runner: CliRunner, tmp_path: Path) -> None:
        """A row with a decimal comma (one field too many) fails validate with its row,
        instead of 'ok' with the ids taken as the index."""
        p = tmp_path / "o.csv"
        p.write_text("outlet_id,name,lat,lon\nA1,Alpha,31,23,121.47\n", encoding="utf-8")
        res = runner.invoke(app, ["validate", str(p)])
        clean_error(res, "row 2: 5 fields, but the header has 4")
        assert "ok:" not in res.stdout

    def test_malformed_geojson_is_one_error_block(self, runner: CliRunner, tmp_path: Path) -> None:
        """Malformed features are listed in one error block (exit 2), not a traceback."""
        doc = {"type": "FeatureCollection", "features": [1, {"properties": [1, 2]}]}
        p = tmp_path / "x.geojson"
        p.write_text(json.dumps(doc), encoding="utf-8")
        res = runner.invoke(app, ["validate", str(p)])
        clean_error(res, "features[0] is a number")
        assert "features[1].properties is a list" in res.stderr
        assert res.stderr.count("error:") == 1

    def test_header_aliases_are_reported(self, runner: CliRunner, tmp_path: Path) -> None:
        """validate says which header was read as which column."""
        p = tmp_path / "o.csv"
        p.write_text("网点编号,网点名称,纬度,经度\nA1,阿尔法,31.23,121.47\n", encoding="utf-8")
        res = runner.invoke(app, ["validate", str(p)])
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith("ok: 1 outlets, 1 authorized\n")
        assert "header '网点名称' read as 'name'" in res.stdout
        assert "header '经度' read as 'lon'" in res.stdout

    def test_other_sheets_are_named_in_a_warning(self, runner: CliRunner, tmp_path: Path) -> None:
        """A workbook with several sheets: the first is read, a warning: line names it
        and the others."""
        p = workbook(tmp_path / "o.xlsx", {"Outlets": ROWS, "Notes": [["x"]]})
        res = runner.invoke(app, ["validate", str(p)])
        assert res.exit_code == 0, res.output
        assert "warning: read sheet 'Outlets' of o.xlsx; not read: 'Notes'" in res.stderr

    def test_sheet_option(self, runner: CliRunner, tmp_path: Path) -> None:
        """--sheet reads the named sheet; an unknown name lists the sheets (exit 2)."""
        p = workbook(tmp_path / "o.xlsx", {"Notes": [["x"]], "Outlets": ROWS})
        res = runner.invoke(app, ["validate", str(p), "--sheet", "Outlets"])
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith("ok: 1 outlets") and "warning" not in res.stderr
        bad = runner.invoke(app, ["validate", str(p), "--sheet", "Sheet1"])
        clean_error(bad, "no sheet 'Sheet1'; the sheets are: 'Notes', 'Outlets'")

    def test_corrupt_workbook(self, runner: CliRunner, tmp_path: Path) -> None:
        """A CSV renamed .xlsx is one clear error, not pandas' engine message."""
        p = tmp_path / "o.xlsx"
        p.write_text(OUTLETS, encoding="utf-8")
        res = runner.invoke(app, ["validate", str(p)])
        clean_error(res, "o.xlsx is not a readable Excel workbook")
        assert "engine" not in res.stderr

    def test_directory_is_a_clean_error(self, runner: CliRunner, tmp_path: Path) -> None:
        """A directory given as the outlets file is an error line, not a traceback."""
        clean_error(runner.invoke(app, ["validate", str(tmp_path)]), "is a directory")


class TestSheetOnOtherCommands:
    def test_nearest_reads_the_chosen_sheet(self, runner: CliRunner, tmp_path: Path) -> None:
        """Commands that load an outlets file take --sheet too."""
        p = workbook(tmp_path / "o.xlsx", {"Notes": [["x"]], "Outlets": ROWS})
        res = runner.invoke(
            app, ["nearest", "--lat", "31.2", "--lon", "121.4", "--outlets", str(p),
                  "--sheet", "Outlets", "--json"],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["results"][0]["outlet_id"] == "W1"

    def test_sheet_without_a_file(self, runner: CliRunner) -> None:
        """--sheet with the bundled sample (no --outlets) is refused."""
        res = runner.invoke(app, ["audit", "--sheet", "X"])
        clean_error(res, "--sheet needs an outlets file")


class TestAssignReading:
    def test_gb18030_input_needs_no_flag(
        self, runner: CliRunner, outlets_csv: Path, tmp_path: Path
    ) -> None:
        """A GB18030 CSV (an Excel export in China) is detected without --encoding."""
        src = tmp_path / "in.csv"
        src.write_bytes("城市,lat,lon\n上海,31.2,121.4\n".encode("gb18030"))
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["assign", str(src), "-o", str(out), "--outlets",
                                  str(outlets_csv), "--no-progress"])  # fmt: skip
        assert res.exit_code == 0, res.output
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert (df["城市"].tolist(), df["nearest1_outlet_id"].tolist()) == (["上海"], ["A1"])

    def test_encoding_override(self, runner: CliRunner, outlets_csv: Path, tmp_path: Path) -> None:
        """--encoding still overrides: forcing UTF-8 on a GB18030 file fails cleanly,
        suggesting gb18030; an unknown encoding name is refused."""
        src = tmp_path / "in.csv"
        src.write_bytes("城市,lat,lon\n上海,31.2,121.4\n".encode("gb18030"))
        out = tmp_path / "out.csv"
        args = ["assign", str(src), "-o", str(out), "--outlets", str(outlets_csv), "--no-progress"]
        clean_error(runner.invoke(app, [*args, "--encoding", "utf-8"]), "--encoding gb18030")
        clean_error(runner.invoke(app, [*args, "--encoding", "klingon"]), "unknown --encoding")
        assert not out.exists()

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            (["o1,31,23,121.47", "o2,39.9,116.4"], "row 2: 4 fields, but the header has 3"),
            (["o1,31.23,121.47", "o2,39.9,116.4", "o3,39,9,116,4"],
             "row 4: 5 fields, but the header has 3"),
        ],
    )  # fmt: skip
    def test_extra_fields_stop_with_the_row(
        self, runner: CliRunner, outlets_csv: Path, tmp_path: Path, rows: list[str], message: str
    ) -> None:
        """A row with an extra field (first row or later, in a later chunk) is one
        error: line naming the row and counts, exit 2, and no output file."""
        src = tmp_path / "in.csv"
        src.write_text("\n".join(["order,lat,lon", *rows]) + "\n", encoding="utf-8")
        out = tmp_path / "out.csv"
        args = ["--outlets", str(outlets_csv), "--chunksize", "1", "--no-progress"]
        res = runner.invoke(app, ["assign", str(src), "-o", str(out), *args])
        clean_error(res, message)
        assert len(res.stderr.strip().splitlines()) == 1
        assert not out.exists() and list(tmp_path.glob(".out.csv*")) == []


class TestGeocodeCsvReading:
    def test_extra_fields_are_refused(self, runner: CliRunner, tmp_path: Path) -> None:
        """geocode-csv's reader refuses a row with an extra field, naming it; no output."""
        src = tmp_path / "in.csv"
        src.write_text("shop,addr\nS1,上海,浦东\n", encoding="utf-8")
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(out), "--column", "addr"])
        clean_error(res, "row 2: 3 fields, but the header has 2")
        assert not out.exists()

    def test_gb18030_input_needs_no_flag(self, runner: CliRunner, tmp_path: Path) -> None:
        """A GB18030 input is detected (the same detector as assign and load_outlets)."""
        src = tmp_path / "in.csv"
        src.write_bytes("shop,addr\nS1,江苏泰州海陵区\n".encode("gb18030"))
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(out), "--column", "addr"])
        assert res.exit_code == 0, res.output
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert (df["addr"].iat[0], df["geocode_status"].iat[0]) == ("江苏泰州海陵区", "ok")
