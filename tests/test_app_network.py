"""The app's Network data editing, driven headlessly with streamlit.testing (no
browser) on a real store (a SQLite copy of the seeded sample per test): sign in with a
token, viewers see but cannot change, editors save with a reason, a stale row is not
overwritten, admins revoke an authorization; and the logic in locator.app_network."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from apptest import start as start_app
from streamlit.testing.v1 import AppTest

from locator import app_network
from locator.store import open_store

OID = "00001"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def store(_sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh seeded store, which the app opens through $LOCATOR_DATABASE_URL."""
    path = tmp_path / "network.db"
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("LOCATOR_DATABASE_URL", url)
    s = open_store(url)
    yield s
    s.dispose()


def start(secret: str | None = None) -> AppTest:
    """The app in English on the Network data view, signed in with ``secret``."""
    at = start_app("en", view="data")
    if secret is not None:
        at.text_input(key="net-token").input(secret).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [w.value for w in at.warning]
    parts += [e.value for e in at.error] + [i.value for i in at.info]
    parts += [s.value for s in at.success] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


class TestSignIn:
    def test_anonymous_sees_the_store_read_only(self, store: Any) -> None:
        """Without a token the table is shown, not editable, and no history."""
        at = start()
        assert len(at.data_editor) == 0
        assert "Sign in with an editor token" in texts(at)
        assert not any(b.label == "Save outlet" for b in at.button)

    def test_bad_token_is_refused_and_never_shown(self, store: Any) -> None:
        secret = "loc_not-a-token-0123456789abcdef"
        at = start(secret)
        assert any("Unknown or revoked token" in e.value for e in at.sidebar.error)
        assert secret not in texts(at)
        assert len(at.data_editor) == 0

    def test_viewer_sees_history_but_cannot_change(self, store: Any) -> None:
        secret = store.tokens.create("vera", "viewer")[0]
        at = start(secret)
        assert any("Signed in as **vera** (viewer)" in s.value for s in at.sidebar.success)
        assert secret not in texts(at)
        assert len(at.data_editor) == 0
        assert not any(b.label in ("Save outlet", "Save authorization") for b in at.button)
        assert f"History of {OID}" in texts(at)
        history = next(d.value for d in at.dataframe if "By" in d.value.columns)
        assert list(history["By"])[-1] == "seed"

    def test_revoked_token_stops_at_once(self, store: Any) -> None:
        secret = store.tokens.create("ed", "editor")[0]
        at = start(secret)
        assert len(at.data_editor) == 1
        store.tokens.revoke("ed")
        at.run()
        assert len(at.data_editor) == 0
        assert any("Unknown or revoked token" in e.value for e in at.sidebar.error)


