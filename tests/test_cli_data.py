"""``locator audit`` exit status (``--fail-on``) through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from locator.cli import app

runner = CliRunner()
HEADER = "outlet_id,name,kind,city,address,lat,lon,phone,categories,authorized"


def network(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def info_only(tmp_path: Path) -> Path:
    """One authorized outlet and one unauthorized listing: a single 'info' finding."""
    return network(tmp_path / "info.csv", [
        "A1,Alpha center,service_center,上海,Road 1,31.2300,121.4700,000-555-0001,tv,true",
        "A2,Bravo point,repair_point,上海,Road 2,31.2600,121.5000,000-555-0002,tv,false",
    ])  # fmt: skip


@pytest.fixture
def medium(tmp_path: Path) -> Path:
    """Two authorized outlets at the same point: 'medium' duplicate findings."""
    return network(tmp_path / "medium.csv", [
        "A1,Alpha center,service_center,上海,Road 1,31.2300,121.4700,000-555-0001,tv,true",
        "A2,Bravo point,repair_point,上海,Road 1,31.2300,121.4700,000-555-0002,tv,true",
    ])  # fmt: skip


class TestAuditFailOn:
    def test_default_exits_0_even_with_high_findings(self) -> None:
        """Without --fail-on the bundled sample (high findings) still exits 0."""
        res = runner.invoke(app, ["audit"])
        assert res.exit_code == 0, res.output
        assert "high" in res.stdout

    def test_high_findings_fail_on_high(self) -> None:
        """--fail-on high exits 1 after printing the report, saying why on stderr."""
        res = runner.invoke(app, ["audit", "--fail-on", "high"])
        assert res.exit_code == 1, res.output
        assert "shared_phone" in res.stdout
        assert "at or above high (--fail-on high)" in res.stderr

    def test_json_report_then_exit_1(self) -> None:
        """With --json the findings are still printed as JSON before exit 1."""
        res = runner.invoke(app, ["audit", "--json", "--fail-on", "medium"])
        assert res.exit_code == 1
        assert any(f["severity"] == "high" for f in json.loads(res.stdout)["findings"])

    @pytest.mark.parametrize(
        ("level", "code"), [("none", 0), ("high", 0), ("medium", 0), ("low", 1), ("info", 1)]
    )
    def test_threshold_on_info_finding(self, info_only: Path, level: str, code: int) -> None:
        """An info finding fails only --fail-on low (another name for info)."""
        res = runner.invoke(app, ["audit", str(info_only), "--fail-on", level])
        assert res.exit_code == code, res.output

    @pytest.mark.parametrize(("level", "code"), [("high", 0), ("medium", 1), ("LOW", 1)])
    def test_threshold_on_medium_finding(self, medium: Path, level: str, code: int) -> None:
        """A medium finding fails --fail-on medium and low, not high."""
        res = runner.invoke(app, ["audit", str(medium), "--fail-on", level])
        assert res.exit_code == code, res.output

    def test_unknown_level(self) -> None:
        """An unknown level is one clean error (exit 2) naming the option."""
        res = runner.invoke(app, ["audit", "--fail-on", "severe"])
        assert res.exit_code == 2
        assert res.stderr.startswith("error: --fail-on: unknown severity 'severe'")
