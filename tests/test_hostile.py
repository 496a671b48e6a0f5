"""Every payload of the shared hostile corpus (``tests/hostile.py``) through every sink.

One network with one payload per outlet, in every text field, goes through each output
kind the tool has: HTML maps and pages (and their second Jinja pass), the HTTP API's
JSON and embed page, every CLI table and ``--json``, the CSV outputs, and the app.
Each sink must show the text (escaped for its kind), never evaluate it, never crash.

A new sink (a new place where outside text is shown or written) gets a test here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile import (
    ALL,
    CANARY,
    TEMPLATE,
    XSS,
    assert_csv_cells_safe,
    assert_not_evaluated,
    assert_terminal_safe,
    encodable,
    hostile_outlets,
)
from typer.testing import CliRunner

from locator import embed, maps
from locator.cli import app as cli_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def no_canary() -> Iterator[None]:
    """The template RCE payload's mark is absent before and after every test."""
    CANARY.unlink(missing_ok=True)
    yield
    assert not CANARY.exists(), "a template payload ran a shell command"


@pytest.fixture(scope="module")
def outlets_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile network as a UTF-8 CSV file, as a user would upload it."""
    path = tmp_path_factory.mktemp("hostile") / "outlets.csv"
    # Fully quoted: pandas' default leaves a bare CR unquoted (the bug io.write_csv fixes).
    hostile_outlets().to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


def shown(text: str) -> str:
    """How ``text`` appears in a page's HTML: escaped by the one escaping function."""
    return maps.escape_text(text)


# --------------------------------------------------------------------------- HTML


class TestHtml:
    def full_page(self, *, fast: bool) -> str:
        outlets = hostile_outlets()
        m = maps.base_map(tiles=None)
        areas = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 30]]],
                    },
                    "properties": {"name": p, "city": p, p[:20] or "k": p},
                }
                for p in TEMPLATE + XSS
            ],
        }
        maps.service_areas_layer(areas, tiles=None, name=TEMPLATE[0]).add_to(m)
        gaps = outlets.rename(columns={"address": "name_zh"}).assign(population=1000)
        maps.gaps_layer(gaps, tiles=None, name=TEMPLATE[1]).add_to(m)
        cities = outlets[["city", "lat", "lon"]].assign(city=outlets["address"], share_covered=0.5)
        maps.cities_layer(cities, tiles=None, name=TEMPLATE[2]).add_to(m)
        maps.outlets_layer(outlets, tiles=None, name=TEMPLATE[8], fast=fast).add_to(m)
        results = outlets.assign(distance_km=1.0)
        maps.search_layer((30.27, 120.15), results, origin_label=" ".join(TEMPLATE)).add_to(m)
        m.add_child(maps.locate_control(outlets, tiles=None))
        return embed.render_html(m, title=" ".join(TEMPLATE), note=" ".join(TEMPLATE))

    @pytest.mark.parametrize("fast", [False, True], ids=["folium-markers", "fast-json"])
    def test_every_layer_shows_payloads_literally(self, fast: bool) -> None:
        """Popups, tooltips, layer names, GeoJSON properties, the title and the note
        carry every payload escaped (shown, never evaluated), on both marker paths."""
        page = self.full_page(fast=fast)
        assert_not_evaluated(page)
        for p in TEMPLATE + XSS:
            if fast:
                assert maps._script_json(shown(f"ACME {p}"))[1:-1] in page, p
            else:
                assert shown(f"ACME {p}") in page, p
        assert f"<title>{shown(' '.join(TEMPLATE))}</title>" in page
        for raw in ("{{", "{%", "{#"):
            # No Jinja opening survives anywhere but in our own inlined libraries.
            body = page.split("/* leaflet (inlined) */")[0]
            assert raw not in body.replace("{{'", ""), raw

    @pytest.mark.filterwarnings("ignore::locator.network.DataWarning")
    def test_load_layer_shows_payloads_literally(self) -> None:
        """The load map's tooltips (outlet name, city) and layer name carry every
        payload escaped."""
        import pandas as pd

        from locator.load import outlet_load

        net = hostile_outlets().assign(city=hostile_outlets()["address"])
        orders = pd.DataFrame({"outlet_id": net["outlet_id"], "date": "2026-01-05"})
        frame = outlet_load(orders, net, capacity=dict.fromkeys(net["outlet_id"], 1)).frame()
        located = frame.merge(net[["outlet_id", "lat", "lon"]], on="outlet_id")
        m = maps.base_map(tiles=None)
        maps.load_layer(located, tiles=None, name=TEMPLATE[3], lang="en").add_to(m)
        page = embed.render_html(m, title="load")
        assert_not_evaluated(page)
        for p in TEMPLATE + XSS:  # tooltips travel in one script JSON array
            assert maps._script_json(shown(f"ACME {p}"))[1:-1] in page, p
            assert maps._script_json(shown(encodable(p)))[1:-1] in page, p

    def test_district_choropleth_hover_card(self) -> None:
        """The choropleth's hover card (district names from the boundary data, outlet
        names from an uploaded network) shows every payload escaped, never evaluated;
        property keys are only the card's own fields."""
        payloads = [encodable(p) for p in ALL]
        square = [[[120, 30], [121, 30], [121, 31], [120, 31], [120, 30]]]
        fc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": square},
                    "properties": {
                        "name": p,
                        "prefecture": p,
                        "province": "浙江省",
                        "has_data": i % 2 == 0,
                        "population_total": 1000,
                        "population_covered": 500,
                        "share_covered": 0.5,
                        "nearest_outlet_name": f"ACME {p}",
                        "nearest_km": 1.5,
                        p[:20] or "k": p,
                    },
                }
                for i, p in enumerate(payloads)
            ],
        }
        m = maps.base_map(tiles=None)
        maps.districts_layer(fc, tiles=None, name=TEMPLATE[3]).add_to(m)
        page = embed.render_html(m, title="districts")
        assert_not_evaluated(page)
        # the GeoJSON is embedded as JSON (\u escapes): decode it to see the card's text
        text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda x: chr(int(x.group(1), 16)), page)
        for p in payloads:
            assert shown(f"ACME {p}") in text, p
            assert shown(f"{p} · {p} · 浙江省") in text, p
        for raw in ("{{", "{%", "{#"):
            assert raw not in page.split("/* leaflet (inlined) */")[0].replace("{{'", ""), raw

    def test_unescaped_text_is_still_not_evaluated(self) -> None:
        """Defence in depth: even text that skipped escape_text (a plain folium element
        added by hand) is shown verbatim on a base_map page, not compiled again."""
        import folium

        m = maps.base_map(tiles=None)
        folium.Marker((30.0, 120.0), tooltip="raw {{ 'LOC' ~ 'PWN' }}").add_to(m)
        folium.Marker((30.1, 120.0), popup=folium.Popup("pop {{ 'LOC' ~ 'PWN' }}")).add_to(m)
        page = embed.render_html(m)
        assert_not_evaluated(page)
        assert "raw {{ 'LOC' ~ 'PWN' }}" in page and "pop {{ 'LOC' ~ 'PWN' }}" in page

    def test_embed_page_in_one_call(self) -> None:
        """embed_page (the API's and the app's path) with hostile data and labels."""
        outlets = hostile_outlets()
        page = embed.embed_page(
            outlets,
            origin=(30.27, 120.15),
            results=outlets.assign(distance_km=2.0),
            origin_label=TEMPLATE[1],
            title=TEMPLATE[0],
            note=TEMPLATE[4],
        )
        assert_not_evaluated(page)
        assert shown(TEMPLATE[0]) in page and shown(TEMPLATE[4]) in page

    def test_search_panel(self, tmp_path: Path, node: str) -> None:
        """The search box's data (locator.maps.search): every payload escaped inside the
        JSON, no Jinja opening, nothing evaluated, every script still parses."""
        from test_maps import node_check, parse

        outlets = hostile_outlets()
        page = embed.embed_page(search=outlets, title=TEMPLATE[0])
        assert_not_evaluated(page)
        for p in TEMPLATE + XSS:
            assert maps._script_json(shown(f"ACME {p}"))[1:-1] in page, p
        body = page.split("/* leaflet (inlined) */")[0] + page.split("locatorSearchPanel")[-1]
        for raw in ("{{", "{%", "{#"):
            assert raw not in body, raw
        node_check(parse(page).scripts, tmp_path, node)


