"""CLI: what-if scenarios (#15 §4): ``locator scenario save|list|show|compare|delete``.

A scenario is saved in the network store (``--database URL``, default as every other
command) and never changes the network. ``compare A B`` takes two saved names, or
``live`` for the current network.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from . import app
from ._common import check_output_or_fail, echo_json, fail
from ._terminal import console, echo
from .coverage import DriveMinutesOpt, _demand, _int, _km, _pct
from .db import DatabaseOpt, _errors, actor, opened

if TYPE_CHECKING:
    from ..scenario import Scenario
    from ..store import Store

scenario_app = typer.Typer(
    name="scenario",
    help="What-if scenarios: add candidate outlets, switch outlets off, compare coverage. "
    "Saved in the store; the live network is never changed.",
    no_args_is_help=True,
)
app.add_typer(scenario_app)

_RadiusOpt = Annotated[
    float | None,
    typer.Option("--radius-km", help="Coverage radius in geodesic km (default: the "
                 "scenario's own, else 50)."),
]  # fmt: skip
_JsonOpt = Annotated[bool, typer.Option("--json", help="Print strict JSON instead of tables.")]


def _parse_add(values: list[str]) -> list[dict[str, Any]]:
    """``LAT,LON[,NAME]`` -> candidate dicts (a bad one: clean exit naming it)."""
    out = []
    for i, raw in enumerate(values, start=1):
        parts = [p.strip() for p in raw.split(",", 2)]
        if len(parts) < 2:
            fail(f"--add #{i} {raw!r}: expected LAT,LON or LAT,LON,NAME")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            fail(f"--add #{i} {raw!r}: LAT and LON must be numbers (WGS-84 degrees)")
        cand: dict[str, Any] = {"lat": lat, "lon": lon}
        if len(parts) == 3 and parts[2]:
            cand["name"] = parts[2]
        out.append(cand)
    return out


def _read_candidates(path: Path) -> Any:
    """A candidates file (CSV/XLSX with lat, lon, optional name, city, candidate_id)."""
    import pandas as pd

    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"no such file: {path}")
    except (OSError, ValueError, UnicodeDecodeError) as err:
        fail(f"cannot read {path}: {err}")


def _build(store: Store, name: str) -> Scenario:
    """``name`` (saved) or ``live`` as a Scenario on the store's network."""
    from ..scenario import LIVE, Scenario

    with _errors():
        network = store.network()
        if name.lower() == LIVE:
            return Scenario(network, name=LIVE)
        return store.scenario(name).build(network)


def _summary_table(res: Any) -> Table:
    t = Table(title=f"Scenario {res.name}: within {res.radius_km:.1f} km")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("outlets (added / switched off)",
              f"{res.outlets} (+{res.outlets_added} / -{res.outlets_removed})")  # fmt: skip
    t.add_row("authorized outlets", _int(res.outlets_authorized))
    t.add_row("covered", f"{_int(res.population_covered)} ({_pct(res.share_covered)})")
    t.add_row("backup (>= 2 outlets)", f"{_int(res.population_backup)} ({_pct(res.share_backup)})")
    t.add_row("uncovered places", _int(res.places_uncovered))
    t.add_row("distance p50 / p90 (km)", f"{_km(res.distance_p50_km)} / {_km(res.distance_p90_km)}")
    return t


