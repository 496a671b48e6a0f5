"""Batch assignment on Dask: ``locator assign --engine dask``.

The input (CSV or Parquet; a local path or an fsspec URL such as ``s3://...``) is read
as a Dask DataFrame; the :class:`~locator.index.OutletIndex` is sent once to every
worker (``client.scatter(..., broadcast=True)``); each partition goes through
:func:`locator.batch.assign_block`, the pandas engine's own chunk function, so both
engines give the same columns, values and statuses. Each worker writes its partition
as one part file into a temp folder beside OUT (:func:`locator.outputs.staged_parts`);
only when every part is written is the output committed: a Parquet OUT is that folder
renamed into place (a dataset folder of ``part.NNNNN.parquet`` files), a CSV OUT the
parts concatenated in order through :func:`locator.outputs.atomic_write`. An
interrupted or failed run leaves no OUT (an existing one unchanged), and the next run
removes the temp folder a killed one left.

Row numbers in messages count the header as row 1, as the pandas engine does: each
partition reports its bad rows by position and the driver adds the rows of the
partitions before it.

CSV is split into byte blocks at line ends. A line end inside a quoted cell would be
taken for a row end by such a split, so the file is scanned first (a quote count, in
bounded memory): if any quoted cell holds a line break the file is read as one
partition (correct, not parallel; Parquet input has no such limit).

Dask is an optional extra (``pip install 'locator[dask]'``): :func:`require_dask`
raises :class:`DaskMissing` naming that command when it is not installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .batch import AssignSpec, assign_block
from .errors import ConfigurationError

__all__ = [
    "DaskMissing",
    "DaskResult",
    "PartResult",
    "assign_dask",
    "dask_client",
    "is_parquet",
    "read_table",
    "require_dask",
]

_MAX_BAD_ROWS = 1000  # bad row numbers kept for messages (as the pandas engine)
_SCAN_BLOCK = 16 * 2**20
_SPLITTABLE = {"utf-8", "utf-8-sig", "gb18030", "ascii"}  # a line end is one b"\n" byte


class DaskMissing(ConfigurationError):
    """The Dask engine was asked for, but dask/distributed are not installed."""


def require_dask() -> None:
    """Raise :class:`DaskMissing` (with the install command) unless dask[dataframe]
    and distributed import."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as err:
        raise DaskMissing(
            f"--engine dask needs Dask, which is not installed ({err.msg}); "
            "install it with: pip install 'locator[dask]'"
        ) from err


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to the cluster at ``scheduler`` (its address,
    ``tcp://host:8786``), or to a new ``LocalCluster`` on this machine with ``workers``
    single-threaded worker processes (default: one per core), closed on leaving."""
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            raise ConfigurationError(
                f"cannot reach the Dask scheduler at {scheduler!r}: {err}"
            ) from err
        try:
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else len(os.sched_getaffinity(0))
    if n < 1:
        raise ConfigurationError(f"--workers must be at least 1, got {n}")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names Parquet (by its suffix, ``.parquet`` or ``.pq``)."""
    return os.fspath(path).rstrip("/").lower().endswith((".parquet", ".pq"))


def _quoted_line_break(urlpath: str) -> bool:
    """Whether some quoted cell of the CSV at ``urlpath`` holds a line break: a line
    end after an odd number of quote characters (an escaped quote ``""`` counts two)."""
    import fsspec

    odd = False
    with fsspec.open(urlpath, "rb", compression="infer") as fh:
        while block := fh.read(_SCAN_BLOCK):
            if b'"' not in block:
                if odd and b"\n" in block:
                    return True
                continue
            a = np.frombuffer(block, dtype=np.uint8)
            parity = (np.cumsum(a == 34) + odd) % 2  # quotes seen so far, odd = inside
            if ((a == 10) & (parity == 1)).any():
                return True
            odd = bool(parity[-1])
    return False


def read_table(
    source: str | os.PathLike[str], *, encoding: str = "utf-8", blocksize: int | str = "64MB"
) -> Any:  # -> dask.dataframe.DataFrame
    """``source`` as a Dask DataFrame: Parquet by suffix, else CSV read as the pandas
    engine reads it (every cell text, nothing taken for NA, no index column)."""
    require_dask()
    import dask
    import dask.dataframe as dd

    urlpath = os.fspath(source)
    # The pandas engine's chunks hold Python strings (object dtype); so do these.
    with dask.config.set({"dataframe.convert-string": False}):
        if is_parquet(urlpath):
            return dd.read_parquet(urlpath)
        split = encoding.lower() in _SPLITTABLE and not _quoted_line_break(urlpath)
        return dd.read_csv(
            urlpath,
            blocksize=blocksize if split else None,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            index_col=False,
        )


@dataclasses.dataclass(frozen=True)
class PartResult:
    """What one partition's task reports back (small: no rows)."""

    number: int
    rows: int
    bad: int
    bad_positions: tuple[int, ...]  # the first ones, within the partition
    ambiguous: int


@dataclasses.dataclass
class DaskResult:
    """Counts of one :func:`assign_dask` run; ``bad_rows`` are row numbers (header =
    row 1) of the first unassigned rows, as the pandas engine lists them."""

    rows: int = 0
    bad: int = 0
    bad_rows: list[int] = dataclasses.field(default_factory=list)
    ambiguous: int = 0
    partitions: int = 0
    written: bool = False


def _write_part(
    chunk: pd.DataFrame,
    index: Any,
    spec: AssignSpec,
    folder: str,
    number: int,
    out_format: str,
    out_encoding: str,
) -> PartResult:
    """Assign one partition on a worker and write it as part file ``number``."""
    from .outputs import CsvStream

    block = assign_block(chunk, index, spec)
    path = Path(folder) / f"part.{number:05d}.{out_format}"
    if out_format == "parquet":
        block.frame.reset_index(drop=True).to_parquet(path, index=False)
    else:
        # One BOM for the whole file: only the first part carries it (and the header).
        codec = "utf-8" if out_encoding == "utf-8-sig" and number else out_encoding
        with open(path, "w", encoding=codec, newline="") as fh:
            CsvStream(fh, header=number == 0).write(block.frame)
    bad = np.flatnonzero(block.bad)
    return PartResult(number, len(chunk), int(bad.size), tuple(bad[:_MAX_BAD_ROWS].tolist()),
                      block.ambiguous)  # fmt: skip


def _tally(parts: list[PartResult]) -> DaskResult:
    result = DaskResult(partitions=len(parts))
    for part in sorted(parts, key=lambda p: p.number):
        room = _MAX_BAD_ROWS - len(result.bad_rows)
        result.bad_rows.extend(result.rows + 2 + p for p in part.bad_positions[:room])
        result.rows += part.rows
        result.bad += part.bad
        result.ambiguous += part.ambiguous
    return result


def _concatenate(folder: Path, output: Path, count: int) -> None:
    from .outputs import atomic_write

    with atomic_write(output, "wb") as out:
        for number in range(count):
            with open(folder / f"part.{number:05d}.csv", "rb") as part:
                shutil.copyfileobj(part, out, 2**20)


def assign_dask(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    index: Any,
    spec: AssignSpec | None = None,
    *,
    client: Any = None,
    strict: bool = False,
    encoding: str = "utf-8",
    out_encoding: str = "utf-8-sig",
    blocksize: int | str = "64MB",
    on_part: Callable[[PartResult, int], None] | None = None,
) -> DaskResult:
    """Assign every row of ``source`` to its nearest outlet(s) of ``index`` on Dask and
    write ``output`` (Parquet by suffix, else CSV: formula-safe, in ``out_encoding``).

    ``spec`` says how (k, filters, columns, coordinate system; default: k=1, authorized
    outlets, ``lat``/``lon`` in WGS-84). ``client`` is a ``distributed.Client``; without
    one a :func:`dask_client` LocalCluster is started and closed. ``on_part(part,
    total)`` is called as each partition is done (progress). With ``strict``, any
    unassigned row means nothing is written (``result.written`` is False). The output
    appears whole or not at all (see the module docstring). With a remote cluster,
    ``output``'s folder must be one every worker can write (a shared mount).
    """
    require_dask()
    from .outputs import commit_parts, csv_encoding, staged_parts

    spec = spec or AssignSpec(source=Path(os.fspath(source)).name)
    if client is None:
        with dask_client() as own:
            return assign_dask(source, output, index, spec, client=own, strict=strict,
                               encoding=encoding, out_encoding=out_encoding,
                               blocksize=blocksize, on_part=on_part)  # fmt: skip
    out_format = "parquet" if is_parquet(output) else "csv"
    codec = csv_encoding(out_encoding)
    frame = read_table(source, encoding=encoding, blocksize=blocksize)
    out = Path(output)
    with staged_parts(out) as folder:
        parts = _run(client, frame, index, spec, folder, out_format, codec, on_part)
        result = _tally(parts)
        if strict and result.bad:
            return result
        if out_format == "parquet":
            commit_parts(folder, out)
        else:
            _concatenate(folder, out, len(parts))
    result.written = True
    return result


def _run(
    client: Any,
    frame: Any,
    index: Any,
    spec: AssignSpec,
    folder: Path,
    out_format: str,
    codec: str,
    on_part: Callable[[PartResult, int], None] | None,
) -> list[PartResult]:
    """One task per partition, the index sent once to every worker; the results as
    they complete (a failed task's error is raised here, the others cancelled)."""
    import dask
    from distributed import as_completed

    shared = client.scatter(index, broadcast=True, hash=False)
    tasks = [
        dask.delayed(_write_part, pure=False)(
            part, shared, spec, os.fspath(folder), number, out_format, codec
        )
        for number, part in enumerate(frame.to_delayed())
    ]
    futures = client.compute(tasks)
    parts: list[PartResult] = []
    try:
        for future in as_completed(futures):
            part = future.result()
            parts.append(part)
            if on_part is not None:
                on_part(part, len(tasks))
    except pd.errors.ParserError as err:
        if len(tasks) == 1:
            raise  # its line number is the file's
        raise ConfigurationError(
            f"cannot parse {spec.source}: {err} (a line counted within one of its "
            f"{len(tasks)} partitions; --engine pandas names the file's row); nothing written"
        ) from err
    finally:
        client.cancel(futures)
        client.cancel(shared)
    return parts
