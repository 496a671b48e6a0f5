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
