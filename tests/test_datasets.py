"""The data build reproduces the committed files byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from locator import datasets

DATA = Path(__file__).resolve().parent.parent / "data"


class TestBuild:
    @pytest.fixture(scope="class")
    @classmethod
    def built(cls) -> dict[str, str]:
        return datasets.build_all()

    @pytest.mark.parametrize("name", ["cities.csv", "places.csv", "outlets.csv"])
    def test_rebuild_is_byte_identical(self, built: dict[str, str], name: str) -> None:
        """Re-running the build reproduces the committed data file exactly."""
        assert built[name].encode("utf-8") == (DATA / name).read_bytes()

    def test_listed_cities_match_the_shared_list(self) -> None:
        """data/listed-cities.txt is the project's list (76 cities)."""
        assert len(datasets.listed_cities()) == 76

    def test_divisions_are_wgs84(self) -> None:
        """Division centres are converted from cpca's GCJ-02 to WGS-84 (offset ~ hundreds of m)."""
        div = datasets.load_divisions()
        bj = div[(div["name"] == "东城区")].iloc[0]
        assert 0.001 < abs(bj["lon"] - bj["lon_gcj02"]) < 0.01

    def test_ambiguous_district_names_exist_in_several_cities(self) -> None:
        """朝阳区 is a district of both Beijing and Changchun in the division table."""
        div = datasets.load_divisions()
        assert set(div[div["name"] == "朝阳区"]["city"]) == {"北京市", "长春市"}
