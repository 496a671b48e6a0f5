"""Tests for the HTTP API (locator.api) and ``locator serve``: contract, bad input, headers.

Most tests use the bundled sample network with a fake geocoder (deterministic, instant);
the classes marked "real geocoder" build the offline geocoder once per module.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hostile import XSS_MARKUP as XSS

from locator import api as api_module
from locator.api import MAX_K, StrictJSONResponse, create_app, dumps
from locator.data import load_outlets
from locator.errors import ConfigurationError, GeocodeError
from locator.index import OutletIndex

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --------------------------------------------------------------------------- helpers


def strict_json(response: Any, status: int | tuple[int, ...] | None = 200) -> Any:
    """Parse a response body as strict JSON (NaN, Infinity are an error), after checking
    its status: 200 unless told (an error body never passes for an answer); a tuple
    allows any of its statuses; ``None`` leaves the status to the caller."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"non-strict JSON constant {constant}")

    if status is not None:
        allowed = status if isinstance(status, tuple) else (status,)
        assert response.status_code in allowed, (response.status_code, response.text[:300])
    return json.loads(response.content.decode("utf-8"), parse_constant=refuse)


@dataclass
class FakeLocation:
    latitude: float
    longitude: float
    address: str
    raw: dict[str, Any] = field(default_factory=dict)


SUZHOU = FakeLocation(
    31.2996,
    120.5815,
    "江苏省苏州市",
    {
        "province": "江苏省",
        "city": "苏州市",
        "district": None,
        "adcode": "320500",
        "level": "city",
        "ambiguous": True,
        "candidates": [
            {"name": "苏州市", "province": "江苏省", "lat": 31.2996, "lon": 120.5815},
            {"name": "宿州市", "province": "安徽省", "lat": 33.6461, "lon": 116.9641},
        ],
        "source": "fake",
    },
)
SHANGHAI = FakeLocation(
    31.2304,
    121.4737,
    "上海市",
    {"province": "上海市", "city": "上海市", "level": "city", "ambiguous": False, "source": "fake"},
)


class FakeGeocoder:
    """Answers from a dict (a value may be an exception to raise); records the queries."""

    def __init__(self, answers: dict[str, Any], default: Any = None) -> None:
        self.answers = answers
        self.default = default
        self.calls: list[str] = []

    def geocode(self, query: str) -> Any:
        self.calls.append(query)
        answer = self.answers.get(query, self.default)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def fake_geocoder() -> FakeGeocoder:
    return FakeGeocoder(
        {
            "Suzhou": SUZHOU,
            "上海": SHANGHAI,
            "bad query": GeocodeError("query is not usable"),
            "explode": RuntimeError("geocoder bug"),
            "nan place": FakeLocation(math.nan, 120.0, "nowhere"),
            **{x: SHANGHAI for x in XSS},
        }
    )


@pytest.fixture(scope="module")
def outlets() -> pd.DataFrame:
    return load_outlets()


@pytest.fixture(scope="module")
def app() -> FastAPI:
    app = create_app(geocoder=fake_geocoder())  # the bundled sample
    app.state.locator.warm()  # what the lifespan does in the background: /healthz is ready
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture(scope="module")
def lenient(app: FastAPI) -> TestClient:
    """A client that turns server errors into 500 responses instead of raising."""
    return TestClient(app, raise_server_exceptions=False)


# --------------------------------------------------------------------------- JSON


class TestStrictJSON:
    def test_non_finite_floats_become_null(self) -> None:
        """dumps() turns NaN/inf (also numpy and nested) into null and stays strict."""
        text = dumps({"a": math.nan, "b": [math.inf, -math.inf], "c": np.float64("nan")})
        assert json.loads(text) == {"a": None, "b": [None, None], "c": None}

    def test_response_class_renders_strict_json(self) -> None:
        """StrictJSONResponse never emits a bare NaN, and keeps Chinese readable."""
        body = StrictJSONResponse({"x": math.nan, "name": "苏州", "n": np.int64(3)}).body
        assert bytes(body).decode("utf-8") == '{"x":null,"name":"苏州","n":3}'

    def test_unknown_objects_become_text(self) -> None:
        """Values json cannot encode (e.g. a Timestamp) are rendered as text, not a crash."""
        assert json.loads(dumps({"t": pd.Timestamp("2024-01-01")})) == {"t": "2024-01-01 00:00:00"}


# --------------------------------------------------------------------------- endpoints


class TestHealthz:
    def test_reports_status_and_counts(self, client: TestClient, outlets: pd.DataFrame) -> None:
        """/healthz says ok, the version, how many outlets are loaded and that it is sample data."""
        r = client.get("/healthz")
        assert r.status_code == 200
        body = strict_json(r)
        assert body["status"] == "ok"
        assert body["outlets"] == len(outlets)
        assert body["outlets_authorized"] == int(outlets["authorized"].sum())
        assert body["sample_data"] is True

    def test_head_is_allowed(self, client: TestClient) -> None:
        """HEAD /healthz works (load balancers use it)."""
        assert client.head("/healthz").status_code == 200

    def test_every_response_has_nosniff(self, client: TestClient) -> None:
        """X-Content-Type-Options: nosniff is on JSON answers and on errors too."""
        assert client.get("/healthz").headers["x-content-type-options"] == "nosniff"
        assert client.get("/nope").headers["x-content-type-options"] == "nosniff"


RESULT_KEYS = {
    "outlet_id",
    "name",
    "kind",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "hours",
    "categories",
    "authorized",
    "lat",
    "lon",
    "distance_km",
    "bearing_deg",
    "drive_minutes",
    "meets_promise",
    "within_max",
    "open_now",
    "opens_at",
    "closes_at",
    "hours_label",
    "holidays_known",
    "directions",
    "tel",
}


