"""Batch geocoding of a table column, resumable after Ctrl-C or a crash.

:func:`geocode_batch` geocodes a list of queries with any geopy geocoder and records
each finished row in a **checkpoint** (JSON lines, flushed per row): a rerun with the
same checkpoint skips every row already done and never repeats a call. Identical
queries are geocoded once per run. :func:`geocode_file` reads a CSV (UTF-8, UTF-8 with
BOM, GB18030) or XLSX file, adds the result columns and writes the output atomically;
the checkpoint sits beside the output and is removed once the output is complete.

Statuses: ``ok``; ``ambiguous`` (the best guess is filled in, the other candidates are
listed in ``geocode_candidates``); ``not_found`` (including empty or invalid cells);
``failed`` (the service failed after its retries: not checkpointed, so a rerun retries
exactly these rows). A refusal (HTTP 401/403, quota) stops the run with the checkpoint
kept, as does any unexpected error.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import pandas as pd

from ..errors import (
    DataError,
    GeocodeError,
    GeocoderServiceError,
    LocatorError,
    Problem,
)
from .offline import OfflineGeocoder
from .online import GeocoderRefused

__all__ = [
    "RESULT_COLUMNS",
    "BatchReport",
    "CheckpointLocked",
    "RowResult",
    "checkpoint_path",
    "geocode_batch",
    "geocode_file",
    "read_input",
]

RESULT_COLUMNS = ("lat", "lon", "province", "city", "district", "geocode_status",
                  "geocode_candidates")  # fmt: skip
CHECKPOINT_VERSION = 1
_FSYNC_EVERY_S = 2.0
_PROGRESS_EVERY_S = 0.1


class RowResult(NamedTuple):
    """The geocoding result of one row."""

    status: str  # ok | ambiguous | not_found | failed
    lat: float | None = None
    lon: float | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    candidates: str = ""
    error: str | None = None

    @classmethod
    def from_location(cls, loc: Any) -> RowResult:
        if loc is None:
            return cls("not_found")
        raw = loc.raw if isinstance(getattr(loc, "raw", None), dict) else {}
        ambiguous = bool(raw.get("ambiguous"))
        cands = ""
        if ambiguous:
            cands = "; ".join(_candidate_label(c) for c in raw.get("candidates") or [])
        return cls(
            "ambiguous" if ambiguous else "ok",
            round(float(loc.latitude), 6),
            round(float(loc.longitude), 6),
            raw.get("province"),
            raw.get("city"),
            raw.get("district"),
            cands,
        )

    @classmethod
    def from_resolution(cls, res: Any) -> RowResult:
        """From :meth:`OfflineGeocoder.resolve` directly (no Location objects: faster)."""
        if res is None:
            return cls("not_found")
        cands = res.candidates
        best = cands[0]
        if len(cands) > 1 or res.typo_of is not None:  # a typo's reading is a guess
            status, labels = "ambiguous", "; ".join([e.label() for e in cands])
        else:
            status, labels = "ok", ""
        # tuple.__new__ skips the generated __new__ (a hot path in batch runs)
        return _tuple_new(
            cls,
            (status, best.lat, best.lon, best.province, best.city, best.district, labels, None),
        )


_tuple_new = tuple.__new__


_NOT_FOUND = RowResult("not_found")
_EMPTY = RowResult("not_found", error="empty")


def _candidate_label(c: dict[str, Any]) -> str:
    parts = [c.get("province") or ""]
    if c.get("city") and c.get("city") != c.get("province"):
        parts.append(c["city"])
    if c.get("district"):
        parts.append(c["district"])
    elif c.get("level") == "place" and c.get("name"):
        parts.append(c["name"])
    return "".join(parts)


@dataclass
class BatchReport:
    """What a batch run did."""

    total: int = 0
    resumed: int = 0  # rows taken from the checkpoint
    geocoded: int = 0  # rows geocoded in this run (calls may be fewer: duplicates)
    calls: int = 0  # geocoder calls made in this run
    counts: dict[str, int] = field(default_factory=dict)
    checkpoint: str | None = None
    checkpoint_reset: bool = False  # a checkpoint for other input was discarded
    renamed: dict[str, str] = field(default_factory=dict)  # input columns kept aside

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkpoint_path(out: str | os.PathLike[str]) -> Path:
    """The checkpoint beside ``out``: ``out.csv`` -> ``.out.csv.geocode-checkpoint.jsonl``."""
    p = Path(out)
    return p.with_name(f".{p.name}.geocode-checkpoint.jsonl")


class _Checkpoint:
    """Append-only JSON lines: a header, then one line per finished row."""

    def __init__(self, path: Path, header: dict[str, Any], clock: Callable[[], float]) -> None:
        self.path = path
        self.header = header
        self.done: dict[int, RowResult] = {}
        self.reset = False
        self._clock = clock
        self._fh: IO[str] | None = None
        self._synced = clock()
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        try:
            head = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            head = None
        if head != self.header:
            self.reset = True  # another input, column or geocoder: start over
            return
        for line in lines[1:]:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                self.done[int(rec["i"])] = RowResult(**rec["r"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by a crash: that row is simply redone

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.reset or not self.path.exists():
            self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - held open across rows, closed in close()
            self._fh.write(json.dumps(self.header, ensure_ascii=False) + "\n")
            for i, r in sorted(self.done.items()):
                self._write(i, r)
            self._fh.flush()
        else:
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open across rows, closed in close()
            if self.path.stat().st_size and not self._ends_with_newline():
                self._fh.write("\n")  # close a line cut short by a crash

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def _write(self, i: int, r: RowResult) -> None:
        assert self._fh is not None
        self._fh.write(json.dumps({"i": i, "r": r._asdict()}, ensure_ascii=False) + "\n")

    def add(self, i: int, r: RowResult) -> None:
        self.done[i] = r
        self._write(i, r)
        assert self._fh is not None
        self._fh.flush()
        now = self._clock()
        if now - self._synced >= _FSYNC_EVERY_S:
            os.fsync(self._fh.fileno())
            self._synced = now

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def remove(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def geocode_batch(
    queries: Sequence[Any],
    geocoder: Any,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    fingerprint: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    report: BatchReport | None = None,
) -> list[RowResult]:
    """Geocode every query; one :class:`RowResult` per query, in order.

    With ``checkpoint``, finished rows are appended to that file as they complete and
    a rerun (same ``fingerprint``) resumes from it. ``progress(done, total)`` is called
    as rows finish (at most ~10 times a second, and at the end). Raises
    :class:`GeocoderRefused` (and lets Ctrl-C through) with the checkpoint kept; the
    caller decides when to remove it.
    """
    report = report if report is not None else BatchReport()
    total = len(queries)
    report.total = total
    header = {"version": CHECKPOINT_VERSION, "rows": total, **(fingerprint or {})}
    cp = _Checkpoint(Path(checkpoint), header, clock) if checkpoint is not None else None
    results: list[RowResult | None] = [None] * total
    memo: dict[str, RowResult] = {}
    if cp is not None:
        _resume(cp, queries, results, memo, report)
    if progress is not None:
        progress(report.resumed, total)
    calls = 0
    offline = type(geocoder) is OfflineGeocoder  # same answers as geocode(), no Locations
    # The offline loop allocates many small tuples and creates no reference cycles;
    # pausing the cyclic GC for its duration saves ~20% (it is restored in `finally`).
    paused_gc = offline and gc.isenabled()
    if paused_gc:
        gc.disable()
    try:
        if offline and cp is None and progress is None:
            calls = _offline_loop(queries, geocoder, results, memo)
        else:
            calls = _general_loop(
                queries, geocoder, results, memo, cp, progress, clock, report.resumed
            )
    finally:
        if paused_gc:
            gc.enable()
        report.calls += calls
        report.geocoded += sum(r is not None for r in results) - report.resumed
        if cp is not None:
            cp.close()
    out = [r if r is not None else RowResult("failed") for r in results]
    counts: dict[str, int] = {}
    for r in out:
        counts[r.status] = counts.get(r.status, 0) + 1
    report.counts = counts
    return out


def _resume(
    cp: _Checkpoint,
    queries: Sequence[Any],
    results: list[RowResult | None],
    memo: dict[str, RowResult],
    report: BatchReport,
) -> None:
    """Take the rows a checkpoint holds (and remember their answers), then open it."""
    report.checkpoint = str(cp.path)
    report.checkpoint_reset = cp.reset
    for i, r in cp.done.items():
        if 0 <= i < len(queries):
            results[i] = r
            key = _query_key(queries[i])
            if key is not None:
                memo.setdefault(key, r)
    report.resumed = sum(r is not None for r in results)
    cp.open()


def _general_loop(
    queries: Sequence[Any],
    geocoder: Any,
    results: list[RowResult | None],
    memo: dict[str, RowResult],
    cp: _Checkpoint | None,
    progress: Callable[[int, int], None] | None,
    clock: Callable[[], float],
    done: int,
) -> int:
    """Every row not done yet, with checkpointing and progress. Returns the calls made."""
    offline = type(geocoder) is OfflineGeocoder  # same answers as geocode(), no Locations
    rows_of: dict[int, tuple[Any, RowResult]] = {}  # id(Resolution) -> (it, its row)
    total = len(queries)
    calls = 0
    shown = clock()
    for i, q in enumerate(queries):
        if results[i] is not None:
            continue
        text = q.strip() if isinstance(q, str) else _query_key(q)
        if not text:
            r = _EMPTY
        elif text in memo:
            r = memo[text]
        else:
            calls += 1
            if offline:
                r = _geocode_offline(geocoder, text, rows_of)
            else:
                r = _geocode_one(geocoder, text)
            if r.status != "failed":
                memo[text] = r
        results[i] = r
        if cp is not None and r.status != "failed":
            cp.add(i, r)
        done += 1
        if progress is not None:
            now = clock()
            if now - shown >= _PROGRESS_EVERY_S or done == total:
                progress(done, total)
                shown = now
    return calls


def _offline_loop(
    queries: Sequence[Any],
    geocoder: OfflineGeocoder,
    results: list[RowResult | None],
    memo: dict[str, RowResult],
) -> int:
    """The plain offline run (no checkpoint, no progress): the same answers as the
    general loop, with as little per-row work as possible. Returns the calls made."""
    resolve = geocoder.resolve
    from_resolution = RowResult.from_resolution
    calls = 0
    for i, q in enumerate(queries):
        text = q.strip() if type(q) is str else _query_key(q)
        if not text:
            results[i] = _EMPTY
            continue
        r = memo.get(text)
        if r is None:
            calls += 1
            try:
                res = resolve(text)
            except GeocodeError as err:
                r = RowResult("not_found", error=str(err))
            else:
                r = _NOT_FOUND if res is None else from_resolution(res)
            memo[text] = r
        results[i] = r
    return calls


def _query_key(q: Any) -> str | None:
    if q is None or (isinstance(q, float) and math.isnan(q)):
        return None
    text = str(q).strip()
    return text or None


def _geocode_offline(
    geocoder: OfflineGeocoder, text: str, rows_of: dict[int, tuple[Any, RowResult]]
) -> RowResult:
    """Resolve directly; rows sharing a (memoized) resolution share one RowResult."""
    try:
        res = geocoder.resolve(text)
    except GeocodeError as err:
        return RowResult("not_found", error=str(err))
    if res is None:
        return _NOT_FOUND
    seen = rows_of.get(id(res))
    if seen is not None and seen[0] is res:
        return seen[1]
    row = RowResult.from_resolution(res)
    rows_of[id(res)] = (res, row)
    return row


def _geocode_one(geocoder: Any, text: str) -> RowResult:
    try:
        loc = geocoder.geocode(text)
    except GeocodeError as err:
        return RowResult("not_found", error=str(err))
    except GeocoderRefused:
        raise
    except GeocoderServiceError as err:
        return RowResult("failed", error=str(err))
    return RowResult.from_location(loc)


# --------------------------------------------------------------------------- files
def read_input(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or XLSX file as text columns with :func:`locator.data.read_table`, the
    reader of every user table: the encoding is detected (UTF-8 with or without BOM,
    GB18030, UTF-16 BOM), a row with more fields than the header is a DataError naming
    it, an XLSX's first sheet is read."""
    from ..data import read_table

    frame, _problems, _label, _geojson = read_table(path)
    return frame


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _with_results(
    frame: pd.DataFrame, results: list[RowResult], renamed: dict[str, str] | None = None
) -> pd.DataFrame:
    """``frame`` plus the result columns. Input columns that share a result column's
    name are kept, renamed ``<name>_input`` (recorded in ``renamed``): user data is
    never overwritten."""
    clash = {c: _free_name(f"{c}_input", frame.columns) for c in RESULT_COLUMNS if c in frame}
    out = frame.rename(columns=clash)
    if renamed is not None:
        renamed.update(clash)
    out["lat"] = [r.lat for r in results]
    out["lon"] = [r.lon for r in results]
    for col in ("province", "city", "district"):
        out[col] = [getattr(r, col) or "" for r in results]
    out["geocode_status"] = [r.status for r in results]
    out["geocode_candidates"] = [r.candidates for r in results]
    return out


