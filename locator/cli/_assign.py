"""The steps of ``locator assign`` (the command itself, its options and --help, is in
:mod:`locator.cli.nearest`): check the options, read the CSV in chunks, assign each
chunk to its nearest outlets, write it atomically, and report. Every failure is one
``error:`` line and a non-zero exit (:func:`~locator.cli._common.fail`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._common import fail

_STATUS_OK = "ok"
_STATUS_AMBIGUOUS = "ok_ambiguous_address"
_STATUS_BAD = "bad_coordinates"
_STATUS_NOT_FOUND = "address_not_found"
_ADDRESS_CACHE_MAX = 100_000
_OUT_FIELDS = ("outlet_id", "name", "kind", "city", "district")


def _bad_rows_message(rows: list[int], total: int, limit: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" ... and {total - limit} more" if total > limit else ""
    return f"rows {shown}{more}"


class Geocache:
    """Geocode each distinct address once (bounded memory)."""

    def __init__(self, geocoder: Any) -> None:
        self.geocoder = geocoder
        self.cache: dict[str, tuple[float, float, bool] | None] = {}

    def lookup(self, text: str) -> tuple[float, float, bool] | None:
        text = text.strip()
        if not text:
            return None
        if text in self.cache:
            return self.cache[text]
        from ..errors import GeocodeError

        try:
            loc = self.geocoder.geocode(text)
        except GeocodeError:
            loc = None
        value = None
        if loc is not None:
            raw = getattr(loc, "raw", None) or {}
            value = (float(loc.latitude), float(loc.longitude), bool(raw.get("ambiguous")))
        if len(self.cache) >= _ADDRESS_CACHE_MAX:
            self.cache.clear()
        self.cache[text] = value
        return value


@dataclasses.dataclass(frozen=True)
class AssignJob:
    """The checked options of one ``locator assign`` run."""

    input_csv: Path
    output: Path
    existed: bool  # OUT existed before the run
    streamed: bool  # OUT is a stream (stdout, a pipe), written as rows come
    index: Any  # OutletIndex
    filters: dict
    k: int
    lat_col: str
    lon_col: str
    address_col: str | None
    coord_sys: str
    strict: bool
    chunksize: int
    encoding: str
    out_encoding: str
    geocache: Geocache | None
    added: tuple[str, ...]  # the columns assign adds, in output order


@dataclasses.dataclass
class Tally:
    """Running counts of one ``locator assign`` run (rows written, unassigned rows)."""

    rows: int = 0
    bad: int = 0
    bad_rows: list[int] = dataclasses.field(default_factory=list)  # the first 1000, for messages
    ambiguous: int = 0

    def count(self, bad: np.ndarray, ambiguous: int) -> None:
        """Count one chunk's unassigned (``bad`` mask) and ambiguous rows; row numbers
        count the header as row 1 and follow the rows already written."""
        row_numbers = np.flatnonzero(bad) + self.rows + 2
        self.bad += row_numbers.size
        if len(self.bad_rows) < 1000:
            self.bad_rows.extend(int(r) for r in row_numbers[: 1000 - len(self.bad_rows)])
        self.ambiguous += ambiguous


def check_assign_query(index: Any, filters: dict, coord_sys: str) -> str:
    """The normalised ``coord_sys``, after checking that some outlet matches ``filters``."""
    from ..crs import normalize_coord_sys
    from ..errors import LocatorError

    try:
        matching = index.count(**filters)
        coord_sys = normalize_coord_sys(coord_sys)
    except LocatorError as err:
        fail(str(err))
    if matching == 0:
        fail("no outlet matches the filters")
    return coord_sys


def added_columns(k: int, address_col: str | None) -> tuple[str, ...]:
    """The columns assign adds to each row, in output order."""
    fields = (*_OUT_FIELDS, "distance_km", "drive_minutes", "meets_promise")
    out_names = [f"nearest{r}_{f}" for r in range(1, k + 1) for f in fields]
    added = ["assign_status", *out_names]
    if address_col:
        added[1:1] = ["geocoded_lat", "geocoded_lon"]
    return tuple(added)


def progress_bar(console: Any, progress: bool) -> Any:  # -> rich.progress.Progress
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("assigning"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
        transient=False,
    )


def stream_assign(job: AssignJob, tally: Tally, bar: Any) -> None:
    """Read ``job.input_csv`` in chunks, assign each and write it to ``job.output``
    (atomically, by :func:`~locator.outputs.csv_stream`); errors become one ``error:``
    line. Ctrl-C is left to the caller, which reports ``tally.rows``."""
    from ..errors import LocatorError
    from ..outputs import csv_stream

    name = job.input_csv.name
    size = max(1, job.input_csv.stat().st_size)
    try:
        with (
            open(job.input_csv, "rb") as raw,
            csv_stream(job.output, encoding=job.out_encoding) as out_csv,
            bar,
        ):
            task = bar.add_task("assign", total=size, rows=0)
            reader = pd.read_csv(
                raw,
                chunksize=job.chunksize,
                dtype=str,
                keep_default_na=False,
                encoding=job.encoding,
                index_col=False,  # never the first column as an index (a shifted row)
            )
            for chunk in reader:
                out_csv.write(_assign_one_chunk(job, tally, chunk))
                tally.rows += len(chunk)
                bar.update(task, completed=raw.tell(), rows=tally.rows)
            bar.update(task, completed=size)
    except UnicodeDecodeError as err:
        other = "utf-8" if job.encoding.lower().startswith("gb") else "gb18030"
        fail(f"{name} is not {job.encoding} text ({err.reason}); try --encoding {other}")
    except pd.errors.EmptyDataError:
        fail(f"{name} is empty (no header row)")
    except pd.errors.ParserError as err:
        from ..data import parser_error_problem

        problem = parser_error_problem(err)
        if problem is not None:
            fail(f"{name}: {problem}; nothing written")
        fail(f"cannot parse {name}: {err}")
    except LocatorError as err:
        fail(str(err))
    except OSError as err:
        _fail_if_output_error(err, job)
        raise


def _assign_one_chunk(job: AssignJob, tally: Tally, chunk: pd.DataFrame) -> pd.DataFrame:
    """One chunk with its result columns, in output order, after checking its columns;
    counts its unassigned rows (and, with ``--strict``, fails on the first)."""
    needed = [job.address_col] if job.address_col else [job.lat_col, job.lon_col]
    missing = [c for c in needed if c not in chunk.columns]
    if missing:
        fail(
            f"column(s) {', '.join(map(repr, missing))} not in {job.input_csv.name}; "
            f"columns are: {', '.join(map(str, chunk.columns))}"
        )
    clash = [c for c in job.added if c in chunk.columns]
    if clash:
        fail(f"{job.input_csv.name} already has output column(s): {', '.join(clash)}")
    block, bad, ambiguous = _assign_chunk(
        chunk,
        job.index,
        job.k,
        job.filters,
        job.lat_col,
        job.lon_col,
        job.address_col,
        job.coord_sys,
        job.geocache,
    )
    tally.count(bad, ambiguous)
    if job.strict and tally.bad:
        fail(
            f"{tally.bad} row(s) cannot be assigned (bad coordinates or address not "
            f"found): {_bad_rows_message(tally.bad_rows, tally.bad)}; nothing written"
        )
    return block[[*chunk.columns, *job.added]]


def _fail_if_output_error(err: OSError, job: AssignJob) -> None:
    """An OSError on OUT is one ``error:`` line; any other returns (to be re-raised)."""
    if err.filename is None or os.fspath(err.filename) != os.fspath(job.output):
        return
    done = "" if job.streamed else "; nothing written"
    fail(f"cannot write {job.output}: {err.strerror or err}{done}")


def kept_after_interrupt(job: AssignJob) -> str:
    """What Ctrl-C left of OUT (for the ``interrupted:`` line)."""
    if job.streamed:
        return f"{job.output} got the rows written before the interruption"
    if job.existed:
        return f"{job.output} was not changed"
    return f"nothing was written to {job.output}"


def print_assign_summary(console: Any, job: AssignJob, tally: Tally) -> None:
    msg = f"assigned {tally.rows - tally.bad:,} of {tally.rows:,} rows -> {os.fspath(job.output)}"
    console.print(msg, highlight=False)
    if tally.ambiguous:
        console.print(
            f"{tally.ambiguous:,} row(s) had an ambiguous address (status {_STATUS_AMBIGUOUS}); "
            "the most populous candidate was used",
            highlight=False,
        )
    if tally.bad:
        console.print(
            f"{tally.bad:,} row(s) kept unassigned (see assign_status): "
            f"{_bad_rows_message(tally.bad_rows, tally.bad)}",
            highlight=False,
        )
    console.print(job.index.drive_model.describe(), highlight=False)


def input_encoding(path: Path, encoding: str) -> str:
    """The encoding to read ``path`` in (detected for ``auto``), after checking that its
    first data row has no more fields than the header (pandas would misread it)."""
    import codecs

    from ..data import detect_encoding, first_row_field_problem
    from ..errors import DataError

    if encoding.strip().lower() == "auto":
        try:
            encoding = detect_encoding(path)
        except DataError as err:
            fail(f"{path.name}: {err.errors[0].reason}; give --encoding")
        except OSError as err:
            fail(f"cannot read {path}: {err.strerror or err}")
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            fail(f"unknown --encoding {encoding!r} (e.g. utf-8, gb18030)")
    problem = first_row_field_problem(path, encoding)
    if problem is not None:
        fail(f"{path.name}: {problem}; nothing written")
    return encoding


def _assign_chunk(
    chunk: pd.DataFrame,
    index: Any,
    k: int,
    filters: dict,
    lat_col: str,
    lon_col: str,
    address_col: str | None,
    coord_sys: str,
    geocache: Geocache | None,
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Assign one chunk; returns (chunk with result columns, bad-row mask, n ambiguous)."""
    from ..crs import to_wgs84
    from ..index import valid_coordinates

    n = len(chunk)
    block = chunk.copy()
    status = np.full(n, _STATUS_OK, dtype=object)
    ambiguous = 0
    if address_col and geocache is not None:
        found = [geocache.lookup(v) for v in chunk[address_col].tolist()]
        lat = np.array([f[0] if f else np.nan for f in found], dtype=np.float64)
        lon = np.array([f[1] if f else np.nan for f in found], dtype=np.float64)
        amb = np.array([bool(f and f[2]) for f in found], dtype=bool)
        ambiguous = int(amb.sum())
        status[amb] = _STATUS_AMBIGUOUS
        bad = ~valid_coordinates(lat, lon)
        status[bad] = _STATUS_NOT_FOUND
        block["geocoded_lat"] = np.round(lat, 6)
        block["geocoded_lon"] = np.round(lon, 6)
    else:
        lat = pd.to_numeric(chunk[lat_col].str.strip(), errors="coerce").to_numpy(np.float64)
        lon = pd.to_numeric(chunk[lon_col].str.strip(), errors="coerce").to_numpy(np.float64)
        bad = ~valid_coordinates(lat, lon)
        status[bad] = _STATUS_BAD
        if coord_sys != "wgs84" and (~bad).any():
            wlon, wlat = to_wgs84(lon[~bad], lat[~bad], coord_sys)
            lon = lon.copy()
            lat = lat.copy()
            lon[~bad] = wlon
            lat[~bad] = wlat
    good = np.flatnonzero(~bad)
    pos = np.full((n, k), -1, dtype=np.intp)
    km = np.full((n, k), np.nan)
    if good.size:
        p, d = index.nearest_many(lat[good], lon[good], k=k, **filters)
        pos[good] = p
        km[good] = np.where(np.isfinite(d), d, np.nan)
    block["assign_status"] = status
    outlets = index.outlets
    minutes = index.drive_model.minutes(km)
    for r in range(k):
        col = pos[:, r]
        has = col >= 0
        for field in _OUT_FIELDS:
            values = np.full(n, "", dtype=object)
            if field in outlets.columns and has.any():
                values[has] = outlets[field].to_numpy(dtype=object)[col[has]]
            block[f"nearest{r + 1}_{field}"] = values
        block[f"nearest{r + 1}_distance_km"] = np.round(km[:, r], 3)
        block[f"nearest{r + 1}_drive_minutes"] = np.round(minutes[:, r], 1)
        meets = np.full(n, "", dtype=object)
        meets[has] = np.where(minutes[has, r] <= index.drive_model.promise_minutes, "true", "false")
        block[f"nearest{r + 1}_meets_promise"] = meets
    return block, bad, ambiguous
