"""The network store (locator.store, #13): on SQLite and on PostgreSQL + PostGIS."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from locator.errors import DataError
from locator.network import OUTLET_COLUMNS, Network
from locator.store import (
    Conflict,
    NotFound,
    PermissionDenied,
    StaleVersion,
    open_store,
)
from locator.store._engine import HEAD, alembic_head

ACTOR = "cli:test"


def _first(store) -> str:
    return str(store.network().frame["outlet_id"].iat[0])


class TestOpen:
    def test_seeded_network_is_the_bundled_sample(self, store) -> None:
        """A new store seeded from the sample serves the same outlets as the CSV."""
        from locator.data import load_network

        sample_net = load_network()
        sample = sample_net.frame
        net = store.network()
        assert isinstance(net, Network)
        assert net.version == sample_net.version  # same content and dtypes
        assert list(net.frame.columns) == list(OUTLET_COLUMNS)
        assert net.frame["outlet_id"].tolist() == sample["outlet_id"].tolist()
        for col in OUTLET_COLUMNS:
            assert net.frame[col].tolist() == sample[col].tolist(), col

    def test_head_constant_is_alembics_head(self) -> None:
        """The schema check at open compares against the newest migration script."""
        assert alembic_head() == HEAD

    def test_default_store_is_created_in_the_data_dir(self, tmp_path, monkeypatch) -> None:
        """With no URL the store is a SQLite file in $LOCATOR_DATA_DIR, seeded on first use."""
        monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "d"))
        s = open_store()
        try:
            assert (tmp_path / "d" / "network.db").is_file()
            assert len(s.network()) == 391
            assert str(tmp_path / "d") in s.url_for_display
        finally:
            s.dispose()

    def test_explicit_url_starts_empty(self, tmp_path) -> None:
        """A production database is migrated but not filled with the synthetic sample."""
        s = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        try:
            assert len(s.network()) == 0
        finally:
            s.dispose()

    def test_password_is_redacted(self) -> None:
        """The URL shown to users never carries the password."""
        from locator.store._engine import display_url

        shown = display_url("postgresql+psycopg://u:s3cret@db.example/locator")
        assert "s3cret" not in shown and "db.example" in shown

    def test_unreachable_database_is_a_clear_error(self, tmp_path) -> None:
        """A database that cannot be opened is one StoreError naming it, no traceback."""
        from locator.store import StoreError

        with pytest.raises(StoreError, match="cannot open the database"):
            open_store("postgresql+psycopg://nobody:pw@127.0.0.1:1/none")

    @pytest.mark.parametrize("default", [True, False], ids=["default file", "explicit url"])
    def test_database_from_a_newer_locator_is_a_clear_error(
        self, tmp_path, monkeypatch, default
    ) -> None:
        """A store migrated by a newer locator (a schema revision this one does not ship)
        is refused with a StoreError saying so, not Alembic's traceback; it is left as it
        was (no downgrade, no reseed)."""
        from locator.store import StoreError

        monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path))
        url = None if default else f"sqlite:///{tmp_path / 'network.db'}"
        open_store(url).dispose()
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'network.db'}")
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(StoreError, match="newer than this locator knows"):
            open_store(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
                "9999"
            )
        engine.dispose()


class TestEdits:
    def test_update_is_visible_and_versioned(self, store) -> None:
        """An edit shows in the next network() and appends a version with old -> new."""
        oid = _first(store)
        before = store.get(oid)
        after = store.update(
            oid,
            {"phone": "0571-1234567"},
            expected_version=before["version"],
            actor=ACTOR,
            reason="new number",
        )
        assert after["version"] == before["version"] + 1
        frame = store.network().frame
        assert frame.loc[frame["outlet_id"] == oid, "phone"].item() == "0571-1234567"
        last = store.history(oid)[-1]
        assert last.changes == {"phone": [before["phone"], "0571-1234567"]}
        assert (last.actor, last.action, last.reason) == (ACTOR, "update", "new number")
        assert last.at.tzinfo is not None

    def test_update_bumps_revision(self, store) -> None:
        """Every committed change bumps the revision other processes poll."""
        oid = _first(store)
        rev = store.revision()
        store.update(oid, {"hours": "Mo-Fr 09:00-17:00"}, expected_version=1, actor=ACTOR)
        assert store.revision() == rev + 1

    def test_stale_version_changes_nothing(self, store) -> None:
        """A write carrying an old version is refused and leaves the outlet as it was."""
        oid = _first(store)
        store.update(oid, {"phone": "1"}, expected_version=1, actor=ACTOR)
        with pytest.raises(StaleVersion, match="version 2, not 1"):
            store.update(oid, {"phone": "2"}, expected_version=1, actor=ACTOR)
        assert store.get(oid)["phone"] == "1"
        assert len(store.history(oid)) == 2

    def test_two_concurrent_editors_one_wins(self, store) -> None:
        """Two writers with the same version at the same time: exactly one succeeds."""
        oid = _first(store)
        barrier = threading.Barrier(2)
        results: list[object] = []

        def edit(phone: str) -> None:
            barrier.wait()
            try:
                results.append(store.update(oid, {"phone": phone}, expected_version=1, actor=phone))
            except StaleVersion as err:
                results.append(err)

        threads = [threading.Thread(target=edit, args=(p,)) for p in ("111", "222")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        stale = [r for r in results if isinstance(r, StaleVersion)]
        won = [r for r in results if isinstance(r, dict)]
        assert len(stale) == 1 and len(won) == 1
        assert store.get(oid)["phone"] == won[0]["phone"]
        assert [v.version for v in store.history(oid)] == [1, 2]

    def test_bad_field_names_the_field(self, store) -> None:
        """A bad value is a DataError naming the column, and nothing is written."""
        oid = _first(store)
        with pytest.raises(DataError, match="'lat'"):
            store.update(oid, {"lat": "95"}, expected_version=1, actor=ACTOR)
        with pytest.raises(DataError, match="'kind'"):
            store.update(oid, {"kind": "shop"}, expected_version=1, actor=ACTOR)
        with pytest.raises(DataError, match="unknown field"):
            store.update(oid, {"colour": "red"}, expected_version=1, actor=ACTOR)
        assert store.get(oid)["version"] == 1

    def test_update_cannot_grant_authorization(self, store) -> None:
        """Authorization changes only through set_authorization (with a reason)."""
        with pytest.raises(DataError, match="set_authorization"):
            store.update(_first(store), {"authorized": "no"}, expected_version=1, actor=ACTOR)

    def test_create_is_not_authorized(self, store) -> None:
        """A created outlet is in the network but not authorized until an admin grants it."""
        out = store.create(
            {"outlet_id": "N1", "name": "新网点", "lat": 30.2, "lon": 120.1, "city": "杭州"},
            actor=ACTOR,
        )
        assert out["version"] == 1 and out["authorized"] is False
        frame = store.network().frame
        assert not frame.loc[frame["outlet_id"] == "N1", "authorized"].item()
        with pytest.raises(Conflict, match="exists"):
            store.create({"outlet_id": "N1", "name": "x", "lat": 1, "lon": 1}, actor=ACTOR)

    def test_create_normalizes_through_the_contract(self, store) -> None:
        """GCJ-02 input is stored in WGS-84 and kinds are canonical, as for a file."""
        out = store.create(
            {
                "outlet_id": "N2",
                "name": "x",
                "lat": 30.2,
                "lon": 120.1,
                "coord_sys": "gcj02",
                "kind": "Repair Point",
            },
            actor=ACTOR,
        )
        assert out["kind"] == "repair_point" and out["coord_sys"] == "wgs84"
        assert out["lat"] != 30.2

    def test_missing_outlet(self, store) -> None:
        with pytest.raises(NotFound, match="no outlet 'nope'"):
            store.get("nope")


class TestCloseReopen:
    def test_close_needs_reason_and_keeps_the_outlet(self, store) -> None:
        """Closing removes the outlet from the network, not from the store."""
        oid = _first(store)
        with pytest.raises(DataError, match="reason"):
            store.close(oid, reason=" ", actor=ACTOR)
        store.close(oid, reason="lease ended", actor=ACTOR, on=date(2026, 1, 31))
        assert oid not in set(store.network().frame["outlet_id"])
        got = store.get(oid)
        assert (got["status"], got["closed_on"], got["close_reason"]) == (
            "closed",
            date(2026, 1, 31),
            "lease ended",
        )
        with pytest.raises(Conflict, match="closed already"):
            store.close(oid, reason="again", actor=ACTOR)
        store.reopen(oid, reason="new lease", actor=ACTOR)
        assert oid in set(store.network().frame["outlet_id"])
        assert [v.action for v in store.history(oid)] == ["create", "close", "reopen"]


class TestAuthorization:
    def test_revoke_needs_reason_and_is_recorded(self, store) -> None:
        """An admin's revoke takes the outlet out of the authorized set, with its record."""
        oid = _first(store)
        with pytest.raises(DataError, match="reason"):
            store.set_authorization(oid, granted=False, actor="admin", reason="")
        store.set_authorization(
            oid, granted=False, actor="admin", reason="fake listing", evidence="complaint 17"
        )
        frame = store.network().frame
        assert not frame.loc[frame["outlet_id"] == oid, "authorized"].item()
        rec = store.authorization_records(oid)[-1]
        assert (rec["granted"], rec["actor"], rec["reason"], rec["evidence"]) == (
            False,
            "admin",
            "fake listing",
            "complaint 17",
        )
        assert store.history(oid)[-1].changes["authorized"] == [True, False]

    def test_expired_authorization_stops_counting_that_day(self, store) -> None:
        """Past valid_until an outlet is not authorized; on the day itself it still is."""
        oid = _first(store)
        until = date(2026, 6, 30)
        store.set_authorization(
            oid, granted=True, actor="admin", reason="contract", valid_until=until
        )

        def authorized(day: date) -> bool:
            f = store.network(on=day).frame
            return bool(f.loc[f["outlet_id"] == oid, "authorized"].item())

        assert authorized(until)
        assert not authorized(until + timedelta(days=1))

    def test_expiring_within_days(self, store) -> None:
        """authorizations(expiring_within_days=30) lists soon-to-expire grants only."""
        ids = store.network().frame["outlet_id"].tolist()[:3]
        today = date.today()
        for oid, days in zip(ids, (10, 40, -2), strict=True):
            store.set_authorization(
                oid,
                granted=True,
                actor="admin",
                reason="contract",
                valid_until=today + timedelta(days=days),
            )
        soon = store.authorizations(expiring_within_days=30)
        assert [(a["outlet_id"], a["days_left"]) for a in soon] == [(ids[2], -2), (ids[0], 10)]


