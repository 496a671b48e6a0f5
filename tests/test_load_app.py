"""The app's load view (#15 §5): the synthetic sample, an uploaded file, bad files."""

from __future__ import annotations

import pytest
from apptest import open_view, start
from streamlit.testing.v1 import AppTest

from locator.labels import column, message

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _upload(at: AppTest, text: str, name: str = "orders.csv") -> AppTest:
    """Upload an orders file through the view's uploader."""
    uploader = next(u for u in at.get("file_uploader") if u.proto.id.endswith("load-file"))
    uploader.set_value((name, text.encode("utf-8"), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


class TestLoadView:
    @pytest.fixture(scope="class")
    def at(self) -> AppTest:
        return start("en", "load", timeout=240)

    def test_sample_says_synthetic_and_shows_figures(self, at: AppTest) -> None:
        """With no upload: the bundled sample, labelled synthetic; 20,000 orders; the
        sample capacity flags overloaded outlets, listed first with human headers."""
        assert message("load.sample", "en") in [w.value for w in at.warning]
        assert "synthetic" in message("load.sample", "en")
        metrics = {m.label: m.value for m in at.metric}
        assert metrics[message("load.orders", "en")] == "20,000"
        assert int(metrics[message("load.overloaded_n", "en")]) > 0
        over, orders = column("overloaded", "en"), column("orders_total", "en")
        table = next(d.value for d in at.dataframe if over in d.value.columns)
        assert len(table) > 300
        assert table[over].iloc[0] == message("yes", "en")
        assert orders in table.columns and "orders_total" not in table.columns

    def test_map_and_downloads(self, at: AppTest) -> None:
        labels = [b.label for b in at.get("download_button")]
        assert message("load.dl_outlets", "en") in labels
        assert message("load.dl_daily", "en") in labels
        assert any(message("load.caption", "en")[:30] in c.value for c in at.caption)

    def test_chinese_headers(self) -> None:
        at = start("zh", "load", timeout=240)
        table = next(d.value for d in at.dataframe if column("overloaded", "zh") in d.value.columns)
        assert column("orders_per_day_p95", "zh") in table.columns


class TestUploads:
    def test_uploaded_orders(self) -> None:
        """An uploaded file replaces the sample; its orders are assigned to the network."""
        at = start("en", "load", timeout=240)
        _upload(at, "lat,lon,date\n39.93,116.40,2026-01-05\n39.93,116.40,2026-01-06\n")
        assert any("Using the orders file orders" in i.value for i in at.info)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics[message("load.orders", "en")] == "2"
        assert message("load.sample", "en") not in [w.value for w in at.warning]

    def test_bad_dates_are_listed(self) -> None:
        """A file with an unreadable date is refused with the rows, no traceback."""
        at = start("en", "load", timeout=240)
        _upload(at, "lat,lon,date\n39.93,116.40,yesterday\n", name="bad.csv")
        assert at.error and "1 problem" in at.error[0].value
        reason = column("reason", "en")
        table = next(d.value for d in at.dataframe if reason in d.value.columns)
        assert table[column("value", "en")].tolist() == ["yesterday"]

    def test_reopening_keeps_the_upload(self) -> None:
        at = start("en", "load", timeout=240)
        _upload(at, "lat,lon,date\n39.93,116.40,2026-01-05\n")
        open_view(at, "find")
        open_view(at, "load")
        assert {m.label: m.value for m in at.metric}[message("load.orders", "en")] == "1"

    def test_amap_coordinates_are_converted(self) -> None:
        """Orders exported from AMap (GCJ-02), at an outlet's door: read as WGS-84 they
        are ~0.5 km off; with the coordinate system set to GCJ-02 they are 0 km away."""
        import re

        from locator import crs, load_network

        net = load_network().frame
        door = net[net["authorized"]].iloc[0]
        lon, lat = crs.from_wgs84(float(door["lon"]), float(door["lat"]), "gcj02")
        at = start("en", "load", timeout=240)
        _upload(at, f"lat,lon,date\n{lat},{lon},2026-01-05\n")

        def farthest() -> float:
            dist, orders = column("distance_max_km", "en"), column("orders_total", "en")
            table = next(d.value for d in at.dataframe if dist in d.value.columns)
            row = table[table[orders].astype(str).str.strip() == "1"].iloc[0]
            return float(re.sub(r"[^0-9.]", "", str(row[dist])))

        shifted = farthest()
        at.selectbox(key="load-coord-sys").set_value("gcj02").run()
        assert not at.exception, [e.value for e in at.exception]
        assert farthest() < 0.01 < 0.3 < shifted
