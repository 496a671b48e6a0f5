"""``locator geocode`` (one query) and ``locator geocode-csv`` (a column of a file).

Both go through :func:`make_geocoder`, a seam tests replace with a fake. Exit codes:
0 done; 1 not found (``geocode``) or some rows failed (``geocode-csv``: rerun to retry
them); 2 invalid input or configuration; 3 the service failed or refused; 130 Ctrl-C
(progress kept: rerun the same command to resume).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from ._common import OutEncodingOpt, check_output_or_fail, echo_json, fail
from ._terminal import console as terminal_console
from ._terminal import echo

GeocoderOpt = Annotated[
    str,
    typer.Option(
        "--geocoder", "-g", help="offline (no network), nominatim, photon, arcgis or baidu."
    ),
]
UserAgentOpt = Annotated[
    str | None,
    typer.Option(
        "--user-agent", help="Identify your application to online services (or LOCATOR_USER_AGENT)."
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache", help="SQLite cache file for online results (or LOCATOR_GEOCODE_CACHE)."
    ),
]


def make_geocoder(name: str, *, user_agent: str | None = None, cache: Path | None = None) -> Any:
    """Build the geocoder by name (a seam: tests monkeypatch this)."""
    from ..geocode import get_geocoder

    return get_geocoder(name, user_agent=user_agent, cache_path=cache)


def _geocoder_or_fail(name: str, user_agent: str | None, cache: Path | None) -> Any:
    from ..errors import LocatorError

    try:
        return make_geocoder(name, user_agent=user_agent, cache=cache)
    except LocatorError as err:
        fail(str(err))


def _describe(raw: dict[str, Any]) -> str:
    level = raw.get("level") or "?"
    adcode = raw.get("adcode")
    return f"{level}, adcode {adcode}" if adcode else level


def _label(c: dict[str, Any]) -> str:
    parts = [c.get("province") or ""]
    if c.get("city") and c.get("city") != c.get("province"):
        parts.append(c["city"])
    if c.get("district"):
        parts.append(c["district"])
    elif c.get("level") == "place" and c.get("name"):
        parts.append(c["name"])
    return "".join(parts)


@app.command("geocode")
def geocode_cmd(
    query: Annotated[str, typer.Argument(help="Address or place: Chinese, pinyin or English.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
    city: Annotated[str | None, typer.Option("--city", help="Hint: the city.")] = None,
    province: Annotated[str | None, typer.Option("--province", help="Hint: the province.")] = None,
    geocoder: GeocoderOpt = "offline",
    user_agent: UserAgentOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Geocode one address or place name to WGS-84; ambiguous names list their candidates."""
    from ..errors import GeocodeError, GeocoderServiceError

    geo = _geocoder_or_fail(geocoder, user_agent, cache)
    hints = {k: v for k, v in (("city", city), ("province", province)) if v is not None}
    if hints and geocoder.strip().lower() != "offline":
        fail("--city/--province hints work with the offline geocoder only; put them in the query")
    try:
        loc = geo.geocode(query, **hints)
    except GeocodeError as err:
        fail(str(err))
    except GeocoderServiceError as err:
        fail(str(err), code=3)
    if loc is None:
        why = getattr(geo, "no_match_reason", None)  # the offline geocoder says why
        reason = f": {why(query, **hints)}" if why is not None else ""
        echo(f"not found: {query!r}{reason}", err=True)
        raise typer.Exit(1)
    raw = dict(loc.raw)
    if as_json:
        echo_json({"lat": loc.latitude, "lon": loc.longitude, "address": loc.address, **raw})
        return
    from ..geocode import renamed_note

    line = f"{loc.address}  {loc.latitude:.6f}, {loc.longitude:.6f}  ({_describe(raw)})"
    cands = raw.get("candidates") or []
    if not raw.get("ambiguous"):
        echo(line)
        note = renamed_note(raw.get("renamed_from"))
        if note:
            echo(f"former name: {note}")
        return
    typo = raw.get("typo_of")
    if typo:  # a suggestion: say what was read as what
        echo(f"did you mean {_label(cands[0])}? {typo!r} read as a typo of a city name")
    echo(f"ambiguous: {query!r} matches {len(cands)} places (best guess first):")
    for i, c in enumerate(cands, 1):
        note = renamed_note(c.get("renamed_from"))
        tail = f"; former name: {note}" if note else ""
        echo(f"  {i}. {_label(c)}  {c['lat']:.6f}, {c['lon']:.6f}  ({_describe(c)}{tail})")
    echo("narrow it down with --city or --province, or name the city in the query")


