"""``locator verify``: is a phone number, shop name or address an authorized outlet?

The answer comes from :func:`locator.verify.verify`; this module only reads the
options and prints (through :mod:`._terminal`: data is shown as text, never markup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from ._common import SheetOpt, echo_json, fail, load_network
from ._terminal import console as terminal_console
from ._terminal import text


@app.command("verify")
def verify_cmd(
    phone: Annotated[
        str | None,
        typer.Argument(
            metavar="PHONE",
            help="The phone number as found (any spelling: +86, dashes, brackets, 400/800, "
            "an extension).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The shop name as listed (matched in its city).")
    ] = None,
    q: Annotated[
        str | None,
        typer.Option("--q", help="An address or shop name (also the place, if no --city)."),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option("--city", help="The city the listing claims (Chinese, pinyin or English)."),
    ] = None,
    lat: Annotated[
        float | None, typer.Option("--lat", help="Latitude of the place (WGS-84, with --lon).")
    ] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="Longitude (with --lat).")] = None,
    outlets: Annotated[
        Path | None,
        typer.Option("--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: bundled."),
    ] = None,
    sheet: SheetOpt = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URL",
            help="The network store to check against, with its recorded flags (default: "
            "$LOCATOR_DATABASE_URL, else the default SQLite store), unless --outlets.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Is this listing an authorized outlet of the network?

    Give the PHONE found on a search page or a flyer, and/or --name or --q.
    Phones match in any spelling; names match within the city (--city, or
    the city of --q). When the listing is not authorized, the nearest
    authorized outlets to the place (--city, --lat/--lon or --q) are shown,
    with what the audit says about that phone.

    Example: ``locator verify 000-555-0344 --city 桂林``

    Checks the network store (--database) with the flags `locator audit
    --record` left on listings, or a file (--outlets).

    Exit status: 0 if the listing is an authorized outlet, 1 if it is not,
    2 on bad input.
    """
    from ..errors import LocatorError
    from ..verify import verify

    if phone is None and name is None and q is None:
        fail("give a PHONE, --name or --q")
    if outlets is not None and database is not None:
        fail("give --outlets (a file) or --database (the store), not both")
    flags: list[dict[str, Any]] = []
    closed = None
    if outlets is None:
        network, flags, closed = _from_store(database)
    else:
        network = load_network(str(outlets), sheet)
    try:
        result = verify(
            network,
            phone=phone,
            name=name,
            q=q,
            city=city,
            lat=lat,
            lon=lon,
            flags=flags,
            closed=closed,
        )
    except LocatorError as err:
        fail(str(err))
    if as_json:
        echo_json(result.to_dict())
    else:
        _print(result.to_dict())
    if not result.authorized:
        raise typer.Exit(1)


def _from_store(database: str | None) -> tuple[Any, list[dict[str, Any]], Any]:
    """The store's open network, its recorded flags and its closed outlets (a listing
    of a closed outlet is answered as closed, not as unknown)."""
    from .db import opened

    with opened(database) as store:
        return store.network(), store.flags(), store.closed_outlets()


def _print(doc: dict[str, Any]) -> None:
    from rich.table import Table

    console = terminal_console(soft_wrap=False)
    ok = bool(doc["authorized"])
    console.print(text(("AUTHORIZED  " if ok else "NOT AUTHORIZED  ") + doc["message"],
                       style="bold green" if ok else "bold red"))  # fmt: skip
    for note in doc["notes"]:
        console.print(text(f"note: {note}", style="yellow"))
    if doc["matches"]:
        table = Table(title="Listings matched", show_lines=True)
        for col in ("outlet", "city", "phone", "address", "matched by", "state"):
            table.add_column(col, overflow="fold")
        for m in doc["matches"]:
            state = ("authorized" if m["authorized"] else "NOT authorized") + (
                ", closed" if m["status"] == "closed" else ""
            )
            table.add_row(
                text(f"{m['name']} ({m['outlet_id']})"),
                text(m["city"]),
                text(m["phone"]),
                text(m["address"]),
                text(", ".join(m["by"])),
                text(state),
            )
        console.print(table)
    for f in doc["findings"]:
        src = "recorded flag" if f.get("source") == "flag" else "audit"
        if f.get("recorded"):
            src += " (recorded as a flag)"
        console.print(text(f"{src}: {f.get('kind')}: {f.get('message') or ''}", style="yellow"))
    if doc["nearest"]:
        origin = doc.get("origin") or {}
        table = Table(
            title=f"Nearest authorized outlets to {origin.get('label') or 'the place'}",
            caption="Distances are geodesic (WGS-84); drive times are estimates.",
            show_lines=True,
        )
        for col in ("outlet", "phone", "address", "km", "est. drive"):
            table.add_column(col, overflow="fold")
        for n in doc["nearest"]:
            table.add_row(
                text(f"{n['name']} ({n['outlet_id']})"),
                text(n.get("phone") or ""),
                text(n.get("address") or ""),
                text(f"{n['distance_km']:.1f}"),
                text(f"~{n['drive_minutes']:.0f} min"),
            )
        console.print(table)
