"""The data build (locator.datasets) reproduces the committed files byte for byte; the
runtime reference loaders (locator.reference) read the bundled division table and GeoNames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from locator import datasets, reference

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BUNDLED = (
    "divisions.csv",
    "division_changes.csv",
    "new_areas.csv",
    "cities.csv",
    "places.csv",
    "outlets.csv",
    "sample-orders.csv",
    "sample-capacity.csv",
    "districts.geojson.gz",
    "offset-area.geojson.gz",
    "outlines.geojson.gz",
)


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


class TestBuild:
    @pytest.fixture(scope="class")
    @classmethod
    def built(cls) -> dict[str, str]:
        return datasets.build_all()

    @pytest.mark.parametrize("name", BUNDLED)
    def test_rebuild_is_byte_identical(self, built: dict[str, str], name: str) -> None:
        """Re-running the build reproduces the committed data file exactly."""
        assert _bytes(built[name]) == (DATA / name).read_bytes()

    @pytest.mark.parametrize("name", BUNDLED)
    def test_rebuild_matches_the_shipped_file(self, built: dict[str, str], name: str) -> None:
        """The build's output is the file the package ships (locator/_data, read through
        locator.reference.data_path), not only the repository's data/ copy."""
        assert reference.data_path(name).parent == ROOT / "locator" / "_data"
        assert _bytes(built[name]) == reference.data_path(name).read_bytes()

    def test_listed_cities_match_the_shared_list(self) -> None:
        """The bundled cities.csv holds exactly the cities of data/listed-cities.txt (the
        project's list), in its order, each once."""
        listed = (DATA / "listed-cities.txt").read_text("utf-8").split()
        cities = pd.read_csv(reference.data_path("cities.csv"), dtype=str)["city"].tolist()
        assert cities == listed
        assert datasets.listed_cities() == listed
        assert len(set(listed)) == len(listed) == 76

    def test_check_reports_up_to_date(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`python -m locator.datasets build --check` exits 0, says every file is up to
        date and writes nothing."""
        before = {n: reference.data_path(n).stat().st_mtime_ns for n in BUNDLED}
        assert datasets.main(["build", "--check"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out == [f"{n}: up to date" for n in BUNDLED]
        assert {n: reference.data_path(n).stat().st_mtime_ns for n in BUNDLED} == before

    def test_check_names_a_differing_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--check against a folder whose outlets.csv was edited exits 1 and names it."""
        for n in BUNDLED:
            (tmp_path / n).write_bytes(reference.data_path(n).read_bytes())
        (tmp_path / "outlets.csv").write_text("edited\n", encoding="utf-8")
        assert datasets.main(["build", "--check", "--out", str(tmp_path)]) == 1
        out = capsys.readouterr().out.splitlines()
        assert "outlets.csv: DIFFERS" in out and "cities.csv: up to date" in out

    def test_build_writes_to_out(self, tmp_path: Path) -> None:
        """`build --out DIR` writes the three files, byte-identical to the shipped ones."""
        assert datasets.main(["build", "--out", str(tmp_path)]) == 0
        for n in BUNDLED:
            assert (tmp_path / n).read_bytes() == reference.data_path(n).read_bytes()


class TestDivisions:
    def test_divisions_are_wgs84(self) -> None:
        """Division centres taken from cpca are converted from GCJ-02 to WGS-84 (offset ~
        hundreds of m)."""
        div = reference.load_divisions()
        bj = div[(div["name"] == "东城区")].iloc[0]
        assert 0.001 < abs(bj["lon"] - bj["lon_gcj02"]) < 0.01

    def test_ambiguous_district_names_exist_in_several_cities(self) -> None:
        """朝阳区 is a district of both Beijing and Changchun in the division table."""
        div = reference.load_divisions()
        assert set(div[div["name"] == "朝阳区"]["city"]) == {"北京市", "长春市"}

    def test_build_script_names_stay_importable(self) -> None:
        """Code that imported the loaders from locator.datasets keeps working: they are
        the runtime module's own functions."""
        assert datasets.load_divisions is reference.load_divisions
        assert datasets.short_name is reference.short_name
        assert datasets.MUNICIPALITIES is reference.MUNICIPALITIES
