"""Unit tests for locator.maps, locator.embed and ``locator map``: render HTML, assert on fragments.

Browser tests (what a person sees, what executes) live in ``test_embed_browser.py``.
"""

from __future__ import annotations

import html as html_lib
import importlib.resources
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import folium
import pandas as pd
import pytest
from hostile import TEMPLATE, XSS
from hypothesis import example, given
from hypothesis import strategies as st

from locator import embed, maps
from locator.crs import wgs84_to_gcj02
from locator.data import load_outlets
from locator.errors import ConfigurationError, DataError

# Hostile text from the shared corpus: HTML, template-literal and script break-outs,
# backslash escapes, and Jinja template payloads (branca's second render pass).
PAYLOADS = [*XSS[:5], *TEMPLATE[:3]]
HOSTILE = " ".join(PAYLOADS) + " \"quoted\" 'single' & amp \u2028 line\nbreak"

OUTLET_COLUMNS = [
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
    "coord_sys",
    "lat",
    "lon",
]


def circle_rows(page: str, class_name: str) -> list[list]:
    """The circles a page draws with CSS class ``class_name`` (gaps: ``locator-gap``,
    listed cities: ``locator-city``): the rows of every compact circle layer."""
    decoder, out = json.JSONDecoder(), []
    call = f'locatorCircleRows(parent, rows, styles, "{class_name}");'
    at = page.find(call)
    while at >= 0:
        start = page.rfind("var rows = ", 0, at) + len("var rows = ")
        out += decoder.raw_decode(page, start)[0]
        at = page.find(call, at + 1)
    return out


def make_outlets(text: str | None = None, n: int = 5) -> pd.DataFrame:
    """``n`` synthetic outlets around Shanghai; every text cell is ``text`` if given."""
    rows = []
    for i in range(n):
        t = text if text is not None else f"Outlet {i}"
        rows.append(
            {
                "outlet_id": f"T{i:03d}",
                "name": t if text is not None else f"ACME测试服务中心{i}",
                "kind": "service_center" if i % 2 == 0 else "repair_point",
                "province": t if text is not None else "上海市",
                "city": t if text is not None else "上海",
                "district": t if text is not None else "浦东新区",
                "address": t if text is not None else f"测试路{i}号",
                "phone": t if text is not None else f"000-555-{i:04d}",
                "hours": t if text is not None else "09:00-18:00",
                "categories": "washer;tv" + (";" + t if text is not None else ""),
                "authorized": i != 1,
                "coord_sys": "wgs84",
                "lat": 31.0 + 0.05 * i,
                "lon": 121.3 + 0.05 * i,
            }
        )
    return pd.DataFrame(rows, columns=OUTLET_COLUMNS)


def make_areas(text: str = "Pudong") -> dict:
    ring = [[121.3, 31.0], [121.6, 31.0], [121.6, 31.3], [121.3, 31.3], [121.3, 31.0]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"name": text, "area_km2": 812.345, "outlets": 3},
            }
        ],
    }


def make_gaps(text: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "place_id": [1, 2],
            "name": [text or "Chongming", text or "Jinshan"],
            "name_zh": [text or "崇明", text or "金山"],
            "province": [text or "上海市", text or "上海市"],
            "city": [text or "上海", text or "上海"],
            "lat": [31.62, 30.74],
            "lon": [121.40, 121.34],
            "population": [10_000, 4_000_000],
            "nearest_km": [61.2, 55.0],
            "nearest_outlet_name": [text or "ACME浦东中心", text or "ACME金山点"],
            "nearest_outlet_city": [text or "上海", text or "上海"],
        }
    )


def make_cities(text: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city": [text or "上海", text or "苏州"],
            "lat": [31.23, 31.30],
            "lon": [121.47, 120.62],
            "share_covered": [0.95, 0.2],
            "population_total": [24_000_000, 12_000_000],
            "population_covered": [22_800_000, 2_400_000],
            "outlets": [12, 1],
        }
    )


def render(m: folium.Map) -> str:
    return m.get_root().render()


