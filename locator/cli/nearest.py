"""``locator nearest`` (one place -> nearest outlets) and ``locator assign`` (a CSV of
places -> each row's nearest outlets, streamed in chunks).

Both use :class:`locator.index.OutletIndex` (exact WGS-84 geodesic distances) and label
drive times as estimates (:class:`locator.drive.DriveTimeModel`). Text queries go
through :func:`make_geocoder`, a seam tests replace with a fake.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from . import app
from ._common import (
    OutEncodingOpt,
    SheetOpt,
    check_output_or_fail,
    echo_json,
    fail,
    load_network,
)
from ._terminal import console as terminal_console
from ._terminal import echo

_STATUS_OK = "ok"
_STATUS_AMBIGUOUS = "ok_ambiguous_address"
_STATUS_BAD = "bad_coordinates"
_STATUS_NOT_FOUND = "address_not_found"
_ADDRESS_CACHE_MAX = 100_000
_OUT_FIELDS = ("outlet_id", "name", "kind", "city", "district")


def make_geocoder() -> Any:
    """Build the geocoder for text queries (a seam: tests monkeypatch this).

    Returns an object with geopy's ``geocode(query)`` -> ``Location | None``.
    """
    from ..geocode import OfflineGeocoder

    return OfflineGeocoder()


def _geocoder_or_fail() -> Any:
    try:
        return make_geocoder()
    except ImportError as err:
        fail(
            f"text queries need the offline geocoder, which is unavailable ({err}); use --lat/--lon"
        )


def _index(outlets: Path | None, sheet: str | None = None):  # -> OutletIndex
    from ..errors import LocatorError
    from ..index import OutletIndex

    frame = load_network(None if outlets is None else str(outlets), sheet)
    try:
        return OutletIndex(frame)
    except LocatorError as err:
        fail(str(err))


def _filters(kind: list[str] | None, category: list[str] | None, include_all: bool) -> dict:
    return {
        "kinds": kind or None,
        "categories": category or None,
        "authorized_only": not include_all,
    }


def _to_wgs84(lat: float, lon: float, coord_sys: str) -> tuple[float, float]:
    from ..crs import to_wgs84

    wlon, wlat = to_wgs84(lon, lat, coord_sys)
    return float(wlat), float(wlon)


def _origin_from_query(query: str) -> dict[str, Any]:
    from ..errors import LocatorError
    from ..geocode import origin_from_location

    geocoder = _geocoder_or_fail()
    try:
        loc = geocoder.geocode(query)
    except LocatorError as err:
        fail(str(err))
    if loc is None:
        fail(f"no place found for {query!r}; try a city or district name, or --lat/--lon")
    try:
        origin = origin_from_location(loc, query)
    except LocatorError as err:
        fail(str(err))
    origin["source"] = origin["source"] or "geocoder"
    return origin


def _place_label(d: dict[str, Any]) -> str:
    parts = [str(d.get(key) or "") for key in ("province", "city", "district")]
    seen: list[str] = []
    for p in parts:
        if p and p not in seen:
            seen.append(p)
    return " ".join(seen)


def _compass(bearing: float) -> str:
    names = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
    return names[int((bearing % 360) / 45 + 0.5) % 8]


@app.command("nearest")
def nearest_cmd(
    query: Annotated[
        str | None,
        typer.Argument(
            help="An address, district or city (Chinese, pinyin or English), geocoded offline."
        ),
    ] = None,
    lat: Annotated[
        float | None, typer.Option("--lat", help="Latitude instead of QUERY (with --lon).")
    ] = None,
    lon: Annotated[
        float | None, typer.Option("--lon", help="Longitude instead of QUERY (with --lat).")
    ] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="How many outlets.")] = 3,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="service_center or repair_point (repeat for either)."),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="Only outlets repairing this (refrigerator, washer, air_conditioner, "
            "water_heater, tv); repeat to require all.",
        ),
    ] = None,
    max_km: Annotated[
        float | None,
        typer.Option(
            "--max-km", help="Only outlets within this many km (the nearest is still shown)."
        ),
    ] = None,
    outlets: Annotated[
        Path | None,
        typer.Option("--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: bundled."),
    ] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include outlets that are not authorized.")
    ] = False,
    coord_sys: Annotated[
        str,
        typer.Option(
            "--coord-sys",
            help="System of --lat/--lon: wgs84, gcj02 (AMap) or bd09 (Baidu); converted on "
            "input, results are WGS-84.",
        ),
    ] = "wgs84",
    as_json: Annotated[
        bool, typer.Option("--json", help='Print JSON {"origin": ..., "results": [...]}.')
    ] = False,
    sheet: SheetOpt = None,
) -> None:
    """Nearest authorized outlets to a place, by geodesic distance (WGS-84 ellipsoid).

    Drive times are estimates (geodesic km x a circuity factor at typical speeds).
    Exit status: 0 with results, 1 when no outlet matches the filters, 2 on bad input.
    """
    from ..errors import LocatorError

    if (lat is None) != (lon is None):
        fail("give both --lat and --lon")
    if lat is not None and query is not None:
        fail("give either QUERY or --lat/--lon, not both")
    if lat is None and query is None:
        fail("give a QUERY (address, district or city) or --lat and --lon")
    index = _index(outlets, sheet)
    filters = _filters(kind, category, include_all)
    try:
        if lat is not None and lon is not None:
            wlat, wlon = _to_wgs84(lat, lon, coord_sys)
            origin: dict[str, Any] = {
                "query": None,
                "lat": wlat,
                "lon": wlon,
                "source": "coordinates",
                "input": {"lat": lat, "lon": lon, "coord_sys": coord_sys},
                "ambiguous": False,
                "candidates": [],
            }
        else:
            origin = _origin_from_query(str(query))
        result = index.nearest(origin["lat"], origin["lon"], k=k, max_km=max_km, **filters)
    except LocatorError as err:
        fail(str(err))

    note = None
    if result.empty:
        note = "no outlet matches the filters"
    elif not bool(result["within_max"].all()):
        note = (
            f"no matching outlet within {max_km:g} km; the nearest is "
            f"{result['distance_km'].iloc[0]:.1f} km away"
        )
    if as_json:
        echo_json(
            {
                "origin": origin,
                "results": result.to_dict("records"),
                "note": note,
                "drive_time": index.drive_model.describe(),
            }
        )
    else:
        _print_table(origin, result, note, index.drive_model.describe(), include_all)
    if result.empty:
        raise typer.Exit(1)


def _print_table(
    origin: dict[str, Any], result: pd.DataFrame, note: str | None, caption: str, show_auth: bool
) -> None:
    from rich.table import Table

    from ._terminal import clean
    from ._terminal import text as Text  # cleaned, never markup

    console = terminal_console(soft_wrap=False)
    where = _place_label(origin) or origin.get("address") or ""
    head = f"From {where} " if where else "From "
    console.print(Text(f"{head}({origin['lat']:.5f}, {origin['lon']:.5f}, WGS-84)"))
    if origin.get("ambiguous"):
        cands = origin.get("candidates") or []
        console.print(
            Text(
                f"'{origin.get('query')}' is ambiguous: {len(cands)} places match; "
                f"used {where or 'the first'}. Candidates:",
                style="yellow",
            )
        )
        for c in cands:
            pop = c.get("population")
            extra = f", population {int(pop):,}" if isinstance(pop, int | float) and pop else ""
            console.print(Text(f"  - {_place_label(c)} ({c.get('lat')}, {c.get('lon')}{extra})"))
        console.print(Text("Give a province or city too to choose another."))
    if note:
        console.print(Text(note, style="bold red" if result.empty else "yellow"))
    if result.empty:
        return
    table = Table(caption=caption, show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Outlet", ratio=3, overflow="fold")
    table.add_column("Distance", justify="right", no_wrap=True)
    table.add_column("Est. drive", justify="right", no_wrap=True)
    table.add_column("Repairs", ratio=1, overflow="fold")
    for i, row in enumerate(result.to_dict("records"), start=1):
        title = Text(str(row.get("name", row.get("outlet_id", ""))), style="bold")
        kind = str(row.get("kind") or "").replace("_", " ")
        if kind:
            title.append(f"  {clean(kind)}", style="dim")
        if show_auth and "authorized" in row and not bool(row["authorized"]):
            title.append("  NOT AUTHORIZED", style="bold red")
        details = [str(row.get(c) or "") for c in ("address", "phone", "hours")]
        for line in (details[0], " · ".join(d for d in details[1:] if d)):
            if line:
                title.append("\n" + clean(line))
        promise = "meets 2 h" if row["meets_promise"] else "over 2 h"
        table.add_row(
            Text(str(i)),
            title,
            Text(f"{row['distance_km']:.1f} km\n{_compass(row['bearing_deg'])}"),
            Text(f"~{row['drive_minutes']:.0f} min\n{promise}"),
            Text(str(row.get("categories") or "").replace(";", ", ")),
        )
    console.print(table)


# --------------------------------------------------------------------------- assign


def _bad_rows_message(rows: list[int], total: int, limit: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" ... and {total - limit} more" if total > limit else ""
    return f"rows {shown}{more}"


class _Geocache:
    """Geocode each distinct address once (bounded memory)."""

    def __init__(self) -> None:
        self.geocoder = _geocoder_or_fail()
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


@app.command("assign")
def assign_cmd(
    input_csv: Annotated[
        Path,
        typer.Argument(
            metavar="IN.csv", help="CSV of places to assign (encoding detected; see --encoding)."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="OUT.csv", help="Where to write.")
    ],
    lat_col: Annotated[str, typer.Option("--lat-col", help="Latitude column.")] = "lat",
    lon_col: Annotated[str, typer.Option("--lon-col", help="Longitude column.")] = "lon",
    address_col: Annotated[
        str | None,
        typer.Option("--address-col", help="Geocode this column offline instead of lat/lon."),
    ] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Outlets per row.")] = 1,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="service_center or repair_point.")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Required category (repeatable).")
    ] = None,
    outlets: Annotated[
        Path | None, typer.Option("--outlets", help="Outlets file; default: bundled.")
    ] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include outlets that are not authorized.")
    ] = False,
    coord_sys: Annotated[
        str, typer.Option("--coord-sys", help="System of the lat/lon columns: wgs84|gcj02|bd09.")
    ] = "wgs84",
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail (write nothing) if any row cannot be assigned."),
    ] = False,
    chunksize: Annotated[
        int, typer.Option("--chunksize", min=1, help="Rows per chunk (memory bound).")
    ] = 100_000,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="Input encoding; default: detected (UTF-8 with or without BOM, GB18030, "
            "UTF-16 with BOM). Give one (e.g. gb18030) to override.",
        ),
    ] = "auto",
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
    sheet: SheetOpt = None,
    out_encoding: OutEncodingOpt = "utf-8-sig",
) -> None:
    """Assign every row of a CSV to its nearest authorized outlet(s), streaming in chunks.

    Output: the input columns unchanged, then assign_status and, for each rank r
    (1..k), nearest{r}_outlet_id, _name, _kind, _city, _district,
    _distance_km (WGS-84 geodesic), _drive_minutes (an ESTIMATE) and
    _meets_promise (2-hour on-site promise). With --address-col, also
    geocoded_lat/geocoded_lon (WGS-84).

    Rows that cannot be assigned are KEPT, with empty result columns and
    assign_status = bad_coordinates (missing, non-numeric, non-finite or out-of-range
    lat/lon) or address_not_found; their row numbers (header = row 1) are listed on
    stderr. Use --strict to fail instead. The output (UTF-8 with BOM unless
    --out-encoding says otherwise; formula-safe) is written atomically: on any error
    or Ctrl-C (exit 130) no partial file is left and an existing OUT is unchanged.
    """

    from ..outputs import is_stream

    if not input_csv.is_file():
        fail(f"no such file: {input_csv}")
    existed, streamed = output.exists(), is_stream(output)
    check_output_or_fail(output, input_csv, outlets, encoding=out_encoding)
    encoding = _input_encoding(input_csv, encoding)
    index = _index(outlets, sheet)
    filters = _filters(kind, category, include_all)
    coord_sys = _check_assign_query(index, filters, coord_sys)
    job = _AssignJob(
        input_csv=input_csv,
        output=output,
        existed=existed,
        streamed=streamed,
        index=index,
        filters=filters,
        k=k,
        lat_col=lat_col,
        lon_col=lon_col,
        address_col=address_col,
        coord_sys=coord_sys,
        strict=strict,
        chunksize=chunksize,
        encoding=encoding,
        out_encoding=out_encoding,
        geocache=_Geocache() if address_col else None,
        added=_added_columns(k, address_col),
    )
    console = terminal_console(stderr=True)
    tally = _Tally()
    bar = _progress_bar(console, progress)
    try:
        _stream_assign(job, tally, bar)
    except KeyboardInterrupt:
        echo(f"interrupted: stopped after {tally.rows:,} rows; {_kept(job)}", err=True)
        raise typer.Exit(130) from None
    _print_assign_summary(console, job, tally)


# --------------------------------------------------------------------------- assign steps


@dataclasses.dataclass(frozen=True)
class _AssignJob:
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
    geocache: _Geocache | None
    added: tuple[str, ...]  # the columns assign adds, in output order


@dataclasses.dataclass
class _Tally:
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


def _check_assign_query(index: Any, filters: dict, coord_sys: str) -> str:
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


def _added_columns(k: int, address_col: str | None) -> tuple[str, ...]:
    """The columns assign adds to each row, in output order."""
    fields = (*_OUT_FIELDS, "distance_km", "drive_minutes", "meets_promise")
    out_names = [f"nearest{r}_{f}" for r in range(1, k + 1) for f in fields]
    added = ["assign_status", *out_names]
    if address_col:
        added[1:1] = ["geocoded_lat", "geocoded_lon"]
    return tuple(added)


def _progress_bar(console: Any, progress: bool) -> Any:  # -> rich.progress.Progress
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


def _stream_assign(job: _AssignJob, tally: _Tally, bar: Any) -> None:
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


def _assign_one_chunk(job: _AssignJob, tally: _Tally, chunk: pd.DataFrame) -> pd.DataFrame:
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


def _fail_if_output_error(err: OSError, job: _AssignJob) -> None:
    """An OSError on OUT is one ``error:`` line; any other returns (to be re-raised)."""
    if err.filename is None or os.fspath(err.filename) != os.fspath(job.output):
        return
    done = "" if job.streamed else "; nothing written"
    fail(f"cannot write {job.output}: {err.strerror or err}{done}")


def _kept(job: _AssignJob) -> str:
    """What Ctrl-C left of OUT (for the ``interrupted:`` line)."""
    if job.streamed:
        return f"{job.output} got the rows written before the interruption"
    if job.existed:
        return f"{job.output} was not changed"
    return f"nothing was written to {job.output}"


def _print_assign_summary(console: Any, job: _AssignJob, tally: _Tally) -> None:
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


def _input_encoding(path: Path, encoding: str) -> str:
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
    geocache: _Geocache | None,
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