class TestRevert:
    def test_revert_is_a_new_version(self, store) -> None:
        """Reverting restores an old state as a new version; history keeps everything."""
        oid = _first(store)
        original = store.get(oid)
        store.update(oid, {"name": "A", "phone": "9"}, expected_version=1, actor=ACTOR)
        store.close(oid, reason="gone", actor=ACTOR)
        out = store.revert(oid, to_version=1, actor="admin", reason="mistake")
        assert out["version"] == 4 and out["status"] == "open"
        assert (out["name"], out["phone"]) == (original["name"], original["phone"])
        assert [v.action for v in store.history(oid)] == [
            "create",
            "update",
            "close",
            "revert to 1",
        ]
        with pytest.raises(NotFound, match="no version 9"):
            store.revert(oid, to_version=9, actor="admin", reason="x")


class TestTokens:
    def test_create_authenticate_revoke(self, store) -> None:
        """The secret works once created, is never stored, and stops working when revoked."""
        secret, token = store.tokens.create("alice", "editor")
        assert secret.startswith("loc_") and len(secret) > 40
        assert store.tokens.authenticate(secret) == token
        assert store.tokens.authenticate(secret + "x") is None
        assert store.tokens.authenticate("") is None
        with store.engine.connect() as conn:
            dumped = repr(conn.execute(sa.text("SELECT * FROM api_tokens")).all())
        assert secret not in dumped
        store.tokens.revoke("alice")
        assert store.tokens.authenticate(secret) is None
        assert [t.name for t in store.tokens.list()] == ["alice"]
        assert store.tokens.list()[0].revoked_at is not None

    def test_roles(self, store) -> None:
        """viewer < editor < admin; a bad role is refused."""
        _, token = store.tokens.create("bob", "editor")
        assert token.allows("viewer") and token.allows("editor") and not token.allows("admin")
        with pytest.raises(PermissionDenied) as info:
            token.require("admin")
        assert info.value.required == "admin"
        with pytest.raises(DataError, match="role"):
            store.tokens.create("carol", "root")