# --------------------------------------------------------------------------- HTTP API


@pytest.fixture(scope="module")
def client() -> Any:
    from fastapi.testclient import TestClient

    from locator.api import create_app

    with TestClient(create_app(outlets=hostile_outlets()), raise_server_exceptions=False) as c:
        yield c


class TestApi:
    @pytest.mark.parametrize("payload", TEMPLATE + XSS)
    def test_embed_query_is_literal(self, client: Any, payload: str) -> None:
        """/embed/map?q=… with a template or script payload: a page (or a 4xx naming
        the parameter), never a 500, never evaluated."""
        r = client.get("/embed/map", params={"q": f"杭州 {payload}", "tiles": "none"})
        assert r.status_code in (200, 404, 422), r.text[:300]
        assert_not_evaluated(r.text)
        if r.status_code == 200:
            assert shown(f"杭州 {payload}") in r.text

    @pytest.mark.parametrize("param", ["city", "layers", "tiles"])
    def test_embed_other_parameters(self, client: Any, param: str) -> None:
        """Every other /embed/map parameter refuses a payload with a 4xx, never a 500."""
        for payload in TEMPLATE[:4]:
            r = client.get("/embed/map", params={param: payload})
            assert r.status_code in (404, 422), (param, payload, r.status_code)
            assert_not_evaluated(r.text)

    def test_embed_outlet_data_is_literal(self, client: Any) -> None:
        """Outlet fields on the embed page are escaped, never evaluated."""
        r = client.get("/embed/map", params={"city": "杭州", "tiles": "none"})
        assert r.status_code == 200
        assert_not_evaluated(r.text)
        for p in TEMPLATE:
            assert (
                shown(f"ACME {p}") in r.text
                or maps._script_json(shown(f"ACME {p}"))[1:-1] in r.text
            ), p

    def test_json_round_trips_every_payload(self, client: Any) -> None:
        """/v1/outlets and /v1/nearest give each payload back exactly, as JSON strings."""
        r = client.get("/v1/outlets")
        assert r.status_code == 200
        names = {f["properties"]["name"] for f in r.json()["features"]}
        assert {encodable(f"ACME {p}") for p in ALL} <= {encodable(n) for n in names}
        r = client.get("/v1/nearest", params={"lat": 30.27, "lon": 120.15, "k": 50})
        assert r.status_code == 200
        got = {encodable(x["name"]) for x in r.json()["results"]}
        assert {encodable(f"ACME {p}") for p in ALL} <= got

    def test_no_match_reason_is_data(self, client: Any) -> None:
        """The 404 reason quotes the street the query names (``<payload>路``): valid
        JSON, the payload as text, never evaluated."""
        for payload in TEMPLATE + XSS:
            r = client.get("/v1/geocode", params={"q": f"{payload}中山路"})
            assert r.status_code in (404, 422), (payload, r.status_code)
            body = json.loads(r.text)
            assert_not_evaluated(r.text)
            if r.status_code == 404:
                assert "street name" in body["reason"]

    @pytest.mark.parametrize("path", ["/v1/nearest", "/v1/geocode"])
    def test_query_payloads_never_500(self, client: Any, path: str) -> None:
        """Every payload as ``q``: an answer or a 4xx, always valid JSON, never a 500."""
        for payload in ALL:
            r = client.get(path, params={"q": encodable(payload)})
            assert r.status_code < 500, (payload, r.status_code, r.text[:200])
            json.loads(r.text)
            assert_not_evaluated(r.text)
        # What a client sends for a lone surrogate: bytes that are not UTF-8.
        for raw in ("%ED%A0%80", "%FF%FE", "%00", "%C0%AF"):
            r = client.get(f"{path}?q={raw}")
            assert r.status_code < 500, (raw, r.status_code, r.text[:200])
            json.loads(r.text)


# --------------------------------------------------------------------------- links and hours

