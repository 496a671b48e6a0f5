"""CLI: ``locator map`` writes an HTML map of the network (optionally self-contained)."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from ._common import SheetOpt, check_output_or_fail, echo_json, fail, load_network

LAYERS = ("outlets", "coverage", "gaps", "cities")
SAMPLE_NOTE = "Synthetic sample data, fictional brand 示例数据（虚构品牌）"


def _parse_layers(text: str) -> list[str]:
    names = [x.strip().lower() for x in text.split(",") if x.strip()]
    bad = [x for x in names if x not in LAYERS]
    if bad:
        fail(f"unknown layer(s) {', '.join(bad)}; choose from {', '.join(LAYERS)}")
    if not names:
        fail("--layers is empty; choose from " + ", ".join(LAYERS))
    return list(dict.fromkeys(names))


def _norm_city(name: Any) -> str:
    text = str(name or "").strip().casefold()
    for suffix in ("市", " city", " shi"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    return text.replace(" ", "")


def _city_names(city: str) -> set[str]:
    """Normalized names that mean ``city``: itself plus the listed city it may name in English."""
    wanted = {_norm_city(city)}
    try:
        from ..data import load_cities

        cities = load_cities()
    except Exception:  # the lookup is a convenience; a missing table must not break the map
        return wanted
    for row in cities.to_dict("records"):
        names = {_norm_city(row.get("city")), _norm_city(row.get("name_en"))}
        if wanted & names:
            wanted |= names
    return wanted


def _filter_city(df: Any, city: str, column: str = "city") -> Any:
    names = _city_names(city)
    mask = df[column].map(_norm_city).isin(names)
    return df[mask]


def _with_city_coords(coverage: Any, listed: Any) -> Any:
    """Per-city coverage rows (``name``, ``adcode``, ...) + the listed cities' lat/lon."""
    coords = listed[["adcode", "lat", "lon"]].astype({"adcode": str})
    out = coverage.astype({"adcode": str}).merge(coords, on="adcode", how="inner")
    return out.rename(columns={"name": "city"})


def _coverage_unavailable(reason: str) -> None:
    fail(
        "the coverage/gaps/cities layers are unavailable: "
        f"{reason}. Draw the outlets layer alone with --layers outlets."
    )


@app.command("map")
def map_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
    outlets_path: Annotated[
        str | None,
        typer.Option(
            "--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: the bundled sample."
        ),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option("--city", help="Only this city (Chinese name, or English for a listed city)."),
    ] = None,
    layers: Annotated[
        str, typer.Option("--layers", help="Comma-separated: outlets, coverage, gaps, cities.")
    ] = "outlets",
    radius_km: Annotated[
        float,
        typer.Option("--radius-km", min=0.1, max=2000.0, help="Service radius for coverage/gaps."),
    ] = 50.0,
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
    from .. import embed, maps
    from ..errors import ConfigurationError
    from ..outputs import write_text

    check_output_or_fail(output, outlets_path)
    wanted = _parse_layers(layers)
    try:
        tile_key = maps.normalize_tiles(tiles)
    except ConfigurationError as err:
        fail(str(err))

    network = load_network(outlets_path, sheet)
    if not include_unauthorized and "authorized" in network.columns:
        network = network[network["authorized"].astype(bool)]
    shown = network
    if city:
        shown = _filter_city(network, city)
        if shown.empty:
            known = sorted({str(c) for c in network["city"].dropna()})
            close = difflib.get_close_matches(city, known, n=5, cutoff=0.3)
            hint = f"; did you mean: {', '.join(close)}" if close else ""
            fail(f"no outlets in city {city!r}{hint}")

    service_areas = gaps = cities = None
    gaps_total = 0
    if {"coverage", "gaps", "cities"} & set(wanted):
        if importlib.util.find_spec("locator.coverage") is None:
            _coverage_unavailable("locator.coverage is not available in this installation")
        try:
            from ..coverage import CoverageModel
            from ..coverage import service_areas as make_service_areas
            from ..data import load_cities, load_places
        except ImportError as err:
            _coverage_unavailable(f"cannot import the coverage API ({err})")
        try:
            if "coverage" in wanted:
                service_areas = make_service_areas(shown, radius_km, by="city").to_geojson()
            if {"gaps", "cities"} & set(wanted):
                listed = load_cities()
                model = CoverageModel(network, load_places(), listed)
                report = model.report(radius_km)
                if "gaps" in wanted:
                    gaps = report.gaps_frame()
                    if city:
                        gaps = _filter_city(gaps, city)
                    gaps_total = len(gaps)
                    if max_gaps and gaps_total > max_gaps:
                        gaps = gaps.nlargest(max_gaps, "population")
                if "cities" in wanted:
                    cities = _with_city_coords(report.cities_frame(), listed)
                    if city:
                        cities = _filter_city(cities, city)
        except (AttributeError, TypeError, KeyError) as err:
            _coverage_unavailable(f"the coverage API does not match ({err!r})")

    m = maps.build_map(
        shown if "outlets" in wanted else None,
        tiles=tile_key,
        service_areas=service_areas,
        gaps=gaps,
        cities=cities,
        locate=locate,
    )
    try:
        html = embed.render_html(
            m,
            self_contained=self_contained,
            title=title,
            note=SAMPLE_NOTE if outlets_path is None else None,
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
            "outlets": len(shown) if "outlets" in wanted else 0,
            "layers": wanted,
            "tiles": tile_key or "none",
            "self_contained": self_contained,
            "service_areas": len(service_areas["features"]) if service_areas else 0,
            "gaps": len(gaps) if gaps is not None else 0,
            "gaps_total": gaps_total,
            "cities": len(cities) if cities is not None else 0,
        }
    )
