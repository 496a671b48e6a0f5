"""The store's CLI (#13): ``locator db ...``, ``locator history``, ``locator token ...``,
on SQLite and PostgreSQL + PostGIS; interrupted imports (Ctrl-C, kill -9) change nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app
from locator.data import load_outlets
from locator.store import open_store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOCATOR_NO_PROGRESS", "1")
    return CliRunner()


def _sample_csv(tmp_path: Path, frame: pd.DataFrame | None = None) -> Path:
    frame = load_outlets() if frame is None else frame
    path = tmp_path / "outlets.csv"
    frame.to_csv(path, index=False)
    return path


def _edited(tmp_path: Path) -> Path:
    """The sample with one outlet renamed, one dropped, one added."""
    frame = load_outlets().copy()
    frame.loc[0, "name"] = "改名的网点"
    dropped = frame["outlet_id"].iat[1]
    frame = frame.drop(index=1)
    extra = frame.iloc[[0]].assign(outlet_id="NEW1", name="新网点")
    out = _sample_csv(tmp_path, pd.concat([frame, extra], ignore_index=True))
    assert dropped == "00002"
    return out


class TestImport:
    def test_dry_run_prints_the_diff_and_changes_nothing(
        self, runner: CliRunner, store_url: str, tmp_path: Path
    ) -> None:
        """--dry-run lists added, changed field by field (old -> new) and closed."""
        rev = open_store(store_url).revision()
        res = runner.invoke(
            app, ["db", "import", str(_edited(tmp_path)), "--dry-run", "--database", store_url]
        )
        assert res.exit_code == 0, res.output
        assert "1 added, 1 changed, 1 closed, 389 unchanged" in res.output
        assert "+ NEW1" in res.output
        assert "name: 'ACME家电北京东城区服务中心' -> '改名的网点'" in res.output
        assert "- 00002 (closed)" in res.output
        assert "nothing was changed" in res.output
        store = open_store(store_url)
        assert store.revision() == rev
        assert store.get("00001")["name"] == "ACME家电北京东城区服务中心"

    def test_import_applies_and_is_in_the_history(
        self, runner: CliRunner, store_url: str, tmp_path: Path
    ) -> None:
        """An import adds, updates and closes (not deletes), each with a version."""
        res = runner.invoke(
            app,
            [
                "db",
                "import",
                str(_edited(tmp_path)),
                "--reason",
                "Q3 list",
                "--database",
                store_url,
            ],
        )
        assert res.exit_code == 0, res.output
        store = open_store(store_url)
        ids = set(store.network().frame["outlet_id"])
        assert "NEW1" in ids and "00002" not in ids
        assert store.get("00002")["status"] == "closed"
        res = runner.invoke(app, ["history", "00001", "--database", store_url, "--json"])
        last = json.loads(res.output)[-1]
        assert last["changes"] == {"name": ["ACME家电北京东城区服务中心", "改名的网点"]}
        assert last["reason"] == "Q3 list" and last["actor"].startswith("cli:")

    def test_columns_not_stored_are_named(
        self, runner: CliRunner, store_url: str, tmp_path: Path
    ) -> None:
        """A column the store does not keep is named in a warning, not dropped silently."""
        path = _sample_csv(tmp_path, load_outlets().assign(region_manager="王"))
        res = runner.invoke(app, ["db", "import", str(path), "--dry-run", "--database", store_url])
        assert res.exit_code == 0, res.output
        assert "warning: columns not stored" in res.stderr and "region_manager" in res.stderr

    def test_bad_rows_are_named_and_nothing_changes(
        self, runner: CliRunner, store_url: str, tmp_path: Path
    ) -> None:
        """A file with bad rows is refused as a whole: the error names every row."""
        frame = load_outlets().astype({"authorized": object})
        frame.loc[3, "lat"] = 123.0
        frame.loc[7, "authorized"] = "maybe"
        path = _sample_csv(tmp_path, frame.assign(name=frame["name"] + "x"))
        rev = open_store(store_url).revision()
        res = runner.invoke(app, ["db", "import", str(path), "--database", store_url])
        assert res.exit_code == 2
        assert "row 5" in res.output and "row 9" in res.output and "Traceback" not in res.output
        assert open_store(store_url).revision() == rev

    def test_reimporting_an_export_changes_nothing(
        self, runner: CliRunner, store_url: str, tmp_path: Path
    ) -> None:
        """Export then import (CSV, XLSX, GeoJSON) round-trips every field."""
        for ext in ("csv", "xlsx", "geojson"):
            out = tmp_path / f"net.{ext}"
            res = runner.invoke(app, ["db", "export", str(out), "--database", store_url])
            assert res.exit_code == 0, res.output
            res = runner.invoke(
                app, ["db", "import", str(out), "--dry-run", "--database", store_url]
            )
            assert "0 added, 0 changed, 0 closed, 391 unchanged" in res.output, (ext, res.output)


def _big_csv(tmp_path: Path, n: int) -> Path:
    base = load_outlets()
    reps = -(-n // len(base))
    frame = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
    frame["outlet_id"] = [f"BIG{i:07d}" for i in range(n)]
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
class TestInterruptedImport:
    @pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
    def test_interrupted_import_changes_nothing(
        self, store_url: str, tmp_path: Path, sig: signal.Signals
    ) -> None:
        """A process killed (or interrupted) while writing a big import leaves the store
        exactly as it was: one transaction."""
        path = _big_csv(tmp_path, 60_000)
        before = open_store(store_url)
        rev, n = before.revision(), len(before.network())
        before.dispose()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "locator", "db", "import", str(path), "--database", store_url],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "validated: ...; writing (one transaction) ..."
        assert "writing" in line, line
        time.sleep(0.5)
        assert proc.poll() is None, "the import finished before it could be interrupted"
        proc.send_signal(sig)
        proc.wait(60)
        assert proc.returncode != 0
        after = open_store(store_url)
        assert (after.revision(), len(after.network())) == (rev, n)
        with after.engine.connect() as conn:
            import sqlalchemy as sa

            from locator.store.models import versions

            assert conn.execute(sa.select(sa.func.count()).select_from(versions)).scalar() == n
        after.dispose()


class TestTokensCli:
    def test_create_list_revoke(self, runner: CliRunner, store_url: str) -> None:
        """The secret is printed once; the list shows names and roles only."""
        res = runner.invoke(
            app, ["token", "create", "--name", "alice", "--role", "editor", "--database", store_url]
        )
        assert res.exit_code == 0, res.output
        secret = res.stdout.strip().splitlines()[0]
        assert secret.startswith("loc_")
        assert open_store(store_url).tokens.authenticate(secret).role == "editor"
        res = runner.invoke(app, ["token", "list", "--database", store_url])
        assert "alice\teditor" in res.output and secret not in res.output
        res = runner.invoke(app, ["token", "revoke", "alice", "--database", store_url])
        assert res.exit_code == 0
        assert open_store(store_url).tokens.authenticate(secret) is None
        res = runner.invoke(
            app, ["token", "create", "--name", "x", "--role", "root", "--database", store_url]
        )
        assert res.exit_code == 2 and "role" in res.output


class TestAuthorizeRevert:
    def test_revoke_then_revert(self, runner: CliRunner, store_url: str) -> None:
        """db authorize --revoke takes effect; db revert --to 1 restores it."""
        res = runner.invoke(
            app,
            ["db", "authorize", "00001", "--revoke", "--reason", "fake", "--database", store_url],
        )
        assert res.exit_code == 0, res.output
        assert "not authorized" in res.output
        res = runner.invoke(
            app,
            [
                "db",
                "authorize",
                "00001",
                "--reason",
                "x",
                "--valid-until",
                "tomorrow",
                "--database",
                store_url,
            ],
        )
        assert res.exit_code == 2 and "--valid-until" in res.output
        res = runner.invoke(
            app, ["db", "revert", "00001", "--to", "1", "--reason", "oops", "--database", store_url]
        )
        assert res.exit_code == 0, res.output
        assert open_store(store_url).get("00001")["authorized"] is True
        res = runner.invoke(app, ["db", "revert", "00001", "--to", "1", "--database", store_url])
        assert res.exit_code == 2  # --reason is required


class TestReadPath:
    def test_commands_read_the_store(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no --outlets file the CLI reads the store: a closed outlet is gone."""
        monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path))
        res = runner.invoke(app, ["audit", "--json"])
        assert json.loads(res.stdout)["outlets"] == 391
        store = open_store()
        store.close("00001", reason="gone", actor="t")
        store.dispose()
        res = runner.invoke(app, ["audit", "--json"])
        assert json.loads(res.stdout)["outlets"] == 390

    def test_audit_lists_expiring_authorizations(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """locator audit names authorizations that end within 30 days (and only those)."""
        from datetime import date, timedelta

        monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path))
        store = open_store()
        soon = date.today() + timedelta(days=12)
        store.set_authorization(
            "00001", granted=True, actor="a", reason="contract", valid_until=soon, evidence="C-17"
        )
        store.set_authorization(
            "00002",
            granted=True,
            actor="a",
            reason="contract",
            valid_until=soon + timedelta(days=60),
        )
        store.dispose()
        res = runner.invoke(app, ["audit", "--json"])
        expiring = json.loads(res.stdout)["expiring_authorizations"]
        assert [(a["outlet_id"], a["days_left"], a["evidence"]) for a in expiring] == [
            ("00001", 12, "C-17")
        ]
        res = runner.invoke(app, ["audit"])
        assert "Authorizations ending within 30 days" in res.stdout and "C-17" in res.stdout