class TestEditing:
    def edit_phone(self, at: AppTest, phone: str, reason: str) -> AppTest:
        at.selectbox(key="net-outlet").set_value(OID)
        at.text_input(key=f"net-f-{OID}-phone").input(phone)
        at.text_input(key="net-f-reason").input(reason)
        button(at, "Save outlet").click().run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    def test_editor_saves_with_a_reason(self, store: Any) -> None:
        """An editor changes a phone with a reason: the store has it, the history says
        who and why."""
        at = start(store.tokens.create("alice", "editor")[0])
        self.edit_phone(at, "000-555-4321", "new hotline")
        assert store.get(OID)["phone"] == "000-555-4321"
        last = store.history(OID)[-1]
        assert (last.actor, last.reason) == ("alice", "new hotline")
        assert any("Saved 1 outlet" in s.value for s in at.success)

    def test_reason_is_required(self, store: Any) -> None:
        before = store.get(OID)
        at = start(store.tokens.create("alice", "editor")[0])
        self.edit_phone(at, "000-555-4321", "  ")
        assert any("Give a reason" in e.value for e in at.error)
        assert store.get(OID) == before

    def test_stale_row_is_not_overwritten(self, store: Any) -> None:
        """Someone else changes the outlet after the editor loaded the table: the
        editor's save is refused with a clear message and the other change stays."""
        at = start(store.tokens.create("alice", "editor")[0])
        version = store.get(OID)["version"]
        store.update(
            OID, {"phone": "000-555-1111"}, expected_version=version, actor="bob", reason="x"
        )
        self.edit_phone(at, "000-555-2222", "my change")
        assert store.get(OID)["phone"] == "000-555-1111"
        assert any("changed by someone else" in e.value for e in at.error)

    def test_admin_revokes_an_authorization(self, store: Any) -> None:
        assert store.get(OID)["authorized"] is True
        at = start(store.tokens.create("root", "admin")[0])
        at.selectbox(key="net-outlet").set_value(OID)
        at.radio(key="net-a-act").set_value("revoke")
        at.text_input(key="net-a-evidence").input("合同 2026-0042 terminated")
        at.text_input(key="net-a-reason").input("contract ended")
        button(at, "Save authorization").click().run()
        assert not at.exception, [e.value for e in at.exception]
        rec = store.get(OID)
        assert rec["authorized"] is False
        assert rec["authorization"]["evidence"] == "合同 2026-0042 terminated"
        assert OID not in set(store.network().frame.query("authorized")["outlet_id"])

    def test_outlet_with_blank_fields_opens_in_the_form(self, store: Any) -> None:
        """An outlet without phone or hours can be selected and edited (blank boxes)."""
        store.create({"outlet_id": "B1", "name": "ACME 空", "lat": 30.0, "lon": 120.0}, actor="t")
        at = start(store.tokens.create("alice", "editor")[0])
        at.selectbox(key="net-outlet").set_value("B1").run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.text_input(key="net-f-B1-hours").value == ""
        at.text_input(key="net-f-B1-hours").input("Mo-Fr 09:00-18:00")
        at.text_input(key="net-f-reason").input("hours known now")
        button(at, "Save outlet").click().run()
        assert store.get("B1")["hours"] == "Mo-Fr 09:00-18:00"

    def test_editor_has_no_authorization_form(self, store: Any) -> None:
        at = start(store.tokens.create("alice", "editor")[0])
        assert not any(b.label == "Save authorization" for b in at.button)


class TestSaveEdits:
    """:func:`app_network.save_edits` on what ``st.data_editor`` returns (an edited
    copy of the table), which AppTest cannot type into."""

    def test_saves_changed_rows_and_reports_stale_ones(self, store: Any) -> None:
        table = app_network.snapshot(store)
        ids = list(table["outlet_id"][:3])
        store.update(
            ids[1], {"hours": "09:00-18:00"},
            expected_version=int(table["version"][1]), actor="bob", reason="x",
        )  # fmt: skip
        edited = table.copy()
        edited.loc[0, "phone"] = "000-555-9001"
        edited.loc[1, "phone"] = "000-555-9002"
        edited.loc[2, "lat"] = 123.0  # not a latitude
        edited.loc[2, "version"] = 999  # a locked column: ignored
        session = app_network.Session("alice", "editor")
        result = app_network.save_edits(store, table, edited, session=session, reason="fix")
        assert result.saved == [ids[0]]
        assert result.stale == {ids[1]: int(table["version"][1]) + 1}
        assert list(result.invalid) == [ids[2]] and "lat" in result.invalid[ids[2]][0]
        assert store.get(ids[0])["phone"] == "000-555-9001"
        assert store.get(ids[1])["hours"] == "09:00-18:00"
        assert store.get(ids[1])["phone"] != "000-555-9002"
        assert len(result.messages) == 2

    def test_viewer_cannot_save(self, store: Any) -> None:
        table = app_network.snapshot(store)
        with pytest.raises(PermissionError, match="editor"):
            app_network.save_edits(
                store, table, table, session=app_network.Session("v", "viewer"), reason="x"
            )
