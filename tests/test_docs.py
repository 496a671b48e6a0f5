"""The documentation's examples run: every ``locator ...`` line and Python block in the
README, every ``Example:`` in a command's ``--help``, every ``make`` target the READMEs
name. A user copies these first; when one breaks, this test does too."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from locator.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)

# `locator serve` runs until stopped: its --help example (curl) is run against a real
# server in tests/test_api_serve.py; its README line is checked to parse, not run.
LONG_RUNNING = {"serve"}


def blocks(text: str, lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(text) if kind == lang]


def readme_commands() -> list[list[str]]:
    out = []
    for body in blocks(README, "bash"):
        for line in body.splitlines():
            if line.startswith("locator "):
                out.append(shlex.split(line, comments=True)[1:])
    return out


def help_examples() -> list[list[str]]:
    """``Example: ``locator ...`` `` from every command's help text."""
    import typer.main

    group: Any = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():
        doc = " ".join((cmd.help or "").split())
        for m in re.finditer(r"Example: ``locator ([^`]+)``", doc):
            args = shlex.split(m.group(1))
            assert args[0] == name, f"{name}'s example runs another command: {m.group(1)}"
            out.append(args)
    return out


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the files the examples name (made from the bundled sample)."""
    import pandas as pd

    from locator.data import DATA_DIR

    outlets = pd.read_csv(DATA_DIR / "outlets.csv", dtype=str, keep_default_na=False)
    outlets.to_csv(tmp_path / "my-outlets.csv", index=False)
    outlets.to_excel(tmp_path / "my-outlets.xlsx", index=False)
    outlets.to_excel(tmp_path / "my-network.xlsx", index=False)
    pd.DataFrame({"order": [1, 2, 3], "地址": ["杭州西湖区", "深圳南山区科技园", "Xi'an"]}).to_csv(
        tmp_path / "orders.csv", index=False
    )
    pd.DataFrame({"order": [1, 2], "lat": [30.27, 22.54], "lon": [120.15, 114.06]}).to_parquet(
        tmp_path / "orders.parquet", index=False
    )
    pd.DataFrame({"address": ["北京海淀区", "成都武侯区", "苏州工业园区"]}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    pd.DataFrame(  # README: scenario save --add-file candidates.csv
        {"lat": [37.9867, 36.61], "lon": [106.201, 101.78], "name": ["吴忠新点", "西宁新点"],
         "city": ["吴忠", "西宁"]}
    ).to_csv(tmp_path / "candidates.csv", index=False)  # fmt: skip
    (tmp_path / "data").mkdir()
    for name in ("sample-orders.csv", "sample-capacity.csv"):  # README: data/sample-*.csv
        (tmp_path / "data" / name).write_bytes((DATA_DIR / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOCATOR_NO_PROGRESS", "1")
    # The store examples change the store: each example gets its own (seeded) one, so
    # the session's shared store stays the sample for every other test.
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(args: list[str]) -> Any:
    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"locator {shlex.join(args)} crashed") from result.exception
    return result


class TestReadme:
    def test_has_command_examples(self) -> None:
        """The README shows the CLI (the test below would pass on an empty list)."""
        assert len(readme_commands()) >= 10

    @pytest.mark.parametrize("args", readme_commands(), ids=shlex.join)
    def test_command_example_runs(self, workdir: Path, args: list[str]) -> None:
        """Each README command line runs as written and succeeds."""
        if args[0] in LONG_RUNNING:
            assert run([*args, "--help"]).exit_code == 0
            return
        if args[:2] in (["scenario", "show"], ["scenario", "compare"]):
            # a saved scenario is named: the README saves it first, so do that here
            for save in readme_commands():
                if save[:2] == ["scenario", "save"] and save[2] in args[2:]:
                    assert run(save).exit_code == 0
        result = run(args)
        assert result.exit_code == 0, result.output[-2000:]

    def test_python_example_runs(self, workdir: Path) -> None:
        """The README's Python blocks run as written, in order, on the files they name."""
        codes = blocks(README, "python")
        assert len(codes) >= 2  # the quick API tour and the scenario example
        for i, code in enumerate(codes):
            exec(compile(code, f"README.md python block {i + 1}", "exec"), {"__name__": "readme"})

    def test_make_targets_exist(self) -> None:
        """Every `make X` the READMEs tell a user to run is a real Makefile target."""
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
        texts = [README, (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")]
        named = {t for text in texts for t in re.findall(r"`make ([\w-]+)", text)}
        assert {"app", "test"} <= named
        assert named <= targets, named - targets


class TestHelp:
    @pytest.mark.parametrize("args", help_examples(), ids=shlex.join)
    def test_help_example_runs(self, workdir: Path, args: list[str]) -> None:
        """Each ``Example:`` in a command's --help runs as written and succeeds."""
        if args[0] in LONG_RUNNING:
            return  # run against a real server by tests/test_api_serve.py
        result = run(args)
        assert result.exit_code == 0, result.output[-2000:]
