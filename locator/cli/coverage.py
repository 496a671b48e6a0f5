"""CLI commands for coverage (placeholder until the feature lands)."""

from __future__ import annotations

from . import app  # noqa: F401