#: What a directions or tel: link may hold: payload text only percent-encoded.
SAFE_URL = re.compile(r"https://[A-Za-z0-9:/?&=.,%_~+-]+")
SAFE_TEL = re.compile(r"tel:\+?[0-9]+")


def assert_links_safe(result: dict[str, Any]) -> None:
    """A nearest result's directions and tel links hold no raw payload character."""
    assert set(result["directions"]) == {"amap", "baidu", "osm"}
    for url in result["directions"].values():
        assert SAFE_URL.fullmatch(url), url
    for tel in result["tel"]:
        assert SAFE_TEL.fullmatch(tel), tel


class TestLinksAndHours:
    @pytest.mark.parametrize("payload", ALL)
    def test_links_encode_every_payload(self, payload: str) -> None:
        """A payload as outlet name, origin name or phone never leaves the link's safe
        characters: names are percent-encoded, phones reduced to digits."""
        from locator.directions import directions_links, tel_links

        links = directions_links(
            (30.27, 120.15), origin=(30.3, 120.2), to_name=payload, origin_name=payload
        )
        for url in links.values():
            assert SAFE_URL.fullmatch(url), url
        for tel in tel_links(payload) + tel_links(f"0571-{payload}-8888"):
            assert SAFE_TEL.fullmatch(tel), tel

    def test_popup_links_and_phones(self) -> None:
        """Map popups: every href is a safe directions or tel: link, the phone and the
        hours text (a payload: unreadable, so hours unknown) are escaped text."""
        import html as html_lib

        for p in ALL:
            row = {"name": f"ACME {p}", "phone": f"{p} 0571-8888", "hours": p[:60],
                   "hours_label": p, "lat": 30.27, "lon": 120.15}  # fmt: skip
            page = maps.outlet_popup_html(row, origin=(30.3, 120.2))
            assert_not_evaluated(page)
            for href in re.findall(r'href="([^"]*)"', page):
                href = html_lib.unescape(href)
                assert SAFE_URL.fullmatch(href) or SAFE_TEL.fullmatch(href), (p, href)
            assert shown(p) in page, p  # the label, as text

    def test_api_nearest_new_fields(self, client: Any) -> None:
        """/v1/nearest on the hostile network: links are safe, the hours payload comes back
        exactly as stored, labelled hours unknown (never guessed)."""
        from locator.hours import UNKNOWN_LABEL, to_osm

        r = client.get(
            "/v1/nearest",
            params={"lat": 30.27, "lon": 120.15, "k": 50, "at": "2026-10-01T10:00+08:00"},
        )
        assert r.status_code == 200
        assert_not_evaluated(r.text)
        results = r.json()["results"]
        assert results
        for res in results:
            assert_links_safe(res)
            if res["hours"] and to_osm(res["hours"]) is None:
                assert res["hours_label"] == UNKNOWN_LABEL and res["open_now"] is None
        stored = {encodable(p)[:60] for p in ALL}
        assert {encodable(x["hours"]) for x in results} <= stored | {""}
        r = client.get(
            "/v1/nearest",
            params={"lat": 30.27, "lon": 120.15, "k": 50, "open_now": "true"},
        )
        assert r.status_code == 200  # unknown hours are never hidden by the filter
        assert r.json()["count"] == len(results)

    @pytest.mark.parametrize("payload", TEMPLATE + XSS)
    def test_api_at_payloads_are_422(self, client: Any, payload: str) -> None:
        """A payload as ``at``: a 422 naming the parameter, never echoed as markup."""
        r = client.get("/v1/nearest", params={"lat": 30.27, "lon": 120.15, "at": payload})
        assert r.status_code == 422, r.text[:200]
        assert r.json()["parameter"] == "at"
        reason = r.json()["reason"]
        assert "ISO 8601" in reason or "at most 40 characters" in reason, reason
        assert_not_evaluated(r.text)

    def test_cli_json_links(self, outlets_file: Path) -> None:
        """``nearest --json`` links on the hostile network are safe."""
        result = run("nearest", "杭州", "--k", "50", "--outlets", str(outlets_file), "--json")
        assert result.exit_code == 0, result.output[-500:]
        for res in json.loads(result.stdout)["results"]:
            assert_links_safe(res)

    @pytest.mark.parametrize("payload", TEMPLATE + XSS + ["\x1b[31mred", "[bold]x"])
    def test_cli_at_payload(self, outlets_file: Path, payload: str) -> None:
        """A payload as ``--at``: a clear error, shown as inert text."""
        result = run("nearest", "杭州", "--outlets", str(outlets_file), "--at", payload)
        assert result.exit_code == 2
        assert "--at" in result.output and "ISO 8601" in result.output
        assert_terminal_safe(result.output)
        assert_not_evaluated(result.output)


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def run(*args: str) -> Any:
    result = runner.invoke(cli_app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"locator {' '.join(args)} crashed") from result.exception
    return result


