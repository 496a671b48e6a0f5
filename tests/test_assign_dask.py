"""``locator assign --engine dask``: the pandas engine's output on a real Dask cluster.

Every test runs on a real ``LocalCluster`` (2 worker processes; the session fixture
``dask_scheduler`` in conftest.py, or one the CLI starts itself): same bytes as the
pandas engine, Parquet in and out, an interrupted run leaves no output, clean errors.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from locator.cli import app

pytestmark = pytest.mark.slow  # a cluster takes seconds to start on a loaded machine

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
SMALL_BLOCKS = "4000"  # bytes per CSV partition: many partitions from a small file


def run(*args: str):
    return runner.invoke(app, list(args))


def assert_clean_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert "Traceback" not in result.output


def orders_csv(path: Path, n: int = 600, seed: int = 7) -> Path:
    """Synthetic orders over China with bad rows of every kind spread through the file."""
    rng = np.random.default_rng(seed)
    lat = [f"{v:.5f}" for v in rng.uniform(20, 45, n)]
    lon = [f"{v:.5f}" for v in rng.uniform(100, 125, n)]
    for i, bad in zip(range(5, n, 97), ["x", "", "95", "nan", "inf", " 1e999"], strict=False):
        lat[i] = bad
    notes = [f"n{i}" if i % 50 else "=SUM(1)" for i in range(n)]
    frame = pd.DataFrame({"order": [f"o{i}" for i in range(n)], "lat": lat, "lon": lon,
                          "note": notes})  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def both_engines(src: Path, tmp_path: Path, *extra: str, dask: tuple[str, ...]) -> tuple:
    """Run the pandas engine and the Dask engine (many partitions; ``dask``: where) on
    ``src``, both with the options ``extra``."""
    pd_out, dk_out = tmp_path / "pandas.csv", tmp_path / "dask.csv"
    a = run("assign", str(src), "-o", str(pd_out), "--no-progress", *extra)
    b = run("assign", str(src), "-o", str(dk_out), "--no-progress", "--engine", "dask",
            "--blocksize", SMALL_BLOCKS, *dask, *extra)  # fmt: skip
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    return pd_out, dk_out, a, b


class TestSameAsPandas:
    """The Dask engine writes what the pandas engine writes, byte for byte."""

    def test_bad_rows_k2_and_filter(self, dask_scheduler: str, tmp_path: Path) -> None:
        """Bad coordinates are kept with the same statuses and listed by the same row
        numbers (header = row 1) though they sit in different partitions; k=2 with a
        kind filter; formula cells neutralized alike."""
        src = orders_csv(tmp_path / "orders.csv")
        opts = ("-k", "2", "--kind", "service_center")
        pd_out, dk_out, a, b = both_engines(
            src, tmp_path, *opts, dask=("--scheduler", dask_scheduler)
        )
        assert dk_out.read_bytes() == pd_out.read_bytes()
        assert b.stderr == a.stderr.replace(str(pd_out), str(dk_out))
        assert "rows 7, 104, 201, 298, 395, 492" in b.stderr
        df = pd.read_csv(dk_out, dtype=str, keep_default_na=False)
        assert (df["note"] == "'=SUM(1)").sum() == 12

    def test_gcj02_input(self, dask_scheduler: str, tmp_path: Path) -> None:
        """Coordinates in GCJ-02 are converted the same way on the workers."""
        src = orders_csv(tmp_path / "orders.csv", n=200, seed=3)
        pd_out, dk_out, _, _ = both_engines(
            src, tmp_path, "--coord-sys", "gcj02", dask=("--scheduler", dask_scheduler)
        )
        assert dk_out.read_bytes() == pd_out.read_bytes()

    def test_line_breaks_in_quoted_cells(self, dask_scheduler: str, tmp_path: Path) -> None:
        """A CSV whose quoted cells hold line breaks gives every row once, intact (a
        split at every line end would cut those rows in two)."""
        src = tmp_path / "notes.csv"
        n = 2000  # ~25 partitions; most line ends are inside quotes
        frame = pd.DataFrame({"order": range(n), "note": [f"a\nb\nc\nd {i}" for i in range(n)],
                              "lat": 31.23, "lon": 121.47})  # fmt: skip
        frame.to_csv(src, index=False)
        pd_out, dk_out, _, _ = both_engines(src, tmp_path, dask=("--scheduler", dask_scheduler))
        assert dk_out.read_bytes() == pd_out.read_bytes()
        assert len(pd.read_csv(dk_out)) == n

    def test_strict_writes_nothing(self, dask_scheduler: str, tmp_path: Path) -> None:
        """--strict fails naming every bad row, and leaves no output and no part files."""
        src = orders_csv(tmp_path / "orders.csv")
        out = tmp_path / "out.csv"
        r = run("assign", str(src), "-o", str(out), "--engine", "dask", "--strict",
                "--blocksize", SMALL_BLOCKS, "--scheduler", dask_scheduler)  # fmt: skip
        assert_clean_error(r, 2, "6 row(s) cannot be assigned")
        assert "rows 7, 104, 201, 298, 395, 492; nothing written" in r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]

    def test_local_cluster_without_scheduler(self, tmp_path: Path) -> None:
        """Without --scheduler the CLI starts (and stops) its own LocalCluster."""
        src = orders_csv(tmp_path / "orders.csv", n=120)
        pd_out, dk_out, _, b = both_engines(src, tmp_path, dask=("--workers", "2"))
        assert dk_out.read_bytes() == pd_out.read_bytes()
        assert "assigned 118 of 120 rows" in b.stderr


class TestParquet:
    def test_parquet_in_and_out(self, dask_scheduler: str, tmp_path: Path) -> None:
        """Parquet input (numeric lat/lon, a missing value) and a Parquet output folder
        hold the pandas engine's answers for the same rows; a re-run replaces it."""
        src_csv = orders_csv(tmp_path / "orders.csv", n=300)
        text = pd.read_csv(src_csv, dtype=str, keep_default_na=False)
        frame = text.assign(lat=pd.to_numeric(text["lat"], errors="coerce"),
                            lon=pd.to_numeric(text["lon"], errors="coerce"))  # fmt: skip
        src = tmp_path / "orders.parquet"
        frame.to_parquet(src, index=False, row_group_size=64)
        out = tmp_path / "assigned.parquet"
        for _ in range(2):
            r = run("assign", str(src), "-o", str(out), "--engine", "dask", "--no-progress",
                    "--scheduler", dask_scheduler)  # fmt: skip
            assert r.exit_code == 0, r.output
        assert out.is_dir() and all(p.suffix == ".parquet" for p in out.iterdir())
        got = pd.read_parquet(out)
        pd_out = tmp_path / "pandas.csv"
        assert run("assign", str(src_csv), "-o", str(pd_out)).exit_code == 0
        want = pd.read_csv(pd_out, dtype=str, keep_default_na=False)
        assert list(got.columns) == list(want.columns)
        assert got["order"].tolist() == want["order"].tolist()
        for col in ("assign_status", "nearest1_outlet_id", "nearest1_meets_promise"):
            assert got[col].astype(str).tolist() == want[col].tolist(), col
        km = pd.to_numeric(want["nearest1_distance_km"], errors="coerce")
        np.testing.assert_array_equal(got["nearest1_distance_km"].to_numpy(), km.to_numpy())
        assert (got["assign_status"] == "bad_coordinates").sum() == 4

    def test_folder_that_is_not_ours_is_refused(self, dask_scheduler: str, tmp_path: Path):
        """OUT.parquet naming a folder with other files in it is never replaced."""
        src = orders_csv(tmp_path / "orders.csv", n=20)
        out = tmp_path / "mine.parquet"
        out.mkdir()
        (out / "keep.txt").write_text("mine")
        r = run("assign", str(src), "-o", str(out), "--engine", "dask",
                "--scheduler", dask_scheduler)  # fmt: skip
        assert_clean_error(r, 2, "is a folder that is not a previous assign output")
        assert (out / "keep.txt").read_text() == "mine"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "locator", "assign", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}


