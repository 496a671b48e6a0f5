"""``locator nearest`` (one place -> nearest outlets) and ``locator assign`` (a CSV of
places -> each row's nearest outlets, streamed in chunks).

Both use :class:`locator.index.OutletIndex` (exact WGS-84 geodesic distances) and label
drive times as estimates (:class:`locator.drive.DriveTimeModel`). Text queries go
through :func:`make_geocoder`, a seam tests replace with a fake. ``assign`` is declared
here (options, --help); its steps (chunked reading, per-chunk assignment, reporting) are
in :mod:`locator.cli._assign`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from ..batch_dask import is_parquet
from . import app
from ._assign import (
    AssignJob,
    DaskOptions,
    Geocache,
    Tally,
    added_columns,
    check_assign_query,
    check_engine,
    check_parquet_output,
    dask_encoding,
    input_encoding,
    is_url,
    kept_after_interrupt,
    print_assign_summary,
    progress_bar,
    run_dask,
    stream_assign,
)
from ._common import (
    OutEncodingOpt,
    ReadDatabaseOpt,
    SheetOpt,
    check_output_or_fail,
    echo_json,
    fail,
    load_network,
)
from ._terminal import console as terminal_console
from ._terminal import echo


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


def _index(
    outlets: Path | None, sheet: str | None = None, database: str | None = None
):  # -> OutletIndex
    from ..errors import LocatorError
    from ..index import OutletIndex

    frame = load_network(None if outlets is None else str(outlets), sheet, database)
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
        typer.Option(
            "--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: the network store."
        ),
    ] = None,
    database: ReadDatabaseOpt = None,
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
    open_now: Annotated[
        bool,
        typer.Option(
            "--open-now",
            help="Only outlets open now (or at --at), Chinese holidays and make-up "
            "workdays counted; outlets with unknown hours are listed after them.",
        ),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="ISO",
            help="Answer the opening hours for this moment, e.g. 2026-10-01T10:00 "
            "(no offset: Asia/Shanghai time). Default: now.",
        ),
    ] = None,
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
    moment = _moment(at)
    index = _index(outlets, sheet, database)
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
        result = index.nearest(
            origin["lat"],
            origin["lon"],
            k=k,
            max_km=max_km,
            open_at=moment if open_now else None,
            at=moment,
            **filters,
        )
    except LocatorError as err:
        fail(str(err))

    note = None
    if result.empty:
        note = (
            "no outlet matching the filters is open at this time"
            if open_now
            else "no outlet matches the filters"
        )
    elif not bool(result["within_max"].all()):
        note = (
            f"no matching outlet within {max_km:g} km; the nearest is "
            f"{result['distance_km'].iloc[0]:.1f} km away"
        )
    if as_json:
        echo_json(
            {
                "origin": origin,
                "at": moment.isoformat(),
                "results": _json_records(result, origin),
                "note": note,
                "drive_time": index.drive_model.describe(),
            }
        )
    else:
        _print_table(origin, result, note, index.drive_model.describe(), include_all)
    if result.empty:
        raise typer.Exit(1)


def _moment(at: str | None) -> Any:  # -> datetime
    """``--at`` in Asia/Shanghai (now if not given); a clear error naming --at."""
    import datetime as dt

    from ..hours import as_local

    if at is None:
        return as_local(None)
    try:
        return as_local(dt.datetime.fromisoformat(at.strip()))
    except ValueError:
        fail(f"--at: {at!r} is not an ISO 8601 date and time (e.g. 2026-10-01T10:00+08:00)")


def _json_records(result: pd.DataFrame, origin: dict[str, Any]) -> list[dict[str, Any]]:
    """Result rows for ``--json``: times as ISO 8601 (+08:00), plus ``directions``
    (AMap, Baidu, OSM from the origin) and ``tel`` links."""
    from ..directions import directions_links, tel_links

    out: list[dict[str, Any]] = []
    for record in result.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        for c in ("opens_at", "closes_at"):
            value = row.get(c)
            row[c] = None if value is None or pd.isna(value) else value.isoformat()
        if row.get("open_now") is pd.NA:
            row["open_now"] = None
        row["directions"] = directions_links(
            (row["lat"], row["lon"]),
            origin=(origin["lat"], origin["lon"]),
            to_name=str(row.get("name") or ""),
        )
        row["tel"] = tel_links(row.get("phone"))
        out.append(row)
    return out


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
    from ..geocode import renamed_note

    former = renamed_note(origin.get("renamed_from"))
    if former:
        console.print(Text(f"Former name: {former}.", style="yellow"))
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
        details = [str(row.get(c) or "") for c in ("address", "phone", "hours_label")]
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


@app.command("assign")
def assign_cmd(
    source: Annotated[
        str,
        typer.Argument(
            metavar="IN.csv",
            help="CSV of places to assign (encoding detected; see --encoding). With "
            "--engine dask also Parquet (.parquet) and fsspec URLs (s3://...).",
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
        Path | None, typer.Option("--outlets", help="Outlets file; default: the network store.")
    ] = None,
    database: ReadDatabaseOpt = None,
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
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="pandas (one process, chunk by chunk) or dask (a Dask cluster: "
            "pip install 'locator[dask]').",
        ),
    ] = "pandas",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="--engine dask: the Dask scheduler to use (tcp://host:8786); "
            "default: a local cluster.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="--engine dask: worker processes of the local cluster."
        ),
    ] = None,
    blocksize: Annotated[
        str | None,
        typer.Option("--blocksize", help="--engine dask: CSV bytes per partition (64MB)."),
    ] = None,
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

    --engine dask runs the same assignment on a Dask cluster (--scheduler ADDRESS,
    or a local one of --workers processes): the same rows, values and messages;
    input CSV or Parquet, local or an fsspec URL; OUT.parquet is written as a
    folder of part files, any other OUT as one CSV, both atomically.
    """
    from ..outputs import is_stream

    opts = DaskOptions(source, scheduler, workers, blocksize or "64MB")
    check_engine(engine, address_col, opts, (scheduler, workers, blocksize) != (None, None, None))
    input_csv = Path(source)
    url = engine == "dask" and is_url(source)
    if not url and not input_csv.is_file():
        fail(f"no such file: {source}")
    if engine == "pandas" and is_parquet(source):
        fail(f"{input_csv.name}: Parquet input needs --engine dask")
    existed, streamed = output.exists(), is_stream(output)
    if engine == "dask" and is_parquet(output) and output.is_dir():
        check_parquet_output(output)  # a previous run's folder, replaced
    else:
        check_output_or_fail(output, input_csv, outlets, encoding=out_encoding)
    if engine == "dask" and (url or is_parquet(source)):
        encoding = dask_encoding(opts, encoding) if not is_parquet(source) else "utf-8"
    else:
        encoding = input_encoding(input_csv, encoding)
    index = _index(outlets, sheet, database)
    filters = _filters(kind, category, include_all)
    coord_sys = check_assign_query(index, filters, coord_sys)
    job = AssignJob(
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
        geocache=Geocache(_geocoder_or_fail()) if address_col else None,
        added=added_columns(k, address_col),
    )
    console = terminal_console(stderr=True)
    tally = Tally()
    try:
        if engine == "dask":
            tally = run_dask(job, opts, console, progress)
        else:
            stream_assign(job, tally, progress_bar(console, progress))
    except KeyboardInterrupt:
        echo(
            f"interrupted: stopped after {tally.rows:,} rows; {kept_after_interrupt(job)}", err=True
        )
        raise typer.Exit(130) from None
    print_assign_summary(console, job, tally)
