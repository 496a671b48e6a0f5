"""Every file the CLI writes: output-path checks before any work, the one CSV writer
(encoding, formula guard), write errors that name the user's path, Ctrl-C, and the
geocode-csv run lock. Commands run through typer's CliRunner, or as a real process
(``python -m locator``) where the test is about the process."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from geopy.location import Location
from typer.testing import CliRunner

from locator.cli import app
from locator.cli import geocode as cli_geocode
from locator.cli import nearest as nearest_cli

ROOT = Path(__file__).resolve().parent.parent
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _devices_survive() -> Iterator[None]:
    """A regression would replace /dev/full with a regular file (as root); put the
    real device back so the machine keeps working."""
    yield
    for dev, minor in (("/dev/null", 3), ("/dev/full", 7)):
        if not stat.S_ISCHR(os.lstat(dev).st_mode) and os.geteuid() == 0:
            os.unlink(dev)
            os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
            os.chmod(dev, 0o666)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOCATOR_NO_PROGRESS", "1")
    return CliRunner()


@pytest.fixture
def outlets_csv(tmp_path: Path) -> Path:
    """A small synthetic network (fictional names, no real phone numbers)."""
    path = tmp_path / "outlets.csv"
    path.write_text(
        "outlet_id,name,kind,city,lat,lon,categories,authorized\n"
        "A1,Alpha center,service_center,上海,31.23,121.47,tv,true\n"
        "B1,Beijing center,service_center,北京,39.90,116.40,tv,true\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def places_csv(tmp_path: Path) -> Path:
    path = tmp_path / "places.csv"
    path.write_text("id,lat,lon,addr\n1,31.2,121.4,上海\n2,39.9,116.4,北京\n3,30.0,120.0,上海\n",
                    encoding="utf-8")  # fmt: skip
    return path


def assert_clean_error(result, code: int, pattern: str) -> str:
    """Exit ``code``, one ``error:`` line matching ``pattern`` on stderr, no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert ".tmp" not in lines[0]
    return lines[0]


def commands(out: Path, outlets: Path, places: Path) -> dict[str, list[str]]:
    """Each command that writes a file, writing to ``out``."""
    o = str(out)
    return {
        "gaps --csv": ["gaps", "--outlets", str(outlets), "--csv", o],
        "coverage --geojson": ["coverage", "--outlets", str(outlets), "--geojson", o],
        "map -o": ["map", "--outlets", str(outlets), "-o", o],
        "assign -o": ["assign", str(places), "--outlets", str(outlets), "-o", o, "--no-progress"],
        "geocode-csv -o": ["geocode-csv", str(places), "-c", "addr", "-o", o],
    }


NAMES = list(commands(Path(), Path(), Path()))


