"""Safe output: atomic file writes and spreadsheet-safe CSV.

* :func:`atomic_write` writes to a temporary file in the destination folder and
  ``os.replace``-s it into place, so a crash or Ctrl-C never leaves a half-written file.
* :func:`csv_safe` neutralizes spreadsheet formula injection (OWASP "CSV injection"):
  a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
  prefixed with an apostrophe, which spreadsheets show as text and never evaluate.
  Cells that are *only* a number or a phone number (digits, spaces, ``+ - ( ) . /``,
  e.g. ``+86 755 1234 5678`` or ``-12.5``) are left intact: with no letters, quotes,
  or function syntax they cannot call anything, and mangling them would corrupt
  legitimate data.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS = re.compile(r"^[+-]?[0-9][0-9 ()./+\-]*$")


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8", **kw: Any
) -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; on success fsync and ``os.replace`` it into place."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if "b" in mode:
        encoding = None
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    # mkstemp creates 0600; give the file the mode a plain open() would (umask applied),
    # or keep the mode of the file being replaced.
    try:
        mode_bits = dest.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode_bits = 0o666 & ~umask
    os.chmod(tmp, mode_bits)
    try:
        with os.fdopen(fd, mode, encoding=encoding, **kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def csv_safe_cell(value: Any) -> Any:
    """Return ``value`` made safe to open in a spreadsheet (see module docstring)."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_TRIGGERS) and not _HARMLESS.match(value):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) are formula-safe."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(csv_safe_cell)
    out.columns = [csv_safe_cell(str(c)) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, safe: bool = True) -> None:
    """Write ``df`` as UTF-8 CSV atomically; formula-safe unless ``safe=False``."""
    data = csv_safe(df) if safe else df
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        data.to_csv(fh, index=False, lineterminator="\n")


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically (UTF-8)."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def jsonable(obj: Any) -> Any:
    """A strict-JSON-safe copy: NaN/inf/NA/NaT -> None, numpy scalars -> Python,
    anything else unknown -> str. Used by the CLI and the HTTP API alike."""
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)