class TestNearest:
    def test_contract_for_coordinates(self, client: TestClient) -> None:
        """lat/lon gives origin + k results with every documented field, nearest first."""
        r = client.get("/v1/nearest", params={"lat": 31.2304, "lon": 121.4737, "k": 5})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        body = strict_json(r)
        assert body["origin"] == {
            "lat": 31.2304,
            "lon": 121.4737,
            "source": "coordinates",
            "ambiguous": False,
            "candidates": [],
        }
        assert body["count"] == len(body["results"]) == 5
        for res in body["results"]:
            assert set(res) == RESULT_KEYS
            assert res["authorized"] is True
            assert isinstance(res["categories"], list)
            assert res["within_max"] is True
        dists = [res["distance_km"] for res in body["results"]]
        assert dists == sorted(dists)
        assert "estimate" in body["note"]

    def test_default_k_is_5(self, client: TestClient) -> None:
        """Without k, five outlets are returned."""
        body = strict_json(client.get("/v1/nearest", params={"lat": 39.9, "lon": 116.4}))
        assert body["count"] == 5

    def test_k_max_returns_50(self, client: TestClient) -> None:
        """k=50 (the cap) is accepted and returns 50 outlets."""
        r = client.get("/v1/nearest", params={"lat": 39.9, "lon": 116.4, "k": MAX_K})
        assert strict_json(r)["count"] == MAX_K

    def test_matches_outlet_index(self, app: FastAPI, outlets: pd.DataFrame) -> None:
        """The API's fast path returns the same outlets, order and distances as
        OutletIndex.nearest() for random points, k, filters and max_km."""
        svc = app.state.locator
        index = OutletIndex(outlets)
        rng = random.Random(7)
        for _ in range(60):
            lat, lon = rng.uniform(18, 53), rng.uniform(73, 135)
            k = rng.randint(1, 12)
            max_km = rng.choice([None, 0.0, 20.0, 300.0])
            kind = rng.choice([None, "service_center", "repair_point"])
            cat = rng.choice([None, "tv", "washer"])
            auth = rng.choice([True, False])
            want = index.nearest(
                lat, lon, k, max_km=max_km, kinds=kind, categories=cat, authorized_only=auth
            )
            got = svc.nearest(
                lat, lon, k, max_km=max_km, kind=kind, category=cat, authorized_only=auth
            )
            assert [g["outlet_id"] for g in got] == want["outlet_id"].tolist()
            np.testing.assert_allclose(
                [g["distance_km"] for g in got], want["distance_km"], atol=5e-4
            )
            np.testing.assert_allclose(
                [g["drive_minutes"] for g in got], want["drive_minutes"], atol=0.05
            )
            assert [g["within_max"] for g in got] == want["within_max"].tolist()
            assert [g["meets_promise"] for g in got] == want["meets_promise"].tolist()

    def test_results_are_the_index_rows_rounded(self, app: FastAPI, outlets: pd.DataFrame) -> None:
        """Each result is the outlet's record plus the index's distance, bearing and drive
        time, rounded (km to metres, degrees and minutes to 0.1), in a fixed field order."""
        svc = app.state.locator
        want = OutletIndex(outlets).nearest(31.2, 121.4, 5, max_km=30.0)
        got = svc.nearest(31.2, 121.4, 5, max_km=30.0)
        fields = ["outlet_id", "name", "kind", "province", "city", "district", "address",
                  "phone", "hours", "categories", "authorized", "lat", "lon", "distance_km",
                  "bearing_deg", "drive_minutes", "meets_promise", "within_max", "open_now",
                  "opens_at", "closes_at", "hours_label", "holidays_known", "directions",
                  "tel"]  # fmt: skip
        assert [list(g) for g in got] == [fields] * len(want) and len(want) > 1
        assert [g["distance_km"] for g in got] == [round(x, 3) for x in want["distance_km"]]
        assert [g["bearing_deg"] for g in got] == [round(x, 1) for x in want["bearing_deg"]]
        assert [g["drive_minutes"] for g in got] == [round(x, 1) for x in want["drive_minutes"]]
        assert all(type(g["meets_promise"]) is bool and g["within_max"] is True for g in got)

    def test_kind_and_category_filters(self, client: TestClient) -> None:
        """kind and category restrict the results to matching outlets."""
        r = client.get(
            "/v1/nearest",
            params={"lat": 30.6, "lon": 104.1, "k": 10, "kind": "service_center"},
        )
        assert {x["kind"] for x in strict_json(r)["results"]} == {"service_center"}
        r = client.get("/v1/nearest", params={"lat": 30.6, "lon": 104.1, "category": "tv"})
        assert all("tv" in x["categories"] for x in strict_json(r)["results"])

    def test_max_km_never_empty(self, client: TestClient) -> None:
        """With nothing within max_km, the nearest is still returned, flagged and explained."""
        r = client.get("/v1/nearest", params={"lat": 36.0, "lon": 89.0, "max_km": 10})
        body = strict_json(r)
        assert body["count"] == 1
        assert body["results"][0]["within_max"] is False
        assert re.search(r"no outlet within 10 km; the nearest is [\d.]+ km away", body["message"])

    def test_max_km_keeps_only_those_inside(self, client: TestClient) -> None:
        """With outlets inside max_km, only those are returned."""
        r = client.get(
            "/v1/nearest", params={"lat": 31.2304, "lon": 121.4737, "k": 50, "max_km": 15}
        )
        body = strict_json(r)
        assert 0 < body["count"] < 50
        assert all(x["distance_km"] <= 15 and x["within_max"] for x in body["results"])

    def test_unauthorized_only_on_request(self, client: TestClient, outlets: pd.DataFrame) -> None:
        """Unauthorized listings are never returned unless include_unauthorized=true."""
        bad = outlets[~outlets["authorized"]].iloc[0]
        params = {"lat": bad["lat"], "lon": bad["lon"], "k": 1}
        first = strict_json(client.get("/v1/nearest", params=params))["results"][0]
        assert first["outlet_id"] != bad["outlet_id"]
        params["include_unauthorized"] = "true"
        first = strict_json(client.get("/v1/nearest", params=params))["results"][0]
        assert first["outlet_id"] == bad["outlet_id"]
        assert first["authorized"] is False

    def test_q_is_geocoded(self, client: TestClient) -> None:
        """q is geocoded; the origin carries the geocoder's fields and source."""
        body = strict_json(client.get("/v1/nearest", params={"q": "上海", "k": 3}))
        assert body["origin"]["source"] == "geocoder"
        assert body["origin"]["geocoder"] == "fake"
        assert (body["origin"]["lat"], body["origin"]["lon"]) == (31.2304, 121.4737)
        assert body["results"][0]["city"] == "上海"

    def test_ambiguous_q_answers_best_with_candidates(self, client: TestClient) -> None:
        """An ambiguous q answers for the best candidate with ambiguous: true and candidates."""
        body = strict_json(client.get("/v1/nearest", params={"q": "Suzhou"}))
        assert body["origin"]["ambiguous"] is True
        assert [c["name"] for c in body["origin"]["candidates"]] == ["苏州市", "宿州市"]
        assert body["results"][0]["city"] == "苏州"

    def test_q_without_match_is_404(self, client: TestClient) -> None:
        """A q that does not geocode gets 404 with a clear JSON message naming q."""
        r = client.get("/v1/nearest", params={"q": "no such place"})
        assert r.status_code == 404
        body = strict_json(r, 404)
        assert body["error"] == "no match"
        assert body["parameter"] == "q"
        assert "lat and lon" in body["reason"]

    def test_no_matching_outlet_says_so(self, outlets: pd.DataFrame) -> None:
        """If no outlet matches the filters, results are empty and a message says why."""
        only_repair = outlets[outlets["kind"] == "repair_point"].copy()
        only_repair.loc[only_repair.index[0], "kind"] = "service_center"
        only_repair["authorized"] = only_repair["kind"] == "repair_point"
        c = TestClient(create_app(only_repair, geocoder=fake_geocoder()))
        body = strict_json(
            c.get("/v1/nearest", params={"lat": 30, "lon": 110, "kind": "service_center"})
        )
        assert body["results"] == []
        assert body["message"] == "no outlet matches these filters"