class TestCli:
    @pytest.mark.parametrize(
        "args",
        [
            ("nearest", "杭州", "--k", "50"),
            ("coverage",),
            ("gaps",),
            ("suggest", "--sites", "2"),
            ("audit",),
            ("validate",),
        ],
        ids=lambda a: a[0],
    )
    def test_tables_show_data_as_text(self, outlets_file: Path, args: tuple[str, ...]) -> None:
        """Human output: markup stays literal, controls are made visible, no crash."""
        where = (
            [str(outlets_file)]
            if args[0] in ("audit", "validate")
            else [
                "--outlets",
                str(outlets_file),
            ]
        )
        result = run(*args, *where)
        assert result.exit_code in (0, 1), result.output[-500:]
        out = result.output
        assert_terminal_safe(out)
        assert_not_evaluated(out)
        if args[0] == "nearest":
            # Markup and escapes are shown as text (table cells may wrap long ones).
            assert "ACME [/bold]" in out and "[bold red]loud[/]" in out
            assert "␛[31mred" in out

    def test_geojson_with_every_payload(self, tmp_path: Path) -> None:
        """The corpus as GeoJSON properties (JSON can carry a lone surrogate, a NUL, any
        control): every feature but the lone-surrogate one loads and comes back exactly;
        that one is refused by name, never a traceback."""
        from locator.data import load_outlets
        from locator.errors import DataError

        feats = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [120.15, 30.27 + i * 1e-3]},
                "properties": {"outlet_id": f"G{i}", "name": f"ACME {p}", "kind": "repair_point"},
            }
            for i, p in enumerate(ALL)
        ]
        path = tmp_path / "hostile.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
        with pytest.raises(DataError, match=r"features\[\d+\]\.properties has a lone surrogate"):
            load_outlets(path)
        result = run("validate", str(path))
        assert result.exit_code == 2 and "lone surrogate" in result.output
        feats = [f for f in feats if "\ud800" not in f["properties"]["name"]]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
        names = set(load_outlets(path)["name"])
        assert names == {f["properties"]["name"] for f in feats}

    def test_district_geojson_export(self, outlets_file: Path, tmp_path: Path) -> None:
        """``coverage --by district --geojson``: hostile outlet names travel as strict JSON
        property values, exactly as loaded (a data sink, not markup)."""
        from locator.data import load_outlets

        out = tmp_path / "districts.geojson"
        result = run(
            "coverage", "--outlets", str(outlets_file), "--by", "district", "--geojson", str(out)
        )
        assert result.exit_code == 0, result.output
        assert_terminal_safe(result.output)
        fc = json.loads(out.read_text("utf-8"))  # strict: NaN would not parse back
        names = {f["properties"]["nearest_outlet_name"] for f in fc["features"]}
        assert names and names <= set(load_outlets(outlets_file)["name"])
        assert len(names) > 1  # several hostile outlets are some district's nearest

    @pytest.mark.parametrize("args", [("validate",), ("audit",), ("coverage", "--outlets")])
    def test_hostile_file_names_in_messages(self, tmp_path: Path, args: tuple[str, ...]) -> None:
        """A path the user gave is echoed in the error line with its controls made
        visible: a file name can carry an escape sequence too."""
        missing = tmp_path / "\x1b]0;pwned\x07\x1b[31m[bold]x.csv"
        result = run(*args, str(missing))
        assert result.exit_code == 2
        assert "error:" in result.output and "[bold]x.csv" in result.output
        assert_terminal_safe(result.output)

    def test_error_messages_show_data_as_text(self, tmp_path: Path) -> None:
        """A file whose bad values are payloads: one clear error block listing every
        bad row, exit 2, and nothing in it acts on the terminal."""
        bad = hostile_outlets().assign(kind=lambda f: f["address"])
        path = tmp_path / "bad.csv"
        bad.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
        result = run("validate", str(path))
        assert result.exit_code == 2
        assert result.output.count("unknown kind") == len(bad)
        assert_terminal_safe(result.output)
        assert_not_evaluated(result.output)

    @pytest.mark.parametrize(
        "args",
        [("nearest", "杭州", "--k", "50"), ("coverage",), ("suggest", "--sites", "2"), ("audit",)],
        ids=lambda a: a[0],
    )
    def test_json_is_strict_and_exact(self, outlets_file: Path, args: tuple[str, ...]) -> None:
        """``--json`` output parses as strict JSON; outlet names come back exactly."""
        where = [str(outlets_file)] if args[0] == "audit" else ["--outlets", str(outlets_file)]
        result = run(*args, *where, "--json")
        assert result.exit_code in (0, 1), result.output[-500:]
        doc = json.loads(result.stdout)
        if args[0] == "nearest":
            names = {r["name"] for r in doc["results"]}
            assert "ACME ACME [/bold]" in names and "ACME {{7*7}}" in names

    @pytest.mark.parametrize("payload", TEMPLATE + XSS + ["ACME [/bold]", "\x1b[31mred"])
    def test_geocode_echoes_queries_as_text(self, payload: str) -> None:
        """``locator geocode`` (human and --json) with a payload query: never a crash,
        the terminal gets text, the JSON parses."""
        human = run("geocode", f"杭州 {payload}")
        assert human.exit_code in (0, 1)
        assert_terminal_safe(human.output)
        assert_not_evaluated(human.output)
        as_json = run("geocode", f"杭州 {payload}", "--json")
        assert as_json.exit_code in (0, 1)
        if as_json.exit_code == 0:
            assert json.loads(as_json.stdout)["query"] == f"杭州 {payload}"

    @pytest.mark.parametrize("payload", TEMPLATE[:3] + XSS[:3] + ["ACME [/bold]", "\x1b[31mred"])
    def test_no_match_reason_is_text(self, payload: str) -> None:
        """``locator geocode '<payload>中山路'``: the 'not found' line quotes the street,
        as text on the terminal."""
        human = run("geocode", f"{payload}中山路")
        assert human.exit_code in (1, 2)
        assert_terminal_safe(human.output)
        assert_not_evaluated(human.output)

    def test_map_title_is_literal(self, tmp_path: Path) -> None:
        """``locator map --title`` with template and script payloads: shown as text."""
        out = tmp_path / "map.html"
        title = " ".join(TEMPLATE + XSS[:4])
        result = run("map", "-o", str(out), "--tiles", "none", "--title", title)
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        assert_not_evaluated(page)
        assert f"<title>{shown(title)}</title>" in page

    def test_map_file_is_literal(self, outlets_file: Path, tmp_path: Path) -> None:
        """``locator map`` with hostile outlets writes a page that evaluates nothing."""
        out = tmp_path / "map.html"
        result = run("map", "-o", str(out), "--outlets", str(outlets_file), "--tiles", "none")
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        assert_not_evaluated(page)
        assert (
            shown("ACME {{7*7}}") in page or maps._script_json(shown("ACME {{7*7}}"))[1:-1] in page
        )

    def test_gaps_csv_is_spreadsheet_safe(self, outlets_file: Path, tmp_path: Path) -> None:
        """``gaps --csv``: outlet names in the nearest-outlet column start no formula,
        even after a CR or LF inside the cell, and every row parses back."""
        out = tmp_path / "gaps.csv"
        result = run("gaps", "--outlets", str(outlets_file), "--csv", str(out))
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        cells = [c for row in rows for c in row]
        assert_csv_cells_safe(cells)
        assert len({len(r) for r in rows}) == 1, "a row was split or shifted"

    def test_assign_csv_is_spreadsheet_safe(self, outlets_file: Path, tmp_path: Path) -> None:
        """``assign``: hostile input columns and outlet names come out formula-safe,
        one output row per input row."""
        src = tmp_path / "orders.csv"
        payloads = [encodable(p) for p in ALL]
        with src.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["order", "note", "lat", "lon"])
            for i, p in enumerate(payloads):
                w.writerow([i, p, 30.27, 120.15])
        out = tmp_path / "assigned.csv"
        result = run("assign", str(src), "-o", str(out), "--outlets", str(outlets_file))
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        assert len(rows) == len(payloads) + 1
        assert_csv_cells_safe([c for row in rows for c in row])

    @pytest.mark.slow
    def test_assign_dask_csv_is_spreadsheet_safe(
        self, outlets_file: Path, tmp_path: Path, dask_scheduler: str
    ) -> None:
        """``assign --engine dask`` (a new CSV sink: parts written by workers, joined
        after): every payload in a passthrough column and in a header, and every
        hostile outlet name, comes out formula-safe, one row per input row, and the
        file is the pandas engine's, byte for byte."""
        src = tmp_path / "orders.csv"
        payloads = [encodable(p) for p in ALL]
        heads = ["=cmd|' /C calc'!A0", "@SUM(1)", "ok\r=1+1"]
        with src.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["order", "note", *heads, "lat", "lon"])
            for i, p in enumerate(payloads * 3):
                w.writerow([i, p, p, p, p, 30.27, 120.15])
        out, ref = tmp_path / "dask.csv", tmp_path / "pandas.csv"
        result = run("assign", str(src), "-o", str(out), "--outlets", str(outlets_file),
                     "--engine", "dask", "--scheduler", dask_scheduler, "--blocksize", "2000",
                     "--no-progress")  # fmt: skip
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        assert len(rows) == 3 * len(payloads) + 1
        assert len({len(r) for r in rows}) == 1, "a row was split or shifted"
        assert_csv_cells_safe([c for row in rows for c in row])
        assert_terminal_safe(result.output)
        pandas_run = run("assign", str(src), "-o", str(ref), "--outlets", str(outlets_file))
        assert pandas_run.exit_code == 0, pandas_run.output
        assert out.read_bytes() == ref.read_bytes()

    def test_assign_keeps_hostile_headers_safe(self, outlets_file: Path, tmp_path: Path) -> None:
        """Input column *names* are copied to ``assign``'s output: formula-safe there too,
        and the header row still has one cell per column."""
        src = tmp_path / "orders.csv"
        heads = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1+1", "ok\r=1+1"]
        with src.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([*heads, "lat", "lon"])
            w.writerow(["a", "b", "c", "d", 30.27, 120.15])
        out = tmp_path / "assigned.csv"
        result = run("assign", str(src), "-o", str(out), "--outlets", str(outlets_file))
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        assert len(rows) == 2 and len(rows[0]) == len(rows[1])
        assert_csv_cells_safe(rows[0])
        assert_terminal_safe(result.output)

    def test_geocode_csv_is_spreadsheet_safe(self, tmp_path: Path) -> None:
        """``geocode-csv``: every payload as an address comes out formula-safe, every
        row kept."""
        src = tmp_path / "addresses.csv"
        payloads = [encodable(p).replace("\x00", "") for p in ALL]
        with src.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["address"])
            for p in payloads:
                w.writerow([p])
        out = tmp_path / "geocoded.csv"
        result = run("geocode-csv", str(src), "-o", str(out), "--column", "address")
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        assert len(rows) == len(payloads) + 1
        assert_csv_cells_safe([c for row in rows for c in row])
        assert_terminal_safe(result.output)


