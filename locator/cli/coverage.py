"""``locator coverage``, ``locator suggest`` and ``locator gaps``: planner views of the network.

All three call :mod:`locator.coverage` (the same functions as the app and the notebooks)
on the bundled sample network or an uploaded one (``--outlets PATH``), against the
bundled demand places and listed cities. Coverage counts **authorized** outlets only.
Errors end in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
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
    to_json,
)
from ._terminal import console

_RadiusOpt = Annotated[
    float | None,
    typer.Option("--radius-km", help="Coverage radius in geodesic km (default 50)."),
]
#: The one --drive-minutes option: everywhere a radius is accepted (coverage, gaps,
#: suggest, map). Converted to a radius by locator.drive.DriveTimeModel (an estimate).
DriveMinutesOpt = Annotated[
    float | None,
    typer.Option(
        "--drive-minutes",
        help="Reach by estimated drive time instead of a radius, in minutes (120 = the "
        "2-hour on-site promise). An estimate: geodesic km x circuity 1.32 at urban then "
        "highway speeds (see locator.drive.DriveTimeModel). Give it or --radius-km.",
    ),
]
_OutletsOpt = Annotated[
    Path | None,
    typer.Option("--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: the network store."),
]
_JsonOpt = Annotated[bool, typer.Option("--json", help="Print strict JSON instead of tables.")]


def _console() -> Console:
    return console(soft_wrap=False, width=160)


def _radius(radius_km: float | None, drive_minutes: float | None = None) -> float:
    """The radius in km from --radius-km or --drive-minutes (one line on stderr if bad)."""
    from ..coverage import radius_for
    from ..errors import LocatorError

    try:
        return radius_for(radius_km, drive_minutes)
    except LocatorError as err:
        fail(str(err))


def _reach_note(radius: float, drive_minutes: float | None) -> str:
    """How --drive-minutes was taken (empty for a plain radius)."""
    if drive_minutes is None:
        return ""
    from ..drive import DriveTimeModel

    return (
        f"{drive_minutes:g} min of driving taken as {radius:.1f} geodesic km. "
        + DriveTimeModel().describe()
    )


def _demand() -> tuple[Any, Any]:
    """The bundled places and listed cities."""
    from ..data import load_cities, load_places
    from ..errors import LocatorError

    try:
        return load_places(), load_cities()
    except (LocatorError, OSError) as err:
        fail(f"cannot load the bundled places/cities: {err}")


def _model(
    outlets: Path | None, sheet: str | None = None, database: str | None = None
):  # -> CoverageModel
    from ..coverage import CoverageModel
    from ..errors import LocatorError

    network = load_network(None if outlets is None else str(outlets), sheet, database)
    places, cities = _demand()
    try:
        return CoverageModel(network, places, cities)
    except LocatorError as err:
        fail(str(err))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _km(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _int(x: int) -> str:
    return f"{x:,}"


def _gaps_table(gaps: list, title: str) -> Table:
    table = Table(title=title)
    for col in ("#", "place", "province", "city", "population", "nearest km", "nearest outlet"):
        table.add_column(
            col, justify="right" if col in ("#", "population", "nearest km") else "left"
        )
    for i, g in enumerate(gaps, start=1):
        name = f"{g.name} {g.name_zh}".strip()
        outlet = (
            "-"
            if g.nearest_outlet_id is None
            else f"{g.nearest_outlet_name} ({g.nearest_outlet_city})"
        )
        table.add_row(
            str(i), name, g.province, g.city, _int(g.population), _km(g.nearest_km), outlet
        )
    return table


def _areas_table(rows: list, title: str, key: str) -> Table:
    table = Table(title=title)
    for col in (
        key,
        "outlets",
        "population",
        "covered",
        "share",
        "backup",
        "p90 km",
        "uncovered places",
    ):
        table.add_column(col, justify="left" if col == key else "right")
    for a in rows:
        table.add_row(
            a.name,
            str(a.outlets),
            _int(a.population_total),
            _int(a.population_covered),
            _pct(a.share_covered),
            _int(a.population_backup),
            _km(a.distance_p90_km),
            f"{a.places_uncovered}/{a.places_total}",
        )
    return table


@app.command("coverage")
def coverage_cmd(
    radius_km: _RadiusOpt = None,
    drive_minutes: DriveMinutesOpt = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Breakdown: city (listed cities and provinces, the default) or district "
            "(also every district; --geojson then writes the districts with their figures).",
        ),
    ] = "city",
    outlets: _OutletsOpt = None,
    database: ReadDatabaseOpt = None,
    sheet: SheetOpt = None,
    as_json: _JsonOpt = False,
    geojson: Annotated[
        Path | None,
        typer.Option(
            "--geojson",
            help="Write RFC 7946 GeoJSON to this file: the service areas (dissolved per "
            "city, province, nation), or with --by district the district polygons with "
            "their coverage figures as properties.",
        ),
    ] = None,
) -> None:
    """Population within reach of an authorized outlet: national, per listed city, per
    province, and with ``--by district`` per district (districts with no demand data are
    "no data", not 0 %)."""
    from ..coverage import service_areas
    from ..errors import LocatorError
    from ..outputs import write_text

    if by not in ("city", "province", "district"):
        fail(f"--by must be city, province or district, got {by!r}")
    radius = _radius(radius_km, drive_minutes)
    if geojson is not None:
        check_output_or_fail(geojson, outlets)
    model = _model(outlets, sheet, database)
    try:
        report = model.report(
            None if drive_minutes is not None else radius,
            drive_minutes=drive_minutes,
            by=("city", "province", "district") if by == "district" else ("city", "province"),
        )
    except LocatorError as err:
        fail(str(err))
    if geojson is not None:
        try:
            if by == "district":  # 2,891 polygons: compact, not indented
                text = json.dumps(
                    report.districts_geojson(),
                    ensure_ascii=False,
                    separators=(",", ":"),
                    allow_nan=False,
                )
            else:
                text = to_json(service_areas(model.outlets, report.radius_km).to_geojson())
            write_text(geojson, text + "\n")
        except LocatorError as err:
            fail(str(err))
        except OSError as err:
            fail(f"cannot write {geojson}: {err.strerror or err}")
    if as_json:
        echo_json(report.to_dict())
        return
    con = _console()
    head = Table(title=f"Coverage within {report.radius_km:.1f} km of an authorized outlet")
    head.add_column("measure")
    head.add_column("value", justify="right")
    head.add_row("authorized outlets", _int(report.outlets_authorized))
    head.add_row("population (places)", _int(report.population_total))
    head.add_row("covered", f"{_int(report.population_covered)} ({_pct(report.share_covered)})")
    head.add_row(
        "backup (>= 2 outlets)", f"{_int(report.population_backup)} ({_pct(report.share_backup)})"
    )
    head.add_row(
        "distance p50 / p90 / max (km, pop.-weighted)",
        f"{_km(report.distance_p50_km)} / {_km(report.distance_p90_km)} / "
        f"{_km(report.distance_max_km)}",
    )
    head.add_row("uncovered places", f"{report.places_uncovered}/{report.places_total}")
    con.print(head)
    if report.note:
        con.print(report.note)
    con.print(
        _areas_table(
            sorted(report.cities, key=lambda a: (a.share_covered or 0, a.name)),
            "Listed cities (least covered first)",
            "city",
        )
    )
    con.print(_areas_table(report.provinces, "Provinces", "province"))
    if by == "district":
        _print_districts(con, report.districts)
    con.print(_gaps_table(report.gaps[:15], "Largest uncovered places"))
    if report.cities_without_outlet:
        t = Table(title="Listed cities with no authorized outlet of their own")
        for col in ("city", "province", "unauthorized listings", "nearest outlet", "km"):
            t.add_column(col)
        for c in report.cities_without_outlet:
            t.add_row(
                c.city,
                c.province,
                str(c.unauthorized_listings),
                c.nearest_outlet_name or "-",
                _km(c.nearest_km),
            )
        con.print(t)
    else:
        con.print("Every listed city has at least one authorized outlet of its own.")
    if geojson is not None:
        what = "districts" if by == "district" else "service areas"
        con.print(f"wrote {what} to {geojson}")


def _print_districts(con: Console, rows: list, top: int = 20) -> None:
    """The least covered districts that have demand data, and how many have none."""
    with_data = [d for d in rows if d.has_data]
    worst = sorted(with_data, key=lambda d: (d.share_covered or 0.0, -d.population_total))
    t = Table(title=f"Districts, least covered first ({min(top, len(worst))} of {len(with_data)})")
    for col in (
        "district",
        "prefecture",
        "province",
        "population",
        "covered",
        "share",
        "nearest km",
    ):
        t.add_column(
            col, justify="left" if col in ("district", "prefecture", "province") else "right"
        )
    for d in worst[:top]:
        t.add_row(
            d.name,
            d.prefecture,
            d.province,
            _int(d.population_total),
            _int(d.population_covered or 0),
            _pct(d.share_covered),
            _km(d.nearest_km),
        )
    con.print(t)
    con.print(
        f"{len(rows) - len(with_data)} of {len(rows)} districts have no demand data "
        "(no data, not 0 %)."
    )


@app.command("suggest")
def suggest_cmd(
    sites: Annotated[int, typer.Option("--sites", help="How many new sites to suggest.")],
    radius_km: _RadiusOpt = None,
    drive_minutes: DriveMinutesOpt = None,
    outlets: _OutletsOpt = None,
    database: ReadDatabaseOpt = None,
    sheet: SheetOpt = None,
    orders: Annotated[
        Path | None,
        typer.Option(
            "--orders",
            help="Weight demand by these orders (CSV/Parquet with lat/lon, e.g. the output "
            "of `locator assign`) instead of population: sites go where orders are out of "
            "reach, and the figures count orders.",
        ),
    ] = None,
    as_json: _JsonOpt = False,
) -> None:
    """Where N new outlets would newly cover the most people (greedy maximal coverage),
    or with ``--orders`` the most orders."""
    from ..coverage import suggest_sites
    from ..errors import LocatorError

    if sites < 1:
        fail(f"--sites must be at least 1, got {sites}")
    radius = _radius(radius_km, drive_minutes)
    network = load_network(None if outlets is None else str(outlets), sheet, database)
    places, _ = _demand()
    demand = None if orders is None else _orders(orders)
    try:
        result = suggest_sites(network, places, sites, radius, demand=demand)
    except LocatorError as err:
        fail(str(err))
    if as_json:
        echo_json(result.to_dict())
        return
    con = _console()
    t = Table(title=f"{len(result.sites)} suggested site(s), radius {result.radius_km:.1f} km")
    for col in (
        "#",
        "lat",
        "lon",
        "nearest place",
        "province",
        "city",
        f"{result.demand} gained",
        "covered after",
    ):
        t.add_column(
            col,
            justify="right"
            if col in ("#", "lat", "lon", f"{result.demand} gained", "covered after")
            else "left",
        )
    for s in result.sites:
        t.add_row(
            str(s.rank),
            f"{s.lat:.5f}",
            f"{s.lon:.5f}",
            f"{s.nearest_place} {s.nearest_place_zh}".strip(),
            s.province,
            s.city,
            _int(s.population_gained),
            _int(s.population_covered_after),
        )
    con.print(t)
    if drive_minutes is not None:
        con.print(_reach_note(radius, drive_minutes))
    con.print(
        ("orders " if result.demand == "orders" else "")
        + f"covered before: {_int(result.population_covered_before)} "
        f"({_pct(result.share_before)}); after: {_int(result.population_covered_after)} "
        f"({_pct(result.share_after)})"
    )
    if len(result.sites) < sites:
        con.print(
            f"only {len(result.sites)} site(s) add anyone; every other place is covered "
            "or out of reach of every candidate"
        )


def _orders(path: Path) -> Any:  # -> pd.DataFrame
    """The orders file of ``suggest --orders`` (a clean exit 2 if unreadable)."""
    from ..errors import LocatorError
    from ..load import read_orders

    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        return read_orders(path)
    except LocatorError as err:
        fail(f"{path.name}: {err}")
    except (OSError, ValueError) as err:
        fail(f"cannot read {path.name}: {err}")


@app.command("gaps")
def gaps_cmd(
    radius_km: _RadiusOpt = None,
    drive_minutes: DriveMinutesOpt = None,
    outlets: _OutletsOpt = None,
    database: ReadDatabaseOpt = None,
    sheet: SheetOpt = None,
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Write every uncovered place to this CSV (spreadsheet-safe)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Rows to show in the table.")] = 20,
    out_encoding: OutEncodingOpt = "utf-8-sig",
) -> None:
    """Uncovered places, largest population first, with the distance to the nearest outlet.

    The CSV (UTF-8 with BOM unless --out-encoding says otherwise) is safe to open in a
    spreadsheet: a text cell, or a line inside one, starting with = + - @ or tab (a
    cell also: CR, LF) gets an apostrophe prefix, except one number or a phone number
    (e.g. -12.5, +86 755 1234 5678), which cannot run anything and is kept as it is.
    """
    from ..errors import LocatorError
    from ..outputs import write_csv

    if top < 0:
        fail(f"--top must be >= 0, got {top}")
    radius = _radius(radius_km, drive_minutes)
    if csv is not None:
        check_output_or_fail(csv, outlets, encoding=out_encoding)
    model = _model(outlets, sheet, database)
    try:
        gaps = model.gaps(radius)
    except LocatorError as err:
        fail(str(err))
    con = _console()
    if csv is not None:
        from ..coverage import gaps_frame

        frame = gaps_frame(gaps)
        try:
            write_csv(frame, csv, encoding=out_encoding)
        except OSError as err:
            fail(f"cannot write {csv}: {err.strerror or err}")
        con.print(f"wrote {len(gaps)} uncovered place(s) to {csv}")
    total = sum(g.population for g in gaps)
    con.print(_gaps_table(gaps[:top], f"Uncovered places at {radius:.1f} km"))
    con.print(f"{len(gaps)} uncovered place(s), population {_int(total)}")
    if drive_minutes is not None:
        con.print(_reach_note(radius, drive_minutes))