class TestGeocode:
    def test_contract(self, client: TestClient) -> None:
        """/v1/geocode returns lat, lon, the administrative fields, ambiguity and candidates."""
        body = strict_json(client.get("/v1/geocode", params={"q": "Suzhou"}))
        assert body["query"] == "Suzhou"
        assert (body["lat"], body["lon"]) == (31.2996, 120.5815)
        assert body["address"] == "江苏省苏州市"
        assert body["adcode"] == "320500"
        assert body["ambiguous"] is True
        assert len(body["candidates"]) == 2
        assert body["source"] == "fake"

    def test_q_is_stripped(self, client: TestClient, app: FastAPI) -> None:
        """Surrounding blanks are removed before geocoding."""
        assert strict_json(client.get("/v1/geocode", params={"q": "  上海 "}))["city"] == "上海市"

    def test_no_match_is_404(self, client: TestClient) -> None:
        """No match: 404 naming q."""
        r = client.get("/v1/geocode", params={"q": "nowhere at all"})
        assert r.status_code == 404
        assert strict_json(r, 404)["parameter"] == "q"

    def test_geocode_error_is_422(self, client: TestClient) -> None:
        """A query the geocoder refuses (GeocodeError) is a 422 naming q."""
        r = client.get("/v1/geocode", params={"q": "bad query"})
        assert r.status_code == 422
        assert strict_json(r, 422)["parameter"] == "q"

    def test_geocoder_failure_is_503_not_500(self, lenient: TestClient) -> None:
        """A crashing geocoder gives 503 JSON, never a 500 or a traceback."""
        r = lenient.get("/v1/geocode", params={"q": "explode"})
        assert r.status_code == 503
        assert strict_json(r, 503) == {"error": "geocoding failed", "reason": "RuntimeError"}

    def test_non_finite_geocoder_result_is_503(self, lenient: TestClient) -> None:
        """A geocoder answer with NaN coordinates is refused (503), never served as NaN."""
        r = lenient.get("/v1/nearest", params={"q": "nan place"})
        assert r.status_code == 503
        strict_json(r, 503)

    def test_geocoder_built_once_lazily(self, outlets: pd.DataFrame) -> None:
        """A geocoder factory is called once, on first use, even under concurrency."""
        calls = []

        def factory() -> FakeGeocoder:
            calls.append(1)
            return fake_geocoder()

        c = TestClient(create_app(outlets, geocoder=factory))
        assert calls == []
        threads = [
            threading.Thread(target=c.get, args=("/v1/geocode",), kwargs={"params": {"q": "上海"}})
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert calls == [1]

    def test_startup_warms_geocoder(self, outlets: pd.DataFrame) -> None:
        """Running the app's lifespan (as uvicorn does) builds the geocoder once, before
        /healthz reports ready."""
        calls = []

        def factory() -> FakeGeocoder:
            calls.append(1)
            return fake_geocoder()

        with TestClient(create_app(outlets, geocoder=factory)) as c:
            while c.get("/healthz").status_code == 503:  # warming in the background
                time.sleep(0.05)
            assert calls == [1]
            assert c.get("/v1/geocode", params={"q": "上海"}).status_code == 200
        assert calls == [1]

    def test_unavailable_geocoder_is_503(self, outlets: pd.DataFrame) -> None:
        """If the geocoder cannot be built, q requests get 503; lat/lon still work."""

        def factory() -> FakeGeocoder:
            raise ImportError("no geocoder here")

        c = TestClient(create_app(outlets, geocoder=factory))
        r = c.get("/v1/nearest", params={"q": "上海"})
        assert r.status_code == 503
        assert strict_json(r, 503)["error"] == "geocoding is unavailable"
        assert c.get("/v1/nearest", params={"lat": 30, "lon": 120}).status_code == 200


class TestOutlets:
    def test_feature_collection(self, client: TestClient, outlets: pd.DataFrame) -> None:
        """An RFC 7946 FeatureCollection of Points [lon, lat]; authorized outlets only."""
        r = client.get("/v1/outlets")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/geo+json")
        fc = strict_json(r)
        assert fc["type"] == "FeatureCollection"
        assert len(fc["features"]) == int(outlets["authorized"].sum())
        first = fc["features"][0]
        row = outlets[outlets["outlet_id"] == first["id"]].iloc[0]
        assert first["type"] == "Feature"
        assert first["geometry"] == {
            "type": "Point",
            "coordinates": [round(row["lon"], 6), round(row["lat"], 6)],
        }
        assert first["properties"]["name"] == row["name"]
        assert "lat" not in first["properties"]

    def test_include_unauthorized(self, client: TestClient, outlets: pd.DataFrame) -> None:
        """include_unauthorized=true returns every listing, with its authorized flag."""
        fc = strict_json(client.get("/v1/outlets", params={"include_unauthorized": "true"}))
        assert len(fc["features"]) == len(outlets)
        assert {f["properties"]["authorized"] for f in fc["features"]} == {True, False}

    @pytest.mark.parametrize("name", ["苏州", "苏州市", "Suzhou", "suzhou", " SUZHOU "])
    def test_city_by_any_name(self, client: TestClient, name: str) -> None:
        """city matches the Chinese name with or without 市, or the English name."""
        fc = strict_json(client.get("/v1/outlets", params={"city": name}))
        assert fc["features"]
        assert {f["properties"]["city"] for f in fc["features"]} == {"苏州"}

    def test_unknown_city_is_404(self, client: TestClient) -> None:
        """An unknown city is 404 naming the parameter, with suggestions when close."""
        r = client.get("/v1/outlets", params={"city": "Atlantis"})
        assert r.status_code == 404
        body = strict_json(r, 404)
        assert (body["error"], body["parameter"]) == ("unknown city", "city")
        r = client.get("/v1/outlets", params={"city": "Suzhuo"})
        assert "suzhou" in strict_json(r, 404)["did_you_mean"]

    def test_ambiguous_english_city_is_422_with_candidates(self, client: TestClient) -> None:
        """Taizhou names two listed cities (台州, 泰州): 422 listing both, never a silent pick;
        each Chinese name works."""
        r = client.get("/v1/outlets", params={"city": "Taizhou"})
        assert r.status_code == 422
        body = strict_json(r, 422)
        assert (body["error"], body["parameter"]) == ("ambiguous city", "city")
        assert body["candidates"] == ["台州 (浙江省)", "泰州 (江苏省)"]
        for name in ("台州", "泰州"):
            fc = strict_json(client.get("/v1/outlets", params={"city": name}))
            assert {f["properties"]["city"] for f in fc["features"]} == {name}

    def test_kind_filter(self, client: TestClient) -> None:
        """kind keeps only outlets of that kind."""
        fc = strict_json(client.get("/v1/outlets", params={"kind": "repair_point"}))
        assert {f["properties"]["kind"] for f in fc["features"]} == {"repair_point"}

    def test_bbox_filter(self, client: TestClient) -> None:
        """bbox keeps exactly the outlets inside it (edges included)."""
        fc = strict_json(client.get("/v1/outlets", params={"bbox": "120.8,30.7,122.0,31.9"}))
        assert fc["features"]
        for f in fc["features"]:
            lon, lat = f["geometry"]["coordinates"]
            assert 120.8 <= lon <= 122.0 and 30.7 <= lat <= 31.9

    def test_bbox_across_antimeridian(self) -> None:
        """minlon > maxlon selects across the antimeridian (RFC 7946 section 5.2)."""
        frame = pd.DataFrame(
            {
                "outlet_id": ["a", "b", "c"],
                "name": ["east", "west", "middle"],
                "lat": [0.0, 0.0, 0.0],
                "lon": [179.5, -179.5, 10.0],
                "authorized": [True, True, True],
            }
        )
        c = TestClient(create_app(frame, geocoder=fake_geocoder()))
        fc = strict_json(c.get("/v1/outlets", params={"bbox": "179,-1,-179,1"}))
        assert sorted(f["id"] for f in fc["features"]) == ["a", "b"]

    def test_combined_filters_can_be_empty(self, client: TestClient) -> None:
        """Filters that match nothing give an empty FeatureCollection, not an error."""
        fc = strict_json(client.get("/v1/outlets", params={"city": "苏州", "bbox": "0,0,1,1"}))
        assert fc == {"type": "FeatureCollection", "features": []}


class TestCoverage:
    def test_contract(self, client: TestClient) -> None:
        """Figures (national, cities, provinces, gaps) and a FeatureCollection of areas."""
        r = client.get("/v1/coverage", params={"radius_km": 50, "gaps": 5})
        assert r.status_code == 200
        body = strict_json(r)
        assert body["radius_km"] == 50.0
        assert body["level"] == "city"
        report = body["report"]
        assert 0 < report["population_covered"] <= report["population_total"]
        assert 0 < report["share_covered"] <= 1
        assert len(report["gaps"]) == 5
        assert report["cities"] and report["provinces"]
        areas = body["service_areas"]
        assert areas["type"] == "FeatureCollection"
        assert {f["properties"]["level"] for f in areas["features"]} == {"city"}
        assert {f["geometry"]["type"] for f in areas["features"]} <= {"Polygon", "MultiPolygon"}

    def test_drive_minutes(self, client: TestClient) -> None:
        """drive_minutes=120 uses the radius reached in 2 hours (DriveTimeModel.reach_km,
        an estimate) and says how it was converted."""
        from locator.index import DriveTimeModel

        body = strict_json(
            client.get("/v1/coverage", params={"drive_minutes": 120, "level": "none"})
        )
        assert body["drive_minutes"] == 120
        assert body["radius_km"] == pytest.approx(DriveTimeModel().reach_km(120))
        assert body["report"]["drive_minutes"] == 120
        assert "estimate" in body["report"]["note"]

    def test_default_radius_is_50_km(self, client: TestClient) -> None:
        """Without radius_km or drive_minutes the radius is 50 km."""
        body = strict_json(client.get("/v1/coverage", params={"level": "none"}))
        assert (body["radius_km"], body["drive_minutes"]) == (50.0, None)

    def test_larger_radius_covers_more(self, client: TestClient) -> None:
        """Coverage grows with the radius."""
        small = strict_json(client.get("/v1/coverage", params={"radius_km": 10, "level": "none"}))
        big = strict_json(client.get("/v1/coverage", params={"radius_km": 200, "level": "none"}))
        assert small["report"]["population_covered"] < big["report"]["population_covered"]
        assert small["service_areas"]["features"] == []

    def test_nation_level(self, client: TestClient) -> None:
        """level=nation dissolves everything into one area."""
        body = strict_json(client.get("/v1/coverage", params={"radius_km": 30, "level": "nation"}))
        assert len(body["service_areas"]["features"]) == 1

    def test_cached_per_radius(self, outlets: pd.DataFrame, monkeypatch: Any) -> None:
        """The same radius is computed once; a different radius is computed again."""
        import locator.coverage as cov

        calls = []
        real = cov.service_areas

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls.append(args[1])
            return real(*args, **kwargs)

        monkeypatch.setattr(cov, "service_areas", counting)
        c = TestClient(create_app(outlets, geocoder=fake_geocoder()))
        first = c.get("/v1/coverage", params={"radius_km": 40})
        second = c.get("/v1/coverage", params={"radius_km": 40.0})
        assert first.content == second.content
        c.get("/v1/coverage", params={"radius_km": 41})
        assert calls == [40.0, 41.0]

    def test_busy_when_too_many_heavy_requests(self, outlets: pd.DataFrame) -> None:
        """When every heavy slot is taken, an uncached coverage request gets 503 + Retry-After."""
        app = create_app(outlets, geocoder=fake_geocoder())
        svc = app.state.locator
        for _ in range(api_module.MAX_HEAVY):
            svc._heavy.acquire()
        try:
            r = TestClient(app).get("/v1/coverage", params={"radius_km": 33})
        finally:
            for _ in range(api_module.MAX_HEAVY):
                svc._heavy.release()
        assert r.status_code == 503
        assert r.headers["retry-after"] == "2"
        assert strict_json(r, 503)["error"] == "busy"


# --------------------------------------------------------------------------- embed page


@pytest.fixture(scope="module")
def embed_page(client: TestClient) -> Any:
    r = client.get("/embed/map", params={"tiles": "none", "city": "苏州"})
    assert r.status_code == 200, r.text
    return r


class TestEmbedMap:
    def test_self_contained_page(self, embed_page: Any) -> None:
        """/embed/map is a complete HTML page with no external script or stylesheet."""
        assert embed_page.status_code == 200
        assert embed_page.headers["content-type"] == "text/html; charset=utf-8"
        html = embed_page.text
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert not re.search(r"<script[^>]*\ssrc=|<link[^>]*\shref=", html)
        assert "L.map(" in html or "L.map (" in html

    def test_security_headers(self, embed_page: Any) -> None:
        """CSP with frame-ancestors 'self' by default, no external hosts without tiles,
        and nosniff."""
        csp = embed_page.headers["content-security-policy"]
        assert "frame-ancestors 'self'" in csp
        assert "default-src 'none'" in csp
        assert "img-src data:;" in csp
        assert embed_page.headers["x-content-type-options"] == "nosniff"

    def test_tile_hosts_in_csp(self, client: TestClient) -> None:
        """With OSM tiles, img-src allows the OSM tile host (and only that)."""
        r = client.get("/embed/map", params={"city": "苏州"})
        assert (
            "img-src data: https://tile.openstreetmap.org;" in r.headers["content-security-policy"]
        )

    def test_frame_ancestors_configurable(self, outlets: pd.DataFrame) -> None:
        """frame_ancestors is an allow-list written into the CSP header."""
        app = create_app(
            outlets,
            geocoder=fake_geocoder(),
            frame_ancestors=["self", "https://www.example.com", "https://*.example.org"],
        )
        r = TestClient(app).get("/embed/map", params={"city": "苏州", "tiles": "none"})
        assert (
            "frame-ancestors 'self' https://www.example.com https://*.example.org"
            in r.headers["content-security-policy"]
        )

    @pytest.mark.parametrize("tiles", ["none", "osm", "amap"])
    def test_header_policy_is_the_pages_own_policy(self, client: TestClient, tiles: str) -> None:
        """The CSP header of /embed/map is the policy of the page's own <meta> (one
        builder, same tile hosts) plus frame-ancestors, which only a header can carry."""
        from locator import embed

        r = client.get("/embed/map", params={"city": "苏州", "tiles": tiles})
        assert r.status_code == 200
        meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', r.text)
        assert meta is not None
        assert r.headers["content-security-policy"] == f"{meta[1]}; frame-ancestors 'self'"
        key = None if tiles == "none" else tiles
        # Its search box may ask this server's /v1/nearest, and nothing else.
        assert r.headers["content-security-policy"] == embed.content_security_policy(
            embed.tile_sources(key), ["'self'"], connect_self=True
        )
        assert "connect-src 'self';" in r.headers["content-security-policy"]

    def test_city_zoom_shows_only_that_city(self, embed_page: Any, outlets: pd.DataFrame) -> None:
        """With city, only that city's outlets are drawn."""
        html = embed_page.text
        suzhou = outlets[(outlets["city"] == "苏州") & outlets["authorized"]]
        beijing = outlets[outlets["city"] == "北京"]
        assert all(name in html for name in suzhou["name"])
        assert not any(name in html for name in beijing["name"])

    def test_unknown_city_is_404(self, client: TestClient) -> None:
        """An unknown city is a 404 JSON message, not an empty map."""
        r = client.get("/embed/map", params={"city": "Atlantis"})
        assert r.status_code == 404
        assert strict_json(r, 404)["parameter"] == "city"

    def test_q_draws_search(self, client: TestClient) -> None:
        """q draws the search origin and the nearest outlets; ambiguity is noted."""
        r = client.get("/embed/map", params={"q": "Suzhou", "tiles": "none", "k": 3})
        assert r.status_code == 200
        assert "locator-origin" in r.text
        assert "ambiguous" in r.text

    def test_q_without_match_is_404(self, client: TestClient) -> None:
        """A q that does not geocode is a 404 naming q."""
        r = client.get("/embed/map", params={"q": "no such place"})
        assert r.status_code == 404
        assert strict_json(r, 404)["parameter"] == "q"

    def test_layers(self, client: TestClient) -> None:
        """layers=outlets,coverage,gaps,cities draws the extra layers."""
        r = client.get(
            "/embed/map",
            params={"city": "苏州", "tiles": "none", "layers": "outlets,coverage,gaps,cities"},
        )
        assert r.status_code == 200
        assert "Service areas" in r.text or "服务范围" in r.text

    @pytest.mark.parametrize("payload", XSS)
    def test_q_is_escaped(self, client: TestClient, payload: str) -> None:
        """An XSS payload in q never appears unescaped in the page."""
        r = client.get("/embed/map", params={"q": payload, "tiles": "none", "k": 1})
        assert r.status_code == 200
        assert payload not in r.text

    def test_outlet_text_is_escaped(self, outlets: pd.DataFrame) -> None:
        """XSS payloads in outlet names, addresses and hours never appear unescaped."""
        frame = outlets[outlets["city"] == "苏州"].copy().reset_index(drop=True)
        for i, payload in enumerate(XSS):
            frame.loc[i % len(frame), "name"] = payload
            frame.loc[(i + 1) % len(frame), "address"] = payload
            frame.loc[(i + 2) % len(frame), "hours"] = payload
        frame["authorized"] = True
        c = TestClient(create_app(frame, geocoder=fake_geocoder()))
        for params in ({"tiles": "none"}, {"tiles": "none", "q": "Suzhou", "k": 10}):
            r = c.get("/embed/map", params=params)
            assert r.status_code == 200, r.text  # an error page has no payload either
            assert "locator-outlet" in r.text
            for payload in XSS:
                assert payload not in r.text

    def test_pages_are_cached(self, app: FastAPI, client: TestClient) -> None:
        """The same page is rendered once and served from the cache after."""
        params = {"city": "苏州", "tiles": "amap"}
        first = client.get("/embed/map", params=params)
        assert first.status_code == 200, first.text  # two equal errors are not a cache hit
        svc = app.state.locator
        keys = [k for k in svc._cache if k[0] == "embed"]
        assert keys
        second = client.get("/embed/map", params=params)
        assert second.status_code == 200
        assert first.content == second.content
        assert [k for k in svc._cache if k[0] == "embed"] == keys


# --------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    ("/v1/nearest", {"lat": "nan", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "NaN", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "inf", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "-inf", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "Infinity", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "1e999", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "91", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "-90.0001", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "abc", "lon": "120"}, "lat"),
    ("/v1/nearest", {"lat": "30", "lon": "181"}, "lon"),
    ("/v1/nearest", {"lat": "30", "lon": "-181"}, "lon"),
    ("/v1/nearest", {"lat": "30", "lon": "nan"}, "lon"),
    ("/v1/nearest", {"lat": "30", "lon": "inf"}, "lon"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "k": "0"}, "k"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "k": "51"}, "k"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "k": "abc"}, "k"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "k": "1.5"}, "k"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "k": "-1"}, "k"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "max_km": "-1"}, "max_km"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "max_km": "nan"}, "max_km"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "max_km": "inf"}, "max_km"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "kind": "bogus"}, "kind"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "kind": "k" * 65}, "kind"),
    ("/v1/nearest", {"lat": "30", "lon": "120", "category": "spaceship"}, "category"),
    (
        "/v1/nearest",
        {"lat": "30", "lon": "120", "include_unauthorized": "maybe"},
        "include_unauthorized",
    ),
    ("/v1/nearest", {"lat": "30"}, "lon"),
    ("/v1/nearest", {"lon": "120"}, "lat"),
    ("/v1/nearest", {}, "lat"),
    ("/v1/nearest", {"q": ""}, "q"),
    ("/v1/nearest", {"q": "   "}, "q"),
    ("/v1/nearest", {"q": "x" * 501}, "q"),
    ("/v1/nearest", {"q": "上海", "lat": "30", "lon": "120"}, "q"),
    ("/v1/geocode", {}, "q"),
    ("/v1/geocode", {"q": ""}, "q"),
    ("/v1/geocode", {"q": "\t\n "}, "q"),
    ("/v1/geocode", {"q": "苏" * 501}, "q"),
    ("/v1/geocode", {"q": "a\x00b"}, "q"),
    ("/v1/outlets", {"bbox": "1,2,3"}, "bbox"),
    ("/v1/outlets", {"bbox": "1,2,3,4,5"}, "bbox"),
    ("/v1/outlets", {"bbox": "a,b,c,d"}, "bbox"),
    ("/v1/outlets", {"bbox": ""}, "bbox"),
    ("/v1/outlets", {"bbox": "nan,1,2,3"}, "bbox"),
    ("/v1/outlets", {"bbox": "1,2,3,inf"}, "bbox"),
    ("/v1/outlets", {"bbox": "0,91,1,92"}, "bbox"),
    ("/v1/outlets", {"bbox": "200,0,201,1"}, "bbox"),
    ("/v1/outlets", {"bbox": "0,10,1,5"}, "bbox"),
    ("/v1/outlets", {"bbox": "1," * 150}, "bbox"),
    ("/v1/outlets", {"kind": "bogus"}, "kind"),
    ("/v1/outlets", {"city": ""}, "city"),
    ("/v1/outlets", {"city": "x" * 101}, "city"),
    ("/v1/coverage", {"radius_km": "0"}, "radius_km"),
    ("/v1/coverage", {"radius_km": "-5"}, "radius_km"),
    ("/v1/coverage", {"radius_km": "1000000"}, "radius_km"),
    ("/v1/coverage", {"radius_km": "1000.001"}, "radius_km"),
    ("/v1/coverage", {"radius_km": "nan"}, "radius_km"),
    ("/v1/coverage", {"radius_km": "inf"}, "radius_km"),
    ("/v1/coverage", {"radius_km": "abc"}, "radius_km"),
    ("/v1/coverage", {"level": "galaxy"}, "level"),
    ("/v1/coverage", {"drive_minutes": "0"}, "drive_minutes"),
    ("/v1/coverage", {"drive_minutes": "nan"}, "drive_minutes"),
    ("/v1/coverage", {"drive_minutes": "601"}, "drive_minutes"),
    ("/v1/coverage", {"drive_minutes": "60", "radius_km": "50"}, "drive_minutes"),
    ("/v1/coverage", {"gaps": "-1"}, "gaps"),
    ("/v1/coverage", {"gaps": "100000"}, "gaps"),
    ("/embed/map", {"layers": "bogus"}, "layers"),
    ("/embed/map", {"layers": ","}, "layers"),
    ("/embed/map", {"tiles": "google"}, "tiles"),
    ("/embed/map", {"k": "0"}, "k"),
    ("/embed/map", {"radius_km": "nan"}, "radius_km"),
    ("/embed/map", {"q": ""}, "q"),
    ("/embed/map", {"city": "x" * 101}, "city"),
]