# --------------------------------------------------------------------------- verify


class TestVerify:
    """``locator verify`` (table, --json), ``/v1/verify`` and the app's box, with
    payloads in the outlet data and in what the user checks."""

    @pytest.mark.parametrize("payload", ALL, ids=range(len(ALL)))
    def test_cli_table_and_json(self, outlets_file: Path, payload: str) -> None:
        """A payload as the name checked (it is the name of a hostile outlet): the
        table and the message show it as text; --json gives it back exactly. Inputs
        verify cannot use (NUL, a lone surrogate, too long) are one error line."""
        name = f"ACME {payload}"
        human = run("verify", "--name", name, "--outlets", str(outlets_file))
        assert human.exit_code in (0, 2), human.output[-500:]
        assert_terminal_safe(human.output)
        assert_not_evaluated(human.output)
        as_json = run("verify", "--name", name, "--json", "--outlets", str(outlets_file))
        assert as_json.exit_code == human.exit_code
        if human.exit_code == 0:
            assert "AUTHORIZED" in human.output
            doc = json.loads(as_json.stdout)
            assert doc["query"]["name"] == name.strip()
            assert name.strip() in {m["name"] for m in doc["matches"]}
        else:
            assert "error: name:" in human.output

    def test_cli_nearest_table(self, outlets_file: Path) -> None:
        """An unknown number near the hostile outlets: the nearest-outlets table shows
        their payloads as text."""
        result = run("verify", "400-555-0123", "--lat", "30.27", "--lon", "120.15",
                     "--outlets", str(outlets_file))  # fmt: skip
        assert result.exit_code == 1
        assert "Nearest authorized outlets" in result.output
        assert_terminal_safe(result.output)
        assert_not_evaluated(result.output)

    def test_recorded_flags(self, store_url: str) -> None:
        """Flags whose kind and note are payloads (recorded in the store): verify's
        table shows them as text, its --json gives them back exactly."""
        from locator.store import open_store

        notes = [encodable(p).replace("\x00", "") for p in ALL]
        store = open_store(store_url)
        try:
            for note in notes:
                store.add_flag(kind=note[:50] or "x", note=note, actor="t", phone="000-555-0344")
        finally:
            store.dispose()
        human = run("verify", "000-555-0344", "--database", store_url)
        assert human.exit_code == 0, human.output[-500:]
        assert_terminal_safe(human.output)
        assert_not_evaluated(human.output)
        assert "ACME [/bold]" in human.output and "␛[31mred" in human.output
        as_json = run("verify", "000-555-0344", "--database", store_url, "--json")
        got = {f["message"] for f in json.loads(as_json.stdout)["findings"]}
        assert set(notes) <= got

    def test_api_round_trips_and_never_500(self, client: Any) -> None:
        """/v1/verify with every payload as name, q and city: a JSON answer or a 4xx,
        never a 500; a matched outlet's name comes back exactly."""
        for payload in ALL:
            for param in ("name", "q", "city", "phone"):
                params = {param: encodable(payload)}
                if param != "phone":
                    params["phone"] = "000-555-0001"
                r = client.get("/v1/verify", params=params)
                assert r.status_code < 500, (param, payload, r.status_code, r.text[:200])
                json.loads(r.text)
                assert_not_evaluated(r.text)
        r = client.get("/v1/verify", params={"name": "ACME {{7*7}}"})
        assert r.status_code == 200
        assert "ACME {{7*7}}" in {m["name"] for m in r.json()["matches"]}


