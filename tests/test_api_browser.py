"""Browser tests of ``/embed/map`` as served over HTTP: headers enforced by a real Chromium.

A uvicorn server runs in a thread on 127.0.0.1 (a free port). A second tiny server
(also loopback) serves a host page that frames ``/embed/map``; the API allows it as a
frame ancestor under the origin ``http://127.0.0.1:<host port>`` only, so the same page
opened as ``http://localhost:<host port>`` (another origin) must be refused. (Both are
loopback: Chromium's local-network-access checks block a public page framing a
loopback URL, whatever the CSP says.) Every request to anything else is aborted and
counted. What a person sees is asserted: the map drawn, the iframe refused where the
CSP says so, hostile text shown literally and never executed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from locator.api import create_app

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

HOOKS = """
window.__fired = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...args) => { window.__fired.push(name + ":" + args.join(",")); };
}
"""
PAYLOAD = "<img src=x onerror=alert(1)>"


class FakeGeocoder:
    """Geocodes everything to central Suzhou (so a payload query draws a search)."""

    def geocode(self, query: str) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(
            latitude=31.2996,
            longitude=120.5815,
            address="江苏省苏州市",
            raw={"ambiguous": False, "candidates": [], "source": "fake"},
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Servers:
    api: str  # base URL of the API
    host_port: int  # port of the host-page server


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """The API and a host-page server, both on 127.0.0.1 in threads."""
    import uvicorn

    api_port = _free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    src = f"{api_url}/embed/map?tiles=none&city=%E8%8B%8F%E5%B7%9E"
    host_page = (
        # The markup the docs recommend: sandboxed (opaque origin), scripts allowed.
        f'<!doctype html><title>host</title><iframe id="m" src="{src}" width="600" '
        'height="400" sandbox="allow-scripts" allow="geolocation"></iframe>'
    ).encode()

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(host_page)))
            self.end_headers()
            self.wfile.write(host_page)

        def log_message(self, *args: Any) -> None:
            pass

    host = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    host_port = int(host.server_address[1])
    host_thread = threading.Thread(target=host.serve_forever, daemon=True)
    host_thread.start()

    app = create_app(
        geocoder=FakeGeocoder(), frame_ancestors=("'self'", f"http://127.0.0.1:{host_port}")
    )
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield Servers(api_url, host_port)
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        host.shutdown()
        host.server_close()


@pytest.fixture
def server(servers: Servers) -> str:
    return servers.api


@pytest.fixture
def page(browser: Any, servers: Servers) -> Iterator[Any]:
    """A page where only the two local servers are reachable (others aborted, counted)."""
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(HOOKS)
    page.blocked = []
    page.csp_errors = []
    allowed = {
        urlsplit(servers.api).netloc,
        f"127.0.0.1:{servers.host_port}",
        f"localhost:{servers.host_port}",
    }

    def route(r: Any) -> None:
        url = urlsplit(r.request.url)
        if url.netloc in allowed or url.scheme in ("data", "about"):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda m: (
            page.csp_errors.append(m.text)
            if "Content Security Policy" in m.text or "Refused" in m.text
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()


def marker_count(frame: Any) -> int:
    return int(
        frame.evaluate(
            "() => document.querySelectorAll('.leaflet-marker-icon, .marker-cluster').length"
        )
    )


class TestEmbedMapInBrowser:
    def test_page_draws_without_external_requests(
        self, page: Any, server: str, artifacts_dir: Any
    ) -> None:
        """Opened directly, the page draws the city's outlets, requests nothing outside
        the server and triggers no CSP violation."""
        page.goto(f"{server}/embed/map?tiles=none&city=%E8%8B%8F%E5%B7%9E")
        page.wait_for_selector(".leaflet-container")
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-marker-icon').length > 0", timeout=10000
        )
        page.screenshot(path=str(artifacts_dir / "api-embed-map.png"))
        assert marker_count(page) > 0
        assert page.blocked == []
        assert page.csp_errors == []

    def test_allowed_ancestor_can_frame_it(
        self, page: Any, servers: Servers, artifacts_dir: Any
    ) -> None:
        """A host listed in frame-ancestors embeds the map in an iframe."""
        page.goto(f"http://127.0.0.1:{servers.host_port}/")
        frame = page.frame_locator("#m")
        frame.locator(".leaflet-marker-icon").first.wait_for(timeout=10000)
        child = next(f for f in page.frames if f != page.main_frame)
        child.wait_for_function(  # fitted to the city: the scale bar reads in metres/km < 100
            "() => /^\\d+ (m|km)$/.test(document.querySelector('.leaflet-control-scale-line')"
            "?.textContent || '') && parseInt(document.querySelector("
            "'.leaflet-control-scale-line').textContent) < 100",
            timeout=10000,
        )
        page.screenshot(path=str(artifacts_dir / "api-embed-allowed-iframe.png"))
        assert page.blocked == []

    def test_other_sites_cannot_frame_it(self, page: Any, servers: Servers) -> None:
        """A host not in frame-ancestors (same page, another origin) gets a refused
        frame: no map inside, and Chromium reports the frame-ancestors violation."""
        page.goto(f"http://localhost:{servers.host_port}/")
        page.wait_for_timeout(1500)  # give a (wrongly) allowed frame time to draw
        child = next((f for f in page.frames if f != page.main_frame), None)
        assert child is not None
        drawn = child.evaluate("() => !!document.querySelector('.leaflet-container')")
        assert drawn is False
        assert any("frame-ancestors" in e for e in page.csp_errors)

    @pytest.mark.parametrize(
        "payload",
        [PAYLOAD, "北京 {{ 7*7 }}", "北京 {% for x in range(3) %}LOC{{ x }}{% endfor %} {#"],
        ids=["script", "jinja-expression", "jinja-statement"],
    )
    def test_hostile_query_shown_literally(self, page: Any, server: str, payload: str) -> None:
        """A payload in q (script or template) is drawn as text, the characters the
        user typed (the origin tooltip), and never runs or is evaluated."""
        page.goto(f"{server}/embed/map?tiles=none&k=1&q={quote(payload)}")
        page.wait_for_selector(".leaflet-marker-icon.locator-origin", timeout=10000)
        page.hover(".leaflet-marker-icon.locator-origin")
        tip = page.wait_for_selector(".leaflet-tooltip", timeout=5000)
        assert payload in tip.inner_text()
        assert page.evaluate("() => window.__fired") == []
        assert page.blocked == []
