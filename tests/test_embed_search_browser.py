"""Browser tests: the embeddable locator's search box in headless Chromium, offline.

Each page is written as ``locator map`` writes it (self-contained, the bundled
synthetic network or a hostile one), opened from ``file://`` with every request that
is not ``file:`` or ``data:`` aborted and counted (there must be none), and the test
types into the search box as a person would, asserting on the listed outlets, the
candidates of an ambiguous name, the map's popup and the layout on a phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile import TEMPLATE, XSS, hostile_outlets
from test_embed_browser import HOOKS, Opened

from locator import pages
from locator.data import load_outlets

pytestmark = pytest.mark.browser

STATUS_HAS = "() => document.querySelector('.locator-search-status').textContent.includes('{}')"
RESULTS_JS = """() => [...document.querySelectorAll('.locator-result')].map(li => ({
  name: li.querySelector('.locator-result-name').textContent,
  meta: li.querySelector('.locator-result-meta').textContent,
  open: (li.querySelector('.locator-result-open') || {}).textContent || '',
  address: (li.querySelector('.locator-result-address') || {}).textContent || '',
  links: [...li.querySelectorAll('a')].map(a => a.getAttribute('href')),
}))"""


@pytest.fixture(scope="module")
def sample_page() -> str:
    """The bundled (synthetic) network's page, as `locator map` makes it."""
    outlets = load_outlets()
    outlets = outlets[outlets["authorized"].astype(bool)]
    return pages.page_layers(outlets).page(tiles=None, sample=True, search=True)


@pytest.fixture()
def open_page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """Open an HTML string from file:// with all non-file/data requests aborted."""
    contexts: list[Any] = []

    def _open(html: str, width: int = 1000, height: int = 700, **options: Any) -> Opened:
        path = tmp_path / "locator.html"
        path.write_text(html, encoding="utf-8")
        ctx = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        opened = Opened(page)

        def route(r: Any) -> None:
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                opened.external.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: opened.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
        page.add_init_script(HOOKS)
        page.goto(path.as_uri())
        page.wait_for_selector("input[type=search]")
        return opened

    yield _open
    for ctx in contexts:
        ctx.close()


def search(opened: Opened, text: str) -> None:
    """Type ``text`` into the box and press Enter, as a person would."""
    box = opened.page.locator("input[type=search]")
    box.fill("")
    box.type(text)
    box.press("Enter")


def results(opened: Opened, n: int = 1) -> list[dict[str, Any]]:
    opened.page.wait_for_function(
        f"() => document.querySelectorAll('.locator-result').length >= {n}", timeout=5000
    )
    return opened.page.evaluate(RESULTS_JS)


