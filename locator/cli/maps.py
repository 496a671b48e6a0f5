"""CLI: ``locator map`` writes an HTML map of the network (optionally self-contained)."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .. import pages
from ..errors import ConfigurationError
from . import app
from ._common import (
    ReadDatabaseOpt,
    SheetOpt,
    check_output_or_fail,
    echo_json,
    fail,
    load_network,
)
from .coverage import DriveMinutesOpt, _radius


def _listed_cities() -> pd.DataFrame:
    """The listed cities (bundled package data), for English city names."""
    from ..data import load_cities

    return load_cities()


@app.command("map")
def map_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
    outlets_path: Annotated[
        str | None,
        typer.Option(
            "--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: the network store."
        ),
    ] = None,
    database: ReadDatabaseOpt = None,
    city: Annotated[
        str | None,
        typer.Option("--city", help="Only this city (Chinese name, or English for a listed city)."),
    ] = None,
    layers: Annotated[
        str, typer.Option("--layers", help="Comma-separated: outlets, coverage, gaps, cities.")
    ] = "outlets",
    radius_km: Annotated[
        float | None,
        typer.Option(
            "--radius-km", min=0.1, max=2000.0, help="Service radius for coverage/gaps (50)."
        ),
    ] = None,
    drive_minutes: DriveMinutesOpt = None,
    tiles: Annotated[
        str, typer.Option("--tiles", help="Basemap: osm (WGS-84), amap (GCJ-02), none (offline).")
    ] = "osm",
    self_contained: Annotated[
        bool,
        typer.Option(
            "--self-contained/--cdn",
            help="Inline Leaflet, jQuery and MarkerCluster (default: no CDN, works from "
            "file:// offline); --cdn writes a small file that loads them from public CDNs.",
        ),
    ] = True,
    include_unauthorized: Annotated[
        bool,
        typer.Option(
            "--include-unauthorized", help="Also draw unauthorized listings (grey, dashed)."
        ),
    ] = False,
    locate: Annotated[
        bool,
        typer.Option(
            "--locate", help='Add a "nearest to me" button (browser geolocation, in the page).'
        ),
    ] = False,
    search: Annotated[
        bool,
        typer.Option(
            "--search/--no-search",
            help="A search box and result list beside the map: city/district names "
            "(Chinese, pinyin, English) found offline in the page, nearest outlets listed.",
        ),
    ] = True,
    max_gaps: Annotated[
        int,
        typer.Option(
            "--max-gaps", min=0, help="Draw only the N most populous gaps (0: all of them)."
        ),
    ] = 500,
    title: Annotated[str, typer.Option("--title", help="Page title.")] = "Service outlets 服务网点",
    sheet: SheetOpt = None,
) -> None:
    """Write an HTML map of the outlets, with optional coverage and gap layers.

    Example: ``locator map -o map.html --layers outlets,coverage,gaps --tiles none``
    gives one file that works offline (Leaflet is inlined unless you pass ``--cdn``)
    and can be embedded with
    ``<iframe src="map.html" sandbox="allow-scripts" allow="geolocation">``.
    """
    from .. import maps
    from ..outputs import write_text

    radius = _radius(radius_km, drive_minutes)
    check_output_or_fail(output, outlets_path)
    if not layers.strip(" ,"):
        fail("--layers is empty; choose from " + ", ".join(pages.LAYERS))
    try:
        wanted = pages.parse_layers(layers)
        tile_key = maps.normalize_tiles(tiles)
    except ConfigurationError as err:
        fail(str(err))

    network = load_network(outlets_path, sheet, database)
    if not include_unauthorized and "authorized" in network.columns:
        network = network[network["authorized"].astype(bool)]
    keys = None
    if city:
        keys = pages.city_keys(city, _listed_cities())
        if pages.filter_city(network, keys).empty:
            known = sorted({str(c) for c in network["city"].dropna()})
            close = difflib.get_close_matches(city, known, n=5, cutoff=0.3)
            hint = f"; did you mean: {', '.join(close)}" if close else ""
            fail(f"no outlets in city {city!r}{hint}")

    drawn = pages.page_layers(
        network, layers=wanted, city=keys, radius_km=radius, max_gaps=max_gaps
    )
    try:
        html = drawn.page(
            tiles=tile_key,
            sample=outlets_path is None,
            title=title,
            locate=locate,
            self_contained=self_contained,
            search=search,
        )
    except ConfigurationError as err:
        fail(str(err))
    try:
        write_text(output, html)
    except OSError as err:
        fail(f"cannot write {output}: {err.strerror or err}")
    echo_json(
        {
            "output": str(output),
            "bytes": len(html.encode("utf-8")),
            "outlets": len(drawn.outlets) if drawn.outlets is not None else 0,
            "layers": wanted,
            "tiles": tile_key or "none",
            "self_contained": self_contained,
            "search": search,
            "service_areas": len(drawn.service_areas["features"]) if drawn.service_areas else 0,
            "gaps": len(drawn.gaps) if drawn.gaps is not None else 0,
            "gaps_total": drawn.gaps_total,
            "cities": len(drawn.cities) if drawn.cities is not None else 0,
        }
    )
