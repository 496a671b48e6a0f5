"""The public API surface."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import locator

ROOT = Path(__file__).resolve().parent.parent


class TestPublicApi:
    @pytest.mark.parametrize("name", locator.__all__)
    def test_every_exported_name_resolves(self, name: str) -> None:
        """Each name in locator.__all__ can be imported from the package."""
        assert getattr(locator, name) is not None

    def test_unknown_name(self) -> None:
        """A missing attribute raises AttributeError naming it."""
        with pytest.raises(AttributeError, match="no_such_thing"):
            _ = locator.no_such_thing  # type: ignore[attr-defined]

    def test_errors_are_value_errors(self) -> None:
        """DataError and GeocodeError are both LocatorError and ValueError."""
        for cls in (locator.DataError, locator.GeocodeError, locator.ConfigurationError):
            assert issubclass(cls, locator.LocatorError) and issubclass(cls, ValueError)

    def test_import_is_light(self) -> None:
        """`import locator` does not pull in streamlit, folium or pandas (CLI start-up)."""
        code = (
            "import sys, locator; "
            "print(sorted(m for m in ('streamlit', 'folium', 'pandas') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "[]"

    def test_module_entry_point(self) -> None:
        """`python -m locator --help` lists the commands."""
        out = subprocess.run(
            [sys.executable, "-m", "locator", "--help"], capture_output=True, text=True
        )
        assert out.returncode == 0
        for cmd in ("nearest", "geocode", "coverage", "map", "audit", "serve"):
            assert cmd in out.stdout


class TestCliFailures:
    def test_unwritable_output_is_one_clean_line(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """`locator map -o` into a path whose parent is a file: exit 2, one `error:` line,
        no traceback, nothing written."""
        blocker = tmp_path / "file"
        blocker.write_text("x", encoding="utf-8")
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "locator",
                "map",
                "-o",
                str(blocker / "map.html"),
                "--tiles",
                "none",
            ],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 2
        assert "Traceback" not in out.stderr
        assert out.stderr.strip().startswith("error: cannot write")
        assert blocker.read_text(encoding="utf-8") == "x"


class TestVersion:
    def test_one_version_source(self) -> None:
        """locator.__version__ is locator/_version.py's, and pyproject.toml reads it from
        there instead of writing its own."""
        import tomllib

        from locator import _version

        assert locator.__version__ == _version.__version__
        conf = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
        assert "version" not in conf["project"] and "version" in conf["project"]["dynamic"]
        dynamic = conf["tool"]["setuptools"]["dynamic"]["version"]
        assert dynamic == {"attr": "locator._version.__version__"}


class TestIoAlias:
    def test_locator_io_is_the_outputs_module(self) -> None:
        """`locator.io` (deprecated name) is the same module as `locator.outputs`, so old
        imports and monkeypatches keep working; importing it warns."""
        import locator.outputs

        sys.modules.pop("locator.io", None)
        with pytest.warns(DeprecationWarning, match=r"locator\.io is deprecated.*locator\.outputs"):
            alias = importlib.import_module("locator.io")
        assert alias is locator.outputs
        from locator.io import write_text  # type: ignore[attr-defined,unused-ignore]

        assert write_text is locator.outputs.write_text


def _copy_checkout(dest: Path) -> Path:
    """The working tree (tracked and new files) without caches, venvs or build output."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".*_cache",
        "test-artifacts", "node_modules",
    )  # fmt: skip
    return Path(shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore))


@pytest.mark.slow
class TestWheel:
    @pytest.fixture(scope="class")
    @classmethod
    def unpacked(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        """A wheel built from a copy of the checkout, unzipped into a folder."""
        tmp = tmp_path_factory.mktemp("wheel")
        src = _copy_checkout(tmp / "src")
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--quiet", str(src), "-w", str(tmp / "dist")],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        (wheel,) = (tmp / "dist").glob("locator-*.whl")
        site = tmp / "site"
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site)
        return site

    def _run(self, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
        elsewhere = site.parent / "elsewhere"
        elsewhere.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCATOR_")}
        env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(site.parent / "cache"))
        env["LOCATOR_DATA_DIR"] = str(site.parent / "data")  # never the user's real store
        return subprocess.run(
            [sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True
        )

    def test_wheel_ships_the_data_and_version(self, unpacked: Path) -> None:
        """The wheel holds the bundled CSV files and boundaries, and declares
        locator.__version__."""
        assert {p.name for p in (unpacked / "locator" / "_data").iterdir()} >= {
            "cities.csv", "places.csv", "outlets.csv",
            "districts.geojson.gz", "offset-area.geojson.gz",
        }  # fmt: skip
        (meta,) = unpacked.glob("locator-*.dist-info/METADATA")
        assert f"Version: {locator.__version__}" in meta.read_text("utf-8").splitlines()

    def test_installed_wheel_migrates_the_store(self, unpacked: Path) -> None:
        """The store's Alembic scripts are in the wheel: `locator db init` creates and
        seeds the default store from the unpacked wheel."""
        versions = unpacked / "locator" / "store" / "migrations" / "versions"
        assert (versions / "0001_initial.py").is_file()
        out = self._run(unpacked, "-m", "locator", "db", "init")
        assert out.returncode == 0, out.stderr
        assert "391 open outlets" in out.stdout
        assert (unpacked.parent / "data" / "network.db").is_file()

    def test_loaders_work_outside_a_checkout(self, unpacked: Path) -> None:
        """Imported from the unpacked wheel (no checkout on the path, cwd elsewhere), the
        bundled outlets and cities load."""
        code = (
            "import locator, sys; from locator import load_cities, load_outlets; "
            "print(locator.__file__); print(len(load_outlets()), len(load_cities()))"
        )
        out = self._run(unpacked, "-c", code)
        assert out.returncode == 0, out.stderr
        where, counts = out.stdout.splitlines()
        assert Path(where).is_relative_to(unpacked)
        n_outlets, n_cities = map(int, counts.split())
        assert n_outlets > 0 and n_cities == 76

    def test_cli_nearest_works_outside_a_checkout(self, unpacked: Path) -> None:
        """`python -m locator nearest 杭州 --json` from the unpacked wheel answers with
        an outlet in 杭州."""
        out = self._run(unpacked, "-m", "locator", "nearest", "杭州", "--json")
        assert out.returncode == 0, out.stderr
        assert "杭州" in out.stdout and "Traceback" not in out.stderr


class TestQualityGates:
    def test_pre_commit_runs_what_make_lint_runs(self) -> None:
        """.pre-commit-config.yaml's hooks are exactly `make lint`'s commands (with the
        venv's tools), so a commit passes the hooks exactly when CI's lint passes."""
        import yaml

        makefile = (ROOT / "Makefile").read_text("utf-8").split("\nlint:", 1)[1]
        recipe = []
        for line in makefile.splitlines()[1:]:
            if not line.startswith("\t"):
                break
            recipe.append(line.strip().replace("$(BIN)/", ".venv/bin/"))
        config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text("utf-8"))
        hooks = [h for repo in config["repos"] for h in repo["hooks"]]
        assert [h["entry"] for h in hooks] == recipe
        assert all(h["language"] == "system" and h["pass_filenames"] is False for h in hooks)
