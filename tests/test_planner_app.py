"""The app's planner controls (#15): district choropleth, coverage curve, drive time."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest import start
from streamlit.testing.v1 import AppTest

from locator.drive import DriveTimeModel
from locator.labels import column

APP = str(Path(__file__).resolve().parent.parent / "app.py")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def at() -> AppTest:
    """The app in English on its Coverage view (only the open view runs)."""
    return start("en", "coverage", timeout=240)


class TestPlannerControls:
    def test_district_choropleth_and_table(self, at: AppTest) -> None:
        """Turning on the district colouring shows the district table, with districts
        without demand data marked as such (no share), and says what grey means."""
        at.toggle(key="cov-district").set_value(True).run()
        assert not at.exception, [e.value for e in at.exception]
        has_data, share = column("has_data", "en"), column("share_covered", "en")
        table = next(d.value for d in at.dataframe if has_data in d.value.columns)
        assert len(table) > 2000
        no_data = table[~table[has_data].astype(bool)]
        assert len(no_data) and no_data[share].isna().all()
        assert any("no demand data" in c.value for c in at.caption)

    def test_drive_time_drives_every_control(self, at: AppTest) -> None:
        """In drive-time mode the radius every control uses is the one 120 min reaches,
        and the coverage curve is drawn against minutes."""
        at.radio(key="cov-mode").set_value("Drive time (estimate)").run()
        at.slider(key="cov-minutes").set_value(120).run()
        assert not at.exception, [e.value for e in at.exception]
        reach = DriveTimeModel().reach_km(120)
        assert any(f"Radius {reach:.1f} km" in c.value for c in at.caption)
        charts = [e for e in at.get("arrow_line_chart")] or list(at.get("vega_lite_chart"))
        assert charts, "the coverage curve is drawn"