class TestBadInput:
    @pytest.mark.parametrize(("path", "params", "parameter"), BAD_INPUTS)
    def test_422_names_the_parameter(
        self, lenient: TestClient, path: str, params: dict[str, str], parameter: str
    ) -> None:
        """Each bad input is a 422 whose strict-JSON body names the parameter."""
        r = lenient.get(path, params=params)
        assert r.status_code == 422, r.text
        body = strict_json(r, 422)
        assert body["error"] == "invalid parameter"
        assert body["parameter"] == parameter
        assert isinstance(body["reason"], str) and body["reason"]

    @pytest.mark.parametrize(
        ("path", "params"),
        [
            ("/v1/nearest", {"lat": "<script>alert(1)</script>", "lon": "120"}),
            ("/v1/nearest", {"lat": "30", "lon": "120", "k": "<b>x</b>"}),
            ("/v1/coverage", {"radius_km": "<img src=x>"}),
            ("/embed/map", {"tiles": "<svg onload=alert(1)>"}),
        ],
    )
    def test_input_is_never_echoed(
        self, client: TestClient, path: str, params: dict[str, str]
    ) -> None:
        """The 422 body does not contain the input (FastAPI's default would echo it)."""
        r = client.get(path, params=params)
        assert r.status_code == 422
        for value in params.values():
            assert value not in r.text
        assert "input" not in strict_json(r, 422)

    def test_several_bad_parameters_are_all_listed(self, client: TestClient) -> None:
        """With several bad parameters, the first is named and all are listed."""
        r = client.get("/v1/nearest", params={"lat": "nan", "lon": "999", "k": "0"})
        body = strict_json(r, 422)
        assert body["parameter"] == "lat"
        assert {e["parameter"] for e in body["errors"]} == {"lat", "lon", "k"}

    def test_wrong_method_is_json_405(self, client: TestClient) -> None:
        """POST to a GET endpoint: 405 as JSON."""
        r = client.post("/v1/nearest")
        assert r.status_code == 405
        assert strict_json(r, 405) == {"error": "Method Not Allowed"}

    def test_unknown_path_is_json_404(self, client: TestClient) -> None:
        """An unknown path: 404 as JSON."""
        r = client.get("/v2/everything")
        assert r.status_code == 404
        assert strict_json(r, 404) == {"error": "Not Found"}

    def test_unexpected_error_is_json(self, outlets: pd.DataFrame, monkeypatch: Any) -> None:
        """A bug in an endpoint gives a JSON 500 without details, never a traceback."""
        app = create_app(outlets, geocoder=fake_geocoder())

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret detail")

        monkeypatch.setattr(app.state.locator, "nearest", boom)
        r = TestClient(app, raise_server_exceptions=False).get(
            "/v1/nearest", params={"lat": 30, "lon": 120}
        )
        assert r.status_code == 500
        assert strict_json(r, 500) == {"error": "internal error"}


