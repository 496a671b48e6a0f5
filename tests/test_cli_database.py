"""``--database URL`` on the commands that read the network (#13 §1): nearest, assign,
coverage, gaps, suggest, map and audit read the store given, not the default one, so
a planner can point any command at the production PostgreSQL store. Every case runs
on SQLite and PostGIS (the ``store`` fixture); the default store (a temp dir for the
test run) is left as seeded, so a difference proves which store was read."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from locator.cli import app as cli_app

runner = CliRunner()

# 桂林 (Guilin): a listed city with a handful of outlets, far from other cities' ones.
GUILIN = (25.2736, 110.2900)


def _run(*args: str) -> Any:
    return runner.invoke(cli_app, [*args])


@pytest.fixture
def guilin_closed(store: Any, store_url: str) -> dict[str, Any]:
    """The store with every 桂林 outlet closed; their ids and the URL."""
    frame = store.network().frame
    ids = frame.loc[frame["city"] == "桂林", "outlet_id"].tolist()
    assert ids, "the sample has outlets in 桂林"
    for oid in ids:
        store.close(oid, reason="test: city closed", actor="test")
    return {"url": store_url, "ids": set(ids)}


def _nearest_ids(*extra: str) -> list[str]:
    lat, lon = GUILIN
    r = _run("nearest", "--lat", str(lat), "--lon", str(lon), "--k", "3", "--json", *extra)
    assert r.exit_code == 0, r.output
    return [row["outlet_id"] for row in json.loads(r.stdout)["results"]]


class TestReadCommandsUseTheStoreGiven:
    def test_nearest(self, guilin_closed: dict[str, Any]) -> None:
        default = _nearest_ids()
        assert set(default) & guilin_closed["ids"]  # the default store still has them
        given = _nearest_ids("--database", guilin_closed["url"])
        assert given and not set(given) & guilin_closed["ids"]

    def test_assign(self, guilin_closed: dict[str, Any], tmp_path: Path) -> None:
        src = tmp_path / "orders.csv"
        src.write_text(f"order,lat,lon\n1,{GUILIN[0]},{GUILIN[1]}\n", encoding="utf-8")
        out = tmp_path / "assigned.csv"
        args = ["assign", str(src), "-o", str(out), "--database", guilin_closed["url"]]
        r = _run(*args)
        assert r.exit_code == 0, r.output
        with out.open(encoding="utf-8-sig", newline="") as fh:
            (row,) = list(csv.DictReader(fh))
        assert row["nearest1_outlet_id"] and row["nearest1_outlet_id"] not in guilin_closed["ids"]

    def test_coverage_shows_the_city_without_outlets(self, guilin_closed: dict[str, Any]) -> None:
        def without(*extra: str) -> set[str]:
            r = _run("coverage", "--radius-km", "50", "--json", *extra)
            assert r.exit_code == 0, r.output
            return {c["city"] for c in json.loads(r.stdout)["cities_without_outlet"]}

        assert "桂林" not in without()
        assert "桂林" in without("--database", guilin_closed["url"])

    def test_gaps_and_suggest(self, guilin_closed: dict[str, Any], tmp_path: Path) -> None:
        url = guilin_closed["url"]

        def guilin_uncovered(*extra: str) -> int:
            """People in 桂林 places beyond 50 km of every outlet."""
            out = tmp_path / f"gaps{len(extra)}.csv"
            r = _run("gaps", "--radius-km", "50", "--csv", str(out), *extra)
            assert r.exit_code == 0, r.output
            with out.open(encoding="utf-8-sig", newline="") as fh:
                rows = [row for row in csv.DictReader(fh) if row["city"] == "桂林市"]
            return sum(int(row["population"]) for row in rows)

        assert guilin_uncovered("--database", url) > guilin_uncovered() + 100_000
        suggest = _run("suggest", "--sites", "1", "--radius-km", "50", "--json", "--database", url)
        assert suggest.exit_code == 0, suggest.output

    def test_map(self, guilin_closed: dict[str, Any], store: Any, tmp_path: Path) -> None:
        name = store.get(sorted(guilin_closed["ids"])[0])["name"]
        default = tmp_path / "default.html"
        assert _run("map", "-o", str(default), "--city", "桂林").exit_code == 0
        assert name in default.read_text(encoding="utf-8")
        out = tmp_path / "map.html"
        r = _run("map", "-o", str(out), "--city", "桂林", "--database", guilin_closed["url"])
        assert r.exit_code == 2 and "no outlets in city '桂林'" in r.output
        assert not out.exists()

    def test_audit(self, store: Any, store_url: str) -> None:
        """An outlet added to the store 1,700 km from its city is found by the audit of
        that store, not by the default store's."""
        store.create(
            {"outlet_id": "FAR1", "name": "ACME家电桂林测试点", "kind": "repair_point",
             "province": "广西壮族自治区", "city": "桂林", "address": "北京市东城区",
             "lat": 39.93, "lon": 116.40, "phone": "000-555-7777"},
            actor="test",
        )  # fmt: skip

        def far(*extra: str) -> bool:
            r = _run("audit", "--json", *extra)
            assert r.exit_code == 0, r.output
            return '"FAR1"' in r.stdout

        assert far("--database", store_url) and not far()


class TestBadDatabaseArguments:
    def test_file_and_database_together(self, tmp_path: Path) -> None:
        from locator.data import DATA_DIR

        csv_path, url = str(DATA_DIR / "outlets.csv"), f"sqlite:///{tmp_path}/x.db"
        r = _run("nearest", "--lat", "25", "--lon", "110", "--outlets", csv_path, "--database", url)
        assert r.exit_code == 2
        assert "give --outlets (a file) or --database (the store), not both" in r.output

    def test_unreadable_url_is_one_line(self) -> None:
        r = _run("coverage", "--database", "nosuchdriver://x/y")
        assert r.exit_code == 2
        assert "Traceback" not in r.output and r.output.strip().count("\n") == 0
