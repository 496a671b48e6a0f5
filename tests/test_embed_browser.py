"""Browser tests: the self-contained map in a real headless Chromium, network blocked.

Each test writes a page with :mod:`locator.embed` to ``tmp_path``, opens it from
``file://`` with every request that is not ``file:`` or ``data:`` aborted (and
counted: there must be none), and asserts on what a person would see: the markers
drawn, popups showing hostile text literally, nothing executed. Screenshots go to
the ``artifacts_dir`` fixture.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
import pandas as pd
import pytest
from hostile import TEMPLATE, XSS

from locator import embed, maps
from locator.data import load_outlets

pytestmark = pytest.mark.browser

# From the shared corpus: script payloads and Jinja template payloads (shown literally).
PAYLOADS = [*XSS[:5], *TEMPLATE[:5]]

# Hooks installed before any page script runs: every way a payload could "fire".
HOOKS = """
window.__fired = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...args) => { window.__fired.push(name + ":" + args.join(",")); };
}
"""

COUNT_JS = """() => {
  const clusters = [...document.querySelectorAll('.marker-cluster')]
      .map(e => parseInt(e.textContent, 10));
  return {
    outlets: document.querySelectorAll('.leaflet-marker-icon.locator-outlet').length,
    clusters: clusters,
    clustered: clusters.reduce((a, b) => a + b, 0),
    results: document.querySelectorAll('.leaflet-marker-icon.locator-result').length,
    origin: document.querySelectorAll('.leaflet-marker-icon.locator-origin').length,
    gaps: document.querySelectorAll('path.locator-gap').length,
    cities: document.querySelectorAll('path.locator-city').length,
    lines: document.querySelectorAll('path.locator-line').length,
    paths: document.querySelectorAll('path.leaflet-interactive').length,
    fired: window.__fired,
    imgs: document.querySelectorAll('.leaflet-pane img, .leaflet-control img').length,
  };
}"""


def settle(page: Any, timeout_ms: int = 4000) -> None:
    """Wait until no zoom animation runs and the marker/cluster counts stop changing."""
    page.wait_for_function(
        """() => {
          if (document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim')) {
            window.__last = null; return false;
          }
          const now = document.querySelectorAll('.leaflet-marker-icon').length + ':' +
              [...document.querySelectorAll('.marker-cluster')].map(e => e.textContent).join();
          const same = window.__last === now;
          window.__last = now;
          return same;
        }""",
        polling=150,
        timeout=timeout_ms,
    )


@dataclass
class Opened:
    page: Any
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return self.page.evaluate(COUNT_JS)


@pytest.fixture()
def open_page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """Open an HTML string from file:// with all non-file/data requests aborted."""
    contexts: list[Any] = []

    def _open(
        html: str,
        name: str = "map.html",
        wait_for: str | None = ".leaflet-container",
        **context_options: Any,
    ) -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        ctx = browser.new_context(viewport={"width": 1000, "height": 700}, **context_options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        opened = Opened(page)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:")):
                r.continue_()
            else:
                opened.external.append(url)
                r.abort()

        page.route("**/*", route)
        page.on(
            "console",
            lambda m: opened.errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: opened.errors.append(f"pageerror: {e}"))
        page.add_init_script(HOOKS)
        page.goto(path.as_uri())
        if wait_for:
            page.wait_for_selector(wait_for)
            settle(page)
        return opened

    yield _open
    for ctx in contexts:
        ctx.close()


def synthetic_outlets(text: str | None = None, n: int = 24) -> pd.DataFrame:
    """``n`` outlets in three groups (Shanghai, Beijing, Chengdu) so clusters form."""
    centres = [(31.23, 121.47), (39.90, 116.40), (30.66, 104.06)]
    rows = []
    for i in range(n):
        lat, lon = centres[i % 3]
        k = i // 3
        rows.append(
            {
                "outlet_id": f"B{i:03d}",
                "name": text if text is not None else f"ACME测试网点{i}",
                "kind": "service_center" if i % 4 == 0 else "repair_point",
                "province": "测试省",
                "city": text if text is not None else "测试市",
                "district": "测试区",
                "address": text if text is not None else f"测试路{i}号",
                "phone": text if text is not None else f"000-555-{i:04d}",
                "hours": "09:00-18:00",
                "categories": "washer;tv",
                "authorized": True,
                "coord_sys": "wgs84",
                "lat": lat + 0.02 * (k % 4),
                "lon": lon + 0.02 * (k // 4),
            }
        )
    return pd.DataFrame(rows)


def test_offline_map_draws_every_marker(open_page: Any, artifacts_dir: Path) -> None:
    """The self-contained page (tiles none) makes no http(s) request, logs no error,
    and draws every outlet (single or inside a cluster), gap, city and service area."""
    outlets = synthetic_outlets(n=24)
    gaps = pd.DataFrame(
        {
            "name": ["Gap A", "Gap B", "Gap C"],
            "lat": [35.0, 28.0, 45.0],
            "lon": [110.0, 115.0, 125.0],
            "population": [50_000, 2_000_000, 300_000],
            "nearest_km": [120.0, 80.0, 300.0],
        }
    )
    cities = pd.DataFrame(
        {
            "city": ["上海", "北京"],
            "lat": [31.23, 39.90],
            "lon": [121.47, 116.40],
            "share_covered": [0.9, 0.3],
        }
    )
    ring = [[121.3, 31.0], [121.7, 31.0], [121.7, 31.4], [121.3, 31.4], [121.3, 31.0]]
    areas = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"name": "上海", "area_km2": 1500.0, "outlets": 8},
            }
        ],
    }
    html = embed.embed_page(
        outlets, tiles=None, gaps=gaps, cities=cities, service_areas=areas, note="Sample data"
    )
    opened = open_page(html)
    c = opened.counts()
    opened.page.screenshot(path=str(artifacts_dir / "embed_offline.png"))
    assert opened.external == []
    assert opened.errors == []
    assert c["outlets"] + c["clustered"] == len(outlets)
    assert c["clusters"], "24 outlets in 3 tight groups should cluster at the national zoom"
    assert c["gaps"] == 3
    assert c["cities"] == 2
    assert c["paths"] == 3 + 2 + 1  # gaps + cities + one service-area polygon
    assert c["imgs"] == 0  # no tile images, no image markers
    assert opened.page.locator(".locator-note").inner_text() == "Sample data"


