"""The app's 假设方案 / What-if panel (#15 §4), on the Coverage view, with a real store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from apptest import start
from streamlit.testing.v1 import AppTest

from locator.store import open_store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def store(_sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    path = tmp_path / "network.db"
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("LOCATOR_DATABASE_URL", url)
    s = open_store(url)
    yield s
    s.dispose()


def _open(secret: str | None = None) -> AppTest:
    at = start("en", "coverage", timeout=240)
    if secret is not None:
        at.text_input(key="net-token").input(secret).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> list[Any]:
    return [m for m in at.metric if m.label == label]


def _yinchuan(store: Any) -> list[str]:
    frame = store.network().frame
    return frame.loc[frame["city"] == "银川", "outlet_id"].astype(str).tolist()


class TestWhatIf:
    def test_switching_off_and_adding_updates_the_figures(self, store: Any) -> None:
        """Switching off 银川's outlets lowers coverage (a negative delta); adding the
        first suggested site shows it in the count; nothing is saved."""
        at = _open()
        rev = store.revision()
        at.multiselect(key="scen-off").set_value(_yinchuan(store)).run()
        assert not at.exception, [e.value for e in at.exception]
        covered = _metric(at, "Population covered")
        assert len(covered) == 2  # the live figure and the scenario's
        assert covered[1].delta is not None and covered[1].delta.startswith("-")
        site = next(c for c in at.checkbox if str(c.key).startswith("scen-site-"))
        site.check().run()
        assert not at.exception, [e.value for e in at.exception]
        heading = f"Scenario: 1 added, {len(_yinchuan(store))} switched off"
        assert any(heading in m.value for m in at.markdown)
        assert any("Sign in as an editor" in c.value for c in at.caption)
        assert store.scenarios() == [] and store.revision() == rev

    def test_editor_saves_opens_and_compares(self, store: Any) -> None:
        """An editor saves the scenario by name (the network is unchanged), opens it
        and compares it with the current network side by side."""
        at = _open(store.tokens.create("ed", "editor")[0])
        rev, version = store.revision(), store.network().version
        at.multiselect(key="scen-off").set_value(_yinchuan(store)).run()
        at.text_input(key="scen-name").input("关银川").run()
        at.text_input(key="scen-note").input("试一试").run()
        next(b for b in at.button if b.key == "scen-save").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("Saved scenario 关银川 (version 1)" in s.value for s in at.success)
        saved = store.scenario("关银川")
        assert saved.remove == _yinchuan(store) and saved.created_by == "ed"
        assert store.revision() == rev and store.network().version == version
        at.selectbox(key="scen-open").set_value("关银川").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("试一试" in c.value for c in at.caption)
        table = next(d.value for d in at.dataframe if "B-A" in d.value.columns)
        rows = table.set_index(["scope", "area", "metric"])
        assert rows.loc[("scenario", "", "name"), "A"] == "live"
        assert rows.loc[("scenario", "", "name"), "B"] == "关银川"
        assert rows.loc[("city", "银川", "outlets"), "B"] == "0"
        assert int(rows.loc[("national", "", "population_covered"), "B-A"]) < 0

    def test_candidates_by_coordinates(self, store: Any) -> None:
        """A planner types the coordinates of a place far from every outlet: it becomes
        a candidate (named by its district), coverage rises; unticked, the scenario is
        gone; cleared, the list is empty. Nothing is saved."""
        from locator import load_places
        from locator.coverage import CoverageModel

        gaps = CoverageModel(store.network().frame, load_places()).report(50).gaps_frame()
        gap = gaps.iloc[0]
        at = _open()
        rev = store.revision()
        at.text_input(key="scen-coords").input(f"{gap['lat']}, {gap['lon']}").run()
        next(b for b in at.button if b.key == "scen-add-point").click().run()
        assert not at.exception, [e.value for e in at.exception]
        point = at.checkbox(key="scen-point-0")
        assert point.value is True and "Candidate 1:" in point.label
        assert any("Scenario: 1 added, 0 switched off" in m.value for m in at.markdown)
        covered = _metric(at, "Population covered")
        assert covered[1].delta is not None and covered[1].delta.startswith("+")
        point.uncheck().run()
        assert not any("Scenario:" in m.value for m in at.markdown)
        next(b for b in at.button if b.key == "scen-clear-points").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert not [c for c in at.checkbox if str(c.key).startswith("scen-point-")]
        assert store.scenarios() == [] and store.revision() == rev

    @pytest.mark.parametrize("typed", ["abc", "95, 120", "30.1", "30, 120, 5"])
    def test_bad_coordinates_are_refused_by_name(self, store: Any, typed: str) -> None:
        """Unreadable or impossible coordinates: an error that quotes them, no candidate."""
        at = _open()
        at.text_input(key="scen-coords").input(typed).run()
        next(b for b in at.button if b.key == "scen-add-point").click().run()
        assert not at.exception, [e.value for e in at.exception]
        shown = [e.value.replace("\\", "") for e in at.error]  # markdown escapes off
        assert any(f"Cannot read the coordinates “{typed}”" in e for e in shown), shown
        assert not [c for c in at.checkbox if str(c.key).startswith("scen-point-")]

    def test_scenario_map_with_its_choropleth(self, store: Any) -> None:
        """The scenario map (behind its toggle) draws the scenario's network, and with
        the district colouring on, its choropleth, with no error."""
        at = _open()
        maps = len(at.get("iframe")) + len(at.get("component_instance"))
        at.multiselect(key="scen-off").set_value(_yinchuan(store)).run()
        at.toggle(key="cov-district").set_value(True).run()
        at.toggle(key="scen-map").set_value(True).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("district choropleth" in c.value for c in at.caption)
        assert len(at.get("iframe")) + len(at.get("component_instance")) > maps