class TestFlags:
    def test_flags_round_trip(self, store) -> None:
        store.add_flag(phone="4005550123", kind="shared_hotline", note="12 cities", actor="audit")
        assert [f["note"] for f in store.flags(phone="4005550123")] == ["12 cities"]
        assert store.flags(phone="1") == []


class TestHostile:
    """The shared hostile corpus (tests/hostile.py) in every stored field."""

    def test_every_payload_is_stored_and_read_back_equal(self, store, tmp_path) -> None:
        """Each payload comes back from the store exactly as the contract read it from
        the user's file, in the network, in get() and in the history, on both backends;
        the same table given as a frame is stored the same."""
        import csv

        from hostile import ALL, hostile_outlets

        from locator.data import load_outlets

        frame = hostile_outlets([p for p in ALL if "\x00" not in p])
        path = tmp_path / "hostile.csv"
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
        expected = load_outlets(path).set_index("outlet_id")
        diff = store.import_frame(str(path), actor="t", reason="hostile")
        assert len(diff.added) == len(expected)
        got = store.network().frame.set_index("outlet_id").loc[expected.index]
        for col in ("name", "district", "address", "hours", "phone", "kind", "lat", "lon"):
            assert got[col].tolist() == expected[col].tolist(), col
        for oid in expected.index:
            assert store.get(oid)["address"] == expected.at[oid, "address"]
            assert store.history(oid)[0].changes["name"][1] == expected.at[oid, "name"]
        again = store.import_frame(
            frame.assign(outlet_id=frame["outlet_id"]), actor="t", dry_run=True
        )
        assert again.empty, again.lines()

    def test_payloads_in_edits_reasons_and_tokens(self, store) -> None:
        """Payloads as an edit, a reason, an actor and a flag note round-trip too."""
        from hostile import ALL, encodable

        oid = _first(store)
        storable = [q for q in ALL if "\x00" not in q and q == encodable(q) and q.strip()]
        for i, p in enumerate(storable):
            store.update(oid, {"hours": p}, expected_version=i + 1, actor=p, reason=p)
            last = store.history(oid)[-1]
            assert (last.actor, last.reason) == (p, p)
            assert store.get(oid)["hours"] == p.strip()
            store.add_flag(kind="note", note=p, actor=p)
        assert [f["note"] for f in store.flags(kind="note")] == storable

    def test_nul_is_refused_by_name(self, store) -> None:
        """A NUL character (PostgreSQL cannot store one) is a DataError naming the row
        and column, on both backends, and nothing is written."""
        from hostile import hostile_outlets

        rev = store.revision()
        with pytest.raises(DataError, match=r"row \d+, column 'address': contains a NUL"):
            store.import_frame(hostile_outlets(["ok", "nul\x00byte"]), actor="t")
        with pytest.raises(DataError, match="column 'name': contains a NUL"):
            store.update(_first(store), {"name": "a\x00b"}, expected_version=1, actor="t")
        with pytest.raises(DataError, match="column 'address': contains a lone surrogate"):
            store.update(_first(store), {"address": "x\ud800"}, expected_version=1, actor="t")
        with pytest.raises(DataError, match="column 'reason': contains a lone surrogate"):
            store.close(_first(store), reason="x\ud800", actor="t")
        assert store.revision() == rev