@pytest.mark.parametrize("fast", [False, True], ids=["folium-markers", "fast-json"])
def test_zooming_in_uncluster_all_markers(open_page: Any, artifacts_dir: Path, fast: bool) -> None:
    """Zoomed into one group, its outlets are drawn one by one (all of them)."""
    outlets = synthetic_outlets(n=12)
    m = maps.base_map(tiles=None)
    maps.outlets_layer(outlets, fast=fast).add_to(m)
    opened = open_page(embed.render_html(m))
    opened.page.evaluate(
        """() => {
          for (const k in window) {
            const v = window[k];
            if (v && v instanceof L.Map) v.setView([31.26, 121.49], 13, {animate: false});
          }
        }"""
    )
    settle(opened.page)
    c = opened.counts()
    opened.page.screenshot(path=str(artifacts_dir / "embed_zoomed.png"))
    assert c["outlets"] == 4  # 12 outlets, every third in Shanghai
    assert c["clusters"] == []
    assert opened.external == [] and opened.errors == []


@pytest.mark.parametrize("fast", [False, True], ids=["folium-markers", "fast-json"])
def test_hostile_text_is_shown_not_run(open_page: Any, artifacts_dir: Path, fast: bool) -> None:
    """Payloads in names, addresses, tooltips, layer names and the title never execute;
    the popup shows them literally (both marker paths)."""
    hostile = " | ".join(PAYLOADS)
    outlets = synthetic_outlets(hostile, n=3)  # one per city: no clusters
    m = maps.base_map(tiles=None)
    maps.outlets_layer(outlets, name=hostile, fast=fast).add_to(m)
    results = outlets.assign(distance_km=12.5, lon=outlets["lon"] - 1.5)  # apart from outlets
    maps.search_layer((31.0, 119.0), results, origin_label=hostile, name=PAYLOADS[1]).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[30, 104], [40, 122]])
    opened = open_page(embed.render_html(m, title=hostile, note=hostile))
    page = opened.page

    markers = page.locator(".leaflet-marker-icon.locator-outlet")
    assert markers.count() == 3
    markers.nth(0).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    page.wait_for_timeout(300)  # give an injected onerror the chance to fire
    text = popup.inner_text()
    for p in PAYLOADS:
        assert p in text, f"{p!r} is not displayed literally"
    assert popup.locator("img").count() == 0
    assert popup.locator("a[href^='https://uri.amap.com/navigation']").count() == 1

    # Tooltip (hover) and layer-control labels: literal text too.
    page.locator(".leaflet-marker-icon.locator-origin").hover()
    page.wait_for_timeout(200)
    assert PAYLOADS[0] in page.locator(".leaflet-tooltip").last.inner_text()
    labels = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert PAYLOADS[0] in labels and PAYLOADS[1] in labels
    assert page.title() == hostile
    assert PAYLOADS[3] in page.locator(".locator-note").inner_text()

    page.screenshot(
        path=str(artifacts_dir / f"embed_hostile_popup_{'fast' if fast else 'folium'}.png")
    )
    c = opened.counts()
    assert c["fired"] == []
    assert c["results"] == 3 and c["lines"] == 3 and c["origin"] == 1
    assert opened.external == []
    assert [e for e in opened.errors if "Failed to load resource" not in e] == []