# --------------------------------------------------------------------------- spreadsheets


class TestSpreadsheetWriters:
    def test_app_download_bytes(self) -> None:
        """``io.csv_bytes`` (the app's CSV downloads): BOM, every row parses back, no
        cell or line inside a cell starts a formula."""
        from locator.outputs import csv_bytes

        frame = hostile_outlets()
        data = csv_bytes(frame)
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert len(rows) == len(frame) + 1 and len({len(r) for r in rows}) == 1
        assert_csv_cells_safe([c for row in rows for c in row])

    def test_xlsx_output(self, tmp_path: Path) -> None:
        """``io.write_xlsx``: formula text is stored as text; a control character Excel
        cannot store is refused by name, and nothing is written."""
        import openpyxl

        from locator.errors import DataError
        from locator.outputs import write_xlsx

        safe = hostile_outlets(
            [p for p in ALL if not any(ord(c) < 32 and c not in "\t\n\r" for c in p)]
        )
        out = tmp_path / "out.xlsx"
        write_xlsx(safe, out)
        ws = openpyxl.load_workbook(out).active
        cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        assert_csv_cells_safe(cells)
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        bad = tmp_path / "bad.xlsx"
        with pytest.raises(DataError):
            write_xlsx(hostile_outlets(), bad)
        assert not bad.exists()


# --------------------------------------------------------------------------- app


@pytest.mark.slow
class TestApp:
    def test_upload_and_embed_view(self, outlets_file: Path) -> None:
        """The app with the hostile network uploaded: no exception, and the Embed
        view's page (download and preview) evaluates no template."""
        import base64

        from apptest import open_view, start

        at = start(lang=None, view="data", timeout=240)  # in its default language, 中文
        data = outlets_file.read_bytes()
        at.get("file_uploader")[0].set_value(("{{7*7}}.csv", data, "text/csv")).run()
        assert not at.exception, [e.value for e in at.exception]
        open_view(at, "find")
        at.text_input(key="query").input("杭州").run()
        assert not at.exception, [e.value for e in at.exception]
        cards = "\n".join(str(m.value) for m in at.markdown)  # the result cards
        assert_not_evaluated(cards)
        assert "<img" not in cards and "<script" not in cards
        open_view(at, "embed")
        frames = [el for el in at.get("iframe")]
        assert frames, "the Embed view shows a preview"
        src = frames[0].proto.src
        page = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
        assert_not_evaluated(page)
        assert (
            shown("ACME {{7*7}}") in page or maps._script_json(shown("ACME {{7*7}}"))[1:-1] in page
        )

    def test_load_view(self, outlets_file: Path, tmp_path: Path) -> None:
        """The load view with the hostile network and an orders file with a hostile
        name uploaded: no exception, nothing evaluated, names shown as data."""
        from apptest import open_view, start

        at = start(lang="en", view="data", timeout=240)
        at.get("file_uploader")[0].set_value(
            ("outlets.csv", outlets_file.read_bytes(), "text/csv")
        ).run()
        open_view(at, "load")
        net = hostile_outlets()
        orders = "lat,lon,date\n" + "".join(
            f"{r.lat},{r.lon},2026-01-05\n" for r in net.itertuples()
        )
        uploader = next(u for u in at.get("file_uploader") if u.proto.id.endswith("load-file"))
        uploader.set_value(("{{7*7}}<img src=x>.csv", orders.encode(), "text/csv")).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.metric[0].value == f"{len(net):,}"  # the upload, not the sample
        shown_text = "\n".join(str(m.value) for m in [*at.info, *at.markdown, *at.caption])
        assert_not_evaluated(shown_text)
        assert "<img" not in shown_text
        name = next(d.value for d in at.dataframe if "Name" in d.value.columns)["Name"]
        assert f"ACME {encodable(TEMPLATE[0])}" in name.tolist()

    def test_verify_box(self, outlets_file: Path) -> None:
        """The Find view's verify box with the hostile network uploaded and a payload
        checked: no exception, nothing evaluated, the messages escaped."""
        from apptest import open_view, start

        at = start(lang="en", view="data", timeout=240)
        data = outlets_file.read_bytes()
        at.get("file_uploader")[0].set_value(("outlets.csv", data, "text/csv")).run()
        open_view(at, "find")
        for payload in TEMPLATE + XSS + ["ACME [/bold]"]:
            at.text_input(key="verify-name").input(f"ACME {payload}").run()
            assert not at.exception, [e.value for e in at.exception]
            shown_text = "\n".join(str(m.value) for m in [*at.success, *at.error, *at.markdown])
            assert_not_evaluated(shown_text)
            assert "<img" not in shown_text and "<script" not in shown_text
        assert any("is an authorized outlet" in s.value for s in at.success)


# --------------------------------------------------------------------------- write API


