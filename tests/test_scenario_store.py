"""Saved scenarios in the store (SQLite and PostGIS, the ``store`` fixture)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from locator.errors import ConfigurationError, DataError
from locator.scenario import Scenario
from locator.store import Conflict, NotFound, StoreError, open_store


def _plan(store, name: str = "宁夏方案", **kw) -> Scenario:
    net = store.network()
    first = str(net.frame["outlet_id"].iloc[0])
    return Scenario(
        net,
        add=[{"lat": 37.99, "lon": 106.2, "name": "吴忠新点", "city": "吴忠"}],
        remove=[first],
        name=name,
        note="试一试",
        **kw,
    )


class TestSave:
    def test_round_trip(self, store) -> None:
        """What is saved comes back: candidates, removals, reach, who and version 1."""
        s = _plan(store, drive_minutes=120)
        saved = store.save_scenario(s, actor="planner")
        back = store.scenario("宁夏方案")
        assert back == saved
        assert back.add == s.candidates() and back.remove == list(s.remove)
        assert back.drive_minutes == 120 and back.radius_km is None
        assert (back.created_by, back.version, back.note) == ("planner", 1, "试一试")
        assert back.created_at is not None and back.created_at.tzinfo is not None
        rebuilt = back.build(store.network())
        assert rebuilt.network.equals(s.network)

    def test_saving_never_changes_the_network(self, store) -> None:
        """A scenario is a plan: network, its version and the revision are unchanged."""
        net, rev = store.network(), store.revision()
        store.save_scenario(_plan(store), actor="planner")
        store.save_scenario(_plan(store), actor="planner", overwrite=True)
        assert store.revision() == rev
        assert store.network().version == net.version
        assert len(store.network()) == 391

    def test_same_name_is_a_conflict_unless_overwrite(self, store) -> None:
        store.save_scenario(_plan(store), actor="a")
        with pytest.raises(Conflict, match="exists"):
            store.save_scenario(_plan(store), actor="b")
        assert store.scenario("宁夏方案").created_by == "a"
        again = store.save_scenario(_plan(store, radius_km=30), actor="b", overwrite=True)
        assert again.version == 2 and again.radius_km == 30
        assert again.created_by == "a"  # the creator stays
        assert again.updated_at >= again.created_at

    def test_missing_is_not_found(self, store) -> None:
        with pytest.raises(NotFound, match="no scenario named 'nope'"):
            store.scenario("nope")
        with pytest.raises(NotFound):
            store.delete_scenario("nope")

    def test_listing_and_delete(self, store) -> None:
        assert store.scenarios() == []
        for name in ("b", "a"):
            store.save_scenario(_plan(store, name), actor="p")
        assert [s.name for s in store.scenarios()] == ["a", "b"]
        store.delete_scenario("a")
        assert [s.name for s in store.scenarios()] == ["b"]

    @pytest.mark.parametrize("name", ["live", "LIVE", "", "a/b", " x", "x\x00", "a" * 101])
    def test_bad_names(self, store, name) -> None:
        with pytest.raises(ConfigurationError, match="scenario name"):
            store.save_scenario(_plan(store, name), actor="p")

    def test_nul_in_note_is_refused(self, store) -> None:
        with pytest.raises(DataError, match=r"note.*NUL"):
            store.save_scenario({"name": "n", "note": "a\x00b"}, actor="p")
        assert store.scenarios() == []

    def test_actor_required(self, store) -> None:
        with pytest.raises(DataError, match="actor"):
            store.save_scenario(_plan(store), actor=" ")


class TestMigration:
    def test_store_at_0001_upgrades_to_scenarios(self, tmp_path) -> None:
        """A database made before scenarios existed (schema 0001) is upgraded by
        `locator db upgrade` and keeps its outlets; a scenario can then be saved."""
        from locator.store._engine import make_engine, upgrade
        from locator.store.open import upgrade_store

        url = f"sqlite:///{tmp_path / 'old.db'}"
        engine = make_engine(url)
        with engine.begin() as conn:
            upgrade(conn, "0001")
        engine.dispose()
        with pytest.raises(StoreError, match="db upgrade"):
            open_store(url)
        assert upgrade_store(url) == ("0001", "0002")
        store = open_store(url)
        try:
            assert sa.inspect(store.engine).has_table("scenarios")
            store.save_scenario(Scenario(store.network(), name="x"), actor="p")
            assert [s.name for s in store.scenarios()] == ["x"]
        finally:
            store.dispose()