class _Tags(HTMLParser):
    """Record the start tags of a page and the text of its <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    return p


def assert_inert(page: str) -> None:
    """No payload survives in an executable form anywhere in ``page``.

    Inlined third-party libraries are left out of the search (jQuery has its own
    backslash escapes); they are checked apart in :class:`TestEmbed`.
    """
    page = re.sub(r"<(script|style)>/\* \w+ \(inlined\) \*/.*?</\1>", "", page, flags=re.S)
    for raw in PAYLOADS:
        assert raw not in page, f"raw payload {raw!r} reached the page"
    for fragment in ("<img src=x", "${alert", "`+alert", "<script>alert", "\\users", "\\x1"):
        assert fragment not in page, fragment
    # The escaped forms are there instead (the text is shown, not dropped).
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&#36;&#123;alert(1)&#125;" in page
    assert "&#96;+alert(1)+&#96;" in page
    assert "C:&#92;users&#92;x1" in page


def node_check(scripts: list[str], tmp_path: Path, node: str) -> None:
    """Every inline script parses as JavaScript (a broken-out literal would not)."""
    for i, code in enumerate(scripts):
        f = tmp_path / f"script{i}.js"
        f.write_text(code, encoding="utf-8")
        r = subprocess.run([node, "--check", str(f)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"script {i} does not parse: {r.stderr[:500]}"


# --------------------------------------------------------------------------- escaping


class TestEscapeText:
    def test_every_special_character_becomes_a_reference(self) -> None:
        """& < > " ' ` $ \\ are replaced by HTML character references."""
        assert maps.escape_text("&<>\"'`$\\") == "&amp;&lt;&gt;&quot;&#39;&#96;&#36;&#92;"

    def test_payloads(self) -> None:
        """The test payloads come out with nothing a JS template literal or HTML would run."""
        for p in PAYLOADS:
            out = maps.escape_text(p)
            assert not set(out) & set("<>\"'`$\\"), out
            assert html_lib.unescape(out) == p

    def test_missing_values_are_empty(self) -> None:
        """None, NaN and pd.NA render as an empty string; numbers via str."""
        assert maps.escape_text(None) == ""
        assert maps.escape_text(float("nan")) == ""
        assert maps.escape_text(pd.NA) == ""
        assert maps.escape_text(12.5) == "12.5"

    def test_controls_and_line_separators_become_spaces(self) -> None:
        """Newlines, NUL and U+2028/9 cannot split a literal or a line of JS."""
        assert maps.escape_text("a\nb\r\x00c\u2028d\u2029e") == "a b  c d e"

    @given(st.text())
    @example("&amp; &#123; &lt;b&gt; &#x26; &")  # references in the input stay text
    def test_round_trip_and_no_specials(self, text: str) -> None:
        """For any text: no special character survives, and unescaping gives the text
        back (controls aside)."""
        out = maps.escape_text(text)
        assert not set(out) & set("<>\"'`$\\")
        expected = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", text)
        assert html_lib.unescape(out) == expected  # '&amp;' in the input comes back too


# --------------------------------------------------------------------------- tiles / base


class TestTiles:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [("osm", "osm"), ("OpenStreetMap", "osm"), ("gaode", "amap"), ("none", None), (None, None)],
    )
    def test_normalize(self, given: str | None, expected: str | None) -> None:
        """Aliases map to osm/amap/None."""
        assert maps.normalize_tiles(given) == expected

    def test_unknown_tiles_raise(self) -> None:
        """An unknown provider is a ConfigurationError (also a ValueError)."""
        with pytest.raises(ConfigurationError, match="unknown tiles 'google'"):
            maps.normalize_tiles("google")
        with pytest.raises(ValueError):
            maps.base_map(tiles="google")

    def test_amap_layer(self) -> None:
        """AMap tiles: the autonavi URL, subdomains 1-4, attribution, GCJ-02 datum."""
        page = render(maps.base_map(tiles="amap"))
        assert "webrd0{s}.is.autonavi.com/appmaptile" in page
        assert '"subdomains": "1234"' in page
        assert "\\u0026copy; AMap" in page
        assert maps.display_coord_sys("amap") == "gcj02"

    def test_osm_layer(self) -> None:
        """OSM tiles and their attribution; drawn in WGS-84."""
        page = render(maps.base_map(tiles="osm"))
        assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page
        assert "OpenStreetMap" in page
        assert maps.display_coord_sys("osm") == "wgs84"

    def test_no_tiles(self) -> None:
        """tiles=None: no tile layer at all."""
        page = render(maps.base_map(tiles=None))
        assert "L.tileLayer" not in page

    def test_no_cdn_only_assets(self) -> None:
        """No Bootstrap, Font Awesome or awesome-markers: only Leaflet and jQuery."""
        page = render(maps.base_map())
        for name in ("bootstrap", "fontawesome", "awesome-markers", "glyphicons"):
            assert name not in page
        assert maps.LEAFLET_JS[1] in page
        # folium's class-level defaults are not mutated
        assert any("bootstrap" in url for _, url in folium.Map.default_js)

    def test_amap_center_is_converted(self) -> None:
        """The initial centre is converted to GCJ-02 on AMap."""
        lon, lat = wgs84_to_gcj02(121.47, 31.23)
        m = maps.base_map(tiles="amap", location=(31.23, 121.47))
        assert m.location == pytest.approx([lat, lon])


# --------------------------------------------------------------------------- outlets


