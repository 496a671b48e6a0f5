"""locator.pages: one assembly of a network page's layers for the API, the CLI and the app."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from locator import load_cities, load_outlets, load_places, pages
from locator.coverage import CoverageModel
from locator.errors import ConfigurationError
from tests.test_maps import circle_rows

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CITY = "徐州"  # a listed city with outlets and with gaps at 50 km on the bundled data
OUTLET_MARK = "locator-marker locator-outlet"


@pytest.fixture(scope="module")
def network() -> pd.DataFrame:
    return load_outlets()


@pytest.fixture(scope="module")
def model(network: pd.DataFrame) -> CoverageModel:
    return CoverageModel(network, load_places(), load_cities())


@pytest.fixture(scope="module")
def expected(network: pd.DataFrame, model: CoverageModel) -> dict[str, int]:
    """What a 徐州 page must draw, counted from the data, not from locator.pages."""
    gaps = model.report(50.0).gaps_frame()
    want = {
        "outlets": int((network["authorized"] & (network["city"] == CITY)).sum()),
        "gaps": int((gaps["city"] == f"{CITY}市").sum()),
    }
    assert want["outlets"] > 0 and want["gaps"] > 0  # else the comparison proves nothing
    return want


class TestParseLayers:
    def test_names_are_cleaned_and_deduplicated(self) -> None:
        """Blanks and case are ignored; each layer once, in the order given."""
        assert pages.parse_layers(" Gaps,outlets,gaps ") == ["gaps", "outlets"]
        assert pages.parse_layers(["cities", "coverage"]) == ["cities", "coverage"]

    def test_unknown_layer_is_named(self) -> None:
        """An unknown layer is an error naming it and listing the choices."""
        with pytest.raises(ConfigurationError, match=r"unknown layer\(s\) heat; choose from"):
            pages.parse_layers("outlets,heat")

    def test_no_layer_is_refused(self) -> None:
        """An empty list of layers is an error, not a blank page by accident."""
        with pytest.raises(ConfigurationError, match="no layer given"):
            pages.parse_layers(" , ")


class TestCityNames:
    def test_norm_city_ignores_suffix_case_and_punctuation(self) -> None:
        """市 / City / Shi suffixes, case, blanks and apostrophes do not matter."""
        assert pages.norm_city("杭州市") == pages.norm_city("杭州") == "杭州"
        assert pages.norm_city(" Xi'an City ") == pages.norm_city("xian") == "xian"

    def test_english_name_means_the_listed_city(self) -> None:
        """Hangzhou names the listed city 杭州 (both names match afterwards)."""
        assert {"杭州", "hangzhou"} <= pages.city_keys("Hangzhou")


class TestPageLayers:
    def test_city_keeps_its_outlets_and_gaps(
        self, network: pd.DataFrame, model: CoverageModel, expected: dict[str, int]
    ) -> None:
        """With a city, only its outlets and its gaps are layers; gaps_total counts them."""
        drawn = pages.page_layers(
            network[network["authorized"]],
            layers="outlets,gaps",
            city=pages.city_keys(CITY),
            coverage_model=model,
        )
        assert drawn.outlets is not None and drawn.gaps is not None
        assert len(drawn.outlets) == expected["outlets"]
        assert set(drawn.outlets["city"]) == {CITY}
        assert len(drawn.gaps) == drawn.gaps_total == expected["gaps"]
        assert drawn.service_areas is None and drawn.cities is None

    def test_national_gaps_are_the_most_populous(
        self, network: pd.DataFrame, model: CoverageModel
    ) -> None:
        """Nationally, max_gaps keeps the most populous gaps; gaps_total counts them all."""
        drawn = pages.page_layers(network, layers=["gaps"], coverage_model=model, max_gaps=7)
        every = model.report(50.0).gaps_frame()
        assert drawn.gaps is not None
        assert list(drawn.gaps["place_id"]) == list(every.nlargest(7, "population")["place_id"])
        assert drawn.gaps_total == len(every)

    def test_cities_layer_has_coordinates(
        self, network: pd.DataFrame, model: CoverageModel
    ) -> None:
        """The cities layer carries each listed city's lat/lon."""
        drawn = pages.page_layers(network, layers=["cities"], coverage_model=model)
        assert drawn.cities is not None and len(drawn.cities)
        assert drawn.cities[["lat", "lon"]].notna().all().all()

    def test_no_layer_is_an_empty_map(self, network: pd.DataFrame) -> None:
        """No layer at all draws nothing (the app's empty multiselect)."""
        drawn = pages.page_layers(network, layers=())
        assert (drawn.outlets, drawn.gaps, drawn.cities, drawn.service_areas) == (
            None,
            None,
            None,
            None,
        )

    def test_sample_note_and_escaping(self, network: pd.DataFrame) -> None:
        """The bundled network's page says it is sample data; extra notes are escaped."""
        html = pages.network_page(
            network.head(3), tiles=None, sample=True, notes=["<b>bold</b>"], locate=False
        )
        assert pages.SAMPLE_NOTE.split(":")[0] in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html


def _counts(html: str) -> dict[str, int]:
    return {"outlets": html.count(OUTLET_MARK), "gaps": len(circle_rows(html, "locator-gap"))}


class TestFrontEndsAgree:
    """The API, `locator map` and the app's Embed view draw the same layers for the same
    request (city=徐州, layers=outlets,gaps, no basemap, 50 km)."""

    def api_page(self) -> str:
        from fastapi.testclient import TestClient

        from locator.api import create_app

        r = TestClient(create_app()).get(
            "/embed/map", params={"city": CITY, "layers": "outlets,gaps", "tiles": "none"}
        )
        assert r.status_code == 200, r.text
        return r.text

    def cli_page(self, tmp_path: Path) -> str:
        from typer.testing import CliRunner

        from locator.cli import app

        out = tmp_path / "map.html"
        args = ["map", "-o", str(out), "--city", CITY, "--layers", "outlets,gaps"]
        r = CliRunner().invoke(app, [*args, "--tiles", "none"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["gaps"] == _counts(out.read_text(encoding="utf-8"))["gaps"]
        return out.read_text(encoding="utf-8")

    def app_page(self) -> str:
        from apptest import start

        at = start("en", view="embed")  # only the open view runs
        at.selectbox(key="embed-city").set_value(CITY)
        at.multiselect(key="embed-layers").set_value(["outlets", "gaps"])
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        frame: Any = at.get("iframe")[0]
        src = frame.proto.src
        assert src.startswith("data:text/html;base64,")
        return base64.b64decode(src.split(",", 1)[1]).decode("utf-8")

    def test_same_layers_everywhere(self, tmp_path: Path, expected: dict[str, int]) -> None:
        """Each front end draws the city's authorized outlets and only the city's gaps."""
        got = {
            "api": _counts(self.api_page()),
            "cli": _counts(self.cli_page(tmp_path)),
            "app": _counts(self.app_page()),
        }
        assert got == {"api": expected, "cli": expected, "app": expected}
