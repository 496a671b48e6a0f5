"""Browser tests for planners' maps (#15): outlines with no network, the district choropleth.

Pages are opened from ``file://`` in headless Chromium with every request that is not
``file:`` or ``data:`` aborted, like ``tests/test_embed_browser.py``. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from locator import embed
from locator.cli import app as cli_app
from locator.coverage import CoverageModel
from locator.data import load_cities, load_outlets, load_places

pytestmark = pytest.mark.browser

OUTLINES_JS = """() => {
  const paths = [...document.querySelectorAll('.leaflet-locatorOutlines-pane path')];
  return {
    paths: paths.length,
    segments: paths.map(p => (p.getAttribute('d') || '').split('M').length - 1),
    state: document.querySelector('.leaflet-container').getAttribute('data-locator-outlines'),
  };
}"""


@pytest.fixture()
def open_offline(browser: Any, tmp_path: Path) -> Iterator[Any]:
    contexts: list[Any] = []

    def _open(html: str, name: str) -> tuple[Any, list[str]]:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        ctx = browser.new_context(viewport={"width": 1000, "height": 700})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        blocked: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container")
        return page, blocked

    yield _open
    for ctx in contexts:
        ctx.close()


def test_offline_coverage_map_shows_outlines(
    open_offline: Any, artifacts_dir: Path, tmp_path: Path
) -> None:
    """`locator map --layers outlets,coverage --tiles none`: with no network at all the
    map still shows China: the province and prefecture outlines are drawn."""
    out = tmp_path / "coverage.html"
    r = CliRunner().invoke(
        cli_app, ["map", "-o", str(out), "--tiles", "none", "--layers", "outlets,coverage"]
    )
    assert r.exit_code == 0, r.output
    page, blocked = open_offline(out.read_text("utf-8"), "coverage.html")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-locatorOutlines-pane path').length > 0"
    )
    c = page.evaluate(OUTLINES_JS)
    page.screenshot(path=str(artifacts_dir / "planner_offline_outlines.png"))
    assert blocked == []
    assert c["paths"] == 2 and c["state"] == "shown"  # province lines, prefecture lines
    assert min(c["segments"]) > 100  # hundreds of border lines, not an empty shape


def test_unreachable_tiles_bring_the_outlines(open_offline: Any, artifacts_dir: Path) -> None:
    """With OSM tiles chosen but unreachable, the outlines appear once a tile fails."""
    html = embed.embed_page(load_outlets().head(50), tiles="osm")
    page, blocked = open_offline(html, "tiles-blocked.html")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-locatorOutlines-pane path').length > 0"
    )
    c = page.evaluate(OUTLINES_JS)
    page.screenshot(path=str(artifacts_dir / "planner_tiles_blocked_outlines.png"))
    assert any("tile.openstreetmap.org" in u for u in blocked)
    assert c["paths"] == 2 and c["state"] == "shown"


def test_district_choropleth(open_offline: Any, artifacts_dir: Path) -> None:
    """The choropleth on the bundled data: one shape per district, a legend, and a hover
    card naming the district with its figures."""
    model = CoverageModel(load_outlets(), load_places(), load_cities())
    report = model.report(drive_minutes=120, by="district")
    html = embed.render_html(
        __import__("locator.maps", fromlist=["build_map"]).build_map(
            None, tiles=None, districts=report
        ),
        title="districts",
    )
    page, blocked = open_offline(html, "choropleth.html")
    page.wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length")
    n = page.evaluate("() => document.querySelectorAll('path.leaflet-interactive').length")
    assert n == len(report.districts)
    legend = page.inner_text(".locator-legend")
    assert "no data" in legend and "100%" in legend
    # hover the district around Beijing's centre
    page.evaluate(
        "() => { const m = Object.values(window).find(v => v && v._container && v.fitBounds);"
        " m.setView([39.93, 116.40], 9, {animate: false}); }"
    )
    page.wait_for_timeout(300)
    page.mouse.move(500, 350)
    page.wait_for_selector(".leaflet-tooltip")
    card = page.inner_text(".leaflet-tooltip")
    page.screenshot(path=str(artifacts_dir / "planner_district_choropleth.png"))
    assert blocked == []
    assert "District" in card and "Nearest outlet" in card and "km" in card