class TestOfflineSearch:
    def test_chinese_district_lists_the_nearest_outlets(
        self, open_page: Any, sample_page: str
    ) -> None:
        """杭州西湖区 lists 5 Hangzhou outlets, nearest first, with km, a drive estimate,
        an open-now label, directions routed from 西湖区 and tel links; no request."""
        opened = open_page(sample_page)
        search(opened, "杭州西湖区")
        got = results(opened, 5)
        assert len(got) == 5
        kms = [float(r["meta"].split(" km")[0].split("· ")[-1]) for r in got]
        assert kms == sorted(kms) and kms[0] < 5
        assert all("杭州" in r["address"] for r in got[:3])
        assert all("约" in r["meta"] and "分钟" in r["meta"] for r in got)
        assert all(r["open"] for r in got)
        first = got[0]["links"]
        assert any(h.startswith("tel:") for h in first)
        amap = next(h for h in first if h.startswith("https://uri.amap.com/navigation?from="))
        assert "%E8%A5%BF%E6%B9%96%E5%8C%BA" in amap  # from 西湖区
        status = opened.page.inner_text(".locator-search-status")
        assert "浙江省杭州市西湖区" in status
        assert opened.external == [] and opened.errors == []

    @pytest.mark.parametrize("query", ["Xi'an", "xian", "西安"])
    def test_xian_in_english_pinyin_and_chinese(
        self, open_page: Any, sample_page: str, query: str
    ) -> None:
        """Xi'an (English), xian (pinyin) and 西安 all find Xi'an's outlets offline."""
        opened = open_page(sample_page)
        search(opened, query)
        got = results(opened, 5)
        assert all("西安" in r["address"] for r in got[:3])
        assert "陕西省西安市" in opened.page.inner_text(".locator-search-status")
        assert opened.external == [] and opened.errors == []

    def test_ambiguous_name_offers_candidates_then_lists(
        self, open_page: Any, sample_page: str
    ) -> None:
        """鼓楼区 shows all four 鼓楼区 to pick from and no outlets until one is picked;
        picking Nanjing's lists Nanjing outlets."""
        opened = open_page(sample_page)
        search(opened, "鼓楼区")
        page = opened.page
        page.wait_for_selector(".locator-search-candidate")
        names = page.eval_on_selector_all(
            ".locator-search-candidate", "els => els.map(e => e.textContent)"
        )
        assert len(names) == 4 and all("鼓楼区" in n for n in names)
        assert page.locator(".locator-result").count() == 0
        page.locator(".locator-search-candidate", has_text="南京").click()
        got = results(opened, 1)
        assert "南京" in got[0]["address"]
        assert opened.external == []

    def test_click_result_opens_its_popup_and_new_place_resorts(
        self, open_page: Any, sample_page: str, artifacts_dir: Path
    ) -> None:
        """Clicking the second result opens its popup on the map with its name; searching
        another place re-sorts the list around it (screenshot saved)."""
        opened = open_page(sample_page)
        page = opened.page
        search(opened, "hangzhou")
        got = results(opened, 2)
        page.locator(".locator-result").nth(1).click()
        page.wait_for_selector(".leaflet-popup")
        assert got[1]["name"] in page.inner_text(".leaflet-popup")
        assert "active" in (page.locator(".locator-result").nth(1).get_attribute("class") or "")
        page.wait_for_timeout(400)
        page.screenshot(path=str(artifacts_dir / "embed-search-desktop.png"))
        # dragging the map re-sorts the list around its new centre
        before = [r["name"] for r in got]
        mp = page.locator(".folium-map").bounding_box()
        assert mp is not None
        x, y = mp["x"] + mp["width"] / 2, mp["y"] + mp["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 250, y + 120, steps=8)
        page.mouse.up()
        page.wait_for_function(STATUS_HAS.format("地图中心"))
        moved = results(opened, 2)
        kms = [float(r["meta"].split(" km")[0].split("· ")[-1]) for r in moved]
        assert kms == sorted(kms) and [r["name"] for r in moved] != before
        search(opened, "Xi'an")
        page.wait_for_function(
            "() => document.querySelector('.locator-result-address').textContent.includes('西安')"
        )
        assert opened.external == []

    def test_nearest_to_me_denied_is_a_plain_message(
        self, open_page: Any, sample_page: str
    ) -> None:
        """With geolocation denied, the button says so in words; nothing breaks."""
        opened = open_page(sample_page)
        opened.page.click(".locator-search-me")
        opened.page.wait_for_function(STATUS_HAS.format("无法定位"))
        assert opened.errors == [] and opened.external == []

    def test_nearest_to_me_granted_lists_outlets(self, open_page: Any, sample_page: str) -> None:
        """With a position in Xi'an granted, the list shows Xi'an's outlets."""
        opened = open_page(
            sample_page,
            geolocation={"latitude": 34.26, "longitude": 108.94},
            permissions=["geolocation"],
        )
        opened.page.click(".locator-search-me")
        got = results(opened, 3)
        assert "西安" in got[0]["address"]
        assert "我的位置" in opened.page.inner_text(".locator-search-status")

    def test_api_page_from_file_never_connects(self, open_page: Any) -> None:
        """Even a page made for the server (search_api=True) opened from file:// answers
        an unknown full address with a message, and makes no request."""
        outlets = load_outlets()
        html = pages.page_layers(outlets[outlets["authorized"].astype(bool)]).page(
            tiles=None, search=True, search_api=True
        )
        opened = open_page(html)
        search(opened, "浙江省杭州市西湖区文三路100号")
        opened.page.wait_for_function(STATUS_HAS.format("未找到"))
        assert opened.page.locator(".locator-result").count() == 0
        assert opened.external == [] and opened.errors == []


class TestPhone:
    def test_375px_list_and_map_visible_no_horizontal_scroll(
        self, open_page: Any, sample_page: str, artifacts_dir: Path
    ) -> None:
        """On a 375x667 phone the search list sits above the map, both visible, and the
        page does not scroll sideways (screenshot saved)."""
        opened = open_page(sample_page, width=375, height=667, is_mobile=True)
        page = opened.page
        search(opened, "杭州西湖区")
        results(opened, 3)
        page.wait_for_timeout(400)
        box = page.locator(".locator-search").bounding_box()
        mp = page.locator(".folium-map").bounding_box()
        assert box is not None and mp is not None
        assert box["width"] <= 375 and mp["width"] <= 375
        assert box["height"] > 150 and mp["height"] > 200
        assert box["y"] + box["height"] <= mp["y"] + 1  # list above the map
        assert mp["y"] + mp["height"] <= 667 + 1  # both on screen
        first = page.locator(".locator-result").first.bounding_box()
        assert first is not None and first["y"] + 20 < box["y"] + box["height"]
        # nothing (the sample-data banner) covers the box or the first result
        for sel in ("input[type=search]", ".locator-result-name"):
            assert page.evaluate(
                f"""() => {{ const e = document.querySelector('{sel}');
                  const r = e.getBoundingClientRect();
                  return document.elementFromPoint(r.x + 10, r.y + r.height / 2) === e; }}"""
            ), sel
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 375
        page.screenshot(path=str(artifacts_dir / "embed-search-375.png"))
        assert opened.external == []


class TestHostile:
    def test_hostile_names_shown_literally(self, open_page: Any) -> None:
        """Outlets named with script and template payloads are listed with the payload
        as text: no alert fires, no template is evaluated, no element is injected."""
        payloads = [*XSS, *TEMPLATE[:5]]
        frame = hostile_outlets(payloads)
        html = pages.page_layers(frame).page(tiles=None, search=True, k=len(payloads))
        opened = open_page(html)
        search(opened, "杭州")
        got = results(opened, len(payloads))
        page = opened.page
        page.wait_for_timeout(300)
        assert {r["name"] for r in got} == {f"ACME {p}" for p in payloads}
        assert {r["address"] for r in got} == set(payloads)
        assert page.evaluate("window.__fired") == []
        assert (
            page.locator(".locator-search-results img, .locator-search-results script").count() == 0
        )
        # the popup of a hostile result shows its text literally too
        page.locator(".locator-result").first.click()
        page.wait_for_selector(".leaflet-popup")
        assert got[0]["name"] in page.inner_text(".leaflet-popup")
        assert page.evaluate("window.__fired") == []
        assert opened.external == []


class TestServed:
    def test_full_address_asks_the_server(self, browser: Any) -> None:
        """Served by the API (/embed/map), a full address the name index does not know
        is answered by the same server's /v1/nearest?q=; the page asks nothing else."""
        from urllib.parse import urlsplit

        from fastapi.testclient import TestClient

        from locator.api import create_app

        client = TestClient(create_app())
        asked: list[str] = []
        other: list[str] = []

        def route(r: Any) -> None:
            url = urlsplit(r.request.url)
            if url.netloc != "locator.test":
                other.append(r.request.url)
                r.abort()
                return
            path = url.path + ("?" + url.query if url.query else "")
            asked.append(path)
            got = client.get(path)
            r.fulfill(status=got.status_code, headers=dict(got.headers), body=got.content)

        ctx = browser.new_context(viewport={"width": 1000, "height": 700})
        try:
            page = ctx.new_page()
            page.set_default_timeout(15_000)
            page.route("**/*", route)
            page.goto("http://locator.test/embed/map?tiles=none")
            page.wait_for_selector("input[type=search]")
            box = page.locator("input[type=search]")
            box.type("浙江省杭州市西湖区文三路100号")
            box.press("Enter")
            page.wait_for_selector(".locator-result")
            first = page.locator(".locator-result-address").first.text_content() or ""
            assert "杭州" in first
            assert any(p.startswith("/v1/nearest?") for p in asked)
            assert other == []
        finally:
            ctx.close()
