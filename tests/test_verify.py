"""``locator verify``: is a phone number, shop name or address an authorized outlet?

The library (:func:`locator.verify.verify`), the CLI, the HTTP API and the app's
"Verify a listing" box. The network here is a small fictional one (brand "ACME家电",
numbers in the 555 range) with valid-format numbers so that phone parsing is exercised
as for a real network; the bundled sample is used where the issue's example is.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app as cli_app
from locator.geocode import OfflineGeocoder
from locator.verify import VerifyError, normalize_name, normalize_phone, verify

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _outlet(i: int, name: str, city: str, province: str, lat: float, lon: float, phone: str,
            address: str, authorized: bool = True) -> dict[str, Any]:  # fmt: skip
    return {
        "outlet_id": f"T{i:02d}",
        "name": name,
        "kind": "service_center",
        "province": province,
        "city": city,
        "district": "",
        "address": address,
        "lat": lat,
        "lon": lon,
        "phone": phone,
        "hours": "周一至周日 09:00-18:00",
        "categories": "washer",
        "authorized": authorized,
    }


@pytest.fixture(scope="module")
def network() -> pd.DataFrame:
    gx = "广西壮族自治区"
    rows = [
        _outlet(1, "ACME家电桂林秀峰区服务中心", "桂林", gx, 25.2736, 110.2625, "0773-5550101",
                "广西壮族自治区桂林市秀峰区建设路245号"),
        _outlet(2, "ACME家电桂林七星区维修点", "桂林", gx, 25.2600, 110.3200, "139 5550 0102",
                "广西壮族自治区桂林市七星区漓江路12号"),
        _outlet(3, "ACME家电桂林临桂区维修点", "桂林", gx, 25.2400, 110.2000, "400-555-0103",
                "广西壮族自治区桂林市临桂区人民路8号", authorized=False),
        _outlet(4, "ACME家电杭州西湖区服务中心", "杭州", "浙江省", 30.2600, 120.1300,
                "0571-5550104", "浙江省杭州市西湖区文三路90号"),
        # one hotline listed as the local centre in three cities (the fake pattern)
        _outlet(5, "ACME官方售后服务中心（桂林）", "桂林", gx, 25.2800, 110.2900, "800-555-0199",
                "广西壮族自治区桂林市象山区中山路1号", authorized=False),
        _outlet(6, "ACME官方售后服务中心（杭州）", "杭州", "浙江省", 30.2700, 120.1500,
                "800-555-0199", "浙江省杭州市上城区解放路1号", authorized=False),
        _outlet(7, "ACME官方售后服务中心（北京）", "北京", "北京市", 39.9000, 116.4000,
                "800-555-0199", "北京市东城区东长安街1号", authorized=False),
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder()


class TestNormalizePhone:
    @pytest.mark.parametrize(
        "text",
        ["0773-5550101", "+86 773 555 0101", "0086-773-5550101", "(0773) 555 0101",
         "7735550101", "０７７３－５５５０１０１", "0773-5550101转88", "0773 5550101 ext. 7",
         "0773-5550101-8", "+86(0)773 5550101"],
    )  # fmt: skip
    def test_one_landline_written_many_ways(self, text: str) -> None:
        """Country code, brackets, dashes, full-width digits, the trunk 0 left off and an
        extension all compare as the same landline number."""
        num = normalize_phone(text)
        assert num is not None
        assert (num.key, num.kind) == ("7735550101", "fixed_line")

    def test_400_and_800_numbers(self) -> None:
        """400 numbers (shared cost) and 800 numbers (toll free) are 10 digits with no
        trunk prefix, with or without +86 and dashes."""
        for text in ("400-555-0103", "4005550103", "+86 400 555 0103"):
            assert normalize_phone(text).key == "4005550103"  # type: ignore[union-attr]
            assert normalize_phone(text).kind == "shared_cost"  # type: ignore[union-attr]
        assert normalize_phone("800 555 0199").kind == "toll_free"  # type: ignore[union-attr]
        assert normalize_phone("4005550123").key == "4005550123"  # type: ignore[union-attr]

    def test_mobile_and_extension(self) -> None:
        """A mobile is its 11 digits (a +86 prefix dropped); the extension is kept
        apart, not part of the key."""
        num = normalize_phone("+86 139-5550-0102 转 5")
        assert num is not None and (num.key, num.kind, num.extension) == (
            "13955500102",
            "mobile",
            "5",
        )

    def test_synthetic_sample_numbers(self) -> None:
        """The sample's fictional 000-555-xxxx numbers (not valid for libphonenumber)
        still compare with or without +86 and separators."""
        assert normalize_phone("000-555-0344").key == normalize_phone("+86 0005550344").key  # type: ignore[union-attr]
        assert normalize_phone("000-555-0344").key != normalize_phone("000-555-0345").key  # type: ignore[union-attr]

    def test_no_digits(self) -> None:
        """Text with no digit is not a number."""
        assert normalize_phone("call us") is None


class TestNormalizeName:
    def test_traditional_spaces_and_legal_suffix(self) -> None:
        """Traditional characters, full-width brackets, spaces and 有限公司 fold away."""
        assert normalize_name("ACME家電 桂林秀峰區服務中心 有限公司") == normalize_name(
            "ACME家电桂林秀峰区服务中心"
        )

    def test_district_is_kept(self) -> None:
        """Two outlets differing only by district stay different names."""
        assert normalize_name("ACME家电桂林秀峰区服务中心") != normalize_name(
            "ACME家电桂林七星区服务中心"
        )


class TestVerifyPhone:
    def test_authorized_phone_in_another_spelling(self, network: pd.DataFrame) -> None:
        """An authorized outlet's landline written with +86 and no trunk 0 is recognized,
        with the outlet and how it matched."""
        r = verify(network, phone="+86 773 555 0101")
        assert r.authorized and r.verdict == "authorized"
        assert "is an authorized outlet of this network" in r.message
        assert [(m.outlet_id, m.by) for m in r.matches] == [("T01", ["phone"])]
        assert r.nearest == []

    def test_unknown_phone_lists_nearest_authorized(
        self, network: pd.DataFrame, geocoder: OfflineGeocoder
    ) -> None:
        """An unknown number is "not an authorized outlet of this network", with the
        nearest authorized outlets to the city given, nearest first."""
        r = verify(network, phone="4005550123", city="桂林", geocoder=geocoder)
        assert not r.authorized and r.verdict == "not_listed"
        assert r.message == "4005550123 is not an authorized outlet of this network"
        ids = [n["outlet_id"] for n in r.nearest]
        assert set(ids) == {"T01", "T02", "T04"}  # the unauthorized T03/T05 never
        assert ids[:2] in (["T01", "T02"], ["T02", "T01"]) and ids[2] == "T04"
        dist = [n["distance_km"] for n in r.nearest]
        assert dist == sorted(dist) and dist[0] < 15

    def test_unauthorized_listing(self, network: pd.DataFrame) -> None:
        """A number of a listing that is not authorized: "listed but not authorized",
        naming the listing, and the nearest authorized outlets to it."""
        r = verify(network, phone="4005550103")
        assert not r.authorized and r.verdict == "listed_not_authorized"
        assert "listed but not authorized" in r.message and "T03" in r.message
        assert r.nearest and r.nearest[0]["outlet_id"] in ("T01", "T02")

    def test_closed_listing(self, network: pd.DataFrame) -> None:
        """A number of an outlet that was closed (given as ``closed``, as the store
        keeps them) says so."""
        closed = network[network["outlet_id"] == "T02"]
        r = verify(network[network["outlet_id"] != "T02"], phone="13955500102", closed=closed)
        assert not r.authorized and r.verdict == "closed"
        assert "listed but not authorized" in r.message and "closed" in r.message

    def test_shared_hotline_finding(self, network: pd.DataFrame) -> None:
        """A hotline listed in three cities carries the audit's shared-phone finding."""
        r = verify(network, phone="800-555-0199")
        assert not r.authorized
        shared = [f for f in r.findings if f["kind"] == "shared_phone"]
        assert len(shared) == 1 and "3 cities" in shared[0]["message"]

    def test_flags_on_the_phone(self, network: pd.DataFrame) -> None:
        """Recorded flags on this phone (in any spelling) are returned; others are not."""
        flags = [
            {"phone": "+86 800 555 0199", "kind": "shared_phone", "note": "seen on a map app"},
            {"phone": "0773-5550101", "kind": "other", "note": "unrelated"},
        ]
        r = verify(network, phone="8005550199", flags=flags)
        notes = [f["message"] for f in r.findings if f["source"] == "flag"]
        assert notes == ["seen on a map app"]

    def test_number_of_another_city(self, network: pd.DataFrame, geocoder: OfflineGeocoder) -> None:
        """An authorized number checked in another city is authorized, with a note
        saying which city it belongs to."""
        r = verify(network, phone="0571-5550104", city="桂林", geocoder=geocoder)
        assert r.authorized
        assert any("not for an outlet in the city given" in n for n in r.notes)


