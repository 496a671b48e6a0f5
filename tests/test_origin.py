"""locator.geocode.origin_from_location: the one "origin from a Location" of the front ends."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import locator.cli.nearest as nearest_cli
from locator.api import create_app
from locator.cli import app as cli_app
from locator.errors import GeocoderServiceError
from locator.geocode import origin_from_location

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Loc:
    latitude: Any
    longitude: Any
    address: Any = "浙江省杭州市西湖区"
    raw: Any = field(default_factory=dict)


RAW = {
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "adcode": "330106",
    "level": "district",
    "ambiguous": True,
    "candidates": [
        {"name": "西湖区", "province": "浙江省"},
        {"name": "西湖区", "province": "江西省"},
    ],
    "source": "fake",
    "population": 1000,
}


class OneAnswer:
    """A geopy-style geocoder that answers every query with one location."""

    def __init__(self, loc: Loc) -> None:
        self.loc = loc

    def geocode(self, query: str) -> Loc:
        return self.loc


class TestOriginFromLocation:
    def test_fields(self) -> None:
        """The origin carries the query, WGS-84 point, address, admin fields, ambiguity."""
        origin = origin_from_location(Loc(30.26, 120.13, raw=RAW), "西湖区")
        assert origin == {
            "query": "西湖区",
            "lat": 30.26,
            "lon": 120.13,
            "address": "浙江省杭州市西湖区",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "adcode": "330106",
            "level": "district",
            "ambiguous": True,
            "candidates": RAW["candidates"],
            "source": "fake",
            "renamed_from": None,  # the query named no former division
        }

    def test_missing_raw_and_blank_address(self) -> None:
        """No raw: admin fields are None, not ambiguous, no candidates; a blank or NaN
        address is None."""
        for address in ("  ", math.nan, None):
            origin = origin_from_location(Loc("30.5", 120, address=address, raw=None))
            assert (origin["lat"], origin["lon"], origin["address"]) == (30.5, 120.0, None)
            assert origin["ambiguous"] is False and origin["candidates"] == []
            assert origin["city"] is None and origin["query"] is None

    @pytest.mark.parametrize(
        ("lat", "lon", "message"),
        [
            (math.nan, 120.0, "invalid coordinates"),
            (91.0, 120.0, "invalid coordinates"),
            (30.0, math.inf, "invalid coordinates"),
            ("north", 120.0, "malformed geocoder result"),
            (None, 120.0, "malformed geocoder result"),
        ],
    )
    def test_bad_coordinates_are_a_service_error(self, lat: Any, lon: Any, message: str) -> None:
        """A location without valid coordinates is the geocoder's fault, said so."""
        with pytest.raises(GeocoderServiceError, match=message):
            origin_from_location(Loc(lat, lon))


class TestFrontEndsUseIt:
    def test_api_and_cli_report_the_same_origin(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """/v1/nearest?q= and `locator nearest --json` give the origin fields of the
        helper for the same geocoder answer."""
        loc = Loc(30.26, 120.13, raw=RAW)
        want = origin_from_location(loc, "西湖区")
        r = TestClient(create_app(geocoder=OneAnswer(loc))).get(
            "/v1/nearest", params={"q": "西湖区", "k": 1}
        )
        assert r.status_code == 200
        api_origin = r.json()["origin"]
        monkeypatch.setattr(nearest_cli, "make_geocoder", lambda: OneAnswer(loc))
        result = CliRunner().invoke(cli_app, ["nearest", "西湖区", "--json", "-k", "1"])
        assert result.exit_code == 0, result.output
        cli_origin = json.loads(result.stdout)["origin"]
        keys = [k for k in want if k != "source"]
        assert {k: api_origin[k] for k in keys} == {k: want[k] for k in keys}
        assert cli_origin == want

    def test_cli_refuses_a_location_without_coordinates(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`locator nearest` with a geocoder answering NaN is one error line, exit 2,
        not a NaN origin in the JSON."""
        monkeypatch.setattr(nearest_cli, "make_geocoder", lambda: OneAnswer(Loc(math.nan, 120)))
        result = CliRunner().invoke(cli_app, ["nearest", "西湖区", "--json"])
        assert result.exit_code == 2
        assert "geocoder returned invalid coordinates" in result.output
        assert "Traceback" not in result.output

    def test_api_says_the_geocoder_failed(self) -> None:
        """/v1/geocode with a NaN answer is a 503 naming the cause, not a 500."""
        client = TestClient(create_app(geocoder=OneAnswer(Loc(math.nan, 120))))
        r = client.get("/v1/geocode", params={"q": "西湖区"})
        assert r.status_code == 503
        assert r.json() == {
            "error": "geocoding failed",
            "reason": "geocoder returned invalid coordinates",
        }
