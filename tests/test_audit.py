"""Network audit."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator import DataError, audit_outlets, load_outlets
from locator.cli import app


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "name": "x", "kind": "service_center", "province": "", "district": "", "address": "",
        "hours": "", "categories": "", "authorized": True, "coord_sys": "wgs84", "phone": "",
    }  # fmt: skip
    return pd.DataFrame([{**base, **r} for r in rows])


class TestAudit:
    def test_shared_phone_across_cities(self) -> None:
        """One hotline listed in three cities is flagged with all three outlets."""
        df = frame([
            {"outlet_id": "a", "city": "北京", "lat": 39.9, "lon": 116.4, "phone": "400-000-1"},
            {"outlet_id": "b", "city": "上海", "lat": 31.2, "lon": 121.5, "phone": "4000001"},
            {"outlet_id": "c", "city": "广州", "lat": 23.1, "lon": 113.3, "phone": "400 000 1"},
            {"outlet_id": "d", "city": "广州", "lat": 23.2, "lon": 113.3, "phone": "020-1"},
        ])  # fmt: skip
        f = [x for x in audit_outlets(df) if x.kind == "shared_phone"]
        assert len(f) == 1 and sorted(f[0].outlet_ids) == ["a", "b", "c"]

    def test_far_from_claimed_city(self) -> None:
        """An outlet claiming 苏州 but located in 宿州 (~400 km away) is flagged; one in
        an outlying district of 重庆, far from the centre but inside the city, is not."""
        df = frame([
            {"outlet_id": "fake", "city": "苏州", "lat": 33.64, "lon": 116.98},
            {"outlet_id": "wanzhou", "city": "重庆", "lat": 30.81, "lon": 108.41},
        ])  # fmt: skip
        f = [x for x in audit_outlets(df) if x.kind == "far_from_city"]
        assert [x.outlet_ids for x in f] == [["fake"]]

    def test_duplicates(self) -> None:
        """Two outlets 5 m apart, and two with the same address, are flagged."""
        df = frame([
            {"outlet_id": "a", "city": "北京", "lat": 39.9, "lon": 116.4},
            {"outlet_id": "b", "city": "北京", "lat": 39.90004, "lon": 116.4},
            {"outlet_id": "c", "city": "北京", "lat": 39.8, "lon": 116.3, "address": "人民路 1 号"},
            {"outlet_id": "d", "city": "北京", "lat": 39.7, "lon": 116.2, "address": "人民路1号"},
        ])  # fmt: skip
        kinds = {x.kind: sorted(x.outlet_ids) for x in audit_outlets(df)}
        assert kinds["duplicate_location"] == ["a", "b"]
        assert kinds["duplicate_address"] == ["c", "d"]

    def test_chain_of_near_points_is_one_group(self) -> None:
        """Outlets a-c-d-b lie ~13 m apart along a line: a-c and b-d are close pairs, c-d
        bridges them. They form one group of four, each outlet listed once."""
        step = 0.00012  # ~13 m of latitude: neighbours within 20 m, the ends are not
        places = {"a": 0, "b": 3, "c": 1, "d": 2}  # row order a, b, c, d; chain a-c-d-b
        df = frame([
            {"outlet_id": x, "city": "北京", "lat": 39.9 + k * step, "lon": 116.4}
            for x, k in places.items()
        ])  # fmt: skip
        groups = [f.outlet_ids for f in audit_outlets(df) if f.kind == "duplicate_location"]
        assert [sorted(g) for g in groups] == [["a", "b", "c", "d"]]

    def test_clean_network_has_no_high_findings(self) -> None:
        """The authorized part of the sample network has no high-severity findings."""
        df = load_outlets()
        assert [f for f in audit_outlets(df[df["authorized"]]) if f.severity == "high"] == []

    def test_sample_network_fake_listings_found(self) -> None:
        """The sample's planted fake listings (one hotline, 8 cities) are found."""
        f = {x.kind: x for x in audit_outlets(load_outlets())}
        assert len(f["shared_phone"].outlet_ids) == 8
        assert "not_authorized" in f and "far_from_city" in f