class TestVerifyName:
    def test_traditional_name_in_its_city(
        self, network: pd.DataFrame, geocoder: OfflineGeocoder
    ) -> None:
        """A name in traditional characters with 有限公司, checked in 桂林 (given in
        pinyin), matches the authorized outlet."""
        r = verify(network, name="ACME家電桂林秀峰區服務中心有限公司", city="Guilin",
                   geocoder=geocoder)  # fmt: skip
        assert r.authorized and [m.outlet_id for m in r.matches] == ["T01"]
        assert r.matches[0].by == ["name"]

    def test_close_name_only_within_the_city(
        self, network: pd.DataFrame, geocoder: OfflineGeocoder
    ) -> None:
        """A slightly different spelling matches within its city; the same text checked
        in another city does not."""
        near = "ACME家电桂林市秀峰区服务中心"  # an extra 市
        assert verify(network, name=near, city="桂林", geocoder=geocoder).authorized
        other = verify(network, name=near, city="杭州", geocoder=geocoder)
        assert not other.authorized and other.matches == []

    def test_brand_name_in_a_city_without_outlets(
        self, network: pd.DataFrame, geocoder: OfflineGeocoder
    ) -> None:
        """A name claiming the brand in a city with no such outlet is not authorized,
        with the nearest authorized outlets to that city."""
        r = verify(network, name="ACME家电南宁服务中心", city="南宁", geocoder=geocoder)
        assert not r.authorized and r.verdict == "not_listed"
        assert "not an authorized outlet of this network" in r.message
        assert r.nearest[0]["outlet_id"] in ("T01", "T02")

    def test_name_with_a_contradicting_phone(self, network: pd.DataFrame) -> None:
        """The right name with a phone that is not that outlet's: never authorized; the
        message names the outlet and its real number."""
        r = verify(network, name="ACME家电桂林秀峰区服务中心", phone="400-555-0123")
        assert not r.authorized and r.verdict == "mismatch"
        assert "0773-5550101" in r.message

    def test_phone_of_one_outlet_with_the_name_of_another(self, network: pd.DataFrame) -> None:
        """A real outlet's number under another outlet's name is not confirmed."""
        r = verify(network, phone="0773-5550101", name="ACME家电杭州西湖区服务中心")
        assert not r.authorized and r.verdict == "mismatch"

    def test_address_query(self, network: pd.DataFrame, geocoder: OfflineGeocoder) -> None:
        """``q`` with an outlet's address (without the province) matches it by address."""
        r = verify(network, q="桂林市秀峰区建设路245号", geocoder=geocoder)
        assert r.authorized and r.matches[0].outlet_id == "T01"
        assert "address" in r.matches[0].by


