"""``locator load``: orders per outlet per day/week from an orders file (:mod:`locator.load`).

The orders are the output of ``locator assign`` or raw orders with lat/lon (assigned here
to the nearest authorized outlet); the network is ``--outlets FILE`` or the store. Prints a
table of outlets by load, overloaded first; ``-o`` writes every outlet to CSV/XLSX
(formula-safe, atomic); ``--json`` prints strict JSON. Errors end in one line (or a list
of bad rows) on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from . import app
from ._common import (
    OutEncodingOpt,
    ReadDatabaseOpt,
    SheetOpt,
    check_output_or_fail,
    echo_json,
    fail,
    load_network,
)
from ._terminal import console, echo


def _num(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    try:
        import pandas as pd

        if pd.isna(x):
            return "-"
    except (TypeError, ValueError):
        pass
    return f"{float(x):,.{digits}f}"


def _pct(x: Any) -> str:
    return "-" if _num(x) == "-" else f"{100 * float(x):.0f}%"


def load_table(frame: Any, top: int, title: str, capacity: bool = True) -> Table:
    """The terminal table of :meth:`locator.load.LoadReport.frame` (cells are plain text;
    the capacity columns only with ``capacity``)."""
    import pandas as pd

    table = Table(title=title)
    cols = (
        ("outlet", "left"),
        ("city", "left"),
        ("orders", "right"),
        ("per day", "right"),
        ("p95/day", "right"),
        ("peak day", "right"),
        ("per week", "right"),
        ("p50 km", "right"),
        ("p90 km", "right"),
        ("beyond 2 h", "right"),
        ("capacity", "right"),
        ("days over", "right"),
        ("use p95", "right"),
        ("overloaded", "left"),
    )
    shown = len(cols) if capacity else len(cols) - 4
    for name, justify in cols[:shown]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in frame.head(top).itertuples(index=False):
        over = r.overloaded
        cells = (
            f"{r.name} ({r.outlet_id})" if r.name else str(r.outlet_id),
            str(r.city),
            f"{int(r.orders_total):,}",
            _num(r.orders_per_day_mean, 2),
            _num(r.orders_per_day_p95),
            f"{int(r.peak_day_orders)} ({r.peak_day})" if not pd.isna(r.peak_day) else "0",
            _num(r.orders_per_week_mean),
            _num(r.distance_p50_km),
            _num(r.distance_p90_km),
            _pct(r.share_beyond_promise),
            _num(r.capacity_per_day, 0),
            "-" if pd.isna(r.overloaded_days) else str(int(r.overloaded_days)),
            _pct(r.utilisation_p95),
            "-" if pd.isna(over) else ("OVERLOADED" if bool(over) else "no"),
        )
        table.add_row(*cells[:shown])
    return table


@app.command("load")
def load_cmd(
    orders: Annotated[
        Path,
        typer.Argument(
            metavar="ORDERS.csv|.parquet",
            help="Orders: the output of `locator assign`, or raw orders with lat/lon "
            "(WGS-84 unless --coord-sys), each with a date.",
        ),
    ],
    outlets: Annotated[
        Path | None,
        typer.Option("--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: the store."),
    ] = None,
    database: ReadDatabaseOpt = None,
    sheet: SheetOpt = None,
    date_col: Annotated[
        str | None,
        typer.Option(
            "--date-col",
            help="Column with the order date; default: the one named date, order_date, "
            "created_at, 日期 or 下单时间.",
        ),
    ] = None,
    outlet_col: Annotated[
        str | None,
        typer.Option(
            "--outlet-col",
            help="Column naming the outlet of assigned orders; default: nearest1_outlet_id "
            "or outlet_id (neither: orders are assigned from --lat-col/--lon-col).",
        ),
    ] = None,
    lat_col: Annotated[str, typer.Option("--lat-col", help="Latitude column.")] = "lat",
    lon_col: Annotated[str, typer.Option("--lon-col", help="Longitude column.")] = "lon",
    coord_sys: Annotated[
        str,
        typer.Option(
            "--coord-sys",
            help="System of the lat/lon columns: wgs84, gcj02 (AMap) or bd09 (Baidu); "
            "converted to WGS-84 before distances are computed.",
        ),
    ] = "wgs84",
    freq: Annotated[
        str, typer.Option("--freq", help="Grain of the -o --daily table: day or week.")
    ] = "day",
    capacity: Annotated[
        Path | None,
        typer.Option(
            "--capacity",
            help="CSV/XLSX with outlet_id,capacity_per_day (default: a capacity_per_day "
            "column of the outlets file, if any).",
        ),
    ] = None,
    skip_undated: Annotated[
        bool,
        typer.Option(
            "--skip-undated",
            help="Leave out orders with an empty date (counted in the summary) instead of failing.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="OUT.csv|.xlsx", help="Write every outlet."),
    ] = None,
    daily: Annotated[
        bool,
        typer.Option("--daily", help="With -o: write outlet x day (or week) rows instead."),
    ] = False,
    top: Annotated[int, typer.Option("--top", help="Rows to show in the table.")] = 25,
    as_json: Annotated[bool, typer.Option("--json", help="Print strict JSON.")] = False,
    out_encoding: OutEncodingOpt = "utf-8-sig",
) -> None:
    """Orders per outlet per day and week, distance distribution, share beyond the
    2-hour drive estimate and, with a capacity per day, overloaded outlets (p95 of the
    daily orders over capacity). Every day from the first to the last order counts,
    days without orders as 0; an unreadable date or an unknown outlet id fails, naming
    the rows."""
    from ..errors import LocatorError
    from ..load import outlet_load, read_capacity, read_orders

    if freq not in ("day", "week"):
        fail(f"--freq must be day or week, got {freq!r}")
    if top < 0:
        fail(f"--top must be >= 0, got {top}")
    if not orders.is_file():
        fail(f"no such file: {orders}")
    if output is not None:
        check_output_or_fail(output, orders, outlets, capacity, encoding=out_encoding)
        if output.suffix.lower() not in (".csv", ".xlsx"):
            fail(f"{output.name}: -o must end in .csv or .xlsx")
    network = load_network(None if outlets is None else str(outlets), sheet, database)
    try:
        frame = read_orders(orders)
    except LocatorError as err:
        fail(str(err))
    except (OSError, ValueError) as err:  # unreadable: not a CSV/Parquet, bad encoding
        fail(f"cannot read {orders.name}: {err}")
    try:
        cap = None if capacity is None else read_capacity(capacity)
        report = outlet_load(
            frame,
            network,
            date_col=date_col,
            outlet_col=outlet_col,
            freq=freq,
            capacity=cap,
            undated="skip" if skip_undated else "error",
            lat_col=lat_col,
            lon_col=lon_col,
            coord_sys=coord_sys,
            source=orders.name,
        )
        if output is not None:
            _write(report, output, daily, out_encoding)
    except LocatorError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot read or write: {err.strerror or err}")
    if as_json:
        echo_json(report.to_dict())
        return
    con = console(soft_wrap=False, width=180)
    period = (
        f"{report.start.date()} to {report.end.date()}"
        if report.start is not None and report.end is not None
        else "no orders"
    )
    con.print(
        load_table(
            report.frame(),
            top,
            f"Load of {len(report.frame())} outlets, {period} ({report.days} days), "
            "overloaded first"
            if report.has_capacity
            else "busiest first",
            capacity=report.has_capacity,
        )
    )
    con.print(
        f"orders: {report.orders_total:,} in the file, {report.orders_used:,} counted"
        + (f", {report.orders_undated:,} without a date left out" if report.orders_undated else "")
        + (
            f", {report.orders_unassigned:,} with no outlet (not assigned) left out"
            if report.orders_unassigned
            else ""
        )
        + ("; assigned here to the nearest authorized outlet" if report.assigned_here else "")
    )
    beyond = report.share_beyond_promise
    if beyond is not None:
        con.print(
            f"beyond the {report.promise_minutes:g}-minute promise (> {report.reach_km:.0f} "
            f"geodesic km): {100 * beyond:.1f}% of orders. {report.drive_note}"
        )
    if report.has_capacity:
        con.print(
            f"{report.outlets_overloaded} outlet(s) overloaded (p95 of daily orders above "
            "capacity_per_day)."
        )
    if output is not None:
        echo(f"wrote {'daily rows' if daily else 'every outlet'} to {output}", err=True)


def _write(report: Any, output: Path, daily: bool, encoding: str) -> None:
    from ..outputs import write_csv, write_xlsx

    table = report.daily() if daily else report.frame()
    if output.suffix.lower() == ".xlsx":
        write_xlsx(table, output)
    else:
        write_csv(table, output, encoding=encoding)