class TestWriteApi:
    """Every payload written through the authenticated write API (store on SQLite) into
    every text field, the reasons and the evidence: stored, then served back equal as
    JSON (one outlet, its history, /v1/nearest); a payload the API refuses is a 422
    naming the field (or a 413 for a body over the limit), with nothing stored and
    nothing echoed."""

    TEXT = ("name", "province", "city", "district", "address", "phone", "hours")

    @pytest.fixture(scope="class")
    def api(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, dict]]:
        from fastapi.testclient import TestClient

        from locator.api import create_app
        from locator.store import open_store

        path = tmp_path_factory.mktemp("hostile-store") / "network.db"
        store = open_store(f"sqlite:///{path}", seed=True)
        secret = store.tokens.create("admin-h", "admin")[0]
        app = create_app(store)
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c, store, {"Authorization": f"Bearer {secret}"}
        store.dispose()

    @pytest.mark.parametrize("i", range(len(ALL)))
    def test_every_field_round_trips(self, api: tuple[Any, Any, dict], i: int) -> None:
        client, store, auth = api
        p = encodable(ALL[i])
        oid = f"W{i:03d}"
        fields = {f: f"{f} {p}" for f in self.TEXT}
        body = {
            "outlet": {
                "outlet_id": oid,
                "kind": "repair_point",
                "lat": 30.3,
                "lon": 120.2,
                **fields,
            },
            "reason": p,
        }
        r = client.post("/v1/outlets", json=body, headers=auth)
        assert r.status_code in (201, 413, 422), (p[:40], r.status_code, r.text[:300])
        assert_not_evaluated(r.text)
        if r.status_code != 201:  # a NUL, over 500 characters, over 16 KiB: never stored
            assert len(p) > 450 or "\x00" in p, r.text[:300]
            if r.status_code == 422:
                assert r.json()["field"].startswith(("outlet.", "reason"))
            assert p not in r.text
            assert client.get(f"/v1/outlets/{oid}").status_code == 404
            return
        got = client.get(f"/v1/outlets/{oid}").json()
        assert {f: got[f] for f in self.TEXT} == fields
        auth_body = {"granted": True, "reason": p, "evidence": p}
        r = client.post(f"/v1/outlets/{oid}/authorization", json=auth_body, headers=auth)
        assert r.status_code == 200, r.text[:300]
        assert r.json()["authorization"]["evidence"] == p
        history = client.get(f"/v1/outlets/{oid}/history", headers=auth).json()["versions"]
        # a required reason (authorization) is stored stripped of outer blanks
        assert [v["reason"] for v in history] == [p, p.strip()]
        assert history[0]["changes"]["address"] == [None, f"address {p}"]
        nearest = client.get("/v1/nearest", params={"lat": 30.3, "lon": 120.2, "k": 1}).json()
        assert nearest["results"][0]["name"] == fields["name"]
        store.close(oid, reason="done", actor="test")  # the next payload is the nearest


# --------------------------------------------------------------------------- store


class TestStoreExport:
    """``locator db export`` (the network store, #13) writes every payload safely."""

    @pytest.fixture
    def store_file(self, outlets_file: Path, tmp_path: Path) -> str:
        """A store holding the corpus; the NUL payload, which no database keeps, is
        refused by name (row and column) with nothing imported."""
        url = f"sqlite:///{tmp_path / 'store.db'}"
        refused = run("db", "import", str(outlets_file), "--database", url)
        assert refused.exit_code == 2 and "contains a NUL character" in refused.output
        assert_terminal_safe(refused.output)
        path = tmp_path / "storable.csv"
        hostile_outlets([p for p in ALL if "\x00" not in p]).to_csv(
            path, index=False, quoting=csv.QUOTE_ALL
        )
        result = run("db", "import", str(path), "--database", url)
        assert result.exit_code == 0, result.output
        assert_terminal_safe(result.output)
        return url

    def test_csv_export_is_spreadsheet_safe(self, store_file: str, tmp_path: Path) -> None:
        """The CSV export starts no formula and every row parses back whole."""
        out = tmp_path / "net.csv"
        result = run("db", "export", str(out), "--database", store_file)
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        assert_csv_cells_safe([c for row in rows for c in row])
        assert len({len(r) for r in rows}) == 1, "a row was split or shifted"
        assert len(rows) == len(hostile_outlets()) - 1 + 1  # the corpus but NUL, a header

    def test_geojson_export_round_trips(self, store_file: str, tmp_path: Path) -> None:
        """The GeoJSON export is strict JSON holding every payload as it was stored."""
        from locator.store import open_store

        out = tmp_path / "net.geojson"
        assert run("db", "export", str(out), "--database", store_file).exit_code == 0
        features = json.loads(out.read_text(encoding="utf-8"))["features"]
        stored = open_store(store_file).network().frame
        assert [f["properties"]["address"] for f in features] == stored["address"].tolist()
        assert_not_evaluated(out.read_text(encoding="utf-8"))

    def test_history_shows_payloads_as_text(self, store_file: str) -> None:
        """``locator history`` prints stored payloads with no raw control character."""
        result = run("history", "H001", "--database", store_file)
        assert result.exit_code == 0, result.output
        assert_terminal_safe(result.output)