class TestVerifyInput:
    def test_nothing_to_check(self, network: pd.DataFrame) -> None:
        """Without phone, name or q: an error naming the parameter."""
        with pytest.raises(VerifyError, match="phone: give a phone number, a name or q"):
            verify(network, city="桂林")

    def test_phone_without_digits(self, network: pd.DataFrame) -> None:
        with pytest.raises(VerifyError, match="phone: has no digits"):
            verify(network, phone="call us")

    def test_ambiguous_city(self, network: pd.DataFrame, geocoder: OfflineGeocoder) -> None:
        """Taizhou names two cities: the error lists both, no guess."""
        with pytest.raises(VerifyError, match=r"city: .*台州.*泰州|city: .*泰州.*台州"):
            verify(network, phone="4005550123", city="Taizhou", geocoder=geocoder)

    def test_half_a_point(self, network: pd.DataFrame) -> None:
        with pytest.raises(VerifyError, match="lon: give lat and lon together"):
            verify(network, phone="4005550123", lat=25.0)


class TestSample:
    def test_issue_example(self, geocoder: OfflineGeocoder) -> None:
        """The issue's example on the bundled sample: 4005550123 in 桂林 is not
        authorized, and the nearest authorized outlet is the sample's 桂林 centre."""
        from locator.data import load_outlets

        r = verify(load_outlets(), phone="4005550123", city="桂林", geocoder=geocoder)
        assert not r.authorized
        assert r.nearest[0]["city"] == "桂林" and r.nearest[0]["distance_km"] < 15


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