def _free_name(name: str, taken: Any) -> str:
    taken = set(map(str, taken))
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate


def write_output(
    frame: pd.DataFrame, out: str | os.PathLike[str], *, encoding: str | None = None
) -> None:
    """Write atomically and formula-safe: ``.xlsx`` as Excel, anything else as CSV
    (UTF-8 with BOM unless ``encoding`` is ``utf-8`` or ``gb18030``)."""
    from ..outputs import write_csv, write_xlsx

    dest = Path(out)
    if dest.suffix.lower() == ".xlsx":
        write_xlsx(frame, dest)
    else:
        write_csv(frame, dest, encoding=encoding)


class CheckpointLocked(LocatorError, RuntimeError):
    """Another run is geocoding into the same output (it holds the checkpoint lock)."""


def lock_path(out: str | os.PathLike[str]) -> Path:
    """The lock beside ``out``: ``out.csv`` -> ``.out.csv.geocode.lock``."""
    p = Path(out)
    return p.with_name(f".{p.name}.geocode.lock")


@contextlib.contextmanager
def _run_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the lock beside ``out`` for the whole run, so two
    runs never pay for the same rows. The lock file holds the owner's pid and is
    removed on exit (a run that finds the file it locked already unlinked retries)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    path = lock_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                pid = os.read(fd, 32).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            who = f" (pid {pid})" if pid.isdigit() else ""
            raise CheckpointLocked(
                f"another geocode-csv is running on {out}{who}; wait for it to finish "
                "(it resumes from the same checkpoint)"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # its previous holder removed it after we opened it: try again
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def geocode_file(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    column: str,
    geocoder: Any,
    geocoder_name: str = "offline",
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    encoding: str | None = None,
) -> BatchReport:
    """Geocode ``column`` of ``src`` into ``out`` (atomic), resumable via a checkpoint.

    ``out`` is checked first (:func:`locator.outputs.check_output`: not the input, not a
    directory, in an existing folder; ConfigurationError otherwise). A second run on
    the same ``out`` while one is going raises :class:`CheckpointLocked`. A CSV is
    written in ``encoding`` (default UTF-8 with BOM; see :func:`locator.outputs.write_csv`).

    A column missing from the input raises DataError naming the available columns. An
    input column named like a result column (``city``, ``lat`` ...) is kept as
    ``city_input`` etc. (listed in ``report.renamed``).
    Ctrl-C, a crash or a refusal keeps the checkpoint: rerunning the same command
    resumes without repeating calls. The checkpoint is removed once ``out`` is written
    with no ``failed`` rows (failed rows stay pending for the next run).
    """
    from ..outputs import check_output, csv_encoding, is_stream

    src_p, out_p = Path(src), Path(out)
    check_output(out_p, inputs=[src_p])
    codec = csv_encoding(encoding)
    if is_stream(out_p):  # /dev/stdout, a FIFO: nothing to resume into, no checkpoint or lock
        return _geocode_file_locked(src_p, out_p, column, geocoder, geocoder_name, progress,
                                    clock, codec, resumable=False)  # fmt: skip
    with _run_lock(out_p):
        return _geocode_file_locked(src_p, out_p, column, geocoder, geocoder_name, progress,
                                    clock, codec)  # fmt: skip


def _geocode_file_locked(
    src_p: Path,
    out_p: Path,
    column: str,
    geocoder: Any,
    geocoder_name: str,
    progress: Callable[[int, int], None] | None,
    clock: Callable[[], float],
    encoding: str,
    *,
    resumable: bool = True,
) -> BatchReport:
    frame = read_input(src_p)
    if column not in frame.columns:
        available = ", ".join(map(str, frame.columns)) or "(none)"
        raise DataError(
            [Problem(None, column, None, f"no such column; available columns: {available}")],
            source=str(src_p),
        )
    if out_p.suffix.lower() == ".xlsx":
        from ..outputs import check_xlsx

        check_xlsx(frame, source=str(src_p))  # before paying for any row
    report = BatchReport()
    fingerprint = {"input_sha256": _file_sha256(src_p), "column": column,
                   "geocoder": geocoder_name}  # fmt: skip
    cp = checkpoint_path(out_p)
    results = geocode_batch(
        frame[column].tolist(),
        geocoder,
        checkpoint=cp if resumable else None,
        fingerprint=fingerprint,
        progress=progress,
        clock=clock,
        report=report,
    )
    write_output(_with_results(frame, results, report.renamed), out_p, encoding=encoding)
    if resumable and report.counts.get("failed", 0) == 0:
        with contextlib.suppress(FileNotFoundError):
            cp.unlink()
        report.checkpoint = None
    return report
