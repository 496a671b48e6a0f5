"""The public API surface."""

from __future__ import annotations

import subprocess
import sys

import pytest

import locator


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
