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

from ..batch import STATUS_AMBIGUOUS as _STATUS_AMBIGUOUS
from ..batch import AssignSpec, Geocache, added_columns, assign_block
from ._common import fail

__all__ = ["AssignJob", "Geocache", "Tally", "added_columns"]


def _bad_rows_message(rows: list[int], total: int, limit: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" ... and {total - limit} more" if total > limit else ""
    return f"rows {shown}{more}"


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

    @property
    def spec(self) -> AssignSpec:
        """What each chunk is assigned with (:func:`locator.batch.assign_block`)."""
        return AssignSpec(
            source=self.input_csv.name,
            k=self.k,
            filters=self.filters,
            lat_col=self.lat_col,
            lon_col=self.lon_col,
            address_col=self.address_col,
            coord_sys=self.coord_sys,
        )


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
    """One chunk with its result columns, in output order (a ConfigurationError if its
    columns do not fit); counts its unassigned rows (and, with ``--strict``, fails on
    the first)."""
    block = assign_block(chunk, job.index, job.spec, job.geocache)
    tally.count(block.bad, block.ambiguous)
    if job.strict and tally.bad:
        fail(strict_message(tally))
    return block.frame


def strict_message(tally: Tally) -> str:
    """The ``--strict`` failure: how many rows cannot be assigned, and which."""
    return (
        f"{tally.bad} row(s) cannot be assigned (bad coordinates or address not "
        f"found): {_bad_rows_message(tally.bad_rows, tally.bad)}; nothing written"
    )


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


# --------------------------------------------------------------------------- --engine dask
@dataclasses.dataclass(frozen=True)
class DaskOptions:
    """Where ``--engine dask`` runs: a scheduler's address, or a LocalCluster of
    ``workers`` processes; ``blocksize``: bytes of CSV per partition."""

    source: str  # the input as given: a local path or an fsspec URL
    scheduler: str | None
    workers: int | None
    blocksize: str


def is_url(source: str) -> bool:
    """Whether ``source`` is an fsspec URL (``s3://...``, ``gs://...``), not a local path."""
    return "://" in source and not source.startswith("file://")


def check_engine(engine: str, address_col: str | None, opts: DaskOptions, given: bool) -> None:
    """Refuse an unknown engine, Dask-only options (``given``) without ``--engine dask``,
    and both --scheduler and --workers (the user's cluster has its own workers)."""
    if engine not in ("pandas", "dask"):
        fail(f"unknown --engine {engine!r}; choose pandas or dask")
    if engine == "pandas" and given:
        fail("--scheduler, --workers and --blocksize need --engine dask")
    if opts.scheduler is not None and opts.workers is not None:
        fail("give --scheduler (your cluster) or --workers (a local one), not both")
    if engine == "dask":
        from ..batch_dask import DaskMissing, require_dask

        try:
            require_dask()
        except DaskMissing as err:
            fail(str(err))
        if address_col:
            fail(
                "--address-col is not supported with --engine dask; geocode first "
                "(locator geocode-csv) and assign the lat/lon columns"
            )


def check_parquet_output(output: Path) -> None:
    """A Parquet OUT may be a folder only if it is a previous assign output (only
    ``part.NNNNN.parquet`` files), which is replaced; any other folder is refused."""
    import re

    if not output.is_dir():
        return
    ours = re.compile(r"part\.\d{5}\.parquet")
    if not all(ours.fullmatch(p.name) for p in output.iterdir()):
        fail(f"cannot write {output}: is a folder that is not a previous assign output")


def dask_encoding(opts: DaskOptions, encoding: str) -> str:
    """The encoding of a CSV given by URL (detected from its first MiB for ``auto``)."""
    if encoding.strip().lower() != "auto":
        return encoding
    import fsspec

    from ..data import detect_encoding
    from ..errors import DataError

    try:
        with fsspec.open(opts.source, "rb") as fh:
            head = fh.read(2**20)
        return detect_encoding(head, name=opts.source)
    except FileNotFoundError:
        fail(f"no such file: {opts.source}")
    except DataError as err:
        fail(f"{opts.source}: {err.errors[0].reason}; give --encoding")
    except (OSError, ValueError, ImportError) as err:
        fail(f"cannot read {opts.source}: {err}")


def run_dask(job: AssignJob, opts: DaskOptions, console: Any, progress: bool) -> Tally:
    """Run the job on Dask (:func:`locator.batch_dask.assign_dask`); errors become one
    ``error:`` line, as with the pandas engine."""
    from ..batch_dask import assign_dask, dask_client
    from ..errors import LocatorError

    bar = progress_bar(console, progress)
    rows = 0

    def on_part(part: Any, total: int) -> None:
        nonlocal rows
        if not bar.tasks:
            bar.add_task("assign", total=total, rows=0)
        rows += part.rows
        bar.update(bar.tasks[0].id, advance=1, rows=rows)

    try:
        with dask_client(opts.scheduler, opts.workers) as client, bar:
            result = assign_dask(
                opts.source, job.output, job.index, job.spec, client=client,
                strict=job.strict, encoding=job.encoding, out_encoding=job.out_encoding,
                blocksize=opts.blocksize, on_part=on_part,
            )  # fmt: skip
    except UnicodeDecodeError as err:
        other = "utf-8" if job.encoding.lower().startswith("gb") else "gb18030"
        fail(f"{job.spec.source} is not {job.encoding} text ({err.reason}); try --encoding {other}")
    except pd.errors.EmptyDataError:
        fail(f"{job.spec.source} is empty (no header row)")
    except pd.errors.ParserError as err:
        _fail_parser_error(job, err)
    except LocatorError as err:
        fail(str(err))
    except FileNotFoundError as err:
        if err.filename is None or os.fspath(err.filename) != os.fspath(job.output):
            fail(f"no such file: {opts.source}")
        raise
    except OSError as err:
        _fail_if_output_error(err, job)
        raise
    tally = Tally(result.rows, result.bad, result.bad_rows, result.ambiguous)
    if job.strict and tally.bad:
        fail(strict_message(tally))
    return tally


def _fail_parser_error(job: AssignJob, err: Exception) -> None:
    from ..data import parser_error_problem

    problem = parser_error_problem(err)
    if problem is not None:
        fail(f"{job.spec.source}: {problem}; nothing written")
    fail(f"cannot parse {job.spec.source}: {err}")
