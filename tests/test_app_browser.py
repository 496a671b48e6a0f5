"""The app in a real headless Chromium: `streamlit run app.py`, the network cut off."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("streamlit did not start:\n" + log.read_text(errors="replace"))
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class Offline:
    page: Any
    url: str
    blocked: list[str] = field(default_factory=list)


@pytest.fixture
def offline(browser: Any, app_url: str) -> Iterator[Offline]:
    """A page that may only talk to the app itself: every other request is aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    env = Offline(context.new_page(), app_url)

    def route(r: Any) -> None:
        u = r.request.url
        if u.startswith((app_url, "data:", "blob:", "about:")):
            r.continue_()
        else:
            env.blocked.append(u)
            r.abort()

    context.route("**/*", route)
    yield env
    context.close()


def _map_frame(page: Any) -> Any:
    return page.frame_locator('iframe[title*="st_folium"]').first


class TestAppInBrowser:
    def test_markers_draw_with_the_network_off(self, offline: Offline, artifacts_dir: Path) -> None:
        """With every non-local request blocked, the map still draws the outlets
        (Leaflet is served by the app itself), and no script or style was wanted from a CDN."""
        page = offline.page
        page.goto(offline.url)
        frame = _map_frame(page)
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        markers = frame.locator(".marker-cluster, .leaflet-marker-icon, path.leaflet-interactive")
        markers.first.wait_for(timeout=30_000)
        assert markers.count() > 5
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts_dir / "app-offline.png"))
        assets = [u for u in offline.blocked if u.split("?")[0].endswith((".js", ".css"))]
        assert assets == []

    def test_typed_address_shows_nearest_centers(
        self, offline: Offline, artifacts_dir: Path
    ) -> None:
        """Typing a district shows the nearest authorized outlets with distances and
        estimated drive times, and the map zooms to them."""
        page = offline.page
        page.goto(offline.url + "/?lang=en")
        box = page.get_by_role("textbox", name="Address, district or city")
        box.wait_for(timeout=60_000)
        box.fill("深圳南山区科技园")
        box.press("Enter")
        page.get_by_text("Nearest to").first.wait_for(timeout=60_000)
        card = page.locator(".st-key-result-0")
        card.wait_for(timeout=30_000)
        text = card.inner_text()
        assert "km" in text and "min drive (est.)" in text and "ACME" in text
        frame = _map_frame(page)
        frame.locator(".locator-origin, .leaflet-marker-icon").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts_dir / "app-search.png"))

    def test_map_click_finds_the_nearest(self, offline: Offline, artifacts_dir: Path) -> None:
        """Clicking the map (no typed query) searches from the clicked point."""
        page = offline.page
        page.goto(offline.url + "/?lang=en")
        frame = _map_frame(page)
        container = frame.locator(".leaflet-container")
        container.wait_for(timeout=60_000)
        frame.locator(".marker-cluster, .leaflet-marker-icon").first.wait_for(timeout=30_000)
        box = container.bounding_box()
        assert box is not None
        page.wait_for_timeout(1000)  # let the map settle on the national view
        # Open sea in the bottom-right of the national view: a plain map click (a click
        # on a cluster would zoom instead).
        page.mouse.click(box["x"] + box["width"] * 0.93, box["y"] + box["height"] * 0.80)
        heading = page.get_by_text("Nearest to Map point")
        heading.first.wait_for(timeout=60_000)
        text = page.locator(".st-key-result-0").inner_text()
        assert "km" in text and "min drive (est.)" in text
        page.screenshot(path=str(artifacts_dir / "app-click.png"))

    def test_coverage_view(self, offline: Offline, artifacts_dir: Path) -> None:
        """The coverage tab shows the covered share and draws the coverage map offline."""
        page = offline.page
        page.goto(offline.url + "/?lang=en")
        page.get_by_role("tab", name="Coverage").click()
        metric = page.get_by_test_id("stMetric").first
        metric.wait_for(timeout=60_000)
        assert "Population covered" in metric.inner_text()
        assert "%" in metric.inner_text()
        frame = page.frame_locator('iframe[title*="st_folium"]').last  # the open view's map
        frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
        # the tiles are blocked: the offline outlines of provinces and prefectures appear
        frame.locator('.leaflet-container[data-locator-outlines="shown"]').wait_for(timeout=60_000)
        lines = frame.locator(".leaflet-locatorOutlines-pane path")
        assert lines.count() == 2  # province lines, prefecture lines
        assert len(lines.first.get_attribute("d") or "") > 10_000  # real borders, not a stub
        page.wait_for_timeout(1000)
        page.screenshot(path=str(artifacts_dir / "app-coverage.png"))

    def test_scenario_map_click_adds_a_candidate(
        self, offline: Offline, artifacts_dir: Path
    ) -> None:
        """In the What-if panel, a click on the scenario map adds a candidate there and
        the scenario's figures appear (the network itself is not changed)."""
        page = offline.page
        page.goto(offline.url + "/?lang=en")
        page.get_by_role("tab", name="Coverage").click()
        page.get_by_test_id("stMetric").first.wait_for(timeout=60_000)
        cov = page.frame_locator('iframe[title*="st_folium"]').last  # the coverage map
        cov.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
        page.get_by_text("What-if scenarios").first.click()
        maps = page.locator('iframe[title*="st_folium"]')
        before = maps.count()
        toggle = page.locator(".st-key-scen-map input")
        for _ in range(3):  # a click during the fragment's rerun can be lost: retry
            if toggle.is_checked():
                break
            page.get_by_text("Scenario map (click to add a candidate)").first.click()
            page.wait_for_timeout(2000)
        assert toggle.is_checked()
        page.get_by_text("The scenario's outlets and gaps").first.wait_for(timeout=60_000)
        page.wait_for_function(
            f"document.querySelectorAll('iframe[title*=\"st_folium\"]').length > {before}",
            timeout=60_000,
        )
        frame = page.frame_locator('iframe[title*="st_folium"]').last  # the scenario map
        container = frame.locator(".leaflet-container")
        container.wait_for(timeout=60_000)
        frame.locator(".marker-cluster, .leaflet-marker-icon").first.wait_for(timeout=60_000)
        container.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)  # let the map settle
        box = container.bounding_box()
        assert box is not None
        # open sea at the bottom right, away from the clustered markers (a click on a
        # cluster zooms instead)
        container.click(position={"x": box["width"] * 0.93, "y": box["height"] * 0.85})
        page.get_by_text("Candidate 1:").first.wait_for(timeout=60_000)
        page.get_by_text("Scenario: 1 added, 0 switched off").first.wait_for(timeout=60_000)
        maps = page.frame_locator('iframe[title*="st_folium"]')
        redrawn = maps.last.locator(".leaflet-container")
        redrawn.wait_for(timeout=60_000)  # the scenario map is drawn again, with the candidate
        page.get_by_text("Candidate 1:").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts_dir / "app-scenario.png"))

    def test_phone_sees_the_first_result_without_scrolling(
        self, browser: Any, app_url: str, artifacts_dir: Path
    ) -> None:
        """On a 375 x 667 phone screen, in the default language (中文), a search shows
        the first result card whole above the fold, before the map."""
        context = browser.new_context(
            viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        try:
            page.goto(app_url)
            box = page.get_by_role("textbox", name="地址、区县或城市")
            box.wait_for(timeout=60_000)
            box.fill("杭州西湖区")
            box.press("Enter")
            card = page.locator(".st-key-result-0")
            card.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            assert page.evaluate("window.scrollY") == 0
            top = card.bounding_box()
            assert top is not None
            assert top["y"] >= 0 and top["y"] + top["height"] <= 667, top
            text = card.inner_text()
            assert "km" in text and "驾车约" in text and "分钟" in text
            page.screenshot(path=str(artifacts_dir / "app-phone.png"))
        finally:
            context.close()