JUNK = [
    "",
    " ",
    "nan",
    "-nan",
    "inf",
    "-Infinity",
    "1e308",
    "-1e-320",
    "0x1A",
    "1_000",
    "١٢",
    "０",
    "\x00",
    "%00",
    "\u2028",
    "null",
    "true",
    "[]",
    "{}",
    "'",
    '"',
    "<script>",
    "${x}",
    "../../etc/passwd",
    "苏州",
    "x" * 600,
    "-0",
    "90",
    "-180",
    "50",
    "1",
]
PARAMS = ["lat", "lon", "q", "k", "kind", "category", "max_km", "city", "bbox", "radius_km",
          "level", "gaps", "layers", "tiles", "include_unauthorized", "drive_minutes"]  # fmt: skip


class TestFuzz:
    @pytest.mark.parametrize("seed", range(12))
    def test_random_junk_never_500(self, lenient: TestClient, seed: int) -> None:
        """Random junk parameters on the JSON endpoints never give a 500, and every
        answer is strict JSON."""
        rng = random.Random(seed)
        for _ in range(25):
            path = rng.choice(["/v1/nearest", "/v1/geocode", "/v1/outlets", "/v1/coverage"])
            params = {p: rng.choice(JUNK) for p in rng.sample(PARAMS, rng.randint(1, 4))}
            r = lenient.get(path, params=params)
            assert r.status_code < 500 or r.status_code == 503, (path, params, r.text)
            strict_json(r, status=None)

    def test_embed_junk_never_500(self, lenient: TestClient) -> None:
        """Junk parameters on /embed/map never give a 500 (a few, pages are slow)."""
        for params in (
            {"city": "nan"},
            {"q": "\x00"},
            {"layers": "outlets,,outlets"},
            {"k": "1e3"},
            {"q": "苏州", "layers": "OUTLETS"},
        ):
            r = lenient.get("/embed/map", params={"tiles": "none", **params})
            assert r.status_code < 500, (params, r.text[:200])


