"""The Streamlit app's views, driven headlessly with streamlit.testing (no browser)."""

from __future__ import annotations

import pytest
from apptest import open_view, start
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def at() -> AppTest:
    """The app in English (the Chinese default is tested in test_app_i18n.py)."""
    return start("en")


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader]
    parts += [w.value for w in at.warning] + [e.value for e in at.error]
    parts += [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def results_table(at: AppTest):
    return next(d.value for d in at.dataframe if "Distance" in d.value.columns)


class TestStart:
    def test_says_the_outlets_are_sample_data(self, at: AppTest) -> None:
        """The sidebar says plainly that the bundled outlets are synthetic sample data."""
        assert any("Sample data" in w.value and "fictional" in w.value for w in at.sidebar.warning)

    def test_four_views(self, at: AppTest) -> None:
        """Find a center, Coverage, Network data and Embed tabs are there."""
        labels = [t.label for t in at.tabs[:4]]
        for name in ("Find a center", "Coverage", "Network data", "Embed"):
            assert any(name in label for label in labels)


class TestFindACenter:
    def test_address_gives_nearest_authorized_centers(self, at: AppTest) -> None:
        """Typing a Shenzhen district lists outlets nearest first, with distances, drive-time
        estimates and directions links."""
        at.text_input(key="query").input("深圳南山区科技园").run()
        assert not at.exception
        table = results_table(at)
        assert len(table) == 5
        assert list(table["Distance"]) == sorted(table["Distance"])
        assert table["Distance"].iloc[0] < 5
        assert table["AMap 高德"].str.startswith("https://uri.amap.com/").all()
        assert "Authorized" not in table.columns  # authorized only by default
        assert "Nearest to" in texts(at) and "min drive (est.)" in texts(at)

    def test_open_now_filter_and_routes(self, at: AppTest) -> None:
        """With "Open now" ticked every listed outlet is open now (or its hours are
        unknown, labelled so), and directions route from the searched place."""
        next(c for c in at.checkbox if "Open now" in c.label).check().run()
        at.text_input(key="query").input("杭州西湖区").run()
        assert not at.exception
        table = results_table(at)
        assert len(table) and table["Open"].str.match("open until|open 24|hours unknown").all()
        assert table["AMap 高德"].str.contains("/navigation?from=", regex=False).all()
        osm = table["OpenStreetMap"]
        assert osm.str.startswith("https://www.openstreetmap.org/directions?").all()

    def test_ambiguous_query_offers_candidates(self, at: AppTest) -> None:
        """鼓楼区 (Nanjing, Fuzhou, Xuzhou, Kaifeng) offers its candidates; picking another
        one moves the results to that city."""
        at.text_input(key="query").input("鼓楼区").run()
        radio = next(r for r in at.radio if "which one" in r.label)
        assert len(radio.options) >= 3
        first_city = results_table(at)["Address"].iloc[0]
        other = next(i for i, o in enumerate(radio.options) if o.split()[1] not in first_city)
        radio.set_value(other).run()
        assert results_table(at)["Address"].iloc[0] != first_city

    def test_map_point_is_named_and_searched(self, at: AppTest) -> None:
        """A clicked point (the state a map click leaves) is searched from, and labelled
        with the district it falls in."""
        at.session_state["click"] = (30.25, 120.14)
        at.session_state["click_query"] = ""
        at.run()
        heading = next(s.value for s in at.subheader if "Nearest to" in s.value)
        assert "Map point" in heading and "西湖区" in heading
        assert results_table(at)["Distance"].iloc[0] < 10

    def test_unknown_place_says_so(self, at: AppTest) -> None:
        """Junk text gives a readable message, not a traceback."""
        at.text_input(key="query").input("qwxzzzy plimf").run()
        assert not at.exception
        assert any("No place found" in e.value for e in at.error)

    def test_a_street_alone_says_why(self, at: AppTest) -> None:
        """A street alone (中山北路1号) is no place, and the message says it is a street."""
        at.text_input(key="query").input("中山北路1号").run()
        assert not at.exception
        assert any("No place found" in e.value and "street name" in e.value for e in at.error)

    def test_kind_filter(self, at: AppTest) -> None:
        """With only repair points selected, every result is a repair point."""
        at.multiselect(key="find-kinds").set_value(["repair_point"]).run()
        at.text_input(key="query").input("Hangzhou").run()
        assert set(results_table(at)["Kind"]) == {"Repair point"}

    def test_far_away_still_answers(self, at: AppTest) -> None:
        """A place with nothing within the limit still shows the nearest, with a warning."""
        at.number_input(key="find-max-km").set_value(10).run()  # within 10 km
        at.text_input(key="query").input("拉萨").run()
        table = results_table(at)
        assert len(table) == 1 and table["Distance"].iloc[0] > 10
        assert "No outlet within 10 km" in texts(at)

    def test_fractional_distance_limit(self, at: AppTest) -> None:
        """ "Within km" takes a fractional limit (it took whole numbers only)."""
        at.number_input(key="find-max-km").set_value(2.5).run()
        assert not at.exception
        at.text_input(key="query").input("拉萨").run()
        assert "No outlet within 2.5 km" in texts(at)

    def test_caption_says_each_thing_once(self, at: AppTest) -> None:
        """The results caption says drive times are estimates once, not twice."""
        at.text_input(key="query").input("杭州").run()
        caption = next(c.value for c in at.caption if "WGS-84 ellipsoid" in c.value)
        assert caption.count("estimates") == 1


class TestCoverage:
    def test_larger_radius_covers_more(self, at: AppTest) -> None:
        """Moving the radius slider from 30 to 100 km raises the covered share."""
        open_view(at, "coverage")
        at.slider(key="cov-radius").set_value(30).run()
        low = float(at.metric[0].value.rstrip(" %"))
        at.slider(key="cov-radius").set_value(100).run()
        high = float(at.metric[0].value.rstrip(" %"))
        assert 0 < low < high <= 100

    def test_drive_time_mode_is_labelled_an_estimate(self, at: AppTest) -> None:
        """Drive-time mode says how minutes become km, as an estimate."""
        open_view(at, "coverage")
        at.radio(key="cov-mode").set_value("drive").run()
        assert not at.exception
        assert any("estimate" in c.value for c in at.caption)


class TestNetworkData:
    def test_bad_upload_lists_every_row_and_keeps_the_network(self, at: AppTest) -> None:
        """An upload with bad rows is refused with each problem listed; the sample stays."""
        bad = b"outlet_id,name,lat,lon\n1,A,999,120\n1,B,30,abc\n"
        open_view(at, "data")
        at.get("file_uploader")[0].set_value(("bad.csv", bad, "text/csv")).run()
        assert not at.exception
        assert any("2 problem" in e.value or "3 problem" in e.value for e in at.error)
        problems = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
        assert set(problems["Row"]) >= {"2", "3"}
        assert any("Sample data" in w.value for w in at.sidebar.warning)

    def test_good_upload_replaces_the_network(self, at: AppTest) -> None:
        """A valid GB18030 upload becomes the network the search uses."""
        text = (
            "outlet_id,name,lat,lon,kind\n"
            "1,测试中心,30.27,120.15,服务中心\n2,二号点,31.23,121.47,维修点\n"
        )
        open_view(at, "data")
        at.get("file_uploader")[0].set_value(("mine.csv", text.encode("gb18030"), "text/csv")).run()
        assert not at.exception
        # The file name is user text: shown markdown-escaped ("mine\\.csv").
        assert any("uploaded file **mine\\.csv**" in i.value for i in at.sidebar.info)
        open_view(at, "find")
        at.text_input(key="query").input("杭州").run()
        assert results_table(at)["Name"].iloc[0] == "测试中心"


class TestEmbed:
    def test_offers_the_page_and_snippet(self, at: AppTest) -> None:
        """The embed view offers the HTML download and an iframe snippet with a sandbox."""
        open_view(at, "embed")
        codes = [c.value for c in at.code]
        assert any('sandbox="allow-scripts"' in c for c in codes)


class TestHostileText:
    def test_file_and_outlet_names_are_shown_inert(self, at: AppTest) -> None:
        """HTML and Markdown in an uploaded file's name and in outlet names never reach
        a Markdown element raw (no tag, no link syntax); they are escaped."""
        payload = "<img src=x onerror=alert(1)>[x](javascript:alert(1))"
        text = f"outlet_id,name,lat,lon\n1,{payload},30.27,120.15\n"
        open_view(at, "data")
        at.get("file_uploader")[0].set_value((f"{payload}.csv", text.encode(), "text/csv")).run()
        assert not at.exception
        open_view(at, "find")
        at.text_input(key="query").input("杭州").run()
        shown = texts(at) + "\n".join(i.value for i in at.sidebar.info)
        assert "&lt;img" in shown  # escaped, still readable
        assert "<img" not in shown and "](javascript" not in shown