class TestOutputPathChecks:
    @pytest.mark.parametrize("name", NAMES)
    def test_output_equal_to_an_input_is_refused(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, name: str
    ) -> None:
        """Writing over an input (the outlets file, or the command's input file) is
        refused with exit 2; the input is unchanged."""
        target = places_csv if name.startswith(("assign", "geocode")) else outlets_csv
        before = target.read_bytes()
        res = runner.invoke(app, commands(target, outlets_csv, places_csv)[name])
        assert_clean_error(res, 2, rf"cannot write {re.escape(str(target))}: it is the input file")
        assert target.read_bytes() == before

    @pytest.mark.parametrize(
        ("args", "data_file"),
        [
            (["gaps", "--csv"], "places.csv"),
            (["map", "-o"], "outlets.csv"),
            (["coverage", "--geojson"], "cities.csv"),
        ],
    )
    def test_bundled_data_is_never_overwritten(
        self, runner: CliRunner, args: list[str], data_file: str
    ) -> None:
        """The bundled data files (read when no --outlets is given) are inputs too."""
        from locator.data import DATA_DIR

        target = DATA_DIR / data_file
        before = target.read_bytes()
        res = runner.invoke(app, [*args, str(target)])
        assert_clean_error(res, 2, "it is the input file")
        assert target.read_bytes() == before

    @pytest.mark.parametrize("name", NAMES)
    def test_missing_directory_is_refused_not_created(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path, name: str
    ) -> None:
        """An output in a folder that does not exist is refused, naming that folder;
        no folder is created."""
        missing = tmp_path / "nonexistent" / "dir"
        out = missing / "out.x"
        res = runner.invoke(app, commands(out, outlets_csv, places_csv)[name])
        assert_clean_error(
            res, 2, rf"cannot write {re.escape(str(out))}: directory does not exist: "
            rf"{re.escape(str(missing))}$",
        )  # fmt: skip
        assert not (tmp_path / "nonexistent").exists()

    @pytest.mark.parametrize("name", NAMES)
    def test_directory_is_refused(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path, name: str
    ) -> None:
        """A directory as the output is refused by the path the user gave."""
        out = tmp_path / "somedir"
        out.mkdir()
        res = runner.invoke(app, commands(out, outlets_csv, places_csv)[name])
        assert_clean_error(res, 2, rf"cannot write {re.escape(str(out))}: is a directory")

    def test_assign_refuses_before_any_work(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        """assign -o DIR fails up front: not one row is geocoded."""
        calls: list[str] = []

        class Geo:
            def geocode(self, q: str) -> Location:
                calls.append(q)
                return Location(q, (31.2, 121.4), {})

        monkeypatch.setattr(nearest_cli, "make_geocoder", lambda: Geo())
        res = runner.invoke(app, ["assign", str(places_csv), "--address-col", "addr",
                                  "--outlets", str(outlets_csv), "-o", str(tmp_path)])  # fmt: skip
        assert_clean_error(res, 2, "is a directory")
        assert calls == []


class TestCsvEncoding:
    @pytest.mark.parametrize("name", ["gaps --csv", "assign -o", "geocode-csv -o"])
    def test_default_is_utf8_with_one_bom(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path, name: str
    ) -> None:
        """Every CSV output starts with one UTF-8 BOM (Excel reads Chinese right)."""
        out = tmp_path / "out.csv"
        res = runner.invoke(app, commands(out, outlets_csv, places_csv)[name])
        assert res.exit_code == 0, res.output
        data = out.read_bytes()
        assert data.startswith(BOM) and data.count(BOM) == 1
        assert len(pd.read_csv(out, encoding="utf-8-sig")) > 0

    def test_assign_many_chunks_one_bom(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path
    ) -> None:
        """assign writes chunk by chunk: still one BOM and one header."""
        out = tmp_path / "out.csv"
        res = runner.invoke(app, [*commands(out, outlets_csv, places_csv)["assign -o"],
                                  "--chunksize", "1", "--no-progress"])  # fmt: skip
        assert res.exit_code == 0, res.output
        data = out.read_bytes()
        assert data.count(BOM) == 1
        assert data.decode("utf-8-sig").count("id,lat,lon,addr,assign_status") == 1

    @pytest.mark.parametrize("name", ["gaps --csv", "assign -o", "geocode-csv -o"])
    @pytest.mark.parametrize(("encoding", "codec"), [("utf-8", "utf-8"), ("gb18030", "gb18030")])
    def test_out_encoding(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path,
        name: str, encoding: str, codec: str,
    ) -> None:  # fmt: skip
        """--out-encoding utf-8 (no BOM) or gb18030 is honoured."""
        out = tmp_path / "out.csv"
        args = [*commands(out, outlets_csv, places_csv)[name], "--out-encoding", encoding]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        data = out.read_bytes()
        assert not data.startswith(BOM)
        text = data.decode(codec)
        assert ("上海" in text or "北京" in text or "city" in text) and "\ufeff" not in text

    def test_unknown_out_encoding(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path
    ) -> None:
        """An unsupported encoding is one clean error naming the option, before work."""
        out = tmp_path / "out.csv"
        res = runner.invoke(app, [*commands(out, outlets_csv, places_csv)["assign -o"],
                                  "--out-encoding", "latin-1"])  # fmt: skip
        assert_clean_error(res, 2, "--out-encoding: unsupported output encoding 'latin-1'")
        assert not out.exists()


class TestFormulaGuard:
    def test_cr_in_a_cell_keeps_the_row_and_is_guarded(
        self, runner: CliRunner, outlets_csv: Path, tmp_path: Path
    ) -> None:
        """A CR inside an input cell does not split the output row, and a formula after
        it is neutralized."""
        import csv

        src = tmp_path / "in.csv"
        src.write_bytes(b"id,lat,lon,note\n1,31.2,121.4,\"ok\r=cmd|' /C calc'!A0\"\n")
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["assign", str(src), "--outlets", str(outlets_csv),
                                  "-o", str(out)])  # fmt: skip
        assert res.exit_code == 0, res.output
        with open(out, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 1
        assert rows[0]["note"] == "ok\r'=cmd|' /C calc'!A0"
        assert rows[0]["nearest1_outlet_id"] == "A1"

    def test_xlsx_control_character_fails_before_geocoding(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """geocode-csv -o out.xlsx with a control character in the input stops before
        any geocoder call, naming the row and column."""
        calls: list[str] = []

        class Geo:
            def geocode(self, q: str) -> None:
                calls.append(q)

        monkeypatch.setattr(cli_geocode, "make_geocoder", lambda *a, **k: Geo())
        src = tmp_path / "in.csv"
        src.write_text("addr\n上海\nbad\x01addr\n", encoding="utf-8")
        out = tmp_path / "out.xlsx"
        res = runner.invoke(app, ["geocode-csv", str(src), "-c", "addr", "-o", str(out),
                                  "-g", "nominatim"])  # fmt: skip
        assert res.exit_code == 2, res.output
        assert "row 3, column 'addr': control character" in res.stderr
        assert calls == [] and not out.exists()


class TestWriteErrors:
    def test_disk_full_names_the_path(self, tmp_path: Path) -> None:
        """A full disk (/dev/full) ends in one error line naming the output path, as
        a real process, with no traceback; /dev/full stays a device."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCATOR_NO_PROGRESS": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "locator", "gaps", "--radius-km", "20", "--csv", "/dev/full"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip() == "error: cannot write /dev/full: No space left on device"
        assert Path("/dev/full").is_char_device()

    @pytest.mark.parametrize("name", ["assign -o", "geocode-csv -o", "map -o"])
    def test_disk_full_other_commands(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, name: str
    ) -> None:
        """assign, geocode-csv and map name the output on a full disk too."""
        res = runner.invoke(app, commands(Path("/dev/full"), outlets_csv, places_csv)[name])
        assert_clean_error(res, 2, r"^error: cannot write /dev/full: No space left on device")
        assert Path("/dev/full").is_char_device()

    def test_main_names_a_path_or_nothing(self, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        """The last safety net prints 'error: PATH: reason', or 'error: reason' when the
        error has no path (never 'error:: ...')."""
        import errno

        import locator.cli as cli

        def boom() -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(cli, "app", boom)
        with pytest.raises(SystemExit) as info:
            cli.main()
        assert info.value.code == 2
        assert capsys.readouterr().err == "error: No space left on device\n"


class TestAssignInterrupt:
    def test_ctrl_c_leaves_the_old_output_and_says_so(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        """Ctrl-C during assign exits 130, says how far it got and that OUT is
        unchanged; no partial or temp file is left."""
        seen: list[str] = []

        class Geo:
            def geocode(self, q: str) -> Location:
                seen.append(q)
                if len(seen) == 2:
                    raise KeyboardInterrupt
                return Location(q, (31.2, 121.4), {})

        monkeypatch.setattr(nearest_cli, "make_geocoder", lambda: Geo())
        out = tmp_path / "out.csv"
        out.write_text("old\n", encoding="utf-8")
        res = runner.invoke(app, ["assign", str(places_csv), "--address-col", "addr",
                                  "--outlets", str(outlets_csv), "-o", str(out),
                                  "--chunksize", "1", "--no-progress"])  # fmt: skip
        assert res.exit_code == 130, res.output
        assert res.stderr.strip().splitlines()[-1] == (
            f"interrupted: stopped after 1 rows; {out} was not changed"
        )
        assert out.read_text(encoding="utf-8") == "old\n"
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    def test_ctrl_c_with_no_previous_output(
        self, runner: CliRunner, outlets_csv: Path, places_csv: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        """With no earlier OUT, Ctrl-C says nothing was written and leaves no file."""

        class Geo:
            def geocode(self, q: str) -> Location:
                raise KeyboardInterrupt

        monkeypatch.setattr(nearest_cli, "make_geocoder", lambda: Geo())
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["assign", str(places_csv), "--address-col", "addr",
                                  "--outlets", str(outlets_csv), "-o", str(out)])  # fmt: skip
        assert res.exit_code == 130, res.output
        assert f"interrupted: stopped after 0 rows; nothing was written to {out}" in res.stderr
        assert not out.exists()


HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
sys.stdin.read()
"""


class TestGeocodeCsvLock:
    def test_second_run_is_refused_while_one_holds_the_lock(
        self, runner: CliRunner, places_csv: Path, tmp_path: Path
    ) -> None:
        """While another process holds the run lock on OUT, geocode-csv exits 2 naming
        OUT and that process's pid, geocoding nothing; once it is gone, a run works and
        leaves no lock file behind."""
        from locator.geocoders.batch import checkpoint_path, lock_path

        out = tmp_path / "out.csv"
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(lock_path(out))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
            res = runner.invoke(app, ["geocode-csv", str(places_csv), "-c", "addr",
                                      "-o", str(out)])  # fmt: skip
            assert_clean_error(
                res, 2, rf"another geocode-csv is running on {re.escape(str(out))} "
                rf"\(pid {holder.pid}\)",
            )  # fmt: skip
            assert not out.exists() and not checkpoint_path(out).exists()
        finally:
            holder.communicate("", timeout=30)
        res = runner.invoke(app, ["geocode-csv", str(places_csv), "-c", "addr", "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert out.exists() and not lock_path(out).exists()

    def test_stream_output_keeps_no_checkpoint_or_lock(
        self, runner: CliRunner, places_csv: Path, tmp_path: Path
    ) -> None:
        """geocode-csv into a FIFO (like -o /dev/stdout) streams the CSV to its reader
        and leaves no checkpoint or lock file beside it."""
        import threading

        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        got: list[bytes] = []

        def reader() -> None:
            with open(fifo, "rb") as fh:
                got.append(fh.read())

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        res = runner.invoke(app, ["geocode-csv", str(places_csv), "-c", "addr", "-o", str(fifo)])
        t.join(timeout=30)
        assert res.exit_code == 0, res.output
        assert got and got[0].decode("utf-8-sig").startswith("id,lat_input,lon_input,addr,lat")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "places.csv"]


class TestGeocodeProgress:
    def test_eta_after_resume_counts_only_this_run(self, capsys, monkeypatch) -> None:
        """Resumed at 851 of 5000, then one row a second: the bar shows 861/5000 and an
        ETA of 1:08:59 (4139 rows at this run's rate), whatever the resumed rows."""
        monkeypatch.delenv("LOCATOR_NO_PROGRESS", raising=False)
        now = [100.0]
        cm, callback = cli_geocode._progress(False, get_time=lambda: now[0])
        with cm:
            now[0] += 5.0  # reading the input and the checkpoint
            callback(851, 5000)  # the resumed rows, reported once at the start
            for done in range(852, 862):
                now[0] += 1.0
                callback(done, 5000)
        err = capsys.readouterr().err
        assert re.search(r"861/5000 1:08:59", err), err
