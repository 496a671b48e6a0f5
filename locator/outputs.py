"""Safe output: checked paths, atomic file writes and spreadsheet-safe CSV.

Every file the tool writes goes through this module.

* :func:`check_output` refuses, before any work, an output path that cannot or must
  not be written: a directory, a path in a folder that does not exist, or a path
  that is (or links to) one of the command's input files.
* :func:`atomic_write` writes a regular file through a temporary file in the
  destination's folder (``.NAME.<pid>.<random>.tmp``) and ``os.replace``-s it into
  place, so a crash or Ctrl-C never leaves a half-written file. A symlink is
  followed (its target is replaced, the link stays a link). An existing file that
  is not a regular file (a FIFO, ``/dev/stdout``, ``/dev/null``, a device) is
  written to directly, never replaced. Temp files left by a killed writer (its pid
  is gone, or an old-style name older than an hour) are removed by the next write
  to the same destination. Write errors (disk full ...) name the caller's path,
  never the temp file.
* :func:`staged_parts` and :func:`commit_parts`: an output written in parts by
  several processes (``locator assign --engine dask``) goes into a temp folder beside
  it, which is then renamed into place (a Parquet dataset folder) or concatenated
  through :func:`atomic_write` (one CSV); an interrupted run leaves no output.
* :func:`write_csv`, :func:`csv_stream` (chunk by chunk) and :func:`csv_bytes` (app
  downloads) are the one CSV writer: UTF-8 with a BOM by default (``utf-8-sig``:
  Excel on Chinese Windows shows mojibake without it), or ``utf-8`` / ``gb18030``;
  ``\\n`` line ends; a cell holding a CR or LF is always quoted, so no reader splits
  the row. :func:`write_xlsx` applies the same formula guard to Excel output.
* :func:`csv_safe` / :func:`csv_safe_cell` neutralize spreadsheet formula injection
  (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab,
  CR or LF is prefixed with an apostrophe, which spreadsheets show as text and never
  evaluate; and so is **every line inside a cell** that starts with ``=``, ``+``,
  ``-``, ``@`` or tab (``"ok\\r=cmd|..."`` becomes ``"ok\\r'=cmd|..."``), for readers
  that start a new row or re-parse at a line break. Left intact are only cells (or
  lines) that are *one* number (``-12.5``, ``+5``, ``-1.5e3``) or a phone number
  (``+``, then digits with spaces, ``- . ( ) /``, at least 5 digits, no second
  ``+``: ``+86 755 1234 5678``, ``+86-10-6552-0000``): mangling those would corrupt
  legitimate data. Arithmetic such as ``-1+1``, ``+1+1`` or ``+2*3`` is a formula
  in Excel and **is** neutralized. (A phone number such as ``+86-10-6552-0000`` is
  itself evaluated as subtraction by Excel when typed in; it can compute nothing but
  a number, and is kept as the data it is.)
"""

from __future__ import annotations

import contextlib
import csv
import errno
import math
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from .errors import ConfigurationError

__all__ = [
    "CSV_ENCODINGS",
    "CsvStream",
    "atomic_write",
    "check_output",
    "check_xlsx",
    "commit_parts",
    "csv_bytes",
    "csv_encoding",
    "csv_safe",
    "csv_safe_cell",
    "csv_stream",
    "is_stream",
    "jsonable",
    "staged_parts",
    "write_csv",
    "write_text",
    "write_xlsx",
]

#: Output encodings for CSV: the default first.
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
_ENCODING_ALIASES = {"utf8-sig": "utf-8-sig", "utf8": "utf-8", "gb-18030": "gb18030"}

_CELL_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_LINE_TRIGGERS = ("=", "+", "-", "@", "\t")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
# Cells worth a closer look: a trigger at the start of the cell or of a later line.
_SUSPECT = r"^[=+\-@\t\r\n]|[\r\n][=+\-@\t]"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PHONE = re.compile(r"\+?[0-9(][0-9 ()./\-]*")
_PHONE_MIN_DIGITS = 5

_STALE_AFTER_S = 3600.0
# Errors raised while the caller writes into the handle that concern the output file.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