# --------------------------------------------------------------------------- CORS and body


class TestCors:
    def test_off_by_default(self, client: TestClient) -> None:
        """Without an allow-list, no CORS header is sent to any origin."""
        r = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers

    def test_allow_list_honoured(self, outlets: pd.DataFrame) -> None:
        """Listed origins get Access-Control-Allow-Origin; others do not; no credentials."""
        app = create_app(outlets, geocoder=fake_geocoder(), cors_origins=["https://a.example"])
        c = TestClient(app)
        r = c.get("/healthz", headers={"Origin": "https://a.example"})
        assert r.headers["access-control-allow-origin"] == "https://a.example"
        assert "access-control-allow-credentials" not in r.headers
        r = c.get("/healthz", headers={"Origin": "https://b.example"})
        assert "access-control-allow-origin" not in r.headers

    def test_preflight(self, outlets: pd.DataFrame) -> None:
        """A preflight from a listed origin is answered for GET only."""
        app = create_app(outlets, geocoder=fake_geocoder(), cors_origins=["https://a.example"])
        c = TestClient(app)
        ok = c.options(
            "/v1/nearest",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"},
        )
        assert ok.status_code == 200
        assert "GET" in ok.headers["access-control-allow-methods"]
        bad = c.options(
            "/v1/nearest",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"},
        )
        assert bad.status_code == 400


class TestBodyLimit:
    def test_oversized_body_is_413(self, client: TestClient) -> None:
        """A declared body over the limit is refused with 413 and a JSON message."""
        r = client.request("GET", "/v1/nearest", content=b"x" * (16 * 1024 + 1))
        assert r.status_code == 413
        assert strict_json(r, 413) == {"error": "request body too large", "limit_bytes": 16 * 1024}

    def test_chunked_body_is_counted(self, client: TestClient) -> None:
        """A chunked body (no Content-Length) is counted as it arrives and refused."""

        def chunks() -> Any:
            for _ in range(40):
                yield b"y" * 1024

        r = client.request("POST", "/healthz", content=chunks())
        assert r.status_code == 413

    def test_small_body_passes(self, client: TestClient) -> None:
        """A body under the limit does not disturb a GET."""
        r = client.request("GET", "/v1/nearest", params={"lat": 30, "lon": 120}, content=b"{}")
        assert r.status_code == 200

    def test_limit_configurable(self, outlets: pd.DataFrame) -> None:
        """max_body_bytes sets the limit."""
        c = TestClient(create_app(outlets, geocoder=fake_geocoder(), max_body_bytes=10))
        assert c.request("GET", "/healthz", content=b"x" * 11).status_code == 413
        assert c.request("GET", "/healthz", content=b"x" * 10).status_code != 413


# --------------------------------------------------------------------------- app factory