class TestAuditFlags:
    """The not_authorized finding reads flags with the one yes/no parser."""

    def test_text_false_is_not_authorized(self) -> None:
        """Text flags ("false", "否", "N") are no: those listings are reported as not
        authorized (a cast to bool made every non-empty text true)."""
        df = frame([
            {"outlet_id": "a", "city": "", "lat": 39.9, "lon": 116.4, "authorized": "false"},
            {"outlet_id": "b", "city": "", "lat": 31.2, "lon": 121.5, "authorized": "否"},
            {"outlet_id": "c", "city": "", "lat": 23.1, "lon": 113.3, "authorized": "yes"},
            {"outlet_id": "d", "city": "", "lat": 30.1, "lon": 110.3, "authorized": "N"},
        ])  # fmt: skip
        f = [x for x in audit_outlets(df) if x.kind == "not_authorized"]
        assert len(f) == 1 and sorted(f[0].outlet_ids) == ["a", "b", "d"]

    def test_junk_flag_is_a_data_error(self) -> None:
        """A flag that is neither yes nor no is refused, naming the row and the value."""
        df = frame([{"outlet_id": "a", "city": "", "lat": 39.9, "lon": 116.4,
                     "authorized": "maybe"}])  # fmt: skip
        with pytest.raises(DataError, match=r"row 2, column 'authorized'.*'maybe'"):
            audit_outlets(df)


class TestAuditCli:
    def test_json(self) -> None:
        """`locator audit --json` prints the findings as JSON."""
        res = CliRunner().invoke(app, ["audit", "--json"])
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        assert {f["kind"] for f in doc["findings"]} >= {"shared_phone", "not_authorized"}

    def test_bad_file_exits_cleanly(self, tmp_path) -> None:
        """A bad file: exit code 2, the rows on stderr, no traceback."""
        p = tmp_path / "bad.csv"
        p.write_text("outlet_id,name,lat,lon\n1,A,999,120\n", encoding="utf-8")
        res = CliRunner().invoke(app, ["audit", str(p)])
        assert res.exit_code == 2
        assert "row 2" in res.stderr and "Traceback" not in res.output

    def test_validate_reports_warnings_as_plain_lines(self, tmp_path) -> None:
        """`locator validate` loads a file with an outlet abroad: ok, plus one plain
        `warning:` line naming the row (no Python warning machinery)."""
        p = tmp_path / "w.csv"
        p.write_text("outlet_id,name,lat,lon\n1,A,30,120\n2,SG,1.29,103.85\n", encoding="utf-8")
        res = CliRunner().invoke(app, ["validate", str(p)])
        assert res.exit_code == 0, res.output
        assert "ok: 2 outlets" in res.stdout
        assert res.stderr.count("warning: row 3") == 1 and "DataWarning" not in res.stderr

    def test_table_output_shows_data_literally(self, tmp_path) -> None:
        """The human-readable table lists the findings; rich markup in a name is shown
        as text, not interpreted."""
        p = tmp_path / "m.csv"
        p.write_text(
            "outlet_id,name,city,lat,lon,phone\n"
            "a,[bold red]X[/],苏州,33.64,116.98,400-1\nb,Y,上海,31.2,121.5,400-1\n",
            encoding="utf-8",
        )
        res = CliRunner().invoke(app, ["audit", str(p)], env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        assert "shared_phone" in res.stdout and "400-1" in res.stdout
        assert "far_from_city" in res.stdout and "[bold red]X[/]" in res.stdout


class TestAuditTable:
    def test_numbers_are_never_cut_at_80_columns(self) -> None:
        """The human table at 80 columns shows the whole distance of a far-from-city
        finding (it showed "38… km" for 388 km) and no cell ends in an ellipsis."""
        import json
        import re

        from typer.testing import CliRunner

        from locator.cli import app

        runner = CliRunner()
        doc = json.loads(runner.invoke(app, ["audit", "--json"]).stdout)
        far = next(f for f in doc["findings"] if f["kind"] == "far_from_city")
        km = re.search(r"is ([\d,.]+) km", far["message"]).group(1)
        result = runner.invoke(app, ["audit"], env={"COLUMNS": "80"})
        assert result.exit_code == 0
        assert max(len(line) for line in result.output.splitlines()) <= 80
        assert f"{km} km" in result.output
        assert "…" not in result.output