class TestOutletsLayer:
    def test_one_marker_per_outlet_in_a_cluster(self) -> None:
        """Each outlet is one CSS-drawn marker inside a marker cluster."""
        m = maps.base_map()
        maps.outlets_layer(make_outlets(n=7)).add_to(m)
        page = render(m)
        assert page.count("L.marker(") == 7
        assert "L.markerClusterGroup(" in page
        assert page.count("locator-marker locator-outlet") == 7
        assert "L.AwesomeMarkers" not in page

    def test_no_cluster(self) -> None:
        """cluster=False draws the markers straight into the group."""
        m = maps.base_map()
        maps.outlets_layer(make_outlets(n=3), cluster=False).add_to(m)
        page = render(m)
        assert "L.markerClusterGroup(" not in page
        assert page.count("L.marker(") == 3

    def test_fast_path(self) -> None:
        """fast=True: one compact JSON array and one loop, no folium Marker per outlet."""
        m = maps.base_map()
        maps.outlets_layer(make_outlets(n=6), fast=True).add_to(m)
        page = render(m)
        assert "L.marker(" not in page.replace("L.marker([r[0], r[1]]", "")
        assert page.count("L.marker([r[0], r[1]]") == 1
        assert "kind-repair_point unauthorized" in page
        assert "addLayers(made)" in page
        assert "ACME测试服务中心5" in page

    def test_fast_path_is_automatic_for_many_outlets(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Above FAST_THRESHOLD outlets the compact path is used by default."""
        from locator.maps import layers

        monkeypatch.setattr(layers, "FAST_THRESHOLD", 3)  # read where outlets_layer is
        page = render(maps.build_map(make_outlets(n=4)))
        assert "FastMarkers" not in page  # folium names are not in the output ...
        assert "addLayers(made)" in page  # ... but the loop is

    def test_kind_and_authorized_styles(self) -> None:
        """Markers are styled by kind; unauthorized outlets get their own class."""
        page = render(maps.build_map(make_outlets(n=3)))
        assert "kind-service_center" in page
        assert "kind-repair_point unauthorized" in page  # outlet 1 is unauthorized

    def test_unknown_kind_cannot_inject_a_class(self) -> None:
        """A kind outside the known set is drawn as 'other', never used as markup."""
        df = make_outlets(n=1)
        df["kind"] = 'x" onmouseover="alert(1)'
        page = render(maps.build_map(df))
        assert "kind-other" in page
        assert 'onmouseover="alert' not in page

    def test_popup_contents(self) -> None:
        """The popup shows name, kind, address, phone, hours, categories, directions."""
        html = maps.outlet_popup_html(make_outlets(n=1).iloc[0].to_dict())
        for text in (
            "ACME测试服务中心0",
            "Service center 服务中心",
            "测试路0号",
            "000-555-0000",
            "09:00-18:00",
            "Washer 洗衣机, TV 电视",
            "uri.amap.com/navigation?to=",
            "api.map.baidu.com/marker?location=",
            "openstreetmap.org/directions?",
            'href="tel:0005550000"',
        ):
            assert text in html, text
        assert "Not authorized" not in html

    def test_popup_unauthorized_warning(self) -> None:
        """An unauthorized outlet's popup says so."""
        html = maps.outlet_popup_html(make_outlets(n=2).iloc[1].to_dict())
        assert "Not authorized 非授权" in html

    def test_unauthorized_repair_point_claims_no_authorization(self) -> None:
        """An unauthorized repair point reads "Repair point 维修点" then the warning: its
        kind label does not say authorized (特约) while the warning says it is not."""
        html = maps.outlet_popup_html(make_outlets(n=2).iloc[1].to_dict())
        assert '<div class="kind">Repair point 维修点</div>' in html
        assert "特约" not in html and "Authorized" not in html

    def test_popup_distance(self) -> None:
        """With distance_km the popup shows it."""
        html = maps.outlet_popup_html(make_outlets(n=1).iloc[0].to_dict(), distance_km=3.14159)
        assert "3.1 km" in html

    def test_directions_links_use_converted_coordinates(self) -> None:
        """AMap gets GCJ-02 lon,lat; Baidu gets BD-09 lat,lon; names are URL-encoded."""
        links = maps.directions_links(31.0, 121.3, "A&B 中心")
        glon, glat = wgs84_to_gcj02(121.3, 31.0)
        assert f"position={glon:.6f},{glat:.6f}" in links["amap"]
        assert "coordinate=gaode" in links["amap"]
        assert "name=A%26B%20%E4%B8%AD%E5%BF%83" in links["amap"]
        assert "coord_type=bd09ll" in links["baidu"]
        assert "location=31.00" in links["baidu"]  # lat first for Baidu
        assert f"{glon:.6f}" not in links["baidu"]

    def test_amap_converts_marker_coordinates(self) -> None:
        """On AMap tiles marker positions are GCJ-02; on OSM the WGS-84 input."""
        df = make_outlets(n=1)
        glon, glat = wgs84_to_gcj02(121.3, 31.0)
        amap = render(maps.build_map(df, tiles="amap", fit=False))
        osm = render(maps.build_map(df, tiles="osm", fit=False))
        assert f"[{glat}, {glon}]" in amap
        assert "[31.0, 121.3]" not in amap
        assert "[31.0, 121.3]" in osm

    def test_empty_table(self) -> None:
        """No outlets: an empty layer, a map that still renders (no fitBounds)."""
        page = render(maps.build_map(make_outlets(n=0)))
        assert "L.marker(" not in page
        assert "fitBounds" not in page

    def test_missing_column(self) -> None:
        """A table without lat is a DataError naming the column."""
        with pytest.raises(DataError, match="'lat'"):
            maps.outlets_layer(make_outlets(n=2).drop(columns=["lat"]))

    def test_bad_coordinates_are_listed(self) -> None:
        """Every non-finite / out-of-range coordinate is reported with its row number."""
        df = make_outlets(n=4)
        df.loc[1, "lat"] = float("nan")
        df.loc[3, "lon"] = 500.0
        with pytest.raises(DataError) as err:
            maps.outlets_layer(df)
        assert [p.row for p in err.value.errors] == [3, 5]


# --------------------------------------------------------------------------- coverage layers


class TestServiceAreas:
    def test_polygon_and_tooltip(self) -> None:
        """A GeoJSON layer with a tooltip of name, area and outlets."""
        page = render(maps.build_map(service_areas=make_areas()))
        assert "L.geoJson(" in page
        assert "812.3" in page
        assert '["name", "outlets", "area_km2"]' in page
        assert '["Area", "Outlets", "Area km\\u00b2"]' in page

    def test_coverage_service_areas_object(self) -> None:
        """An object with to_geojson() (coverage.ServiceAreas) is accepted; its key/level
        properties make the tooltip, missing ones are filled so JS never shows undefined."""

        class Areas:
            def to_geojson(self) -> dict:
                fc = make_areas()
                fc["features"][0]["properties"] = {"level": "city", "key": "上海", "outlets": 3}
                second = json.loads(json.dumps(fc["features"][0]))
                second["properties"] = {"level": "city", "key": "苏州"}
                fc["features"].append(second)
                return fc

        page = render(maps.build_map(service_areas=Areas()))
        assert '["key", "level", "outlets"]' in page
        assert '"outlets": ""' in page

    def test_amap_converts_polygon_and_input_untouched(self) -> None:
        """On AMap every ring vertex is GCJ-02; the caller's dict is not modified."""
        fc = make_areas()
        before = json.dumps(fc)
        layer = maps.service_areas_layer(fc, tiles="amap")
        m = maps.base_map(tiles="amap")
        layer.add_to(m)
        page = render(m)
        glon, glat = wgs84_to_gcj02(121.3, 31.0)
        assert f"[{glon}, {glat}]" in page
        assert json.dumps(fc) == before

    def test_not_a_feature_collection(self) -> None:
        """Anything but a FeatureCollection dict is refused."""
        with pytest.raises(ConfigurationError, match="FeatureCollection"):
            maps.service_areas_layer({"type": "Feature"})


class TestGapsAndCities:
    def test_gap_circles_grow_with_population(self) -> None:
        """One circle per gap; a bigger population draws a bigger circle."""
        page = render(maps.build_map(gaps=make_gaps()))
        rows = circle_rows(page, "locator-gap")
        radii = [row[2] for row in rows]
        assert len(radii) == 2
        assert radii[1] > radii[0]
        assert "Nearest outlet 61.2 km<br>ACME浦东中心, 上海" in rows[0][4]
        assert "Population 4,000,000" in rows[1][4]

    def test_cities_colour_by_share(self) -> None:
        """Cities are coloured from red (0) to green (1)."""
        assert maps._share_color(0.0) == "#d73027"
        assert maps._share_color(1.0) == "#1a9850"
        assert maps._share_color(float("nan")) == "#9e9e9e"
        page = render(maps.build_map(cities=make_cities()))
        rows = circle_rows(page, "locator-city")
        assert len(rows) == 2
        styles = json.loads(re.search(r"var styles = (\[.*?\]);", page).group(1))
        assert [styles[r[3]]["color"] for r in rows] == [
            maps._share_color(s) for s in make_cities()["share_covered"]
        ]
        assert "Covered 95%" in page
        assert "Population covered 22,800,000 of 24,000,000" in page


class TestLoadLayer:
    def test_circles_sized_by_orders_coloured_by_overload(self) -> None:
        """One circle per outlet with orders (none for an outlet without): the busier
        is larger, the overloaded one red with its tooltip saying so."""
        from locator.maps.load import LOAD_COLORS

        load = pd.DataFrame(
            {"outlet_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "city": ["上海"] * 3,
             "lat": [31.2, 31.3, 31.4], "lon": [121.4, 121.5, 121.6],
             "orders_total": [10, 70, 0], "orders_per_day_mean": [1.0, 9.0, 0.0],
             "orders_per_day_p95": [2.0, 12.0, 0.0], "capacity_per_day": [5.0, 8.0, 5.0],
             "utilisation_p95": [0.4, 1.5, 0.0], "overloaded": [False, True, False]}
        )  # fmt: skip
        page = render(maps.build_map(load=load, lang="en"))
        rows = circle_rows(page, "locator-load")
        assert len(rows) == 2 and rows[1][2] > rows[0][2]
        styles = json.loads(re.search(r"var styles = (\[.*?\]);", page).group(1))
        assert styles[rows[1][3]]["color"] == LOAD_COLORS["over"]
        assert styles[rows[0][3]]["color"] == LOAD_COLORS["ok"]
        assert "乙" in rows[1][4] and "Overloaded" in rows[1][4]


class TestSearchLayer:
    def test_origin_results_and_lines(self) -> None:
        """An origin marker, one marker and one dashed line per result, distances shown."""
        results = make_outlets(n=3).assign(distance_km=[1.25, 2.5, 7.0])
        m = maps.build_map(origin=(31.02, 121.31), results=results, origin_label="我的位置")
        page = render(m)
        assert page.count("locator-marker locator-origin") == 1
        assert page.count("locator-marker locator-result") == 3
        assert page.count("L.polyline(") == 3
        assert "1. ACME测试服务中心0 · 1.2 km" in page or "1.3 km" in page
        assert "我的位置" in page
        assert "fitBounds" in page

    def test_empty_results(self) -> None:
        """No results still draws the origin (never an empty map)."""
        page = render(maps.build_map(origin=(31.0, 121.0), results=make_outlets(n=0)))
        assert page.count("locator-origin") == 1
        assert "L.polyline(" not in page


# --------------------------------------------------------------------------- hostile text


class TestHostileText:
    def full_map(self, tiles: str | None = "osm") -> folium.Map:
        outlets = make_outlets(HOSTILE, n=3)
        return maps.build_map(
            outlets,
            tiles=tiles,
            service_areas=make_areas(HOSTILE),
            gaps=make_gaps(HOSTILE),
            cities=make_cities(HOSTILE),
            origin=(31.0, 121.3),
            results=outlets.assign(distance_km=1.0),
            origin_label=HOSTILE,
        )

    def test_every_layer_is_inert(self, tmp_path: Path, node: str) -> None:
        """Payloads in every field of every layer never appear in executable form,
        the page's tag structure is that of a benign page, and all scripts parse."""
        page = render(self.full_map())
        assert_inert(page)
        benign = make_outlets(n=3)
        ref = render(
            maps.build_map(
                benign,
                service_areas=make_areas(),
                gaps=make_gaps(),
                cities=make_cities(),
                origin=(31.0, 121.3),
                results=benign.assign(distance_km=1.0),
            )
        )
        got, want = parse(page), parse(ref)
        assert got.tags.count("script") == want.tags.count("script")
        assert "img" not in got.tags
        node_check(got.scripts, tmp_path, node)

    def test_fast_path_is_inert(self, tmp_path: Path, node: str) -> None:
        """The compact JSON path carries the escaped strings, JSON-escaped again."""
        m = maps.base_map()
        maps.outlets_layer(make_outlets(HOSTILE, n=2), fast=True).add_to(m)
        page = render(m)
        for raw in PAYLOADS:
            assert raw not in page
        assert "${alert" not in page and "\\users" not in page
        assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
        node_check(parse(page).scripts, tmp_path, node)

    def test_layer_names_are_escaped(self) -> None:
        """Layer names go to Leaflet's layer control as HTML: they are escaped."""
        m = maps.base_map()
        maps.outlets_layer(make_outlets(n=1), name=PAYLOADS[0]).add_to(m)
        maps.gaps_layer(make_gaps(), name=PAYLOADS[1]).add_to(m)
        folium.LayerControl().add_to(m)
        page = render(m)
        assert PAYLOADS[0] not in page
        assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
        assert "${alert(1)}" not in page

    def test_self_contained_page_is_inert(self, tmp_path: Path, node: str) -> None:
        """The same holds for the self-contained page (AMap tiles, everything inlined)."""
        page = embed.render_html(self.full_map("amap"), title=HOSTILE, note=HOSTILE)
        assert_inert(page)
        node_check(parse(page).scripts, tmp_path, node)

    def test_geojson_properties_escaped(self) -> None:
        """String properties of service areas are escaped before embedding."""
        layer = maps.service_areas_layer(make_areas(PAYLOADS[3]))
        m = maps.base_map()
        layer.add_to(m)
        page = render(m)
        assert "</script><script>" not in page
        assert "\\u0026lt;/script\\u0026gt;" in page


# --------------------------------------------------------------------------- embed


class TestEmbed:
    def test_self_contained_has_no_external_reference(self) -> None:
        """Leaflet, jQuery and MarkerCluster are inlined: no script src, no link, no CDN."""
        page = embed.embed_page(make_outlets(n=4))
        assert not re.search(r"<script[^>]+src=", page)
        assert not re.search(r"<link[^>]+href=", page)
        for host in ("cdn.jsdelivr", "cdnjs", "code.jquery", "tile.openstreetmap", "autonavi"):
            assert host not in page
        assert "/* leaflet (inlined) */" in page
        assert "/* jquery (inlined) */" in page
        assert "/* markerclusterjs (inlined) */" in page
        assert "/* markerclusterdefaultcss (inlined) */" in page
        assert "url(images/" not in page
        assert "data:image/png;base64," in page
        assert "sourceMappingURL" not in page

    def test_csp_limits_the_page(self) -> None:
        """A CSP meta allows inline code and data: images only (plus the tile host)."""
        page = embed.embed_page(make_outlets(n=1))
        assert "Content-Security-Policy" in page
        assert "default-src 'none'" in page
        assert "img-src data:;" in page
        amap = embed.render_html(maps.build_map(make_outlets(n=1), tiles="amap"))
        assert "img-src data: https://*.is.autonavi.com;" in amap

    def test_data_that_looks_like_css_is_fine(self) -> None:
        """Data text such as 'url(//x) @import' does not trip the external-asset check."""
        df = make_outlets("url(//evil.example/x.png) @import 'y.css'", n=1)
        page = embed.embed_page(df)
        assert "url(//evil.example/x.png) @import &#39;y.css&#39;" in page

    def test_a_stylesheet_that_fetches_is_an_error(self) -> None:
        """A <style> with a remote url() is refused."""
        m = maps.build_map(make_outlets(n=1))
        m.get_root().header.add_child(
            folium.Element("<style>.x{background:url(https://evil.example/a.png)}</style>")
        )
        with pytest.raises(ConfigurationError, match="stylesheet still fetches"):
            embed.render_html(m)

    def test_csp_follows_any_tile_layer(self) -> None:
        """The CSP img-src lists the hosts of whatever tile layers the map has."""
        m = maps.build_map(make_outlets(n=1), tiles=None)
        folium.TileLayer("https://{s}.tiles.example.org/{z}/{x}/{y}.png", attr="x").add_to(m)
        page = embed.render_html(m)
        assert "img-src data: https://*.tiles.example.org;" in page

    def test_cdn_mode(self) -> None:
        """self_contained=False keeps CDN links for the three libraries only."""
        page = embed.render_html(maps.build_map(make_outlets(n=2)), self_contained=False)
        assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in page
        assert "leaflet.markercluster.js" in page
        assert "bootstrap" not in page
        assert "Content-Security-Policy" not in page

    def test_render_does_not_modify_the_map(self) -> None:
        """Rendering self-contained, then not, still gives CDN links the second time."""
        m = maps.build_map(make_outlets(n=2))
        embed.render_html(m)
        assert "<script src=" in embed.render_html(m, self_contained=False)

    def test_unknown_external_asset_is_an_error(self) -> None:
        """A script we cannot inline is refused rather than left as a CDN request."""
        m = maps.build_map(make_outlets(n=1))
        folium.plugins.Fullscreen().add_to(m)
        with pytest.raises(ConfigurationError, match="cannot inline"):
            embed.render_html(m)

    def test_title_and_note_escaped(self) -> None:
        """Title and note appear, escaped."""
        page = embed.embed_page(make_outlets(n=1), title="<i>T</i>", note="Sample data <b>")
        assert "<title>&lt;i&gt;T&lt;/i&gt;</title>" in page
        assert "Sample data &lt;b&gt;" in page

    def test_iframe_snippet(self) -> None:
        """sandbox=allow-scripts, allow=geolocation, attributes escaped."""
        snip = embed.iframe_snippet('https://example.org/map.html?a=1&b="x"')
        assert 'sandbox="allow-scripts"' in snip
        assert 'allow="geolocation"' in snip
        assert 'src="https://example.org/map.html?a=1&amp;b=&quot;x&quot;"' in snip
        assert snip.startswith("<iframe ") and snip.endswith("</iframe>")

    def test_iframe_srcdoc(self) -> None:
        """html= puts the page in srcdoc, escaped but with its newlines intact."""
        snip = embed.iframe_snippet(html='<p a="1">x\n// y</p>')
        assert 'srcdoc="&lt;p a=&quot;1&quot;&gt;x\n// y&lt;/p&gt;"' in snip

    def test_iframe_needs_exactly_one_source(self) -> None:
        """Neither or both of src/html is an error."""
        with pytest.raises(ConfigurationError):
            embed.iframe_snippet()
        with pytest.raises(ConfigurationError):
            embed.iframe_snippet("a", html="b")


# --------------------------------------------------------------------------- locate me


class TestLocateControl:
    def test_gcj02_port_matches_python(self, tmp_path: Path, node: str) -> None:
        """The JavaScript WGS-84 -> GCJ-02 port gives the Python result (to 1e-9 deg),
        inside China, in an excluded box (Taiwan) and outside (Tokyo)."""
        points = [(39.9, 116.4), (31.23, 121.47), (43.8, 87.6), (25.03, 121.56), (35.7, 139.7)]
        script = tmp_path / "gcj.js"
        script.write_text(
            maps.GCJ02_JS
            + f"console.log(JSON.stringify({json.dumps(points)}.map("
            + "p => locatorWgsToGcj(p[0], p[1]))));",
            encoding="utf-8",
        )
        out = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        for (lat, lon), (glat, glon) in zip(points, got, strict=True):
            elon, elat = wgs84_to_gcj02(lon, lat)
            assert glat == pytest.approx(elat, abs=1e-9)
            assert glon == pytest.approx(elon, abs=1e-9)
        assert got[3] == [25.03, 121.56] and got[4] == [35.7, 139.7]  # unchanged

    def test_authorized_only_and_escaped(self) -> None:
        """Only authorized outlets are candidates; names are escaped in the JSON."""
        df = make_outlets(HOSTILE, n=3)
        m = maps.base_map(tiles=None)
        m.add_child(maps.locate_control(df, tiles=None))
        page = render(m)
        rows = json.loads(re.search(r"var rows = (\[.*?\]\]);", page).group(1))
        assert len(rows) == 2  # outlet 1 is unauthorized
        assert rows[0][4].startswith("&lt;img src=x onerror=alert(1)&gt;")
        assert "function locatorWgsToGcj" not in page
        for raw in PAYLOADS:
            assert raw not in page

    def test_amap_converts_and_embeds_the_port(self) -> None:
        """On AMap the drawn coordinates are GCJ-02 and the JS port is included."""
        df = make_outlets(n=1)
        page = render(maps.build_map(df, tiles="amap", locate=True))
        rows = json.loads(re.search(r"var rows = (\[.*?\]\]);", page).group(1))
        glon, glat = wgs84_to_gcj02(121.3, 31.0)
        assert rows[0][:2] == [31.0, 121.3]
        assert rows[0][2:4] == [round(glat, 6), round(glon, 6)]
        assert "function locatorWgsToGcj" in page

    def test_embed_page_has_it_by_default(self) -> None:
        """embed_page adds the button (locate=True) and it survives inlining/CSP."""
        page = embed.embed_page(make_outlets(n=2))
        assert "locatorShowNearest" in page
        assert "locatorShowNearest" not in embed.embed_page(make_outlets(n=2), locate=False)


class TestJavaScriptFiles:
    """The elements' JavaScript ships as package files, ``locator/maps/js/*.js``."""

    @staticmethod
    def files() -> dict[str, str]:
        folder = importlib.resources.files("locator.maps").joinpath("js")
        return {f.name: f.read_text(encoding="utf-8") for f in folder.iterdir()}

    def test_the_files_are_there(self) -> None:
        """Each element's script is found through importlib.resources (as in a wheel)."""
        assert set(self.files()) == {
            "fast_circles.js",
            "fast_markers.js",
            "gcj02.js",
            "legend.js",
            "locate.js",
            "outlines.js",
            "refit.js",
            "search.js",
        }

    def test_each_file_parses(self, tmp_path: Path, node: str) -> None:
        """Every file is valid JavaScript on its own (node --check)."""
        node_check(list(self.files().values()), tmp_path, node)

    def test_no_file_can_open_a_jinja_tag(self) -> None:
        """No file holds {{, {% or {#, so a second template pass leaves it unchanged."""
        for name, text in self.files().items():
            assert not re.search(r"\{[{%#]", text), name


class TestLabels:
    """The map shows the one set of bilingual labels (locator.labels; the app uses it too)."""

    def test_the_labels(self) -> None:
        """Kinds and categories read the same in English and Chinese, capitalised."""
        from locator.labels import CATEGORY_LABELS, KIND_LABELS

        assert KIND_LABELS == {
            "service_center": "Service center 服务中心",
            "repair_point": "Repair point 维修点",
        }
        assert CATEGORY_LABELS["refrigerator"] == "Refrigerator 冰箱"
        assert CATEGORY_LABELS["tv"] == "TV 电视"

    def test_legend_matches_the_popups(self) -> None:
        """The legend names each kind (and the unauthorized style) as the popups do."""
        page = render(maps.build_map(make_outlets(n=3)))
        m = re.search(r"locatorAddLegend\(\w+, (\".*?\")\);", page)
        assert m is not None
        legend = json.loads(m.group(1))
        for label in ("Service center 服务中心", "Repair point 维修点", "Not authorized 非授权"):
            assert label in legend
            assert label in page.replace(m.group(0), "")  # ... and in a popup
        assert "维修中心" not in page and "特约" not in page


# --------------------------------------------------------------------------- bundled data


class TestBundledData:
    @pytest.mark.parametrize("fast", [True, False])
    def test_every_outlet_is_drawn(self, fast: bool) -> None:
        """The bundled sample network renders one marker per outlet, on the compact
        path (one JSON row per outlet, one loop) and on the one-Marker-per-outlet path."""
        outlets = load_outlets()
        m = maps.base_map()
        maps.outlets_layer(outlets, fast=fast).add_to(m)
        page = render(m)
        if fast:
            found = re.search(r"var rows = (\[.*?\]);\n", page, re.S)
            assert found is not None
            rows = json.loads(found.group(1))
            assert len(rows) == len(outlets)
            assert sorted(r[0] for r in rows) == sorted(outlets["lat"].round(6))
        else:
            assert page.count("locator-marker locator-outlet") == len(outlets)
            assert page.count("L.marker(") == len(outlets)

    def test_build_map_takes_the_compact_path(self) -> None:
        """The bundled network is above FAST_THRESHOLD, so build_map draws it compactly."""
        outlets = load_outlets()
        assert len(outlets) > maps.FAST_THRESHOLD
        page = render(maps.build_map(outlets))
        assert "addLayers(made)" in page and "L.marker([r[0], r[1]]" in page
        assert page.count("L.marker(") == 1  # the loop's, no folium Marker per outlet


# --------------------------------------------------------------------------- CLI


class TestMapCommand:
    @pytest.fixture()
    def outlets_csv(self, tmp_path: Path) -> Path:
        path = tmp_path / "outlets.csv"
        make_outlets(n=4).to_csv(path, index=False)
        return path

    def run(self, *args: str):
        from typer.testing import CliRunner

        from locator.cli import app

        return CliRunner().invoke(app, ["map", *args])

    def test_self_contained_file(self, tmp_path: Path, outlets_csv: Path) -> None:
        """Writes one self-contained file; prints a JSON summary; unauthorized left out."""
        out = tmp_path / "m.html"
        r = self.run(
            "-o", str(out), "--outlets", str(outlets_csv), "--tiles", "none", "--self-contained"
        )
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout)
        assert summary["outlets"] == 3  # outlet 1 is unauthorized
        page = out.read_text(encoding="utf-8")
        assert page.count("locator-marker locator-outlet") == 3
        assert "<script src=" not in page
        assert "Synthetic sample data" not in page  # the user's own network

    def test_include_unauthorized_and_city(self, tmp_path: Path, outlets_csv: Path) -> None:
        """--include-unauthorized draws all; --city filters (and ignores a 市 suffix)."""
        out = tmp_path / "m.html"
        r = self.run(
            "-o",
            str(out),
            "--outlets",
            str(outlets_csv),
            "--include-unauthorized",
            "--city",
            "上海市",
        )
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["outlets"] == 4

    def test_unknown_city(self, tmp_path: Path, outlets_csv: Path) -> None:
        """A city with no outlets exits 2 with a one-line error."""
        r = self.run("-o", str(tmp_path / "m.html"), "--outlets", str(outlets_csv), "--city", "上")
        assert r.exit_code == 2
        assert "no outlets in city" in r.output

    def test_bad_layer_and_tiles(self, tmp_path: Path, outlets_csv: Path) -> None:
        """Unknown layers or tiles exit 2."""
        out = str(tmp_path / "m.html")
        r = self.run("-o", out, "--outlets", str(outlets_csv), "--layers", "outlets,heat")
        assert r.exit_code == 2 and "unknown layer(s) heat" in r.output
        r = self.run("-o", out, "--outlets", str(outlets_csv), "--tiles", "google")
        assert r.exit_code == 2 and "unknown tiles" in r.output

    def test_coverage_layers_on_the_bundled_data(self, tmp_path: Path) -> None:
        """--layers coverage,gaps,cities draws service areas, the largest gaps, cities."""
        out = tmp_path / "m.html"
        r = self.run(
            "-o",
            str(out),
            "--layers",
            "outlets,coverage,gaps,cities",
            "--max-gaps",
            "7",
            "--tiles",
            "none",
        )
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout)
        assert summary["gaps"] == 7 and summary["gaps_total"] >= 7
        assert summary["service_areas"] > 0 and summary["cities"] > 0
        page = out.read_text(encoding="utf-8")
        assert "Synthetic sample data" in page  # the bundled network says what it is
        assert len(circle_rows(page, "locator-gap")) == 7
        assert len(circle_rows(page, "locator-city")) == summary["cities"]
        assert "L.geoJson(" in page
