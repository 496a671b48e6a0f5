"""Live refresh (#13 §4): a change is served without a restart, in this process at
once and from another process within 5 s; the index is swapped whole."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from locator.api import create_app
from locator.store import LiveNetwork, open_store

ROOT = Path(__file__).resolve().parent.parent


def _outlet_ids(client: TestClient) -> set[str]:
    r = client.get("/v1/outlets")
    assert r.status_code == 200
    return {f["id"] for f in r.json()["features"]}


class TestApiLive:
    def test_change_in_this_process_is_served_at_once(self, store) -> None:
        """A write through the app's store shows in the very next request."""
        app = create_app(store)
        with TestClient(app) as client:
            assert "00001" in _outlet_ids(client)
            before = client.get("/healthz").json()["outlets_authorized"]
            store.set_authorization("00001", granted=False, actor="admin", reason="fake")
            assert "00001" not in _outlet_ids(client)
            assert client.get("/healthz").json()["outlets_authorized"] == before - 1

    def test_change_from_another_process_within_5_s(self, store, store_url: str) -> None:
        """Another process revokes an authorization; the server sees it within 5 s."""
        app = create_app(store, poll_interval=0.2)
        with TestClient(app) as client:
            assert "00001" in _outlet_ids(client)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locator",
                    "db",
                    "authorize",
                    "00001",
                    "--revoke",
                    "--reason",
                    "fake listing",
                    "--database",
                    store_url,
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            written = time.monotonic()
            while "00001" in _outlet_ids(client):
                assert time.monotonic() - written < 5, "not visible within 5 s"
                time.sleep(0.05)

    def test_file_network_stays_read_only(self, tmp_path: Path) -> None:
        """A network given as a file is served as loaded: no store behind it."""
        from locator.data import load_outlets

        path = tmp_path / "o.csv"
        load_outlets().head(5).to_csv(path, index=False)
        app = create_app(str(path))
        assert app.state.store is None and app.state.live is None
        with TestClient(app) as client:
            assert len(_outlet_ids(client)) <= 5


class TestLiveNetwork:
    def test_swap_is_whole(self, store) -> None:
        """Readers in a loop only ever see a complete network (old or new)."""
        from locator.index import OutletIndex

        live = LiveNetwork(store, lambda net: (len(net), OutletIndex(net)))
        n0 = live.current[0]
        seen: set[int] = set()
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                n, index = live.current
                assert len(index.outlets) == n
                seen.add(n)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            store.close("00001", reason="gone", actor="t")
            store.reopen("00001", reason="back", actor="t")
        finally:
            stop.set()
            reader.join(10)
        assert live.current[0] == n0
        assert seen <= {n0, n0 - 1}

    def test_poller_sees_other_store_objects(self, store, store_url: str) -> None:
        """A change through another connection (as another process would) is polled in."""
        live = LiveNetwork(store, len, interval=0.1).start()
        other = open_store(store_url)
        try:
            other.close("00001", reason="gone", actor="t")
            deadline = time.monotonic() + 5
            while live.current != 390:
                assert time.monotonic() < deadline, "not seen within 5 s"
                time.sleep(0.05)
        finally:
            live.stop()
            other.dispose()

    def test_nothing_changes_nothing_rebuilt(self, store) -> None:
        """Polling without a change does not rebuild."""
        builds: list[int] = []
        live = LiveNetwork(store, lambda net: builds.append(len(net)))
        assert live.refresh() is False
        assert builds == [391]


class TestAppLive:
    def test_app_shows_a_store_change_on_the_next_rerun(self, tmp_path, monkeypatch) -> None:
        """The app's network is keyed on the store revision: a change made by another
        process is on screen at the next rerun, and the sample note goes away."""
        import streamlit as st
        from streamlit.testing.v1 import AppTest

        monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path))
        st.cache_resource.clear()
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.session_state["lang"] = "en"
        at.run()

        def authorized_caption() -> str:
            return next(c.value for c in at.sidebar.caption if "authorized outlets" in c.value)

        from locator.data import load_outlets

        n = int(load_outlets()["authorized"].sum())  # the bundled sample's count
        assert authorized_caption().startswith(f"{n} authorized outlets of 391")
        assert any("Sample data" in w.value for w in at.sidebar.warning)
        other = open_store()  # the same default store, another connection
        other.set_authorization("00001", granted=False, actor="admin", reason="fake")
        other.dispose()
        at.run()
        assert authorized_caption().startswith(f"{n - 1} authorized outlets of 391")
        assert not any("Sample data" in w.value for w in at.sidebar.warning)
        st.cache_resource.clear()