@scenario_app.command("save")
def save_cmd(
    name: Annotated[str, typer.Argument(help="The scenario's name (not 'live').")],
    add: Annotated[
        list[str] | None,
        typer.Option(
            "--add", metavar="LAT,LON[,NAME]", help="A candidate outlet (WGS-84); repeatable."
        ),
    ] = None,
    add_file: Annotated[
        Path | None,
        typer.Option(
            "--add-file",
            help="Candidates file (CSV/XLSX): lat, lon, optional "
            "name, city, candidate_id, coord_sys.",
        ),
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option("--remove", metavar="OUTLET_ID", help="Outlet to switch off; repeatable."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What the scenario is for.")] = None,
    radius_km: _RadiusOpt = None,
    drive_minutes: DriveMinutesOpt = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a saved scenario of that name.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Save a scenario by name (the network itself is not changed)."""
    import pandas as pd

    from ..scenario import Scenario

    candidates = _parse_add(add or [])
    frames = [pd.DataFrame(candidates)] if candidates else []
    if add_file is not None:
        frames.append(_read_candidates(add_file))
    table = pd.concat(frames, ignore_index=True) if frames else None
    with opened(database) as store, _errors():
        s = Scenario(
            store.network(),
            # a list: candidate N is "row N" in messages (the --add ones first)
            add=None
            if table is None
            else [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")],
            remove=remove or [],
            name=name,
            note=note,
            radius_km=radius_km,
            drive_minutes=drive_minutes,
        )
        saved = store.save_scenario(s, actor=actor(), overwrite=overwrite)
    echo(
        f"saved scenario {saved.name!r} (version {saved.version}): "
        f"{len(saved.add)} candidate(s) added, {len(saved.remove)} outlet(s) switched off"
    )


@scenario_app.command("list")
def list_cmd(as_json: _JsonOpt = False, database: DatabaseOpt = None) -> None:
    """The saved scenarios."""
    with opened(database) as store, _errors():
        rows = store.scenarios()
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    if not rows:
        echo("no saved scenarios")
        return
    t = Table(title=f"{len(rows)} saved scenario(s)")
    for col in ("name", "added", "off", "reach", "by", "updated", "v", "note"):
        t.add_column(col)
    for r in rows:
        reach = (f"{r.drive_minutes:g} min" if r.drive_minutes is not None
                 else f"{r.radius_km:g} km" if r.radius_km is not None else "-")  # fmt: skip
        updated = "" if r.updated_at is None else f"{r.updated_at:%Y-%m-%d %H:%M}"
        t.add_row(r.name, str(len(r.add)), str(len(r.remove)), reach, r.created_by, updated,
                  str(r.version), r.note)  # fmt: skip
    console(soft_wrap=False, width=160).print(t)


@scenario_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="A saved scenario, or 'live'.")],
    radius_km: _RadiusOpt = None,
    drive_minutes: DriveMinutesOpt = None,
    top: Annotated[int, typer.Option("--top", help="Largest gaps to list.")] = 10,
    as_json: _JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """A scenario: what it changes and its coverage figures."""
    places, cities = _demand()
    with opened(database) as store:
        s = _build(store, name)
        saved = None if name.lower() == "live" else _saved(store, name)
    with _errors():
        res = s.evaluate(places, cities, radius_km, drive_minutes, gap_limit=max(top, 0))
    if as_json:
        echo_json({"scenario": saved or s.to_dict(), "figures": res.to_dict()})
        return
    con = console(soft_wrap=False, width=160)
    if s.note:
        echo(f"note: {s.note}")
    if len(s.added):
        t = Table(title="Candidates added")
        for col in ("id", "name", "city", "lat", "lon"):
            t.add_column(col)
        for c in s.candidates():
            t.add_row(c["candidate_id"], c["name"], c["city"], f"{c['lat']:.5f}",
                      f"{c['lon']:.5f}")  # fmt: skip
        con.print(t)
    if s.remove:
        echo("switched off: " + ", ".join(s.remove))
    con.print(_summary_table(res))
    if res.report is not None and res.report.note:
        echo(res.report.note)
    if res.gaps:
        t = Table(title=f"Largest uncovered places ({len(res.gaps)} of {res.places_uncovered})")
        for col in ("place", "province", "population", "nearest km"):
            t.add_column(col)
        for g in res.gaps:
            t.add_row(g.name_zh or g.name, g.province, _int(g.population), _km(g.nearest_km))
        con.print(t)


def _saved(store: Store, name: str) -> dict[str, Any]:
    with _errors():
        return store.scenario(name).to_dict()


def _fmt(metric: str, value: Any, *, diff: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if metric.startswith("share"):
        return f"{100 * float(value):+.1f} pp" if diff else f"{100 * float(value):.1f}%"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@scenario_app.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(help="A saved scenario, or 'live'.")],
    b: Annotated[str, typer.Argument(help="A saved scenario, or 'live'.")],
    radius_km: _RadiusOpt = None,
    drive_minutes: DriveMinutesOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the side-by-side table (.csv or .xlsx)."),
    ] = None,
    cities_shown: Annotated[
        int, typer.Option("--cities", help="Listed cities to show, largest change first.")
    ] = 15,
    as_json: _JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Two scenarios side by side: national figures and per listed city."""
    from ..scenario import compare

    if output is not None:
        if output.suffix.lower() not in (".csv", ".xlsx"):
            fail(f"-o {output}: write .csv or .xlsx")
        check_output_or_fail(output)
    places, cities = _demand()
    with opened(database) as store:
        sa_, sb = _build(store, a), _build(store, b)
    with _errors():
        cmp = compare(sa_, sb, places, cities, radius_km, drive_minutes)
        if output is not None:
            if output.suffix.lower() == ".xlsx":
                cmp.to_xlsx(output)
            else:
                cmp.to_csv(output)
    if as_json:
        echo_json(cmp.to_dict())
        return
    f = cmp.frame
    con = console(soft_wrap=False, width=160)
    t = Table(title=f"{cmp.a.name} (A) vs {cmp.b.name} (B), within {cmp.a.radius_km:.1f} km")
    for col, just in (("metric", "left"), ("A", "right"), ("B", "right"), ("B-A", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for row in f[f["scope"] == "national"].itertuples(index=False):
        metric = str(row.metric)
        t.add_row(metric, _fmt(metric, row.A), _fmt(metric, row.B),
                  _fmt(metric, row[5], diff=True))  # fmt: skip
    con.print(t)
    if cmp.a.report is not None and cmp.a.report.note:
        echo(cmp.a.report.note)
    city = f[(f["scope"] == "city") & (f["metric"] == "population_covered")].copy()
    city["change"] = city["B-A"].map(lambda v: abs(v) if v is not None else 0)
    city = city.sort_values("change", ascending=False, kind="stable")
    changed = city[city["change"] > 0].head(max(cities_shown, 0))
    if len(changed):
        t = Table(title=f"Listed cities, population covered ({len(changed)} changed)")
        for col in ("city", "A", "B", "B-A"):
            t.add_column(col, justify="left" if col == "city" else "right")
        for row in changed.itertuples(index=False):
            t.add_row(str(row.area), _fmt("", row.A), _fmt("", row.B), _fmt("", row[5]))
        con.print(t)
    else:
        echo("no listed city's covered population differs")
    if output is not None:
        echo(f"wrote {output}")


@scenario_app.command("delete")
def delete_cmd(
    name: Annotated[str, typer.Argument(help="The saved scenario to delete.")],
    database: DatabaseOpt = None,
) -> None:
    """Delete a saved scenario (the network is not changed)."""
    with opened(database) as store, _errors():
        store.delete_scenario(name)
    echo(f"deleted scenario {name!r}")