class TestSpatialColumn:
    def test_postgis_geography_follows_lat_lon(self, store) -> None:
        """On PostGIS other tools get a geography(Point, 4326) column with a GiST index,
        derived from lat/lon (an edit moves it); SQLite keeps plain lat/lon columns."""
        cols = {c["name"]: c for c in sa.inspect(store.engine).get_columns("outlets")}
        if store.dialect == "sqlite":
            assert "geog" not in cols and {"lat", "lon"} <= set(cols)
            return
        with store.engine.connect() as conn:
            typ = conn.execute(
                sa.text("SELECT type FROM geography_columns WHERE f_table_name = 'outlets'")
            ).scalar()
            assert typ == "Point"
            index = conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outlets_geog'")
            ).scalar()
            assert "gist" in index.lower()

            def nearest(lon: float, lat: float) -> str:
                return conn.execute(
                    sa.text(
                        "SELECT outlet_id FROM outlets ORDER BY geog <-> "
                        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography LIMIT 1"
                    ),
                    {"lon": lon, "lat": lat},
                ).scalar()

            assert nearest(116.402398, 39.93245) == "00001"
        store.update("00001", {"lat": 22.5, "lon": 114.05}, expected_version=1, actor="t")
        with store.engine.connect() as conn:
            dist = conn.execute(
                sa.text(
                    "SELECT ST_Distance(geog, ST_SetSRID(ST_MakePoint(114.05, 22.5), 4326)"
                    "::geography) FROM outlets WHERE outlet_id = '00001'"
                )
            ).scalar()
        assert dist < 1.0


class TestFirstUse:
    def test_two_processes_creating_the_store_at_once(self, tmp_path) -> None:
        """Two processes opening a new store together: one migrates and seeds, the
        other waits; the sample is there once (no duplicate, no error)."""
        import os
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": str(root), "LOCATOR_DATA_DIR": str(tmp_path)}
        code = "from locator.store import open_store; print(len(open_store().network()))"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
        assert [o[0].strip() for o in outs] == ["391", "391"]