@pytest.fixture(scope="module")
def network_file(network: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("verify") / "outlets.csv"
    network.to_csv(path, index=False)
    return str(path)


class TestCli:
    def test_authorized_exits_0(self, network_file: str) -> None:
        """An authorized number: exit 0 and the plain answer naming the outlet."""
        r = runner.invoke(cli_app, ["verify", "(0773) 555-0101", "--outlets", network_file])
        assert r.exit_code == 0, r.output
        assert "is an authorized outlet of this network" in r.output
        assert "ACME家电桂林秀峰区服务中心" in r.output

    def test_not_authorized_exits_1_with_nearest(self, network_file: str) -> None:
        """The issue's example: exit 1, "not an authorized outlet", and the nearest
        authorized outlets to 桂林."""
        r = runner.invoke(cli_app, ["verify", "4005550123", "--city", "桂林",
                                    "--outlets", network_file])  # fmt: skip
        assert r.exit_code == 1, r.output
        assert "not an authorized outlet of this network" in r.output
        assert "Nearest authorized outlets" in r.output and "(T01)" in r.output
        assert "(T03)" not in r.output  # not authorized: never suggested

    def test_json(self, network_file: str) -> None:
        """``--json``: the result as strict JSON, the shared hotline's finding in it."""
        r = runner.invoke(cli_app, ["verify", "800-555-0199", "--json", "--outlets", network_file])
        assert r.exit_code == 1
        doc = json.loads(r.stdout)
        assert doc["authorized"] is False and doc["verdict"] == "listed_not_authorized"
        assert {m["outlet_id"] for m in doc["matches"]} == {"T05", "T06", "T07"}
        assert any(f["kind"] == "shared_phone" for f in doc["findings"])

    def test_bad_input_exits_2(self, network_file: str) -> None:
        """Nothing to check, or half a point: one error line, exit 2, no traceback."""
        r = runner.invoke(cli_app, ["verify", "--city", "桂林", "--outlets", network_file])
        assert r.exit_code == 2 and "give a PHONE, --name or --q" in r.output
        r = runner.invoke(cli_app, ["verify", "4005550123", "--lat", "25", "--outlets",
                                    network_file])  # fmt: skip
        assert r.exit_code == 2 and "lon: give lat and lon together" in r.output

    def test_help_documents_exit_codes(self) -> None:
        r = runner.invoke(cli_app, ["verify", "--help"])
        assert r.exit_code == 0
        flat = " ".join(r.output.split())
        assert "0 if the listing is an authorized outlet, 1 if it is not" in flat


class TestRecordedFlags:
    """``locator audit --record`` leaves flags in the store; ``locator verify`` shows
    them (on SQLite and PostGIS)."""

    def test_audit_record_then_verify(self, store_url: str) -> None:
        """The sample's shared hotline: recording adds one flag per listing, once (a
        second run adds none); verify on that number says the finding is recorded."""
        r = runner.invoke(cli_app, ["audit", "--record", "--database", store_url])
        assert r.exit_code == 0, r.output
        assert "recorded 9 new flag(s)" in r.output  # 8 listings of the hotline + 1 far
        again = runner.invoke(cli_app, ["audit", "--record", "--database", store_url])
        assert "recorded 0 new flag(s)" in again.output and "9 already recorded" in again.output
        v = runner.invoke(cli_app, ["verify", "+86 000 555 9999", "--database", store_url,
                                    "--json"])  # fmt: skip
        assert v.exit_code == 1
        shared = [f for f in json.loads(v.stdout)["findings"] if f["kind"] == "shared_phone"]
        assert len(shared) == 1 and shared[0]["recorded"] is True
        assert shared[0]["recorded_by"].startswith("cli:")

    def test_a_flag_the_audit_does_not_find(self, store_url: str) -> None:
        """A flag recorded by hand on a number (another spelling) is shown by verify,
        in the table and in --json."""
        from locator.store import open_store

        store = open_store(store_url)
        try:
            store.add_flag(kind="customer_report", note="asked for a deposit", actor="test",
                           phone="+86 000-555-0344")  # fmt: skip
        finally:
            store.dispose()
        v = runner.invoke(cli_app, ["verify", "0005550344", "--database", store_url])
        assert v.exit_code == 0, v.output
        assert "recorded flag: customer_report: asked for a deposit" in v.output

    def test_record_needs_the_store(self, network_file: str) -> None:
        """--record with a file: one clear error, exit 2."""
        r = runner.invoke(cli_app, ["audit", network_file, "--record"])
        assert r.exit_code == 2 and "--record audits the network store" in r.output


class TestClosedInTheStore:
    """An outlet closed in the network store is answered "closed" by the CLI, the API
    and the app (not "not listed": the customer learns the listing is out of date),
    and a reopened one is authorized again (on SQLite and PostGIS)."""

    @staticmethod
    def _close_first_authorized(store: Any) -> dict[str, Any]:
        row = store.network().frame.query("authorized").iloc[0]
        store.close(row["outlet_id"], reason="lease ended", actor="test")
        return {"outlet_id": row["outlet_id"], "phone": row["phone"], "name": row["name"]}

    def test_closed_outlets_of_the_store(self, store: Any) -> None:
        gone = self._close_first_authorized(store)
        closed = store.closed_outlets()
        assert list(closed["outlet_id"]) == [gone["outlet_id"]]
        assert closed["close_reason"].tolist() == ["lease ended"]
        assert not closed["authorized"].any()
        assert gone["outlet_id"] not in set(store.network().frame["outlet_id"])
        store.reopen(gone["outlet_id"], reason="new lease", actor="test")
        assert store.closed_outlets().empty

    def test_cli_says_closed(self, store: Any, store_url: str) -> None:
        gone = self._close_first_authorized(store)
        r = runner.invoke(cli_app, ["verify", gone["phone"], "--database", store_url, "--json"])
        assert r.exit_code == 1, r.output
        body = json.loads(r.stdout)
        assert body["verdict"] == "closed"
        assert [m["outlet_id"] for m in body["matches"]] == [gone["outlet_id"]]

    def test_api_says_closed_then_authorized_after_reopen(self, store: Any) -> None:
        from fastapi.testclient import TestClient

        from locator.api import create_app

        gone = self._close_first_authorized(store)
        with TestClient(create_app(outlets=store, poll_interval=0.1)) as c:
            body = c.get("/v1/verify", params={"phone": gone["phone"]}).json()
            assert body["verdict"] == "closed" and body["authorized"] is False
            store.reopen(gone["outlet_id"], reason="new lease", actor="test")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                body = c.get("/v1/verify", params={"phone": gone["phone"]}).json()
                if body["authorized"]:
                    break
                time.sleep(0.1)
        assert body["verdict"] == "authorized", body


# --------------------------------------------------------------------------- API


@pytest.fixture(scope="module")
def client(network: pd.DataFrame) -> Any:
    from fastapi.testclient import TestClient

    from locator.api import create_app

    with TestClient(create_app(outlets=network)) as c:
        yield c


class TestApi:
    def test_authorized(self, client: Any) -> None:
        """A mobile number checked with its outlet's name: authorized, matched by both."""
        r = client.get(
            "/v1/verify", params={"phone": "13955500102", "name": "ACME家电桂林七星区维修点"}
        )
        assert r.status_code == 200
        body = r.json()
        assert body["authorized"] is True and body["matches"][0]["by"] == ["phone", "name"]

    def test_not_authorized_with_nearest(self, client: Any) -> None:
        r = client.get("/v1/verify", params={"phone": "+86 400 555 0123", "city": "桂林"})
        assert r.status_code == 200
        body = r.json()
        assert body["authorized"] is False
        assert body["message"] == "+86 400 555 0123 is not an authorized outlet of this network"
        assert body["nearest"][0]["outlet_id"] in ("T01", "T02")

    def test_one_of_phone_name_q_required(self, client: Any) -> None:
        """Only a city: 422 naming ``phone``."""
        r = client.get("/v1/verify", params={"city": "桂林"})
        assert r.status_code == 422
        assert r.json()["parameter"] == "phone"

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"phone": "no digits"}, "phone"),
            ({"phone": "4005550123", "lat": "25"}, "lon"),
            ({"phone": "4005550123", "lat": "nan", "lon": "110"}, "lat"),
            ({"phone": "4005550123", "city": "Taizhou"}, "city"),
            ({"phone": "4005550123", "town": "桂林"}, "town"),
            ({"name": "x" * 400}, "name"),
        ],
    )
    def test_bad_parameters(self, client: Any, params: dict, parameter: str) -> None:
        r = client.get("/v1/verify", params=params)
        assert r.status_code == 422, r.text
        assert r.json()["parameter"] == parameter

    def test_flags_from_the_store(self, store: Any) -> None:
        """Served from the network store (``app.state.store``, as the factory sets it),
        /v1/verify returns the flags recorded on the phone."""
        from fastapi.testclient import TestClient

        from locator.api import create_app

        store.add_flag(kind="customer_report", note="asked for a deposit", actor="test",
                       phone="000-555-0344")  # fmt: skip
        app = create_app(outlets=store.network().frame)
        app.state.store = store
        with TestClient(app) as c:
            r = c.get("/v1/verify", params={"phone": "+86 0005550344"})
        assert r.status_code == 200
        flags = [f for f in r.json()["findings"] if f["source"] == "flag"]
        assert [f["message"] for f in flags] == ["asked for a deposit"]

    def test_in_openapi(self, client: Any) -> None:
        """The endpoint and its parameters are in the OpenAPI document."""
        op = client.get("/openapi.json").json()["paths"]["/v1/verify"]["get"]
        assert {p["name"] for p in op["parameters"]} == {"phone", "name", "q", "city", "lat", "lon"}