class TestCreateApp:
    @pytest.mark.parametrize(
        "origin", ["example.com", "https://a.example/path", "null", "https://a b", "ftp://x.y"]
    )
    def test_bad_cors_origin(self, outlets: pd.DataFrame, origin: str) -> None:
        """A CORS origin that is not scheme://host[:port] or * is a ConfigurationError."""
        with pytest.raises(ConfigurationError, match="invalid CORS origin"):
            create_app(outlets, cors_origins=[origin])

    @pytest.mark.parametrize(
        "ancestor", ["https://a.example; script-src *", "a b", "'unsafe-inline'", "javascript:"]
    )
    def test_bad_frame_ancestor(self, outlets: pd.DataFrame, ancestor: str) -> None:
        """A frame ancestor that could inject CSP directives is refused."""
        with pytest.raises(ConfigurationError, match="invalid frame ancestor"):
            create_app(outlets, frame_ancestors=[ancestor])

    def test_none_is_exclusive(self, outlets: pd.DataFrame) -> None:
        """'none' cannot be combined with other ancestors."""
        with pytest.raises(ConfigurationError, match="'none' cannot be combined"):
            create_app(outlets, frame_ancestors=["none", "https://a.example"])

    @pytest.mark.parametrize("value", [-1, 1.5, True, "10"])
    def test_bad_max_body_bytes(self, outlets: pd.DataFrame, value: Any) -> None:
        """max_body_bytes must be a non-negative int."""
        with pytest.raises(ConfigurationError, match="max_body_bytes"):
            create_app(outlets, max_body_bytes=value)

    def test_text_authorized_flags_are_parsed(self) -> None:
        """A frame whose authorized column is text ("false") is parsed, not cast: "false"
        outlets are unauthorized everywhere (nearest, outlets, healthz)."""
        frame = pd.DataFrame(
            {
                "outlet_id": ["a", "b"],
                "name": ["real", "fake"],
                "lat": [31.0, 31.0001],
                "lon": [121.0, 121.0],
                "authorized": ["true", "false"],
            }
        )
        c = TestClient(create_app(frame, geocoder=fake_geocoder()))
        assert strict_json(c.get("/healthz"), (200, 503))["outlets_authorized"] == 1
        near = strict_json(c.get("/v1/nearest", params={"lat": 31.0001, "lon": 121.0}))
        assert [r["outlet_id"] for r in near["results"]] == ["a"]
        fc = strict_json(c.get("/v1/outlets"))
        assert [f["id"] for f in fc["features"]] == ["a"]

    def test_contract_names_valid_without_outlets(self) -> None:
        """A category or kind of the data contract that no outlet has is an empty answer,
        not a 422."""
        frame = pd.DataFrame(
            {"outlet_id": ["a"], "name": ["x"], "lat": [31.0], "lon": [121.0],
             "kind": ["repair_point"], "categories": ["washer"]}
        )  # fmt: skip
        c = TestClient(create_app(frame, geocoder=fake_geocoder()))
        for params in ({"category": "tv"}, {"kind": "service_center"}):
            r = c.get("/v1/nearest", params={"lat": 31, "lon": 121, **params})
            assert r.status_code == 200
            assert strict_json(r)["results"] == []

    def test_bad_outlets_type(self) -> None:
        """outlets must be a frame, a path or None."""
        with pytest.raises(ConfigurationError, match="outlets must be"):
            create_app(42)  # type: ignore[arg-type]

    def test_loads_a_path(self, tmp_path: Any, outlets: pd.DataFrame) -> None:
        """A path is loaded with load_outlets and is not flagged as sample data."""
        path = tmp_path / "outlets.csv"
        outlets.head(20).to_csv(path, index=False)
        c = TestClient(create_app(str(path), geocoder=fake_geocoder()))
        body = strict_json(c.get("/healthz"), (200, 503))
        assert (body["outlets"], body["sample_data"]) == (20, False)

    def test_module_app_is_built_lazily(self) -> None:
        """locator.api.app (for `uvicorn locator.api:app`) is a FastAPI app on the sample."""
        app = api_module.app
        assert isinstance(app, FastAPI)
        assert api_module.app is app
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            api_module.nope  # noqa: B018

    def test_from_env(self, monkeypatch: Any) -> None:
        """create_app_from_env reads the allow-lists and limit from the environment."""
        monkeypatch.setenv("LOCATOR_CORS_ORIGINS", "https://a.example, https://b.example")
        monkeypatch.setenv("LOCATOR_FRAME_ANCESTORS", "self https://a.example")
        monkeypatch.setenv("LOCATOR_MAX_BODY_BYTES", "100")
        app = api_module.create_app_from_env()
        assert app.state.cors_origins == ["https://a.example", "https://b.example"]
        assert app.state.frame_ancestors == ["'self'", "https://a.example"]
        monkeypatch.setenv("LOCATOR_MAX_BODY_BYTES", "lots")
        with pytest.raises(ConfigurationError, match="LOCATOR_MAX_BODY_BYTES"):
            api_module.create_app_from_env()


class TestOpenAPI:
    def test_every_endpoint_documented_with_examples(self, client: TestClient) -> None:
        """/openapi.json describes every endpoint; every parameter has a description and
        an example; every endpoint has a summary."""
        spec = strict_json(client.get("/openapi.json"))
        paths = spec["paths"]
        for path in ("/healthz", "/v1/nearest", "/v1/geocode", "/v1/outlets", "/v1/coverage",
                     "/embed/map"):  # fmt: skip
            op = paths[path]["get"]
            assert op["summary"]
            for param in op.get("parameters", []):
                assert param.get("description"), (path, param["name"])
                assert param.get("examples") or param["schema"].get("examples"), (
                    path,
                    param["name"],
                )
        assert "example" in str(paths["/v1/nearest"]["get"]["responses"]["200"])

    def test_docs_page(self, client: TestClient) -> None:
        """/docs serves the Swagger UI page."""
        r = client.get("/docs")
        assert r.status_code == 200
        assert "swagger" in r.text.lower()


# --------------------------------------------------------------------------- CLI


class TestServeCli:
    def run(self, args: list[str], monkeypatch: Any) -> tuple[Any, dict[str, Any]]:
        import uvicorn
        from typer.testing import CliRunner

        from locator.cli import app as cli_app

        seen: dict[str, Any] = {}

        def fake_run(target: Any, **kwargs: Any) -> None:
            seen["target"] = target
            seen.update(kwargs)

        monkeypatch.setattr(uvicorn, "run", fake_run)
        for name in ("LOCATOR_CORS_ORIGINS", "LOCATOR_FRAME_ANCESTORS", "LOCATOR_OUTLETS",
                     "LOCATOR_MAX_BODY_BYTES"):  # fmt: skip
            monkeypatch.delenv(name, raising=False)
        result = CliRunner().invoke(cli_app, ["serve", *args])
        return result, seen

    def test_defaults_loopback(self, monkeypatch: Any) -> None:
        """locator serve listens on 127.0.0.1:8000 by default with the app factory."""
        result, seen = self.run([], monkeypatch)
        assert result.exit_code == 0, result.output
        assert seen["target"] == "locator.api:create_app_from_env"
        assert seen["factory"] is True
        assert (seen["host"], seen["port"], seen["workers"]) == ("127.0.0.1", 8000, 1)

    def test_options_reach_the_app(self, monkeypatch: Any) -> None:
        """--cors and --frame-ancestors (repeatable) are passed to the app via the env."""
        result, seen = self.run(
            [
                "--port",
                "9001",
                "--cors",
                "https://a.example",
                "--cors",
                "https://b.example",
                "--frame-ancestors",
                "https://a.example",
            ],
            monkeypatch,
        )
        assert result.exit_code == 0, result.output
        assert seen["port"] == 9001
        app = api_module.create_app_from_env()
        assert app.state.cors_origins == ["https://a.example", "https://b.example"]
        assert app.state.frame_ancestors == ["https://a.example"]

    def test_workers_listener_has_tcp_nodelay(self, monkeypatch: Any) -> None:
        """With --workers 2 the supervisor gets a listener whose proto is IPPROTO_TCP, so
        accepted connections get TCP_NODELAY (uvicorn's own listener has proto 0 and
        every keep-alive request then waits ~40 ms for a delayed ACK)."""
        import socket

        import uvicorn.supervisors

        seen: dict[str, Any] = {}

        class FakeMultiprocess:
            def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
                seen["config"], seen["sockets"] = config, sockets

            def run(self) -> None:
                seen["ran"] = True

        monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeMultiprocess)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        result, _ = self.run(["--workers", "2", "--port", str(port)], monkeypatch)
        assert result.exit_code == 0, result.output
        assert seen["ran"] is True
        assert seen["config"].workers == 2
        (sock,) = seen["sockets"]
        try:
            assert sock.proto == socket.IPPROTO_TCP
            assert sock.getsockname() == ("127.0.0.1", port)
        finally:
            sock.close()

    def test_uvicorn_loggers_are_redacted(self, monkeypatch: Any) -> None:
        """locator serve installs the secret-redacting filter on uvicorn's error and
        access loggers (and geopy's, locator's)."""
        import logging

        from locator.geocoders.redact import RedactingFilter

        result, _ = self.run([], monkeypatch)
        assert result.exit_code == 0, result.output
        for name in ("uvicorn.error", "uvicorn.access", "geopy", "locator"):
            assert any(isinstance(f, RedactingFilter) for f in logging.getLogger(name).filters)

    def test_bad_cors_fails_cleanly(self, monkeypatch: Any) -> None:
        """A bad --cors origin ends with one error line, exit 2, and no server."""
        result, seen = self.run(["--cors", "example.com"], monkeypatch)
        assert result.exit_code == 2
        assert "invalid CORS origin" in result.output
        assert "Traceback" not in result.output
        assert seen == {}

    def test_missing_outlets_file(self, monkeypatch: Any, tmp_path: Any) -> None:
        """A missing --outlets file is reported, no server started."""
        result, seen = self.run(["--outlets", str(tmp_path / "nope.csv")], monkeypatch)
        assert result.exit_code == 2
        assert "no such file" in result.output
        assert seen == {}


# --------------------------------------------------------------------------- real geocoder


