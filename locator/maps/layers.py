"""Layer builders: outlets, service areas, coverage gaps, listed cities, a search; popups.

Each takes WGS-84 data (a DataFrame or a GeoJSON FeatureCollection) and a ``tiles`` key
and returns a ``folium.FeatureGroup`` (or, for :func:`locate_control`, a map control)
with every coordinate in the datum of those tiles and every text escaped.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from copy import deepcopy
from typing import Any, Protocol
from urllib.parse import quote

import folium
import pandas as pd
from folium.plugins import MarkerCluster

from ..crs import wgs84_to_bd09, wgs84_to_gcj02
from ..directions import directions_links as route_links
from ..directions import phone_links
from ..errors import ConfigurationError
from ..hours import UNKNOWN_LABEL, to_osm
from ..labels import CATEGORY_LABELS, KIND_LABELS, NOT_AUTHORIZED
from ._cells import _bool, _bounds, _coords, _float, _records, _require, _text
from .base import _project, _project_point, _with_css, display_coord_sys
from .elements import _FastCircles, _FastMarkers, _LocateControl
from .escaping import _escape_tree, escape_text


def directions_links(lat: float, lon: float, name: str = "") -> dict[str, str]:
    """Directions/marker URIs for AMap (GCJ-02) and Baidu (BD-09) from a WGS-84 point.

    The name is percent-encoded (UTF-8); the URLs are plain strings, so escape them
    with :func:`escape_text` before putting them in an ``href`` (as the popups do).
    """
    glon, glat = wgs84_to_gcj02(float(lon), float(lat))
    blon, blat = wgs84_to_bd09(float(lon), float(lat))
    q = quote(str(name or ""), safe="")
    amap = (
        f"https://uri.amap.com/marker?position={glon:.6f},{glat:.6f}"
        f"&name={q}&src=locator&coordinate=gaode&callnative=0"
    )
    baidu = (
        f"https://api.map.baidu.com/marker?location={blat:.6f},{blon:.6f}"
        f"&title={q}&content={q}&output=html&coord_type=bd09ll&src=webapp.locator"
    )
    return {"amap": amap, "baidu": baidu}


def _kind_class(kind: str) -> str:
    return f"kind-{kind}" if kind in KIND_LABELS else "kind-other"


def outlet_popup_html(
    row: Mapping[str, Any],
    *,
    distance_km: float | None = None,
    origin: tuple[float, float] | None = None,
) -> str:
    """The popup HTML for one outlet (every data value escaped with :func:`escape_text`).

    ``row`` is a mapping with outlet columns (``name``, ``kind``, ``address``,
    ``phone``, ``hours``, ``categories``, ``authorized``, ``lat``, ``lon``, ...);
    missing keys are skipped. Hours show as stored (OSM ``opening_hours`` syntax), or
    "营业时间未知 / hours unknown" when unreadable, with the ``hours_label`` of a
    search result when the row has one. Phones are ``tel:`` links; the directions
    links (AMap, Baidu, OpenStreetMap, :func:`locator.directions.directions_links`)
    route from ``origin`` (WGS-84 ``(lat, lon)``) when given. The returned string
    holds no backtick, ``$`` or backslash, so it is safe inside folium's template
    literals.
    """
    name = _text(row.get("name"))
    kind = _text(row.get("kind"))
    authorized = _bool(row.get("authorized"), default=True)
    kind_label = KIND_LABELS.get(kind, kind)
    parts = [
        '<div class="locator-popup">',
        f'<div class="title">{escape_text(name)}</div>',
        f'<div class="kind">{escape_text(kind_label)}</div>',
    ]
    if not authorized:
        parts.append(f'<div class="warn">{NOT_AUTHORIZED}</div>')
    rows: list[tuple[str, str]] = []
    if distance_km is not None and math.isfinite(distance_km):
        rows.append(("Distance", f"{distance_km:,.1f} km"))
    place = " ".join(
        _text(row.get(c)) for c in ("province", "city", "district") if _text(row.get(c))
    )
    hours = _text(row.get("hours"))
    if hours and to_osm(hours) is None:
        hours = UNKNOWN_LABEL
    for label, value in (
        ("Area", place),
        ("Address", _text(row.get("address"))),
        ("Hours", hours),
        ("Open", _text(row.get("hours_label"))),
    ):
        if value:
            rows.append((label, value))
    cats = [c.strip() for c in _text(row.get("categories")).split(";") if c.strip()]
    if cats:
        rows.append(("Repairs", ", ".join(CATEGORY_LABELS.get(c, c) for c in cats)))
    phone = _text(row.get("phone"))
    cells = [f"<tr><th>{escape_text(k)}</th><td>{escape_text(v)}</td></tr>" for k, v in rows]
    if phone:
        tels = phone_links(phone)
        shown = (
            " ".join(f'<a href="{escape_text(t)}">{escape_text(s)}</a>' for s, t in tels)
            if tels
            else escape_text(phone)
        )
        at = sum(1 for k, _ in rows if k in ("Area", "Address"))
        cells.insert(at, f"<tr><th>Phone</th><td>{shown}</td></tr>")
    if cells:
        parts.append("<table>")
        parts.extend(cells)
        parts.append("</table>")
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except (KeyError, TypeError, ValueError):
        lat = lon = math.nan
    if math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180:
        links = route_links((lat, lon), origin=origin, to_name=name)
        anchors = " · ".join(
            f'<a href="{escape_text(links[key])}" target="_blank" '
            f'rel="noopener noreferrer">{label}</a>'
            for key, label in (("amap", "AMap 高德"), ("baidu", "Baidu 百度"), ("osm", "OSM"))
        )
        parts.append(f'<div class="links">Directions 路线: {anchors}</div>')
    parts.append("</div>")
    return "".join(parts)


def _outlet_tooltip(row: Mapping[str, Any]) -> str:
    name = _text(row.get("name"))
    city = _text(row.get("city"))
    return escape_text(f"{name} ({city})" if city else name)


def _pin_icon(classes: str, size: int, extra_class: str) -> folium.DivIcon:
    """A CSS-drawn marker (no image, no icon font): ``.leaflet-marker-icon.<extra>``."""
    return folium.DivIcon(
        html=f'<div class="locator-pin {classes}"></div>',
        icon_size=(size, size),
        icon_anchor=(size // 2, size // 2),
        class_name=f"locator-marker {extra_class}",
    )


#: Above this many outlets :func:`outlets_layer` switches to the compact data path.
FAST_THRESHOLD = 200


def outlets_layer(
    outlets: pd.DataFrame,
    *,
    tiles: str | None = "osm",
    name: str = "Outlets 网点",
    cluster: bool = True,
    show: bool = True,
    popups: bool = True,
    fast: bool | None = None,
) -> folium.FeatureGroup:
    """Outlets as CSS-drawn markers, coloured by kind, grey/dashed when unauthorized.

    With ``cluster=True`` the markers go into a Leaflet.markercluster group. Each
    marker has a tooltip (name, city) and, if ``popups``, a popup with kind, address,
    phone, hours, product categories and AMap/Baidu directions links.
    Marker elements carry the CSS class ``locator-outlet``.

    ``fast`` (default: when there are more than :data:`FAST_THRESHOLD` outlets) puts
    all markers in one compact JSON array drawn by a small loop, instead of one folium
    ``Marker`` + ``Popup`` per outlet: about a third of the page size, same look.
    """
    _require(outlets, ("name",), "outlets")
    lat, lon = _coords(outlets, "outlets")
    plon, plat = _project(lon, lat, tiles)
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    parent: folium.FeatureGroup | MarkerCluster = group
    if cluster:
        parent = MarkerCluster(control=False, options={"showCoverageOnHover": False})
        group.add_child(parent)
    if fast is None:
        fast = len(outlets) > FAST_THRESHOLD
    rows: list[list[Any]] = []
    for i, row in enumerate(_records(outlets)):
        kind = _text(row.get("kind"))
        authorized = _bool(row.get("authorized"), default=True)
        size = 18 if kind == "service_center" else 14
        classes = _kind_class(kind) + ("" if authorized else " unauthorized")
        popup = outlet_popup_html(row) if popups else ""
        if fast:
            rows.append(
                [
                    round(float(plat[i]), 6),
                    round(float(plon[i]), 6),
                    classes,
                    size,
                    _outlet_tooltip(row),
                    popup,
                ]
            )
            continue
        marker = folium.Marker(
            location=(float(plat[i]), float(plon[i])),
            icon=_pin_icon(classes, size, "locator-outlet"),
            tooltip=folium.Tooltip(_outlet_tooltip(row), sticky=False),
            popup=folium.Popup(popup, max_width=340) if popups else None,
        )
        parent.add_child(marker)
    if fast:
        parent.add_child(_FastMarkers(rows, "locator-marker locator-outlet"))
    group._locator_bounds = _bounds(plat, plon)  # type: ignore[attr-defined]
    return group


def _transform_coords(coords: Any, tiles: str | None) -> Any:
    """Recursively convert GeoJSON positions ``[lon, lat, ...]`` to the tile datum."""
    if len(coords) and isinstance(coords[0], int | float):
        lo, la = _project([coords[0]], [coords[1]], tiles)
        return [float(lo[0]), float(la[0]), *list(coords[2:])]
    return [_transform_coords(c, tiles) for c in coords]


def _transform_geometry(geom: Mapping[str, Any] | None, tiles: str | None) -> Any:
    if geom is None:
        return None
    out = dict(geom)
    if geom.get("type") == "GeometryCollection":
        out["geometries"] = [_transform_geometry(g, tiles) for g in geom.get("geometries", [])]
    elif "coordinates" in geom:
        out["coordinates"] = _transform_coords(geom["coordinates"], tiles)
    return out


def _geojson_bounds(fc: Mapping[str, Any]) -> list[list[float]] | None:
    lats: list[float] = []
    lons: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            lons.append(float(c[0]))
            lats.append(float(c[1]))
        else:
            for x in c:
                walk(x)

    for f in fc.get("features", []):
        g = f.get("geometry") or {}
        if "coordinates" in g:
            walk(g["coordinates"])
    return _bounds(lats, lons)


class SupportsGeoJSON(Protocol):
    """Anything with ``to_geojson() -> FeatureCollection dict`` (e.g. coverage.ServiceAreas)."""

    def to_geojson(self) -> dict[str, Any]: ...


_AREA_FIELDS: dict[str, str] = {
    "name": "Area",
    "key": "Area",
    "city": "City",
    "level": "Level",
    "outlets": "Outlets",
    "radius_km": "Radius km",
    "area_km2": "Area km²",
}


def service_areas_layer(
    areas: Mapping[str, Any] | SupportsGeoJSON,
    *,
    tiles: str | None = "osm",
    name: str = "Service areas 服务范围",
    color: str = "#1565c0",
    show: bool = True,
) -> folium.FeatureGroup:
    """Service-area polygons from an RFC 7946 FeatureCollection (lon/lat, WGS-84).

    ``areas`` is the FeatureCollection dict, or any object with a ``to_geojson()``
    method returning one (e.g. :class:`locator.coverage.ServiceAreas`). Known
    properties (``name``/``key``, ``city``, ``level``, ``outlets``, ``radius_km``,
    ``area_km2``) appear in the tooltip; every string property is escaped. The input
    is not modified.
    """
    if hasattr(areas, "to_geojson"):
        areas = areas.to_geojson()
    if not isinstance(areas, Mapping) or areas.get("type") != "FeatureCollection":
        raise ConfigurationError("service areas must be a GeoJSON FeatureCollection dict")
    features = []
    for f in areas.get("features", []):
        # Only the fields the tooltip shows: property keys never carry data into the page.
        props = {k: v for k, v in dict(f.get("properties") or {}).items() if k in _AREA_FIELDS}
        if isinstance(props.get("area_km2"), float):
            props["area_km2"] = round(props["area_km2"], 1)
        features.append(
            {
                "type": "Feature",
                "geometry": _transform_geometry(deepcopy(f.get("geometry")), tiles),
                "properties": _escape_tree(props),
            }
        )
    seen = {k for f in features for k in f["properties"]}
    fields = [k for k in _AREA_FIELDS if k in seen and not (k == "key" and "name" in seen)]
    for f in features:  # every feature has every tooltip field (else JS shows "undefined")
        for k in fields:
            f["properties"].setdefault(k, "")
    fc = {"type": "FeatureCollection", "features": features}
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    if features:
        style = {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.15}
        folium.GeoJson(
            fc,
            style_function=lambda _f: style,
            tooltip=(
                folium.GeoJsonTooltip(fields=fields, aliases=[_AREA_FIELDS[k] for k in fields])
                if fields
                else None
            ),
        ).add_to(group)
    group._locator_bounds = _geojson_bounds(fc)  # type: ignore[attr-defined]
    return group


def _radius_px(population: Any, *, min_px: float = 3.0, max_px: float = 30.0) -> float:
    """Circle radius in pixels growing with sqrt(population) (area ~ population)."""
    try:
        p = float(population)
    except (TypeError, ValueError):
        p = 0.0
    if not math.isfinite(p) or p <= 0:
        return min_px
    return float(min(max_px, max(min_px, min_px + 6.0 * math.sqrt(p / 1e6))))


def gaps_layer(
    gaps: pd.DataFrame,
    *,
    tiles: str | None = "osm",
    name: str = "Coverage gaps 未覆盖",
    color: str = "#c62828",
    show: bool = True,
) -> folium.FeatureGroup:
    """Uncovered places as circles sized by population (area ~ population).

    Expects columns ``lat``, ``lon`` and ideally ``name``, ``name_zh``, ``province``,
    ``city``, ``population``, ``nearest_km``.
    """
    lat, lon = _coords(gaps, "gaps")
    plon, plat = _project(lon, lat, tiles)
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    rows: list[list[Any]] = []
    for i, row in enumerate(_records(gaps)):
        label = " ".join(x for x in (_text(row.get("name")), _text(row.get("name_zh"))) if x)
        where = ", ".join(x for x in (_text(row.get("city")), _text(row.get("province"))) if x)
        bits = [f"<b>{escape_text(label)}</b>"]
        if where:
            bits.append(escape_text(where))
        pop = row.get("population")
        if math.isfinite(_float(pop)):
            bits.append(f"Population {_float(pop):,.0f}")
        near = _float(row.get("nearest_km"))
        if math.isfinite(near):
            bits.append(f"Nearest outlet {near:,.1f} km")
            via = [_text(row.get(c)) for c in ("nearest_outlet_name", "nearest_outlet_city")]
            if any(via):
                bits.append(escape_text(", ".join(x for x in via if x)))
        rows.append([round(float(plat[i]), 6), round(float(plon[i]), 6),
                     round(_radius_px(pop), 2), 0, "<br>".join(bits)])  # fmt: skip
    style = {"color": color, "weight": 0.8, "opacity": 0.8, "fill": True,
             "fillColor": color, "fillOpacity": 0.3}  # fmt: skip
    if rows:
        group.add_child(_FastCircles(rows, [style], "locator-gap"))
    group._locator_bounds = _bounds(plat, plon)  # type: ignore[attr-defined]
    return group


def _share_color(share: float) -> str:
    """Red (0) -> amber (0.5) -> green (1) for a coverage share."""
    if not math.isfinite(share):
        return "#9e9e9e"
    s = min(1.0, max(0.0, share))
    stops = [(0.0, (0xD7, 0x30, 0x27)), (0.5, (0xFD, 0xAE, 0x61)), (1.0, (0x1A, 0x98, 0x50))]
    for (s0, c0), (s1, c1) in itertools.pairwise(stops):
        if s <= s1:
            t = (s - s0) / (s1 - s0)
            rgb = [round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#1a9850"


def cities_layer(
    cities: pd.DataFrame,
    *,
    tiles: str | None = "osm",
    name: str = "Listed cities 城市覆盖",
    show: bool = True,
) -> folium.FeatureGroup:
    """Listed cities as circles coloured by ``share_covered`` (red 0 -> green 1).

    Expects ``city`` (or ``name``), ``lat``, ``lon``, ``share_covered`` and optionally
    ``population_total``, ``population_covered``, ``outlets``.
    """
    if "city" not in cities.columns and "name" in cities.columns:
        cities = cities.rename(columns={"name": "city"})
    _require(cities, ("share_covered",), "cities")
    lat, lon = _coords(cities, "cities")
    plon, plat = _project(lon, lat, tiles)
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    rows: list[list[Any]] = []
    styles: dict[str, int] = {}  # colour -> index in the shared styles
    for i, row in enumerate(_records(cities)):
        share = _float(row.get("share_covered"))
        colour = _share_color(share)
        share_txt = f"{share:.0%}" if math.isfinite(share) else "n/a"
        bits = [f"<b>{escape_text(_text(row.get('city')))}</b>", f"Covered {share_txt}"]
        covered = _float(row.get("population_covered"))
        total = _float(row.get("population_total"))
        if math.isfinite(covered) and math.isfinite(total):
            bits.append(f"Population covered {covered:,.0f} of {total:,.0f}")
        if _text(row.get("outlets")):
            bits.append(f"Outlets {escape_text(_text(row.get('outlets')))}")
        if colour not in styles:  # a ring, so cities never look like (green) outlet pins
            styles[colour] = len(styles)
        rows.append([round(float(plat[i]), 6), round(float(plon[i]), 6), 8,
                     styles[colour], "<br>".join(bits)])  # fmt: skip
    if rows:
        shared = [{"color": c, "weight": 4, "opacity": 0.95, "fill": True,
                   "fillColor": "#ffffff", "fillOpacity": 0.7} for c in styles]  # fmt: skip
        group.add_child(_FastCircles(rows, shared, "locator-city"))
    group._locator_bounds = _bounds(plat, plon)  # type: ignore[attr-defined]
    return group


def search_layer(
    origin: tuple[float, float],
    results: pd.DataFrame,
    *,
    origin_label: str = "",
    tiles: str | None = "osm",
    name: str = "Search 搜索结果",
    show: bool = True,
) -> folium.FeatureGroup:
    """A search: the origin, the nearest outlets, a line from the origin to each.

    ``origin`` is WGS-84 ``(lat, lon)``; ``results`` has outlet columns plus
    ``distance_km`` (shown in the tooltip and popup). Result markers carry the class
    ``locator-result``, the origin ``locator-origin``; each line has a tooltip with
    the distance.
    """
    olat, olon = _project_point(float(origin[0]), float(origin[1]), tiles)
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    folium.Marker(
        location=(olat, olon),
        icon=_pin_icon("origin", 16, "locator-origin"),
        tooltip=folium.Tooltip(escape_text(origin_label or "Your location"), sticky=False),
    ).add_to(group)
    lats, lons = [olat], [olon]
    if len(results):
        lat, lon = _coords(results, "results")
        plon, plat = _project(lon, lat, tiles)
        for i, row in enumerate(_records(results)):
            d = _float(row.get("distance_km"))
            kind = _text(row.get("kind"))
            authorized = _bool(row.get("authorized"), default=True)
            classes = _kind_class(kind) + ("" if authorized else " unauthorized")
            rank = i + 1
            tip = f"{rank}. {_text(row.get('name'))}"
            if math.isfinite(d):
                tip += f" · {d:,.1f} km"
            folium.PolyLine(
                locations=[(olat, olon), (float(plat[i]), float(plon[i]))],
                color="#d81b60",
                weight=2,
                opacity=0.7,
                dash_array="6 4",
                tooltip=folium.Tooltip(escape_text(tip), sticky=True),
                class_name="locator-line",
            ).add_to(group)
            folium.Marker(
                location=(float(plat[i]), float(plon[i])),
                icon=_pin_icon(classes, 18, "locator-result"),
                tooltip=folium.Tooltip(escape_text(tip), sticky=False),
                popup=folium.Popup(
                    outlet_popup_html(
                        row,
                        distance_km=d if math.isfinite(d) else None,
                        origin=(float(origin[0]), float(origin[1])),
                    ),
                    max_width=340,
                ),
            ).add_to(group)
        lats += [float(x) for x in plat]
        lons += [float(x) for x in plon]
    group._locator_bounds = _bounds(lats, lons)  # type: ignore[attr-defined]
    return group


def locate_control(
    outlets: pd.DataFrame, *, tiles: str | None = "osm", k: int = 3, authorized_only: bool = True
) -> folium.MacroElement:
    """A "nearest to me" map control (add it to a map built with the same ``tiles``).

    The button asks the browser for its position and lists the ``k`` nearest
    (authorized, by default) outlets with straight-line distances, drawing lines to
    them. Everything runs in the page; the names are escaped.
    """
    df = outlets
    if authorized_only and "authorized" in df.columns:
        df = df[df["authorized"].map(_bool)]
    lat, lon = _coords(df, "outlets")
    plon, plat = _project(lon, lat, tiles)
    rows = [
        [
            round(float(lat[i]), 6),
            round(float(lon[i]), 6),
            round(float(plat[i]), 6),
            round(float(plon[i]), 6),
            _outlet_tooltip(r),
        ]
        for i, r in enumerate(_records(df))
    ]
    return _LocateControl(rows, gcj=display_coord_sys(tiles) == "gcj02", k=int(k))