# --------------------------------------------------------------------------- app


class TestApp:
    def test_verify_box_in_find_view(self) -> None:
        """The Find view's "Verify a listing" box: an unknown number in 桂林 is not
        authorized, with the nearest authorized outlets; a sample outlet's number in
        another spelling is authorized, with the flag recorded on it in the store."""
        from pathlib import Path

        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(
            str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180
        )
        at.session_state["lang"] = "en"
        at.run()
        assert any("Verify a listing" in s.value for s in at.subheader)
        at.text_input(key="verify-phone").input("400 555 0123").run()
        at.text_input(key="verify-city").input("桂林").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("not an authorized outlet of this network" in e.value for e in at.error)
        nearest = next(d.value for d in at.dataframe if "Distance" in d.value.columns)
        assert "ACME家电桂林秀峰区服务中心" in set(nearest["Name"])
        from locator.store import open_store

        store = open_store()  # the app's default store (a private data dir in tests)
        try:
            store.add_flag(kind="app_test_report", note="asked for a deposit", actor="test",
                           phone="000-555-0344")  # fmt: skip
        finally:
            store.dispose()
        at.text_input(key="verify-phone").input("+86 000-555-0344").run()
        assert any("is an authorized outlet" in s.value for s in at.success)
        assert not any("not an authorized outlet" in e.value for e in at.error)
        assert any(
            "recorded flag: app\\_test\\_report: asked for a deposit" in w.value for w in at.warning
        ), [w.value for w in at.warning]


class TestReadme:
    def test_console_examples_exit_as_documented(self) -> None:
        """The README's ``$ locator verify ...  # exit N`` lines (not authorized, so
        not in the bash block that must exit 0) exit as they say."""
        import re
        import shlex
        from pathlib import Path

        readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
        lines = re.findall(r"^\$ locator (verify .*?)\s+# exit (\d)", readme, re.M)
        assert len(lines) >= 2
        for args, code in lines:
            r = runner.invoke(cli_app, shlex.split(args))
            assert r.exit_code == int(code), (args, r.output[-500:])
