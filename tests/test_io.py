"""Atomic writes and spreadsheet-safe CSV."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from locator.outputs import atomic_write, csv_safe, csv_safe_cell, write_csv, write_text, write_xlsx


class TestAtomicWrite:
    def test_failure_leaves_the_old_file_and_no_temp(self, tmp_path: Path) -> None:
        """An exception mid-write keeps the previous content and leaves no temp file."""
        p = tmp_path / "out.csv"
        p.write_text("old", encoding="utf-8")
        with pytest.raises(RuntimeError), atomic_write(p) as fh:
            fh.write("half")
            raise RuntimeError("crash")
        assert p.read_text(encoding="utf-8") == "old"
        assert [x.name for x in tmp_path.iterdir()] == ["out.csv"]

    def test_new_file_gets_normal_permissions(self, tmp_path: Path) -> None:
        """A new file is readable by others as a plain open() would make it (umask applied),
        not 0600 like the temp file it was written through."""
        old = os.umask(0o022)
        try:
            p = tmp_path / "new.txt"
            with atomic_write(p) as fh:
                fh.write("x")
        finally:
            os.umask(old)
        assert stat.S_IMODE(p.stat().st_mode) == 0o644

    def test_replaced_file_keeps_its_mode(self, tmp_path: Path) -> None:
        """Rewriting a file keeps its permissions."""
        p = tmp_path / "keep.txt"
        p.write_text("a", encoding="utf-8")
        p.chmod(0o640)
        with atomic_write(p) as fh:
            fh.write("b")
        assert stat.S_IMODE(p.stat().st_mode) == 0o640


class TestCsvSafe:
    @pytest.mark.parametrize(
        "value",
        [
            '=HYPERLINK("http://x","y")',
            "+SUM(A1)",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(1)",
            "\t=1",
        ],
    )
    def test_formulas_are_neutralized(self, value: str) -> None:
        """Cells a spreadsheet would evaluate get a leading apostrophe."""
        assert csv_safe_cell(value) == "'" + value

    @pytest.mark.parametrize("value", ["+86 755 1234 5678", "-12.5", "+86-10-6552-0000", "北京"])
    def test_numbers_and_text_are_left_alone(self, value: str) -> None:
        """Phone numbers, negative numbers and ordinary text are not mangled."""
        assert csv_safe_cell(value) == value

    def test_frame_guard_equals_the_cell_guard(self) -> None:
        """The vectorized csv_safe gives exactly csv_safe_cell applied to every text
        cell and column name (non-text cells untouched)."""
        import numpy as np

        cells = ["=1+1", "+86 755 1234 5678", "-12.5", "-x", "@SUM(A1)", "\tcmd", "\rcmd",
                 " =lead space", "plain", "", "上海", "'quoted", "(1)", "%", "=", "-",
                 "a\r=b", "a\n-1+1", "a\n-1"]  # fmt: skip
        frame = pd.DataFrame(
            {"text": cells, "num": np.arange(len(cells), dtype=float), "=col": cells}
        )
        frame["obj"] = pd.Series([*cells[:-1], None], dtype=object)
        got = csv_safe(frame)
        assert list(got.columns) == ["text", "num", "'=col", "obj"]
        assert got["text"].tolist() == [csv_safe_cell(c) for c in cells]
        assert got["obj"].tolist() == [*map(csv_safe_cell, cells[:-1]), None]
        assert got["num"].tolist() == frame["num"].tolist()

    def test_write_csv_round_trip(self, tmp_path: Path) -> None:
        """write_csv writes formula-safe UTF-8 that reads back with the same rows."""
        df = pd.DataFrame({"name": ["=1+1", "ok"], "phone": ["+86 10 1", "000"]})
        p = tmp_path / "x.csv"
        write_csv(df, p)
        back = pd.read_csv(p, dtype=str)
        assert back["name"].tolist() == ["'=1+1", "ok"]
        assert back["phone"].tolist() == ["+86 10 1", "000"]


class TestCsvSafeLines:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("ok\r=cmd|' /C calc'!A0", "ok\r'=cmd|' /C calc'!A0"),
            ("a\n@SUM(1)", "a\n'@SUM(1)"),
            ("a\r\n+1+1\r\nb", "a\r\n'+1+1\r\nb"),
            ("=1\n=2", "'=1\n'=2"),
            ("\r=1", "'\r'=1"),
        ],
    )
    def test_every_line_of_a_cell_is_guarded(self, value: str, expected: str) -> None:
        """A formula at the start of any line inside a cell is neutralized, not only
        at the start of the cell (a CR or LF can start a new row in a careless reader)."""
        assert csv_safe_cell(value) == expected

    @pytest.mark.parametrize("value", ["-1+1", "+1+1", "+1-1", "-1-1", "+2*3", "-A1"])
    def test_arithmetic_is_a_formula(self, value: str) -> None:
        """Cells that are arithmetic, not one number or a phone number, are formulas in
        Excel and get the apostrophe."""
        assert csv_safe_cell(value) == "'" + value

    @pytest.mark.parametrize("value", ["-1", "+5", "-1.5e3", "-.5", "+86 (0)755 1234-5678"])
    def test_one_number_or_phone_stays(self, value: str) -> None:
        """A single signed number or a phone number is left as it is."""
        assert csv_safe_cell(value) == value

    def test_frame_guard_sees_later_lines(self) -> None:
        """csv_safe (the vectorized frame version) catches a formula after a line break
        in a cell that starts harmlessly, and agrees with csv_safe_cell cell by cell."""
        cells = ["ok\r=cmd|' /C calc'!A0", "a\n@SUM(1)", "plain", "=1", "+86 10 1", None, 3]
        frame = pd.DataFrame({"x": cells})
        got = csv_safe(frame)["x"].tolist()
        assert got[:5] == [csv_safe_cell(c) for c in cells[:5]]
        assert got[0] == "ok\r'=cmd|' /C calc'!A0"
        assert got[5] is None and got[6] == 3


class TestWriteCsv:
    def test_bare_cr_in_a_cell_does_not_split_the_row(self, tmp_path: Path) -> None:
        """A cell holding a lone CR is quoted, so every CSV reader (Python's csv, which
        ends a row at a bare CR like Excel does) reads back the same rows and cells."""
        import csv as csvmod

        df = pd.DataFrame({"name": ["ok\r=cmd|' /C calc'!A0", "b"], "n": [1, 2]})
        p = tmp_path / "x.csv"
        write_csv(df, p)
        with open(p, encoding="utf-8-sig", newline="") as fh:
            rows = list(csvmod.reader(fh))
        assert rows == [["name", "n"], ["ok\r'=cmd|' /C calc'!A0", "1"], ["b", "2"]]

    def test_default_encoding_has_one_bom(self, tmp_path: Path) -> None:
        """CSV output is UTF-8 with a BOM by default (Excel on Chinese Windows reads it
        right), and the BOM is written once."""
        p = tmp_path / "x.csv"
        write_csv(pd.DataFrame({"城市": ["北京"]}), p)
        data = p.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        assert data.count(b"\xef\xbb\xbf") == 1
        assert data.decode("utf-8-sig") == "城市\n北京\n"

    @pytest.mark.parametrize(("encoding", "codec"), [("utf-8", "utf-8"), ("GB18030", "gb18030")])
    def test_other_encodings(self, tmp_path: Path, encoding: str, codec: str) -> None:
        """utf-8 (no BOM) and gb18030 are available on request."""
        p = tmp_path / "x.csv"
        write_csv(pd.DataFrame({"城市": ["北京"]}), p, encoding=encoding)
        assert p.read_bytes() == "城市\n北京\n".encode(codec)

    def test_unknown_encoding_is_refused(self, tmp_path: Path) -> None:
        """An encoding outside the supported three is refused before anything is written."""
        from locator.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="output encoding 'latin-1'"):
            write_csv(pd.DataFrame({"a": [1]}), tmp_path / "x.csv", encoding="latin-1")
        assert list(tmp_path.iterdir()) == []

    def test_stream_writes_header_and_bom_once(self, tmp_path: Path) -> None:
        """The chunked writer writes the header and BOM once, whatever the chunk count."""
        from locator.outputs import csv_stream

        p = tmp_path / "x.csv"
        with csv_stream(p) as out:
            for i in range(3):
                out.write(pd.DataFrame({"i": [i], "城": ["=x"]}))
        data = p.read_bytes()
        assert data.count(b"\xef\xbb\xbf") == 1
        assert data.decode("utf-8-sig") == "i,城\n0,'=x\n1,'=x\n2,'=x\n"

    def test_csv_bytes_matches_the_file(self, tmp_path: Path) -> None:
        """csv_bytes (app downloads) gives exactly the bytes write_csv writes."""
        from locator.outputs import csv_bytes

        df = pd.DataFrame({"name": ["=1", "a\rb"], "x": [1.5, None]})
        p = tmp_path / "x.csv"
        write_csv(df, p)
        assert csv_bytes(df) == p.read_bytes()


class TestWriteXlsx:
    def test_formulas_are_text_in_excel_output(self, tmp_path: Path) -> None:
        """Excel output gets the same guard: no cell is stored as a formula, and a
        formula after a line break inside a cell is neutralized too."""
        import openpyxl

        p = tmp_path / "x.xlsx"
        write_xlsx(pd.DataFrame({"a": ["=1+1", "ok\n=cmd|' /C calc'!A0", "+86 755 1234 5678"]}), p)
        sheet = openpyxl.load_workbook(p).active
        cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
        assert [c.value for c in cells] == ["'=1+1", "ok\n'=cmd|' /C calc'!A0", "+86 755 1234 5678"]
        assert {c.data_type for c in cells} == {"s"}

    def test_control_characters_are_refused_by_cell(self, tmp_path: Path) -> None:
        """A control character Excel cannot store is a DataError naming the row and
        column (not a crash inside openpyxl); nothing is written."""
        from locator.errors import DataError

        p = tmp_path / "x.xlsx"
        df = pd.DataFrame({"a": ["fine", "bad\x01cell"], "n": [1, 2]})
        with pytest.raises(DataError, match=r"row 3, column 'a': control character"):
            write_xlsx(df, p)
        assert list(tmp_path.iterdir()) == []


class TestCheckOutput:
    def test_output_equal_to_input_is_refused(self, tmp_path: Path) -> None:
        """The output path may not be an input file: same path, a symlink to it, or a
        hard link to it."""
        from locator.errors import ConfigurationError
        from locator.outputs import check_output

        src = tmp_path / "o.csv"
        src.write_text("a\n", encoding="utf-8")
        (tmp_path / "link.csv").symlink_to(src)
        os.link(src, tmp_path / "hard.csv")
        for out in (src, tmp_path / "." / "o.csv", tmp_path / "link.csv", tmp_path / "hard.csv"):
            with pytest.raises(
                ConfigurationError, match=r"cannot write .*: it is the input file .*o\.csv"
            ):
                check_output(out, inputs=[None, src])
        assert src.read_text(encoding="utf-8") == "a\n"

    def test_missing_directory_is_refused(self, tmp_path: Path) -> None:
        """A path in a directory that does not exist is refused, naming that directory."""
        from locator.errors import ConfigurationError
        from locator.outputs import check_output

        missing = tmp_path / "nope" / "deeper"
        with pytest.raises(ConfigurationError, match=f"directory does not exist: {missing}$"):
            check_output(missing / "m.html")
        assert not (tmp_path / "nope").exists()

    def test_directory_is_refused(self, tmp_path: Path) -> None:
        """A directory given as the output file is refused by its path."""
        from locator.errors import ConfigurationError
        from locator.outputs import check_output

        with pytest.raises(ConfigurationError, match=f"cannot write {tmp_path}: is a directory"):
            check_output(tmp_path)

    def test_parent_that_is_a_file_is_refused(self, tmp_path: Path) -> None:
        """A path below a regular file is refused."""
        from locator.errors import ConfigurationError
        from locator.outputs import check_output

        f = tmp_path / "f"
        f.write_text("", encoding="utf-8")
        with pytest.raises(ConfigurationError, match=f"not a directory: {f}"):
            check_output(f / "x.csv")

    def test_devices_and_new_files_pass(self, tmp_path: Path) -> None:
        """A new file in an existing folder, /dev/null and /dev/stdout are fine."""
        from locator.outputs import check_output

        check_output(tmp_path / "new.csv", inputs=[tmp_path / "other.csv"])
        check_output("/dev/null", inputs=["/dev/null"])  # not a regular file: no clash


class TestAtomicWriteSpecialFiles:
    @pytest.fixture(autouse=True)
    def _devices_survive(self) -> Iterator[None]:
        """A regression here would replace /dev/null or /dev/full with a regular file
        (as root); put the real devices back so the machine keeps working."""
        yield
        for dev, minor in (("/dev/null", 3), ("/dev/full", 7)):
            if not stat.S_ISCHR(os.lstat(dev).st_mode) and os.geteuid() == 0:
                os.unlink(dev)
                os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
                os.chmod(dev, 0o666)

    def test_fifo_is_written_not_replaced(self, tmp_path: Path) -> None:
        """Writing to a FIFO sends the bytes to its reader and keeps the FIFO."""
        import threading

        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        got: list[str] = []

        def reader() -> None:
            with open(fifo, encoding="utf-8") as fh:
                got.append(fh.read())

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        write_text(fifo, "hello\n")
        t.join(timeout=10)
        if t.is_alive():  # the FIFO was replaced: release the reader still waiting on it
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        assert got == ["hello\n"]
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        assert sorted(x.name for x in tmp_path.iterdir()) == ["pipe"]

    def test_dev_null_stays_a_device(self) -> None:
        """/dev/null is written to, never replaced by a regular file."""
        write_text("/dev/null", "x")
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)

    def test_symlink_is_followed_and_kept(self, tmp_path: Path) -> None:
        """Writing through a symlink replaces its target (temp file in the target's
        folder) and leaves the link a link."""
        real_dir = tmp_path / "real"
        real_dir.mkdir()
        target = real_dir / "t.csv"
        target.write_text("old", encoding="utf-8")
        link = tmp_path / "link.csv"
        link.symlink_to(target)
        write_text(link, "new")
        assert link.is_symlink()
        assert target.read_text(encoding="utf-8") == "new"
        assert sorted(x.name for x in tmp_path.iterdir()) == ["link.csv", "real"]

    def test_disk_full_names_the_path(self) -> None:
        """ENOSPC names the path the caller gave (here /dev/full), not a temp file."""
        with pytest.raises(OSError, match="No space left") as info:
            write_text("/dev/full", "x" * 100_000)
        assert info.value.filename == "/dev/full"


class TestStaleTemps:
    def test_dead_writers_temp_is_removed(self, tmp_path: Path) -> None:
        """A temp file left by a killed writer (its pid is gone) is removed by the next
        write to the same file; a live writer's temp and other files are kept."""
        import subprocess
        import sys

        proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        dead = int(proc.stdout)
        stale = tmp_path / f".out.csv.{dead}.abc123.tmp"
        live = tmp_path / f".out.csv.{os.getppid()}.def456.tmp"
        other = tmp_path / f".other.csv.{dead}.abc123.tmp"
        for f in (stale, live, other):
            f.write_text("partial", encoding="utf-8")
        write_text(tmp_path / "out.csv", "x")
        names = sorted(x.name for x in tmp_path.iterdir())
        assert names == sorted([live.name, other.name, "out.csv"])

    def test_old_temp_without_pid_is_removed(self, tmp_path: Path) -> None:
        """An old-style temp (no pid in its name) older than an hour is removed; a
        recent one is kept."""
        old = tmp_path / ".out.csv.k2j4_x9.tmp"
        new = tmp_path / ".out.csv.zz81abc.tmp"
        for f in (old, new):
            f.write_text("partial", encoding="utf-8")
        past = os.stat(old).st_mtime - 2 * 3600
        os.utime(old, (past, past))
        write_text(tmp_path / "out.csv", "x")
        assert sorted(x.name for x in tmp_path.iterdir()) == sorted([new.name, "out.csv"])

    def test_without_a_pid_probe_age_decides(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Where a pid cannot be probed safely (Windows: os.kill would terminate it),
        no process is signalled and a temp file goes only once it is an hour old."""
        import locator.outputs as lio

        monkeypatch.setattr(lio, "_pid_alive", lambda pid: None)
        monkeypatch.setattr(os, "kill", lambda *a: pytest.fail("os.kill must not be called"))
        old = tmp_path / ".out.csv.4242.abc123.tmp"
        new = tmp_path / ".out.csv.4243.def456.tmp"
        for f in (old, new):
            f.write_text("partial", encoding="utf-8")
        past = os.stat(old).st_mtime - 2 * 3600
        os.utime(old, (past, past))
        write_text(tmp_path / "out.csv", "x")
        assert sorted(x.name for x in tmp_path.iterdir()) == sorted([new.name, "out.csv"])


class TestJsonable:
    def test_cli_json_is_strict_with_pandas_and_numpy_values(self) -> None:
        """CLI JSON turns NaN, inf, pd.NA and NaT into null and numpy scalars into numbers
        (pd.NA used to be left in and made json.dumps fail)."""
        import json

        import numpy as np

        from locator.cli._common import to_json

        doc = {"a": pd.NA, "b": np.float64("nan"), "c": np.int64(3), "d": [float("inf"), pd.NaT]}
        assert json.loads(to_json(doc)) == {"a": None, "b": None, "c": 3, "d": [None, None]}