class TestInterrupted:
    def test_killed_run_leaves_no_output_and_reruns(self, dask_scheduler, tmp_path) -> None:
        """A run killed (SIGKILL) while its workers write parts leaves no OUT; the next
        run succeeds and removes the parts the killed one left."""
        src = orders_csv(tmp_path / "orders.csv", n=150_000)
        out = tmp_path / "out.csv"
        args = [str(src), "-o", str(out), "--engine", "dask", "--scheduler", dask_scheduler,
                "--blocksize", "50000", "--no-progress"]  # fmt: skip
        proc = subprocess.Popen(_cli(*args), env=_env(), stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        parts: list[Path] = []
        while not parts and time.monotonic() < deadline and proc.poll() is None:
            parts = list(tmp_path.glob(".out.csv.*.parts/part.*.csv"))
            time.sleep(0.02)
        assert parts, "no part file appeared before the run ended"
        proc.kill()
        proc.wait(timeout=30)
        assert not out.exists()
        assert list(tmp_path.glob(".out.csv.*.parts"))  # what a SIGKILL leaves
        again = subprocess.run(_cli(*args), env=_env(), capture_output=True, text=True,
                               timeout=300)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert "assigned 149,994 of 150,000 rows" in again.stderr
        assert len(pd.read_csv(out)) == 150_000
        assert not list(tmp_path.glob(".out.csv.*"))

    def test_ctrl_c_says_nothing_was_written(self, dask_scheduler, tmp_path) -> None:
        """Ctrl-C (SIGINT) mid-run: exit 130, one line saying nothing was written, no
        OUT and no part folder left."""
        src = orders_csv(tmp_path / "orders.csv", n=150_000)
        out = tmp_path / "out.csv"
        args = [str(src), "-o", str(out), "--engine", "dask", "--scheduler", dask_scheduler,
                "--blocksize", "50000", "--no-progress"]  # fmt: skip
        proc = subprocess.Popen(_cli(*args), env=_env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if list(tmp_path.glob(".out.csv.*.parts/part.*.csv")):
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert f"nothing was written to {out}" in err
        assert "Traceback" not in err
        assert not out.exists()
        assert not list(tmp_path.glob(".out.csv.*"))


class TestErrors:
    def test_without_dask_installed(self, tmp_path: Path, monkeypatch) -> None:
        """Without the extra, --engine dask says how to install it (exit 2)."""
        monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if absent
        src = orders_csv(tmp_path / "orders.csv", n=5)
        r = run("assign", str(src), "-o", str(tmp_path / "o.csv"), "--engine", "dask")
        assert_clean_error(r, 2, "pip install 'locator[dask]'")

    def test_unreachable_scheduler(self, tmp_path: Path) -> None:
        """A scheduler address nobody answers at is one error line naming it."""
        src = orders_csv(tmp_path / "orders.csv", n=5)
        r = run("assign", str(src), "-o", str(tmp_path / "o.csv"), "--engine", "dask",
                "--scheduler", "tcp://127.0.0.1:9")  # fmt: skip
        assert_clean_error(r, 2, "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'")
        assert not (tmp_path / "o.csv").exists()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--engine", "spark"], "unknown --engine 'spark'"),
            (["--workers", "2"], "need --engine dask"),
            (["--engine", "dask", "--address-col", "a"], "--address-col is not supported"),
            (
                ["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"],
                "not both",
            ),
        ],
    )
    def test_options(self, tmp_path: Path, args: list[str], message: str) -> None:
        src = orders_csv(tmp_path / "orders.csv", n=5)
        r = run("assign", str(src), "-o", str(tmp_path / "o.csv"), *args)
        assert_clean_error(r, 2, message)

    def test_parquet_needs_dask(self, tmp_path: Path) -> None:
        """The pandas engine refuses Parquet input instead of misreading it as text."""
        src = tmp_path / "orders.parquet"
        pd.DataFrame({"lat": [31.2], "lon": [121.4]}).to_parquet(src)
        r = run("assign", str(src), "-o", str(tmp_path / "o.csv"))
        assert_clean_error(r, 2, "Parquet input needs --engine dask")

    def test_missing_column_same_message(self, dask_scheduler: str, tmp_path: Path) -> None:
        """A missing column gets the pandas engine's message, raised from a worker."""
        src = tmp_path / "in.csv"
        src.write_text("y,x\n31.2,121.4\n")
        r = run("assign", str(src), "-o", str(tmp_path / "o.csv"), "--engine", "dask",
                "--scheduler", dask_scheduler)  # fmt: skip
        assert_clean_error(r, 2, "column(s) 'lat', 'lon' not in in.csv; columns are: y, x")


class TestPythonApi:
    def test_assign_dask(self, dask_scheduler: str, tmp_path: Path) -> None:
        """``assign_dask`` on the user's client gives the CLI's file and counts."""
        from distributed import Client

        from locator.batch import AssignSpec
        from locator.batch_dask import assign_dask
        from locator.data import load_outlets
        from locator.index import OutletIndex

        src = orders_csv(tmp_path / "orders.csv", n=400)
        out, cli_out = tmp_path / "api.csv", tmp_path / "cli.csv"
        index = OutletIndex(load_outlets())
        with Client(dask_scheduler) as client:
            result = assign_dask(src, out, index, AssignSpec(source="orders.csv", k=3),
                                 client=client, blocksize=int(SMALL_BLOCKS))  # fmt: skip
        assert (result.rows, result.bad, result.bad_rows) == (400, 5, [7, 104, 201, 298, 395])
        assert result.partitions > 1
        assert run("assign", str(src), "-o", str(cli_out), "-k", "3").exit_code == 0
        assert out.read_bytes() == cli_out.read_bytes()
