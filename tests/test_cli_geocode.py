"""``locator geocode`` and ``locator geocode-csv``: output, exit codes, resumable batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app
from locator.cli import geocode as cli_geocode
from locator.geocode import OfflineGeocoder, checkpoint_path


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOCATOR_NO_PROGRESS", "1")
    return CliRunner()


class TestGeocodeCommand:
    def test_json_output(self, runner: CliRunner) -> None:
        """--json prints one object with lat, lon and the raw fields."""
        res = runner.invoke(app, ["geocode", "江苏泰州海陵区", "--json"])
        assert res.exit_code == 0, res.output
        obj = json.loads(res.stdout)
        assert {"lat", "lon", "province", "city", "district", "adcode", "level", "ambiguous",
                "candidates", "source"} <= set(obj)  # fmt: skip
        assert obj["district"] == "海陵区" and obj["ambiguous"] is False

    def test_human_output(self, runner: CliRunner) -> None:
        """Plain output is one line: address, coordinates, level and adcode."""
        res = runner.invoke(app, ["geocode", "Hohhot"])
        assert res.exit_code == 0
        assert "呼和浩特市" in res.stdout and "adcode 150100" in res.stdout

    def test_ambiguous_lists_candidates(self, runner: CliRunner) -> None:
        """An ambiguous name lists every candidate, best guess first."""
        res = runner.invoke(app, ["geocode", "朝阳区"])
        assert res.exit_code == 0
        lines = res.stdout.splitlines()
        assert lines[0].startswith("ambiguous:")
        assert "1. 北京市朝阳区" in lines[1] and "2. 吉林省长春市朝阳区" in lines[2]

    def test_hint_options(self, runner: CliRunner) -> None:
        """--city resolves an ambiguous name."""
        res = runner.invoke(app, ["geocode", "鼓楼区", "--city", "开封", "--json"])
        obj = json.loads(res.stdout)
        assert obj["city"] == "开封市" and obj["ambiguous"] is False

    def test_miss_exits_1_with_one_line(self, runner: CliRunner) -> None:
        """A miss prints one line to stderr and exits 1, no traceback."""
        res = runner.invoke(app, ["geocode", "qwertyuiop"])
        assert res.exit_code == 1
        assert res.stdout == ""
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("not found: 'qwertyuiop': no place")

    def test_invalid_query_exits_2(self, runner: CliRunner) -> None:
        """An empty query is a usage error (exit 2), one line on stderr."""
        res = runner.invoke(app, ["geocode", "   "])
        assert res.exit_code == 2
        assert "empty" in res.stderr and "Traceback" not in res.output

    def test_unknown_geocoder(self, runner: CliRunner) -> None:
        """An unknown --geocoder is reported with the choices."""
        res = runner.invoke(app, ["geocode", "x", "--geocoder", "nope"])
        assert res.exit_code == 2 and "choose one of" in res.stderr

    def test_nominatim_without_agent(
        self, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Nominatim without a user agent fails cleanly before any request."""
        monkeypatch.delenv("LOCATOR_USER_AGENT", raising=False)
        res = runner.invoke(app, ["geocode", "x", "--geocoder", "nominatim"])
        assert res.exit_code == 2 and "LOCATOR_USER_AGENT" in res.stderr


class CrashingGeocoder:
    """The offline geocoder that records calls and raises ``exc`` at call ``crash_at``."""

    def __init__(self, crash_at: int | None = None, exc: BaseException | None = None) -> None:
        self.inner = OfflineGeocoder()
        self.calls: list[str] = []
        self.crash_at = crash_at
        self.exc = exc or KeyboardInterrupt()

    def geocode(self, query: str, **kw: Any) -> Any:
        if self.crash_at is not None and len(self.calls) + 1 == self.crash_at:
            raise self.exc
        self.calls.append(query)
        return self.inner.geocode(query, **kw)


ROWS = ["北京市朝阳区望京街10号", "深圳南山区科技园", "朝阳区", "Xi’an", "asdf", "Suzhou",
        "江苏泰州海陵区", "urumqi"]  # fmt: skip


def _input(path: Path, encoding: str = "utf-8") -> Path:
    pd.DataFrame({"shop": [f"S{i}" for i in range(len(ROWS))], "addr": ROWS}).to_csv(
        path, index=False, encoding=encoding
    )
    return path


class TestGeocodeCsvCommand:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
    def test_encodings(self, runner: CliRunner, tmp_path: Path, encoding: str) -> None:
        """UTF-8, UTF-8 with BOM and GB18030 inputs give the same output."""
        src = _input(tmp_path / "in.csv", encoding)
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(out), "--column", "addr"])
        assert res.exit_code == 0, res.output
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert df["geocode_status"].tolist() == [
            "ok", "ok", "ambiguous", "ok", "not_found", "ambiguous", "ok", "ok",
        ]  # fmt: skip
        assert df.loc[2, "geocode_candidates"] == "北京市朝阳区; 吉林省长春市朝阳区"
        assert "wrote" in res.stderr and "8 rows" in res.stderr

    def test_missing_column(self, runner: CliRunner, tmp_path: Path) -> None:
        """A missing --column names the available columns."""
        src = _input(tmp_path / "in.csv")
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(tmp_path / "o.csv")])
        assert res.exit_code == 2
        assert "available columns: shop, addr" in res.stderr

    def test_missing_file(self, runner: CliRunner, tmp_path: Path) -> None:
        """A missing input file is one clean error line."""
        res = runner.invoke(app, ["geocode-csv", str(tmp_path / "no.csv"), "-o", "x.csv"])
        assert res.exit_code == 2 and "no such file" in res.stderr

    def test_ctrl_c_then_rerun_resumes(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Ctrl-C exits 130 keeping a checkpoint; rerunning repeats no call and completes."""
        src = _input(tmp_path / "in.csv")
        out = tmp_path / "out.csv"
        first = CrashingGeocoder(crash_at=4)
        monkeypatch.setattr(cli_geocode, "make_geocoder", lambda *a, **k: first)
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(out), "-c", "addr"])
        assert res.exit_code == 130 and "rerun the same command" in res.stderr
        assert checkpoint_path(out).exists() and not out.exists()
        second = CrashingGeocoder()
        monkeypatch.setattr(cli_geocode, "make_geocoder", lambda *a, **k: second)
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(out), "-c", "addr"])
        assert res.exit_code == 0, res.output
        assert set(first.calls).isdisjoint(second.calls)
        assert len(first.calls) + len(second.calls) == len(ROWS)
        assert "3 resumed" in res.stderr
        df = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert len(df) == len(ROWS) and df["district"].iloc[6] == "海陵区"
        assert not checkpoint_path(out).exists()

    def test_service_refusal_exits_3(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A refusal (HTTP 403) stops with exit 3 and a message saying progress is kept."""
        from locator.geocode import GeocoderRefused

        src = _input(tmp_path / "in.csv")
        geo = CrashingGeocoder(crash_at=2, exc=GeocoderRefused("nominatim refused (HTTP 403)"))
        monkeypatch.setattr(cli_geocode, "make_geocoder", lambda *a, **k: geo)
        res = runner.invoke(app, ["geocode-csv", str(src), "-o", str(tmp_path / "o.csv"),
                                  "-c", "addr"])  # fmt: skip
        assert res.exit_code == 3
        assert "403" in res.stderr and "rerun" in res.stderr