def test_bundled_network_via_cli(open_page: Any, artifacts_dir: Path, tmp_path: Path) -> None:
    """`locator map --tiles none --self-contained` on the sample network draws one
    marker per authorized outlet, offline."""
    from typer.testing import CliRunner

    from locator.cli import app

    outlets = load_outlets()
    out = tmp_path / "network.html"
    args = ["map", "-o", str(out), "--tiles", "none", "--self-contained"]
    layers = ["--layers", "outlets,coverage,gaps,cities", "--max-gaps", "40"]
    has_coverage = importlib.util.find_spec("locator.coverage") is not None
    r = CliRunner().invoke(app, args + (layers if has_coverage else []))
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    opened = open_page(out.read_text(encoding="utf-8"), name="network-view.html")
    c = opened.counts()
    opened.page.screenshot(path=str(artifacts_dir / "embed_sample_network.png"))
    assert opened.external == [] and opened.errors == []
    assert c["outlets"] + c["clustered"] == int(outlets["authorized"].sum())
    assert c["gaps"] == summary["gaps"]
    assert c["cities"] == summary["cities"]
    # one SVG path per service area (a MultiPolygon is one path), gap and city
    assert c["paths"] == summary["service_areas"] + summary["gaps"] + summary["cities"]


def test_iframe_sandbox(open_page: Any, artifacts_dir: Path) -> None:
    """The map works inside the documented sandboxed iframe (srcdoc, allow-scripts)."""
    inner = embed.embed_page(synthetic_outlets(n=6), tiles=None)
    host = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        "<h1>Host page</h1>"
        + embed.iframe_snippet(html=inner, width=800, height=500)
        + "</body></html>"
    )
    opened = open_page(host, name="host.html", wait_for=None)
    frame = opened.page.frame_locator("iframe")
    frame.locator(".leaflet-container").wait_for()
    opened.page.wait_for_timeout(1000)  # the frame is sandboxed: wait, no JS polling
    single = frame.locator(".leaflet-marker-icon.locator-outlet").count()
    clusters = frame.locator(".marker-cluster").all_inner_texts()
    opened.page.screenshot(path=str(artifacts_dir / "embed_iframe.png"))
    assert single + sum(int(t) for t in clusters) == 6
    assert opened.external == [] and opened.errors == []


def test_nearest_to_me(open_page: Any, artifacts_dir: Path) -> None:
    """The "nearest to me" button uses the browser position (granted) and lists the
    three nearest outlets, nearest first, with lines to them, all offline."""
    outlets = synthetic_outlets(n=12)
    opened = open_page(
        embed.embed_page(outlets, tiles=None),
        geolocation={"latitude": 31.25, "longitude": 121.50},
        permissions=["geolocation"],
    )
    page = opened.page
    page.locator(".locator-locate-btn").click()
    page.locator(".locator-nearest li").first.wait_for()
    settle(page)
    items = page.locator(".locator-nearest li").all_inner_texts()
    page.screenshot(path=str(artifacts_dir / "embed_nearest_to_me.png"))
    assert len(items) == 3
    km = [float(t.rsplit("·", 1)[1].replace("km", "").strip()) for t in items]
    assert km == sorted(km) and km[0] < 5
    assert all("ACME测试网点" in t for t in items)
    assert page.locator(".leaflet-marker-icon.locator-me").count() == 1
    assert page.locator("path.locator-line").count() == 3
    assert opened.external == [] and opened.errors == []


@pytest.mark.parametrize(
    ("tiles", "host"), [("osm", "tile.openstreetmap.org"), ("amap", ".is.autonavi.com")]
)
def test_tiles_are_the_only_requests(open_page: Any, tiles: str, host: str) -> None:
    """With a basemap, the only http(s) requests are tile images from its host (the
    CSP allows them: no 'Refused to load' errors); the map draws without them."""
    opened = open_page(embed.embed_page(synthetic_outlets(n=6), tiles=tiles))
    assert opened.external, "tiles should have been requested"
    assert all(host in (urlsplit(u).hostname or "") for u in opened.external), opened.external
    assert not [e for e in opened.errors if "Content Security Policy" in e or "Refused" in e]
    c = opened.counts()
    assert c["outlets"] + c["clustered"] == 6