class TestScenario:
    """What-if scenarios (#15 §4): hostile names, notes and candidate names in the
    compare CSV/XLSX export and in every ``locator scenario`` table."""

    @staticmethod
    def _nameable() -> list[str]:
        from locator.errors import ConfigurationError
        from locator.scenario import check_name

        out = []
        for p in ALL:
            try:
                out.append(check_name(p))
            except ConfigurationError:
                continue
        assert len(out) >= 15  # most payloads are allowed names
        return out

    def test_compare_csv_and_xlsx_are_spreadsheet_safe(self, tmp_path: Path) -> None:
        """Scenario names (written in the export's first row), notes and candidate names
        never start a formula in the CSV or XLSX export of a comparison."""
        import openpyxl
        import pandas as pd

        from locator.scenario import Scenario, compare

        outlets = hostile_outlets()
        places = pd.DataFrame(
            {"place_id": ["p"], "name": ["=1+1"], "lat": [30.27], "lon": [120.15],
             "population": [10]}
        )  # fmt: skip
        names = self._nameable()
        texts = [p for p in ALL if "\x00" not in p and encodable(p) == p]
        for i, text in enumerate(texts):
            name = names[i % len(names)]
            a = Scenario(outlets, name=name, note=text)
            b = Scenario(outlets, add=[{"lat": 30, "lon": 120, "name": text}], name=name[::-1])
            cmp = compare(a, b, places, None, radius_km=10)
            cmp.to_csv(tmp_path / f"{i}.csv")
            rows = list(
                csv.reader(io.StringIO((tmp_path / f"{i}.csv").read_text("utf-8-sig"), newline=""))
            )
            assert len({len(r) for r in rows}) == 1, "a row was split or shifted"
            assert_csv_cells_safe([c for row in rows for c in row])
            if not any(ord(c) < 32 and c not in "\t\n\r" for c in text):
                cmp.to_xlsx(tmp_path / f"{i}.xlsx")
                ws = openpyxl.load_workbook(tmp_path / f"{i}.xlsx").active
                cells = [str(c.value) for r in ws.iter_rows() for c in r if c.value is not None]
                assert_csv_cells_safe(cells)
                assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)

    def test_cli_tables_show_payloads_as_text(self, tmp_path: Path) -> None:
        """``scenario save/list/show/compare`` print stored payloads (names, a note,
        candidate names) with no raw control character and no markup crash; a NUL
        note is refused by name."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        assert run("db", "init", "--database", url).exit_code == 0
        assert run("db", "import", str(_sample_csv()), "--database", url).exit_code == 0
        storable = [encodable(p) for p in ALL if "\x00" not in p and len(p) < 1000]
        adds = [a for i, p in enumerate(storable) for a in ("--add", f"30.{i},110,{p}")]
        names = [n for n in self._nameable() if n in storable][:6]
        for j, name in enumerate(names):
            note = storable[j % len(storable)]
            r = run("scenario", "save", name, *adds, "--note", note, "--database", url)
            assert r.exit_code == 0, r.output
            assert_terminal_safe(r.output)
        for args in (("list",), ("show", names[0]), ("compare", names[0], names[1])):
            r = run("scenario", *args, "--database", url)
            assert r.exit_code == 0, r.output
            assert_terminal_safe(r.output)
        r = run("scenario", "save", "nul", "--note", "a\x00b", "--database", url)
        assert r.exit_code == 2 and "note" in r.output and "NUL" in r.output

    def test_api_round_trips_and_never_500(self, tmp_path: Path) -> None:
        """``POST /v1/scenarios`` keeps every storable payload (note, candidate names)
        exactly, answers strict JSON, and refuses a NUL with a 422, never a 500."""
        from fastapi.testclient import TestClient

        from locator.api import create_app
        from locator.store import open_store
        from tests.test_api import fake_geocoder

        store = open_store(f"sqlite:///{tmp_path / 'api.db'}", seed=True)
        editor = {"Authorization": f"Bearer {store.tokens.create('e', 'editor')[0]}"}
        try:
            with TestClient(create_app(store, geocoder=fake_geocoder())) as c:
                storable = [p for p in ALL if "\x00" not in p and encodable(p) == p]
                for i, p in enumerate(storable):
                    cand = {"lat": 30, "lon": 110, "name": p[:500], "city": p[:500]}
                    body = {"name": f"h{i}", "note": p[:1000], "add": [cand]}
                    r = c.post("/v1/scenarios", json=body, headers=editor)
                    assert r.status_code == 201, r.text
                    got = c.get(f"/v1/scenarios/h{i}", headers=editor)
                    assert got.status_code == 200
                    assert json.loads(got.text)["scenario"]["note"] == p[:1000]
                    assert got.json()["figures"]["outlets_added"] == 1
                    assert got.json()["scenario"]["add"][0]["name"] == p[:500].strip()
                r = c.post("/v1/scenarios", json={"name": "n", "note": "a\x00b"}, headers=editor)
                assert r.status_code == 422 and "a\x00b" not in r.text
        finally:
            store.dispose()


def _sample_csv() -> Path:
    from locator.data import DATA_DIR

    return Path(DATA_DIR) / "outlets.csv"


# --------------------------------------------------------------------------- load


class TestLoad:
    """``locator load``: outlet names and ids from the file reach the table, CSV and XLSX
    as data."""

    @pytest.fixture()
    def orders(self, tmp_path: Path) -> Path:
        """One raw order a day next to each hostile outlet (assigned in the command)."""
        net = hostile_outlets()
        path = tmp_path / "orders.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["lat", "lon", "date"])
            for i, row in enumerate(net.itertuples()):
                w.writerow([row.lat, row.lon, f"2026-01-{1 + i % 28:02d}"])
        return path

    def test_table_shows_data_as_text(self, outlets_file: Path, orders: Path) -> None:
        result = run("load", str(orders), "--outlets", str(outlets_file), "--top", "500")
        assert result.exit_code == 0, result.output[-500:]
        assert_terminal_safe(result.output)
        assert_not_evaluated(result.output)
        assert "[bold red]loud[/]" in result.output

    def test_csv_is_spreadsheet_safe(
        self, outlets_file: Path, orders: Path, tmp_path: Path
    ) -> None:
        out = tmp_path / "load.csv"
        result = run("load", str(orders), "--outlets", str(outlets_file), "-o", str(out))
        assert result.exit_code == 0, result.output[-500:]
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
        assert len(rows) == len(ALL) + 1
        assert len({len(r) for r in rows}) == 1, "a row was split or shifted"
        assert_csv_cells_safe([c for row in rows for c in row])

    @pytest.mark.filterwarnings("ignore::locator.network.DataWarning")
    def test_xlsx_is_safe_or_refused(self, tmp_path: Path) -> None:
        """Names Excel can hold are stored as text, never formulas; a control character
        it cannot hold is refused by row, and nothing is written."""
        import openpyxl
        import pandas as pd

        from locator.errors import DataError
        from locator.load import outlet_load

        fine = [p for p in ALL if not any(ord(c) < 32 and c not in "\t\n\r" for c in p)]
        net = hostile_outlets(fine)
        orders = pd.DataFrame({"outlet_id": net["outlet_id"], "date": "2026-01-05"})
        out = tmp_path / "load.xlsx"
        outlet_load(orders, net).write(out)
        ws = openpyxl.load_workbook(out).active
        cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        assert_csv_cells_safe(cells)
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        net = hostile_outlets()
        bad = tmp_path / "bad.xlsx"
        with pytest.raises(DataError, match="control character"):
            outlet_load(
                pd.DataFrame({"outlet_id": net["outlet_id"], "date": "2026-01-05"}), net
            ).write(bad)
        assert not bad.exists()
