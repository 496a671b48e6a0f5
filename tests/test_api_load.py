"""``POST /v1/load``: outlet load from an uploaded orders file, viewer token required."""

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

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ORDERS = (
    "lat,lon,date\n"
    "39.93,116.40,2026-01-05\n"
    "39.93,116.40,2026-01-05\n"
    "39.93,116.40,2026-01-07\n"
    "31.23,121.47,2026-01-06\n"
)


@pytest.fixture
def api(_sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path = tmp_path / "network.db"
    shutil.copyfile(_sqlite_template, path)
    store = open_store(f"sqlite:///{path}")
    tokens = {r: store.tokens.create(f"{r}-1", r)[0] for r in ("viewer", "editor")}
    with TestClient(
        create_app(store, geocoder=fake_geocoder()), raise_server_exceptions=False
    ) as c:
        yield c, tokens
    store.dispose()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def post(client: TestClient, text: str, token: str | None, name: str = "orders.csv", **kw: Any):
    headers = bearer(token) if token else {}
    files = {"file": (name, text.encode("utf-8"), "text/csv")}
    if "capacity" in kw:
        files["capacity"] = ("capacity.csv", kw.pop("capacity").encode("utf-8"), "text/csv")
    return client.post("/v1/load", files=files, headers=headers, params=kw)


class TestLoadApi:
    def test_needs_a_viewer_token(self, api) -> None:
        client, _ = api
        r = post(client, ORDERS, None)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/json")

    def test_report(self, api) -> None:
        """Raw orders assigned to the store's network: 3 days, the Beijing outlet first."""
        client, tokens = api
        r = post(client, ORDERS, tokens["viewer"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["orders_used"] == 4 and body["days"] == 3
        assert body["assigned_here"] is True
        top = body["outlets"][0]
        assert top["orders_total"] == 3 and top["peak_day"] == "2026-01-05"
        assert top["city"].startswith("北京")

    def test_coord_sys(self, api) -> None:
        """``coord_sys=gcj02``: AMap coordinates are converted before distances; an
        unknown system is a 422 naming the parameter."""
        from locator import crs

        client, tokens = api
        door = client.get("/v1/nearest", params={"lat": 39.93, "lon": 116.40, "k": 1})
        outlet = door.json()["results"][0]
        lon, lat = crs.from_wgs84(outlet["lon"], outlet["lat"], "gcj02")  # AMap's reading
        text = f"lat,lon,date\n{lat},{lon},2026-01-05\n"
        as_wgs = post(client, text, tokens["viewer"]).json()["outlets"][0]
        fixed = post(client, text, tokens["viewer"], coord_sys="gcj02").json()["outlets"][0]
        assert fixed["outlet_id"] == outlet["outlet_id"]
        assert fixed["distance_max_km"] < 0.005 < 0.3 < as_wgs["distance_max_km"]
        bad = post(client, text, tokens["viewer"], coord_sys="utm")
        assert bad.status_code == 422 and "coord_sys" in bad.text

    def test_capacity_and_week(self, api) -> None:
        client, tokens = api
        first = post(client, ORDERS, tokens["viewer"]).json()["outlets"][0]["outlet_id"]
        cap = f"outlet_id,capacity_per_day\n{first},1\n"
        body = post(client, ORDERS, tokens["viewer"], capacity=cap, freq="week").json()
        top = body["outlets"][0]
        assert body["freq"] == "week"
        assert top["outlet_id"] == first and top["overloaded"] is True
        assert top["overloaded_days"] == 1

    def test_bad_date_is_422_naming_the_row_not_the_value(self, api) -> None:
        client, tokens = api
        r = post(client, "lat,lon,date\n39.9,116.4,secret-value\n", tokens["viewer"])
        assert r.status_code == 422
        body = r.json()
        assert body["field"] == "date"
        assert body["errors"][0]["row"] == 2
        assert "secret-value" not in r.text

    @pytest.mark.parametrize(
        ("text", "name", "params"),
        [
            (ORDERS, "orders.txt", {}),
            ("when\n2026-01-01\n", "orders.csv", {}),
            (ORDERS, "orders.csv", {"freq": "month"}),
            ("\x00\x01\x02binary", "orders.parquet", {}),
        ],
        ids=["suffix", "no-columns", "freq", "not-parquet"],
    )
    def test_bad_requests_are_422(self, api, text: str, name: str, params: dict) -> None:
        client, tokens = api
        r = post(client, text, tokens["viewer"], name=name, **params)
        assert r.status_code == 422, r.text
        assert "Traceback" not in r.text

    def test_large_files_pass_the_default_body_limit(self, api) -> None:
        """An orders file larger than the 16 KB default body limit is accepted."""
        client, tokens = api
        text = "lat,lon,date\n" + "39.93,116.40,2026-01-05\n" * 2000
        r = post(client, text, tokens["viewer"])
        assert r.status_code == 200, r.text
        assert r.json()["orders_used"] == 2000
