"""Exception hierarchy: one root, each subclass also the builtin it resembles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LocatorError(Exception):
    """Root of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input table: where it is and why it is wrong.

    ``row`` is the 1-based data row number as a spreadsheet user sees it
    (the header is row 1, so the first data row is row 2); ``None`` when the
    problem concerns the whole file (a missing column, say).
    """

    row: int | None
    column: str | None
    value: Any
    reason: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        loc = ", ".join(where) or "file"
        if self.value is None or self.value == "":
            return f"{loc}: {self.reason}"
        return f"{loc}: {self.reason} (value: {self.value!r})"


class DataError(LocatorError, ValueError):
    """A data file or table is invalid. ``errors`` lists every problem found."""

    def __init__(self, errors: list[Problem], *, source: str | None = None, limit: int = 50):
        self.errors = list(errors)
        self.source = source
        head = f"{len(self.errors)} problem(s) in {source or 'input'}"
        lines = [f"  - {p}" for p in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  ... and {len(self.errors) - limit} more")
        super().__init__("\n".join([head + ":", *lines]))


class GeocodeError(LocatorError, ValueError):
    """A geocoding query is invalid (empty, not text, too long)."""


class GeocoderServiceError(LocatorError, RuntimeError):
    """An online geocoding service failed (timeout, rate limit, refusal)."""


class ConfigurationError(LocatorError, ValueError):
    """A setting or argument is invalid."""