@pytest.fixture(scope="module")
def real_client() -> TestClient:
    """The default app: bundled sample and the real offline geocoder (built once)."""
    return TestClient(create_app())


class TestRealGeocoder:
    def test_district_name_shared_by_two_cities(self, real_client: TestClient) -> None:
        """朝阳区 (Beijing and Changchun) is answered for the best candidate, flagged as
        ambiguous, with both candidates listed."""
        body = strict_json(real_client.get("/v1/geocode", params={"q": "朝阳区"}))
        assert body["ambiguous"] is True
        assert {c["city"] for c in body["candidates"]} >= {"北京市", "长春市"}
        assert body["district"] == "朝阳区"

    def test_nearest_for_a_city_name(self, real_client: TestClient) -> None:
        """q=苏州 finds outlets in Suzhou, with the geocoder's fields in origin."""
        body = strict_json(real_client.get("/v1/nearest", params={"q": "苏州", "k": 3}))
        assert body["origin"]["source"] == "geocoder"
        assert body["origin"]["adcode"] == "320500"
        assert {r["city"] for r in body["results"]} == {"苏州"}

    def test_nearest_for_an_ambiguous_pinyin_name(self, real_client: TestClient) -> None:
        """Taizhou (台州 / 泰州) answers with ambiguous: true and both cities as candidates."""
        body = strict_json(real_client.get("/v1/nearest", params={"q": "Taizhou"}))
        origin = body["origin"]
        assert origin["ambiguous"] is True
        assert {c["city"] for c in origin["candidates"]} >= {"台州市", "泰州市"}
        assert body["results"]

    def test_unknown_place_is_404(self, real_client: TestClient) -> None:
        """A query matching nothing is a 404 naming q."""
        r = real_client.get("/v1/nearest", params={"q": "xyzzy plugh"})
        assert r.status_code == 404
        assert strict_json(r, 404)["parameter"] == "q"

    @pytest.mark.parametrize("payload", XSS[:2])
    def test_payload_query_is_safe(self, real_client: TestClient, payload: str) -> None:
        """An XSS payload as q is a clean 404 (or 422), never a 500, and strict JSON."""
        r = real_client.get("/v1/geocode", params={"q": payload})
        assert r.status_code in (404, 422)
        strict_json(r, (404, 422))


@pytest.mark.slow
class TestServeProcess:
    def test_one_command_starts_the_service(self, tmp_path: Any) -> None:
        """`python -m locator serve` on 127.0.0.1 starts on the bundled data and answers
        /healthz and a geocoded /v1/nearest; SIGTERM stops it."""
        import socket
        import subprocess
        import sys
        import time
        import urllib.request
        from pathlib import Path

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        root = Path(__file__).resolve().parent.parent
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "locator", "serve", "--port", str(port), "--no-access-log"],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                        health = json.loads(r.read())
                        break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
            assert health["status"] == "ok"
            url = f"{base}/v1/nearest?q=%E8%8B%8F%E5%B7%9E&k=2"
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.loads(r.read())
            assert [x["city"] for x in body["results"]] == ["苏州", "苏州"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            log.close()


class TestFilterAliases:
    def test_chinese_filters_equal_canonical(self) -> None:
        """kind=服务中心&category=冰箱 answers like kind=service_center&category=refrigerator."""
        from locator.api import create_app

        client = TestClient(create_app())
        base = {"lat": 30.27, "lon": 120.15, "k": 3}
        a = client.get("/v1/nearest", params={**base, "kind": "服务中心", "category": "冰箱"})
        b = client.get(
            "/v1/nearest", params={**base, "kind": "service_center", "category": "refrigerator"}
        )
        assert a.status_code == b.status_code == 200
        ids = [r["outlet_id"] for r in a.json()["results"]]
        assert ids == [r["outlet_id"] for r in b.json()["results"]] and ids


class TestNearestHours:
    """open_now / at on /v1/nearest (issue #14): real 2026 dates of the sample network."""

    HOLIDAY = "2026-10-01T10:00:00+08:00"  # National Day

    def test_every_result_says_open_or_not(self, client: TestClient) -> None:
        """Each result carries open_now, opens_at/closes_at (ISO, +08:00) and a label."""
        body = strict_json(
            client.get("/v1/nearest", params={"lat": 31.23, "lon": 121.47, "at": self.HOLIDAY})
        )
        assert body["at"] == self.HOLIDAY
        for res in body["results"]:
            assert res["open_now"] in (True, False, None)
            change = res["closes_at"] if res["open_now"] else res["opens_at"]
            if change is not None:
                assert change.endswith("+08:00") and change > self.HOLIDAY
            assert " / " in res["hours_label"]
        # The sample's repair points close on public holidays: some nearest one is shut.
        assert any(r["open_now"] is False for r in body["results"])

    def test_open_now_filter_on_a_holiday(self, client: TestClient) -> None:
        """open_now=true on National Day drops the outlets closed then (PH off) and keeps
        the open ones, nearest first."""
        base = {"lat": 31.23, "lon": 121.47, "k": 10, "at": self.HOLIDAY}
        every = strict_json(client.get("/v1/nearest", params=base))["results"]
        body = strict_json(client.get("/v1/nearest", params={**base, "open_now": "true"}))
        got = body["results"]
        assert got and all(r["open_now"] is not False for r in got)
        closed = {r["outlet_id"] for r in every if r["open_now"] is False}
        assert closed and not closed & {r["outlet_id"] for r in got}
        dists = [r["distance_km"] for r in got if r["open_now"]]
        assert dists == sorted(dists)

    def test_make_up_workday(self, client: TestClient) -> None:
        """Saturday 2026-10-10 is a make-up workday: the weekday-only repair points
        (Sa,Su off) are open at 10:00; the Saturday after they are closed."""
        weekday_only = "Mo-Fr 09:00-12:00,13:30-18:00; Sa,Su off; PH off"

        def states(when: str) -> set[bool | None]:
            params = {"lat": 31.23, "lon": 121.47, "k": 50, "at": when}
            results = strict_json(client.get("/v1/nearest", params=params))["results"]
            return {r["open_now"] for r in results if r["hours"] == weekday_only}

        assert states("2026-10-10T10:00:00+08:00") == {True}
        assert states("2026-10-17T10:00:00+08:00") == {False}

    def test_directions_route_from_the_origin(self, client: TestClient) -> None:
        """Each result links AMap/Baidu/OSM directions from the query point, and tel:."""
        from locator.crs import wgs84_to_gcj02

        body = strict_json(client.get("/v1/nearest", params={"lat": 31.23, "lon": 121.47}))
        glon, glat = wgs84_to_gcj02(121.47, 31.23)
        for res in body["results"]:
            assert f"from={glon:.6f},{glat:.6f}," in res["directions"]["amap"]
            assert "api.map.baidu.com/direction?origin=latlng:" in res["directions"]["baidu"]
            assert "route=31.230000,121.470000%3B" in res["directions"]["osm"]
            assert res["tel"] == ["tel:" + "".join(c for c in res["phone"] if c.isdigit())]

    @pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01T10:00", "10:00", "2026-10-01T25:00"])
    def test_bad_at_is_422(self, client: TestClient, bad: str) -> None:
        """A bad at is a 422 naming the parameter, never a 500."""
        r = client.get("/v1/nearest", params={"lat": 31.23, "lon": 121.47, "at": bad})
        assert r.status_code == 422
        assert r.json()["parameter"] == "at"
        assert "ISO 8601" in r.json()["reason"]  # a bad value, not an unknown parameter

    def test_bad_open_now_is_422(self, client: TestClient) -> None:
        """open_now must be a boolean: a 422 naming it."""
        r = client.get("/v1/nearest", params={"lat": 31.23, "lon": 121.47, "open_now": "maybe"})
        assert r.status_code == 422
        assert r.json()["parameter"] == "open_now"
        assert "boolean" in r.json()["reason"]  # a bad value, not an unknown parameter