# --------------------------------------------------------------------------- paths
def check_output(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """Refuse an output path that cannot or must not be written; call before any work.

    Raises :class:`~locator.errors.ConfigurationError` ("cannot write PATH: why")
    when ``path`` is a directory, its folder does not exist (nothing is created) or
    is not a folder, or it is the same file as one of ``inputs`` (same real path, or
    ``os.path.samefile``: symlinks and hard links count). Non-regular files
    (``/dev/stdout``, a FIFO) are accepted: they are written to directly. Every
    command that takes an output path calls this before it does any work.
    """
    p = Path(path)
    try:
        st: os.stat_result | None = os.stat(p)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # reported below, with the folder that is not one
    except OSError as err:
        raise ConfigurationError(f"cannot write {p}: {err.strerror or err}") from err
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ConfigurationError(f"cannot write {p}: is a directory; give a file name")
    if st is None:
        # A dangling symlink is written through to its target.
        parent = Path(os.path.realpath(p)).parent if os.path.islink(p) else p.parent
        if not parent.is_dir():
            blocker = next((a for a in (parent, *parent.parents) if os.path.lexists(a)), None)
            if blocker is not None and not blocker.is_dir():
                raise ConfigurationError(f"cannot write {p}: not a directory: {_shown(blocker)}")
            raise ConfigurationError(
                f"cannot write {p}: directory does not exist: {_shown(parent)}"
            )
    for src in inputs:
        if src is None:
            continue
        if _same_file(p, Path(src)):
            raise ConfigurationError(
                f"cannot write {p}: it is the input file {src}; choose another output "
                "path (an input is never overwritten)"
            )
    return p


def _shown(parent: Path) -> str:
    return os.fspath(parent) if os.fspath(parent) else "."


def _same_file(out: Path, src: Path) -> bool:
    """Whether writing ``out`` would overwrite the regular file ``src``."""
    try:
        if not stat.S_ISREG(os.stat(src).st_mode):
            return False  # /dev/stdin and /dev/stdout may share a tty: not a clash
    except OSError:
        return False
    if os.path.realpath(out) == os.path.realpath(src):
        return True
    try:
        return os.path.samefile(out, src)
    except OSError:
        return False


def is_stream(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists and is not a regular file or folder (``/dev/stdout``,
    a FIFO, a device): :func:`atomic_write` writes such a file directly."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


# --------------------------------------------------------------------------- writes
def _named(err: OSError, dest: Path) -> OSError:
    """``err`` re-made to name ``dest`` (the caller's path), not a temp file."""
    return OSError(err.errno, err.strerror or str(err), os.fspath(dest))


def _pid_alive(pid: int) -> bool | None:
    """Whether process ``pid`` runs; None where that cannot be asked safely (on
    Windows ``os.kill(pid, 0)`` would terminate the process)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return True
    return True


def _remove_stale_temps(target: Path) -> None:
    """Remove temp files a killed writer left beside ``target`` (see module docstring)."""
    name = re.escape(target.name)
    with_pid = re.compile(rf"\.{name}\.(\d+)\.[A-Za-z0-9_]+\.tmp")
    legacy = re.compile(rf"\.{name}\.[A-Za-z0-9_]+\.tmp")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        m = with_pid.fullmatch(entry.name)
        try:
            alive = _pid_alive(int(m.group(1))) if m is not None else None
            if m is None and not legacy.fullmatch(entry.name):
                continue
            if alive is None:  # no pid in the name, or no safe way to ask: by age
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _STALE_AFTER_S
            else:
                stale = not alive
            if stale and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            continue  # gone already, or not ours to remove


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8", **kw: Any
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing; the file appears whole on success or not at all.

    A regular file (new or existing) is written through a temp file in its folder,
    fsync-ed and ``os.replace``-d into place; a symlink is followed; an existing
    non-regular file (FIFO, device, ``/dev/stdout``) is written directly. Any
    ``OSError`` about the output names ``path``. Missing parent folders are created
    (library use, e.g. the data build); the CLI refuses such paths first with
    :func:`check_output`.
    """
    dest = Path(path)
    if "b" in mode:
        encoding = None
    try:
        st: os.stat_result | None = os.stat(dest)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise _named(err, dest) from err
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(dest))
    if st is not None and not stat.S_ISREG(st.st_mode):
        yield from _write_direct(dest, mode, encoding, kw)
        return
    target = Path(os.path.realpath(dest)) if dest.is_symlink() else dest
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as err:
        raise _named(err, dest) from err
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (umask
        # applied), or keep the mode of the file being replaced.
        if st is not None:
            mode_bits = st.st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode_bits = 0o666 & ~umask
        os.chmod(tmp, mode_bits)
        fh = os.fdopen(fd, mode, encoding=encoding, **kw)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _named(err, dest) from err
        raise
    try:
        with fh:
            yield from _yield_and_flush(fh, dest, fsync=True)
        try:
            os.replace(tmp, target)
        except OSError as err:
            raise _named(err, dest) from err
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _yield_and_flush(fh: IO[Any], dest: Path, *, fsync: bool) -> Iterator[IO[Any]]:
    """Hand ``fh`` to the writer, then flush (and fsync); a write error that names no
    file (ENOSPC, EIO ...) is re-raised naming the user's path ``dest``."""
    try:
        yield fh
    except OSError as err:
        if err.filename is None and err.errno in _WRITE_ERRNOS:
            raise _named(err, dest) from err
        raise
    try:
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())
    except OSError as err:
        raise _named(err, dest) from err


def _write_direct(
    dest: Path, mode: str, encoding: str | None, kw: dict[str, Any]
) -> Iterator[IO[Any]]:
    """Write straight into a FIFO or device (no temp file, no fsync, no replace)."""
    try:
        fh = open(dest, mode, encoding=encoding, **kw)  # noqa: SIM115 - closed below
    except OSError as err:
        raise _named(err, dest) from err
    try:
        yield from _yield_and_flush(fh, dest, fsync=False)
    finally:
        with contextlib.suppress(OSError):
            fh.close()


_PARTS_SUFFIX = ".parts"


def _remove_stale_parts(target: Path) -> None:
    """Remove part folders (``.NAME.<pid>.<random>.parts``) whose writer is gone."""
    with_pid = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[A-Za-z0-9_]+\{_PARTS_SUFFIX}")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        m = with_pid.fullmatch(entry.name)
        if m is None or _pid_alive(int(m.group(1))) is not False:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def staged_parts(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new, empty folder beside ``path`` (``.NAME.<pid>.<random>.parts``) for an
    output written in parts, by several processes (Dask workers); it is removed on
    leaving, whatever happens, so commit its content first, with :func:`commit_parts`
    or by concatenating the parts through :func:`atomic_write`. Part folders a killed
    writer left beside ``path`` (its pid is gone) are removed first."""
    dest = Path(path)
    target = Path(os.path.realpath(dest)) if dest.is_symlink() else dest
    # A stream (/dev/stdout, a FIFO) has no folder to write beside: the temp folder.
    where = None if is_stream(dest) else target.parent
    try:
        if where is not None:
            _remove_stale_parts(target)
        folder = Path(
            tempfile.mkdtemp(
                prefix=f".{target.name}.{os.getpid()}.", suffix=_PARTS_SUFFIX, dir=where
            )
        )
        folder.chmod(0o777 & ~_umask())
    except OSError as err:
        raise _named(err, dest) from err
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def commit_parts(folder: Path, path: str | os.PathLike[str]) -> None:
    """Put the folder of parts in place as ``path`` (a dataset folder, e.g. Parquet
    parts), replacing what was there: the old file or folder is renamed aside first
    and removed after, so ``path`` is at every moment the old output or the new one,
    never a mix."""
    dest = Path(path)
    aside = folder.with_name(folder.name[: -len(_PARTS_SUFFIX)] + ".old")
    try:
        had = os.path.lexists(dest)
        if had:
            os.replace(dest, aside)
        os.replace(folder, dest)
    except OSError as err:
        if had and not os.path.lexists(dest):
            with contextlib.suppress(OSError):
                os.replace(aside, dest)  # put the old output back
        raise _named(err, dest) from err
    if had:
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(aside)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically (UTF-8)."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


# --------------------------------------------------------------------------- formula guard
def _harmless(line: str) -> bool:
    """One number, or a phone number: nothing a spreadsheet could run."""
    if _NUMBER.fullmatch(line):
        return True
    return (
        _PHONE.fullmatch(line) is not None and sum(ch.isdigit() for ch in line) >= _PHONE_MIN_DIGITS
    )


def csv_safe_cell(value: Any) -> Any:
    """Return ``value`` made safe to open in a spreadsheet (see module docstring)."""
    if not isinstance(value, str) or not value:
        return value
    if "\r" not in value and "\n" not in value:
        if value.startswith(_CELL_TRIGGERS) and not _harmless(value):
            return "'" + value
        return value
    parts = _LINE_BREAK.split(value)  # line, break, line, break, ..., line
    for i in range(0, len(parts), 2):
        line = parts[i]
        if line.startswith(_LINE_TRIGGERS) and not _harmless(line):
            parts[i] = "'" + line
    out = "".join(parts)
    if value.startswith(("\r", "\n")):
        out = "'" + out
    return out


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) are formula-safe.

    Vectorized: :func:`csv_safe_cell` (which decides) only sees the cells a regex
    scan finds with a trigger at the start of the cell or of a line in it.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.empty or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        hit = s.astype(str).str.contains(_SUSPECT, regex=True).fillna(False).astype(bool)
        if hit.any():  # csv_safe_cell leaves non-text values alone
            out.loc[hit, col] = s[hit].map(csv_safe_cell)
    out.columns = [csv_safe_cell(str(c)) for c in out.columns]
    return out


# --------------------------------------------------------------------------- CSV
def csv_encoding(name: str | None) -> str:
    """The output encoding ``name`` normalized; one of :data:`CSV_ENCODINGS`."""
    if name is None:
        return CSV_ENCODINGS[0]
    key = name.strip().lower().replace("_", "-")
    key = _ENCODING_ALIASES.get(key, key)
    if key not in CSV_ENCODINGS:
        raise ConfigurationError(
            f"unsupported output encoding {name!r}; choose utf-8-sig (UTF-8 with BOM, "
            "the default: Excel reads it right), utf-8 or gb18030"
        )
    return key


def _has_cr(frame: pd.DataFrame) -> bool:
    for col in frame.columns:
        s = frame[col]
        text = s.dtype == object or pd.api.types.is_string_dtype(s)
        if text and s.astype(str).str.contains("\r", regex=False).fillna(False).any():
            return True
    return any("\r" in str(c) for c in frame.columns)


def _frame_to_csv(frame: pd.DataFrame, fh: IO[str], *, header: bool) -> None:
    # Python's csv writer quotes a field with "\n" (our line end) but not one with a
    # lone "\r", which Excel and Python's csv reader take as a row end. Such frames
    # (rare) are written with every field quoted: still valid CSV, rows intact.
    quoting: Literal[0, 1] = csv.QUOTE_ALL if _has_cr(frame) else csv.QUOTE_MINIMAL
    frame.to_csv(fh, index=False, header=header, lineterminator="\n", quoting=quoting)


class CsvStream:
    """Writes frames one after another into one CSV: the header once (none with
    ``header=False``: a later part of a CSV written in parts), then rows."""

    def __init__(self, fh: IO[str], *, safe: bool = True, header: bool = True) -> None:
        self._fh = fh
        self._safe = safe
        self._header = header
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        data = csv_safe(frame) if self._safe else frame
        _frame_to_csv(data, self._fh, header=self._header)
        self._header = False
        self.rows += len(frame)


@contextlib.contextmanager
def csv_stream(
    path: str | os.PathLike[str], *, encoding: str | None = None, safe: bool = True
) -> Iterator[CsvStream]:
    """Open ``path`` (atomically) for a CSV written chunk by chunk.

    One BOM (with ``utf-8-sig``) and one header, however many chunks: the file is
    one text stream, so the codec writes its BOM at the start only.
    """
    codec = csv_encoding(encoding)
    with atomic_write(path, "w", encoding=codec, newline="") as fh:
        yield CsvStream(fh, safe=safe)


def write_csv(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    safe: bool = True,
    encoding: str | None = None,
) -> None:
    """Write ``df`` as CSV atomically: formula-safe unless ``safe=False``, UTF-8 with
    BOM unless ``encoding`` says ``utf-8`` or ``gb18030``."""
    with csv_stream(path, encoding=encoding, safe=safe) as out:
        out.write(df)


def csv_bytes(df: pd.DataFrame, *, safe: bool = True, encoding: str | None = None) -> bytes:
    """The bytes :func:`write_csv` would write (for downloads from the app)."""
    import io

    codec = csv_encoding(encoding)
    buf = io.StringIO(newline="")
    _frame_to_csv(csv_safe(df) if safe else df, buf, header=True)
    return buf.getvalue().encode(codec)


# Control characters an XLSX worksheet cannot hold (openpyxl refuses them).
_XLSX_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def check_xlsx(df: pd.DataFrame, *, source: str | None = None, limit: int = 50) -> None:
    """Raise :class:`~locator.errors.DataError` listing cells (row as a spreadsheet
    user counts, header = row 1) holding control characters that an Excel worksheet
    cannot store; call before any work when the output is ``.xlsx``."""
    from .errors import DataError, Problem

    problems: list[Problem] = []
    for col in df.columns:
        s = df[col]
        if s.empty or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        text = s.map(lambda v: v if isinstance(v, str) else "")
        hit = text.str.contains(_XLSX_ILLEGAL, regex=True).to_numpy(dtype=bool)
        for pos in hit.nonzero()[0][: limit - len(problems)]:
            problems.append(
                Problem(int(pos) + 2, str(col), s.iloc[pos],
                        "control character an Excel sheet cannot hold; write .csv instead")
            )  # fmt: skip
        if len(problems) >= limit:
            break
    if problems:
        raise DataError(problems, source=source)


def write_xlsx(df: pd.DataFrame, path: str | os.PathLike[str], *, safe: bool = True) -> None:
    """Write ``df`` as an Excel workbook atomically, with the same formula guard.
    Cells with control characters Excel cannot store raise DataError (see
    :func:`check_xlsx`); nothing is written then."""
    check_xlsx(df, source=os.fspath(path))
    data = csv_safe(df) if safe else df
    with atomic_write(path, "wb") as fh:
        data.to_excel(fh, index=False)


# --------------------------------------------------------------------------- JSON
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
