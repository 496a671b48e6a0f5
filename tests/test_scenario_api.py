"""``/v1/scenarios`` (#15 §4): save (editor), list / show / compare (viewer)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from locator.api import create_app
from locator.store import open_store
from tests.test_api import fake_geocoder

WUZHONG = {"lat": 37.9867, "lon": 106.201, "name": "吴忠新点"}


@pytest.fixture
def store(_sqlite_template: Path, tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "network.db"
    shutil.copyfile(_sqlite_template, path)
    s = open_store(f"sqlite:///{path}")
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def client(store: Any) -> Iterator[TestClient]:
    with TestClient(create_app(store, geocoder=fake_geocoder())) as c:
        yield c


@pytest.fixture
def tokens(store: Any) -> dict[str, dict[str, str]]:
    out = {}
    for role in ("viewer", "editor"):
        secret = store.tokens.create(f"{role}-1", role)[0]
        out[role] = {"Authorization": f"Bearer {secret}"}
    return out


def _save(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    body = {"name": "宁夏方案", "add": [WUZHONG], **body}
    return client.post("/v1/scenarios", json=body, headers=headers)


class TestSave:
    def test_editor_saves_and_viewer_reads(self, client, tokens, store) -> None:
        rev = store.revision()
        first = str(store.network().frame["outlet_id"].iloc[0])
        r = _save(client, tokens["editor"], remove=[first], note="试", drive_minutes=120)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["created_by"] == "editor-1" and body["version"] == 1
        assert body["add"][0]["candidate_id"] == "cand-1" and body["remove"] == [first]
        assert store.revision() == rev  # the network is untouched
        listed = client.get("/v1/scenarios", headers=tokens["viewer"]).json()
        assert [s["name"] for s in listed["scenarios"]] == ["宁夏方案"]
        shown = client.get("/v1/scenarios/宁夏方案", headers=tokens["viewer"])
        assert shown.status_code == 200, shown.text
        figures = shown.json()["figures"]
        assert figures["drive_minutes"] == 120 and figures["outlets_added"] == 1
        assert len(figures["gaps"]) == 10 and len(figures["cities"]) == 76

    def test_roles(self, client, tokens) -> None:
        assert _save(client, {}).status_code == 401
        assert _save(client, tokens["viewer"]).status_code == 403
        assert client.get("/v1/scenarios").status_code == 401
        assert client.get("/v1/scenarios/compare?a=live&b=live").status_code == 401

    def test_same_name_conflict_and_overwrite(self, client, tokens) -> None:
        assert _save(client, tokens["editor"]).status_code == 201
        r = _save(client, tokens["editor"])
        assert r.status_code == 409 and r.json()["error"] == "conflict"
        r = _save(client, tokens["editor"], overwrite=True, radius_km=30)
        assert r.status_code == 200 and r.json()["version"] == 2

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"remove": ["nope"]}, "remove"),
            ({"add": [{"lat": 1, "lon": 1, "kind": "shop"}]}, "kind"),
            ({"add": [{"lat": 91, "lon": 1}]}, "add.lat"),
            ({"add": [{"lat": 1, "lon": 1, "colour": "red"}]}, "add.colour"),
            ({"name": "a/b"}, "name"),
        ],
    )
    def test_bad_bodies_are_422_naming_the_field(self, client, tokens, body, field) -> None:
        r = _save(client, tokens["editor"], **body)
        assert r.status_code == 422, r.text
        assert field in r.text
        assert client.get("/v1/scenarios", headers=tokens["viewer"]).json()["scenarios"] == []

    def test_live_is_reserved(self, client, tokens) -> None:
        r = _save(client, tokens["editor"], name="live")
        assert r.status_code == 422 and "reserved" in r.json()["reason"]


class TestRead:
    def test_unknown_is_404(self, client, tokens) -> None:
        r = client.get("/v1/scenarios/nope", headers=tokens["viewer"])
        assert r.status_code == 404 and r.json()["error"] == "unknown scenario"
        r = client.get("/v1/scenarios/compare?a=live&b=nope", headers=tokens["viewer"])
        assert r.status_code == 404

    def test_radius_params(self, client, tokens) -> None:
        assert _save(client, tokens["editor"]).status_code == 201
        v = tokens["viewer"]
        a = client.get("/v1/scenarios/宁夏方案?radius_km=20", headers=v).json()["figures"]
        b = client.get("/v1/scenarios/宁夏方案?radius_km=100", headers=v).json()["figures"]
        assert a["radius_km"] == 20 and b["radius_km"] == 100
        assert a["population_covered"] < b["population_covered"]
        r = client.get("/v1/scenarios/宁夏方案?radius_km=20&drive_minutes=60", headers=v)
        assert r.status_code == 422
        r = client.get("/v1/scenarios/宁夏方案?radius=20", headers=v)
        assert r.status_code == 422  # unknown parameter

    def test_compare_with_live(self, client, tokens) -> None:
        assert _save(client, tokens["editor"]).status_code == 201
        r = client.get(
            "/v1/scenarios/compare",
            params={"a": "live", "b": "宁夏方案", "radius_km": 50},
            headers=tokens["viewer"],
        )
        assert r.status_code == 200, r.text
        data = r.json()
        assert (data["a"], data["b"], data["radius_km"]) == ("live", "宁夏方案", 50)
        rows = {(x["scope"], x["area"], x["metric"]): x for x in data["rows"]}
        gain = rows[("national", "", "population_covered")]["B-A"]
        assert gain > 7_000_000  # 吴忠市 (7.2 M) newly within 50 km
        assert rows[("city", "银川", "outlets")]["A"] > 0

    def test_outlet_closed_since_is_409(self, client, tokens, store) -> None:
        """A saved scenario switching off an outlet that has been closed since no
        longer applies: 409 naming it, not a 500 nor a silent drop."""
        first = str(store.network().frame["outlet_id"].iloc[0])
        assert _save(client, tokens["editor"], remove=[first]).status_code == 201
        store.close(first, reason="test", actor="t")
        r = client.get("/v1/scenarios/宁夏方案", headers=tokens["viewer"])
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "scenario no longer applies" and first in r.json()["reason"]


class TestCost:
    """A scenario answer costs a coverage model (~0.1 s of CPU): repeated requests are
    answered from the service's cache, bursts are refused with 503, and a replaced
    scenario is never served stale."""

    def test_repeat_is_not_recomputed_and_replaced_is_fresh(
        self, client, tokens, monkeypatch
    ) -> None:
        from locator.scenario import Scenario

        calls = []
        real = Scenario.evaluate
        monkeypatch.setattr(
            Scenario, "evaluate", lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
        )
        assert _save(client, tokens["editor"], radius_km=50).status_code == 201
        url, viewer = "/v1/scenarios/宁夏方案", tokens["viewer"]
        first = client.get(url, headers=viewer).json()
        again = client.get(url, headers=viewer).json()
        assert again == first and len(calls) == 1
        assert client.get(url, params={"radius_km": 80}, headers=viewer).status_code == 200
        assert len(calls) == 2  # another reach is another answer
        replaced = _save(client, tokens["editor"], add=[], radius_km=50, overwrite=True)
        assert replaced.status_code == 200
        fresh = client.get(url, headers=viewer).json()
        assert fresh["figures"]["outlets_added"] == 0 != first["figures"]["outlets_added"]
        assert fresh["scenario"]["version"] == 2

    def test_burst_gets_503_with_retry_after(self, client, tokens, store) -> None:
        """While as many uncached answers as allowed are being computed, another
        scenario request is refused at once (it would queue behind them)."""
        assert _save(client, tokens["editor"]).status_code == 201
        svc = client.app.state.locator
        held = [svc._heavy.acquire(blocking=False) for _ in range(2)]
        try:
            assert all(held)
            r = client.get("/v1/scenarios/宁夏方案", headers=tokens["viewer"])
            assert r.status_code == 503 and r.headers["Retry-After"] == "2"
            r = client.get(
                "/v1/scenarios/compare", params={"a": "live", "b": "宁夏方案"},
                headers=tokens["viewer"],
            )  # fmt: skip
            assert r.status_code == 503
        finally:
            for _ in held:
                svc._heavy.release()
        assert client.get("/v1/scenarios/宁夏方案", headers=tokens["viewer"]).status_code == 200
