"""Atomic writes and spreadsheet-safe CSV."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from locator.io import atomic_write, csv_safe_cell, write_csv


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
            "\r=1",
        ],
    )
    def test_formulas_are_neutralized(self, value: str) -> None:
        """Cells a spreadsheet would evaluate get a leading apostrophe."""
        assert csv_safe_cell(value) == "'" + value

    @pytest.mark.parametrize("value", ["+86 755 1234 5678", "-12.5", "+86-10-6552-0000", "北京"])
    def test_numbers_and_text_are_left_alone(self, value: str) -> None:
        """Phone numbers, negative numbers and ordinary text are not mangled."""
        assert csv_safe_cell(value) == value

    def test_write_csv_round_trip(self, tmp_path: Path) -> None:
        """write_csv writes formula-safe UTF-8 that reads back with the same rows."""
        df = pd.DataFrame({"name": ["=1+1", "ok"], "phone": ["+86 10 1", "000"]})
        p = tmp_path / "x.csv"
        write_csv(df, p)
        back = pd.read_csv(p, dtype=str)
        assert back["name"].tolist() == ["'=1+1", "ok"]
        assert back["phone"].tolist() == ["+86 10 1", "000"]


class TestJsonable:
    def test_cli_json_is_strict_with_pandas_and_numpy_values(self) -> None:
        """CLI JSON turns NaN, inf, pd.NA and NaT into null and numpy scalars into numbers
        (pd.NA used to be left in and made json.dumps fail)."""
        import json

        import numpy as np

        from locator.cli._common import to_json

        doc = {"a": pd.NA, "b": np.float64("nan"), "c": np.int64(3), "d": [float("inf"), pd.NaT]}
        assert json.loads(to_json(doc)) == {"a": None, "b": None, "c": 3, "d": [None, None]}