@app.command("geocode-csv")
def geocode_csv_cmd(
    src: Annotated[
        Path, typer.Argument(help="Input CSV (UTF-8, UTF-8 BOM or GB18030) or XLSX file.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (.csv, or .xlsx).")],
    column: Annotated[
        str, typer.Option("--column", "-c", help="The column holding the addresses.")
    ] = "address",
    geocoder: GeocoderOpt = "offline",
    user_agent: UserAgentOpt = None,
    cache: CacheOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    out_encoding: OutEncodingOpt = "utf-8-sig",
) -> None:
    """Geocode a column; adds lat, lon, province, city, district, geocode_status and
    geocode_candidates. Resumable: rerun the same command after Ctrl-C or a crash.

    A CSV output is UTF-8 with BOM (--out-encoding for utf-8 or gb18030) and
    formula-safe. One run at a time per output: a second one exits 2."""
    from ..errors import DataError, GeocoderServiceError, LocatorError
    from ..geocode import checkpoint_path, geocode_file
    from ..outputs import is_stream

    if not src.exists():
        fail(f"no such file: {src}")
    check_output_or_fail(output, src, cache, encoding=out_encoding)
    geo = _geocoder_or_fail(geocoder, user_agent, cache)
    progress_cm, callback = _progress(quiet)
    try:
        with progress_cm:
            report = geocode_file(
                src, output, column=column, geocoder=geo, geocoder_name=geocoder.strip().lower(),
                progress=callback, encoding=out_encoding,
            )  # fmt: skip
    except KeyboardInterrupt:
        if is_stream(output):
            echo(f"interrupted: nothing was written to {output}", err=True)
        else:
            echo(
                f"interrupted: finished rows are saved in {checkpoint_path(output)}; "
                "rerun the same command to resume",
                err=True,
            )
        raise typer.Exit(130) from None
    except DataError as err:
        fail(str(err))
    except GeocoderServiceError as err:
        fail(f"{err} (finished rows are saved: rerun the same command to resume)", code=3)
    except LocatorError as err:
        fail(str(err))
    except OSError as err:
        if err.filename is None or os.fspath(err.filename) != os.fspath(output):
            raise
        fail(
            f"cannot write {output}: {err.strerror or err} (finished rows are saved: "
            "rerun the same command to resume)"
        )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
    echo(
        f"wrote {output}: {report.total} rows ({counts}); {report.resumed} resumed from a "
        f"checkpoint, {report.calls} geocoder calls",
        err=True,
    )
    if report.renamed:
        kept = ", ".join(f"{a} -> {b}" for a, b in report.renamed.items())
        echo(f"note: input columns kept under new names: {kept}", err=True)
    if report.checkpoint_reset:
        echo("note: an old checkpoint for different input was discarded", err=True)
    failed = report.counts.get("failed", 0)
    if failed:
        echo(
            f"{failed} rows failed (service errors); rerun the same command to retry only them",
            err=True,
        )
        raise typer.Exit(1)


def _progress(quiet: bool, get_time: Any = None) -> tuple[Any, Any]:
    """A rich progress bar on stderr (started at the first row), and its callback.

    The first call (``done`` = rows resumed from a checkpoint) sets the baseline
    without counting it as progress: the rate, hence the ETA, comes only from rows
    finished in this run. ``get_time`` is a seam for tests (rich's clock).
    """
    import contextlib

    if quiet or os.environ.get("LOCATOR_NO_PROGRESS"):
        return contextlib.nullcontext(), None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=terminal_console(stderr=True),
        transient=False,
        **({"get_time": get_time} if get_time is not None else {}),
    )
    task = bar.add_task("geocoding", total=None)
    started = False

    def callback(done: int, total: int) -> None:
        nonlocal started
        if not started:
            bar.reset(task, total=total, completed=done)  # resumed rows: no rate sample
            bar.start()
            started = True
            return
        bar.update(task, completed=done, total=total)

    @contextlib.contextmanager
    def running() -> Any:
        try:
            yield
        finally:
            if started:
                bar.stop()

    return running(), callback
