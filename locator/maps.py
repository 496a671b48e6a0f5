"""Pure map builders: data in, folium objects out.

Nothing here loads a file: callers pass DataFrames / GeoJSON dicts (outlets from
:func:`locator.data.load_outlets`, coverage tables from :mod:`locator.coverage`)
and get back ``folium.Map`` / ``folium.FeatureGroup`` objects that compose with
``add_to``. :mod:`locator.embed` turns a map into one self-contained HTML page.

Three rules hold for every builder:

* **Coordinates** arrive in WGS-84. With ``tiles="amap"`` (AMap/Gaode tiles are
  GCJ-02) every coordinate drawn - markers, lines, polygons, circles - is
  converted to GCJ-02 first; otherwise it is drawn as is. Pass the same ``tiles``
  value to :func:`base_map` and to each layer builder (or use :func:`build_map`,
  which does that for you).
* **Text** from data or users goes through :func:`escape_text` before it reaches a
  popup, tooltip, GeoJSON property or layer name. folium inserts these as live HTML
  inside JavaScript template literals (and Leaflet's layer control uses innerHTML),
  so the escape covers both contexts. Data embedded as JSON in a script goes through
  :func:`_script_json`. These two functions are the only way data enters a map.
* **No data is ever template source.** branca renders each element's script macro,
  wraps the *rendered text* in a new ``Element`` and Jinja-compiles it again
  (``MacroElement.render``); folium's ``Popup``, ``Map`` and ``GeoJson`` do the same.
  So text that survived the first pass is parsed as a Jinja template on the second:
  ``{{ 7*7 }}`` in an outlet name or a query became ``49``, ``{{`` a 500, and a
  ``lipsum.__globals__`` payload ran shell commands on the server. The fix is in the
  two functions above, not at call sites: :func:`escape_text` turns ``{`` and ``}``
  into the HTML references ``&#123;``/``&#125;`` (the browser shows the braces) and
  :func:`_script_json` writes a ``{``, ``%`` or ``#`` that follows a ``{`` as a JSON
  ``\\u`` escape, so neither can ever emit ``{{``, ``{%`` or ``{#`` - the only
  sequences that open a Jinja tag - whatever it is given. GeoJSON property *keys*
  are never data (only the known tooltip fields are kept). As defence in depth, the
  figure made by :func:`base_map` keeps every rendered fragment branca adds to the
  page's header, body and script verbatim (:class:`_VerbatimSlot`), so even text that
  bypassed the escape would be shown, not evaluated. This cannot regress silently:
  ``tests/test_hostile.py`` sends the template payloads (and the rest of the shared
  hostile corpus) through every builder, the embed page, the API, the CLI and the
  app, and a unit test shows an unescaped folium element rendered literally.
* **No CDN-only assets**: maps use plain Leaflet (+ jQuery, which folium's popups
  need, + Leaflet.markercluster). Markers are CSS-styled ``L.divIcon``s and
  circle markers, never Font Awesome / Bootstrap icons, so :mod:`locator.embed` can
  inline every asset from the ``xstatic`` packages.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import folium
import numpy as np
import pandas as pd
from branca.element import Element
from folium.plugins import MarkerCluster

from .crs import wgs84_to_bd09, wgs84_to_gcj02
from .errors import ConfigurationError, DataError, Problem

__all__ = [
    "CATEGORY_LABELS",
    "FAST_THRESHOLD",
    "KIND_LABELS",
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "TILES",
    "SupportsGeoJSON",
    "TileSpec",
    "base_map",
    "build_map",
    "cities_layer",
    "directions_links",
    "display_coord_sys",
    "escape_text",
    "gaps_layer",
    "locate_control",
    "normalize_tiles",
    "outlet_popup_html",
    "outlets_layer",
    "search_layer",
    "service_areas_layer",
]

# --------------------------------------------------------------------------- escaping

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "`": "&#96;",
    "$": "&#36;",
    "\\": "&#92;",
    # Jinja: branca re-compiles rendered output as a template (see the module doc).
    "{": "&#123;",
    "}": "&#125;",
}
_ESCAPE_RE = re.compile(r"[&<>\"'`$\\{}]")
# C0 controls, DEL, and the JS line terminators U+2028/U+2029 become a space.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape_text(value: object) -> str:
    """Escape ``value`` for HTML *and* for a JavaScript template literal at once.

    Returns text in which ``& < > " ' ` $ \\ { }`` are HTML character references, so
    the result is inert wherever folium puts it: as HTML text or a quoted attribute
    value, inside a ``\\`...\\``` template literal (no backtick, ``${`` or backslash
    survives), inside a ``<script>`` block (no ``</script>``), and when branca
    compiles the rendered page as a Jinja template again (no ``{{``, ``{%``, ``{#``:
    no brace survives). The browser shows
    the original characters. Control characters and line/paragraph separators
    become spaces. ``None`` and NaN become ``""``; other values go through ``str``.

    >>> escape_text("<b>${x}</b> `C:\\\\x` {{7*7}}")
    '&lt;b&gt;&#36;&#123;x&#125;&lt;/b&gt; &#96;C:&#92;x&#96; &#123;&#123;7*7&#125;&#125;'
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    text = _CONTROL_RE.sub(" ", str(value))
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


# A character that would complete a Jinja opening tag: ``{`` then ``{``, ``%`` or ``#``.
_JINJA_OPEN_RE = re.compile(r"(?<=\{)[{%#]")


def _script_json(obj: Any) -> str:
    """JSON safe to paste into a ``<script>`` block: UTF-8 kept, and ``< > & '`` plus
    U+2028/U+2029 as ``\\u`` escapes, so no ``</script>`` or ``<!--`` can appear.

    It never contains ``{{``, ``{%`` or ``{#`` either (branca compiles rendered
    scripts as Jinja again): JSON's own syntax never puts ``{``, ``%`` or ``#``
    right after a ``{``, so such a character is inside a string, where its ``\\u``
    escape means the same."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch in "<>&'\u2028\u2029":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return _JINJA_OPEN_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _escape_tree(obj: Any) -> Any:
    """A copy of a JSON-like tree with every string value (not key) escaped."""
    if isinstance(obj, str):
        return escape_text(obj)
    if isinstance(obj, Mapping):
        return {k: _escape_tree(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_escape_tree(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- tiles


@dataclass(frozen=True)
class TileSpec:
    """A raster tile provider: its URL template, attribution and datum."""

    key: str
    url: str
    attr: str
    coord_sys: str  # "wgs84" or "gcj02": the datum its imagery is drawn in
    subdomains: str | None = None
    max_zoom: int = 18


TILES: dict[str, TileSpec] = {
    "osm": TileSpec(
        key="osm",
        url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
        "contributors",
        coord_sys="wgs84",
        max_zoom=19,
    ),
    "amap": TileSpec(
        key="amap",
        url=(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
            "&style=8&x={x}&y={y}&z={z}"
        ),
        attr="&copy; AMap",
        coord_sys="gcj02",
        subdomains="1234",
        max_zoom=18,
    ),
}

_TILE_ALIASES = {
    "osm": "osm",
    "openstreetmap": "osm",
    "amap": "amap",
    "gaode": "amap",
    "autonavi": "amap",
    "none": None,
    "": None,
    "off": None,
    "offline": None,
}


def normalize_tiles(tiles: str | None) -> str | None:
    """Canonical tile key: ``"osm"``, ``"amap"`` or ``None`` (no basemap, offline)."""
    if tiles is None:
        return None
    key = str(tiles).strip().lower()
    if key not in _TILE_ALIASES:
        raise ConfigurationError(f"unknown tiles {tiles!r}; expected one of osm, amap, none")
    return _TILE_ALIASES[key]


def display_coord_sys(tiles: str | None) -> str:
    """The datum coordinates must be drawn in on ``tiles`` (``gcj02`` for AMap)."""
    key = normalize_tiles(tiles)
    return TILES[key].coord_sys if key else "wgs84"


def _project(
    lon: Any, lat: Any, tiles: str | None
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """WGS-84 ``(lon, lat)`` arrays -> the datum of ``tiles`` (float arrays)."""
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    if display_coord_sys(tiles) == "gcj02":
        lo, la = wgs84_to_gcj02(lo, la)
    return np.asarray(lo, dtype=float), np.asarray(la, dtype=float)


def _project_point(lat: float, lon: float, tiles: str | None) -> tuple[float, float]:
    """One WGS-84 point -> ``(lat, lon)`` in the datum of ``tiles``."""
    lo, la = _project([lon], [lat], tiles)
    return float(la[0]), float(lo[0])


# --------------------------------------------------------------------------- assets

# Only these three libraries are ever referenced (CDN URLs here; embed.py inlines
# them from the xstatic wheels). Folium's Bootstrap/Font Awesome/awesome-markers
# defaults are dropped: nothing here uses them.
LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
JQUERY_JS = ("jquery", "https://code.jquery.com/jquery-3.7.1.min.js")
LEAFLET_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")

_CSS = """
<style>
.locator-marker { background: transparent; border: none; }
.locator-pin { box-sizing: border-box; width: 100%; height: 100%; border-radius: 50%;
  border: 2px solid #fff; box-shadow: 0 0 0 1px rgba(0,0,0,.55), 0 1px 3px rgba(0,0,0,.4); }
.locator-pin.kind-service_center { background: #1565c0; }
.locator-pin.kind-repair_point { background: #2e7d32; }
.locator-pin.kind-other { background: #6d4c41; }
.locator-pin.unauthorized { background: #bdbdbd; border: 2px dashed #c62828; }
.locator-pin.origin { background: #d81b60; border-radius: 3px; transform: rotate(45deg); }
.locator-popup { font: 13px/1.4 system-ui, "Noto Sans CJK SC", "PingFang SC",
  "Microsoft YaHei", sans-serif; min-width: 200px; max-width: 320px; }
.locator-popup .title { font-weight: 600; font-size: 14px; }
.locator-popup .kind { color: #555; }
.locator-popup .warn { color: #c62828; font-weight: 600; }
.locator-popup table { border-collapse: collapse; margin: 4px 0; }
.locator-popup th { text-align: left; vertical-align: top; padding: 1px 8px 1px 0;
  color: #555; font-weight: normal; white-space: nowrap; }
.locator-popup td { padding: 1px 0; }
.locator-locate-btn { font-size: 20px; line-height: 30px; text-align: center; }
.locator-nearest { background: #fff; max-width: 260px; font: 12px/1.4 system-ui, sans-serif; }
.locator-nearest:not(:empty) { padding: 4px 8px; }
.locator-nearest ol { margin: 4px 0; padding-left: 18px; }
.locator-legend { background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 4px;
  font: 12px/1.5 system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.locator-legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -2px; border-radius: 50%; }
</style>
"""


class _Verbatim(Element):
    """Text that was already rendered: shown as is, never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _VerbatimSlot(Element):
    """A figure's header, html or script part that keeps rendered fragments verbatim.

    branca's ``MacroElement.render`` (and folium's ``Popup``, ``Map``, ``GeoJson``)
    add ``Element(rendered_text)`` here, and a plain ``Element`` compiles its text as
    a Jinja template when the page is rendered: a second pass over data. This slot
    swaps each such child for :class:`_Verbatim`, so the second pass never happens.
    The one folium feature that relies on it, ``{{'var_name'}}`` references written
    by ``GeoJsonStyleMapper``, is resolved here the way streamlit-folium does it.
    """

    def add_child(self, child: Any, name: str | None = None, index: int | None = None) -> Any:
        if type(child) is Element and child._template_str is not None:
            name = name or child.get_name()
            child = _Verbatim(_ELEMENT_REF_RE.sub(r"\1", child._template_str))
        return super().add_child(child, name=name, index=index)


_ELEMENT_REF_RE = re.compile(r"\{\{\s*'([A-Za-z_$][A-Za-z0-9_$]*)'\s*\}\}")


def _safe_figure(m: folium.Map) -> None:
    r"""Make the header/html/script parts of ``m``'s figure :class:`_VerbatimSlot`\ s."""
    fig = m.get_root()
    for part in ("header", "html", "script"):
        old = getattr(fig, part)
        slot = _VerbatimSlot()
        slot._parent = fig
        for name, child in old._children.items():  # the charset <meta>, a constant
            slot.add_child(child, name=name)
        setattr(fig, part, slot)


class _LocatorCSS(Element):
    """Adds the marker/popup stylesheet to the page header exactly once."""

    def render(self, **kwargs: Any) -> str:
        """Register the stylesheet with the root figure (deduplicated by name)."""
        root = self.get_root()
        root.header.add_child(Element(_CSS), name="locator_css")  # type: ignore[attr-defined]
        return ""


def _with_css(layer: folium.FeatureGroup) -> folium.FeatureGroup:
    layer.add_child(_LocatorCSS(), name="locator_css")
    return layer


# --------------------------------------------------------------------------- base map

_CHINA_CENTER = (35.0, 104.0)


def base_map(
    *,
    tiles: str | None = "osm",
    location: Sequence[float] | None = None,
    zoom_start: int = 5,
    width: str | int = "100%",
    height: str | int = "100%",
    control_scale: bool = True,
    prefer_canvas: bool = False,
) -> folium.Map:
    """An empty ``folium.Map`` with the chosen basemap and no CDN-only assets.

    ``tiles`` is ``"osm"`` (OpenStreetMap, WGS-84), ``"amap"`` (AMap/Gaode, GCJ-02)
    or ``None`` (no basemap: works offline, markers on a plain background).
    ``location`` is a WGS-84 ``(lat, lon)``; it is converted like everything else.
    """
    key = normalize_tiles(tiles)
    lat, lon = location if location is not None else _CHINA_CENTER
    center = _project_point(float(lat), float(lon), key)
    m = folium.Map(
        location=center,
        zoom_start=zoom_start,
        tiles=None,
        width=width,
        height=height,
        control_scale=control_scale,
        prefer_canvas=prefer_canvas,
        # Leaflet.markercluster needs the map's own maxZoom when there are no tiles.
        maxZoom=TILES[key].max_zoom if key else 18,
        minZoom=2,
        # Quarter-step zoom: fitBounds frames China snugly instead of a whole (2x)
        # zoom level too far out.
        zoomSnap=0.25,
        zoomDelta=0.5,
    )
    # Instance attributes shadow folium's class-level CDN lists (never mutate those).
    m.default_js = [LEAFLET_JS, JQUERY_JS]
    m.default_css = [LEAFLET_CSS]
    if key is not None:
        spec = TILES[key]
        opts: dict[str, Any] = {}
        if spec.subdomains:
            opts["subdomains"] = spec.subdomains
        folium.TileLayer(
            tiles=spec.url,
            attr=spec.attr,
            name=spec.key,
            max_zoom=spec.max_zoom,
            control=False,
            **opts,
        ).add_to(m)
    m.add_child(_LocatorCSS(), name="locator_css")
    _safe_figure(m)
    return m


# --------------------------------------------------------------------------- helpers

KIND_LABELS: dict[str, str] = {
    "service_center": "Service center 维修中心",
    "repair_point": "Authorized repair point 特约维修点",
}
CATEGORY_LABELS: dict[str, str] = {
    "refrigerator": "refrigerator 冰箱",
    "washer": "washer 洗衣机",
    "air_conditioner": "air conditioner 空调",
    "water_heater": "water heater 热水器",
    "tv": "TV 电视",
}


def _text(value: Any) -> str:
    """A display string for a cell: NaN/None -> '', floats that are ints -> int."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if value is pd.NA:
        return ""
    return str(value)


def _float(value: Any) -> float:
    """``float(value)``, or NaN when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with string keys."""
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def _bool(value: Any, default: bool = True) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return bool(value)


def _require(df: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            [Problem(None, c, None, "required column is missing") for c in missing],
            source=source,
        )


def _coords(df: pd.DataFrame, source: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Validated float ``lat``/``lon`` arrays; every bad row is reported at once."""
    _require(df, ("lat", "lon"), source)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        problems = [
            Problem(
                int(i) + 2,
                "lat/lon",
                f"{df['lat'].iloc[i]}, {df['lon'].iloc[i]}",
                "not a valid WGS-84 coordinate",
            )
            for i in np.flatnonzero(bad)
        ]
        raise DataError(problems, source=source)
    return lat, lon


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


def outlet_popup_html(row: Mapping[str, Any], *, distance_km: float | None = None) -> str:
    """The popup HTML for one outlet (every data value escaped with :func:`escape_text`).

    ``row`` is a mapping with outlet columns (``name``, ``kind``, ``address``,
    ``phone``, ``hours``, ``categories``, ``authorized``, ``lat``, ``lon``, ...);
    missing keys are skipped. The returned string holds no backtick, ``$`` or
    backslash, so it is safe inside folium's template literals.
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
        parts.append('<div class="warn">Not authorized 非授权</div>')
    rows: list[tuple[str, str]] = []
    if distance_km is not None and math.isfinite(distance_km):
        rows.append(("Distance", f"{distance_km:,.1f} km"))
    place = " ".join(
        _text(row.get(c)) for c in ("province", "city", "district") if _text(row.get(c))
    )
    for label, value in (
        ("Area", place),
        ("Address", _text(row.get("address"))),
        ("Phone", _text(row.get("phone"))),
        ("Hours", _text(row.get("hours"))),
    ):
        if value:
            rows.append((label, value))
    cats = [c.strip() for c in _text(row.get("categories")).split(";") if c.strip()]
    if cats:
        rows.append(("Repairs", ", ".join(CATEGORY_LABELS.get(c, c) for c in cats)))
    if rows:
        parts.append("<table>")
        parts.extend(
            f"<tr><th>{escape_text(k)}</th><td>{escape_text(v)}</td></tr>" for k, v in rows
        )
        parts.append("</table>")
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except (KeyError, TypeError, ValueError):
        lat = lon = math.nan
    if math.isfinite(lat) and math.isfinite(lon):
        links = directions_links(lat, lon, name)
        parts.append(
            f'<div class="links">Directions: <a href="{escape_text(links["amap"])}" '
            'target="_blank" rel="noopener noreferrer">AMap 高德</a> · '
            f'<a href="{escape_text(links["baidu"])}" target="_blank" '
            'rel="noopener noreferrer">Baidu 百度</a></div>'
        )
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


def _bounds(lats: Iterable[float], lons: Iterable[float]) -> list[list[float]] | None:
    la = np.asarray(list(lats), dtype=float)
    lo = np.asarray(list(lons), dtype=float)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not ok.any():
        return None
    return [[float(la[ok].min()), float(lo[ok].min())], [float(la[ok].max()), float(lo[ok].max())]]


# --------------------------------------------------------------------------- layers


#: Above this many outlets :func:`outlets_layer` switches to the compact data path.
FAST_THRESHOLD = 200


class _FastMarkers(folium.MacroElement):
    """Many CSS markers from one compact JSON array (the path for thousands of outlets).

    Each row is ``[lat, lon, css_classes, size_px, tooltip_html, popup_html]``. The CSS
    classes come from a fixed whitelist; tooltip and popup strings were built with
    :func:`escape_text`, and the array is embedded with ``<``, ``>``, ``&`` and ``'``
    as JSON ``\\u`` escapes, so nothing in it can end the script or run.
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var rows = {{ this.rows_json }};
            var parent = {{ this._parent.get_name() }};
            var made = [];
            for (var i = 0; i < rows.length; i++) {
                var r = rows[i];
                var icon = L.divIcon({
                    html: '<div class="locator-pin ' + r[2] + '"></div>',
                    iconSize: [r[3], r[3]],
                    iconAnchor: [r[3] / 2, r[3] / 2],
                    className: {{ this.class_name|tojson }}
                });
                var m = L.marker([r[0], r[1]], {icon: icon});
                m.bindTooltip(r[4]);
                if (r[5]) { m.bindPopup(r[5], {maxWidth: 340}); }
                made.push(m);
            }
            if (parent.addLayers) { parent.addLayers(made); }
            else { made.forEach(function(m) { parent.addLayer(m); }); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], class_name: str):
        super().__init__()
        self._name = "FastMarkers"
        self.rows_json = _script_json(rows)
        self.class_name = class_name


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
        folium.CircleMarker(
            location=(float(plat[i]), float(plon[i])),
            radius=_radius_px(pop),
            color=color,
            weight=0.8,
            opacity=0.8,
            fill=True,
            fill_color=color,
            fill_opacity=0.3,
            tooltip=folium.Tooltip("<br>".join(bits), sticky=False),
            class_name="locator-gap",
        ).add_to(group)
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
        folium.CircleMarker(
            location=(float(plat[i]), float(plon[i])),
            radius=8,
            color=colour,  # a ring, so cities never look like (green) outlet pins
            weight=4,
            opacity=0.95,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=0.7,
            tooltip=folium.Tooltip("<br>".join(bits), sticky=False),
            class_name="locator-city",
        ).add_to(group)
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
    ``distance_km`` (and optionally ``drive_min``). Result markers carry the class
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
                    outlet_popup_html(row, distance_km=d if math.isfinite(d) else None),
                    max_width=340,
                ),
            ).add_to(group)
        lats += [float(x) for x in plat]
        lons += [float(x) for x in plon]
    group._locator_bounds = _bounds(lats, lons)  # type: ignore[attr-defined]
    return group


# --------------------------------------------------------------------------- legend


class _RefitWhenShown(folium.MacroElement):
    """Fit the bounds again once the map's container gets a real size.

    A map rendered while hidden (a Streamlit tab not yet shown, a collapsed section of a
    host page) has a 0x0 container, so Leaflet's ``fitBounds`` lands at the minimum
    zoom. A ``ResizeObserver`` re-fits when the container is resized, until the user
    moves or zooms the map (then their view wins).
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var bounds = {{ this.bounds_json }};
            var el = map.getContainer();
            var touched = false;
            ["mousedown", "touchstart", "wheel", "keydown"].forEach(function(ev) {
                el.addEventListener(ev, function() { touched = true; }, {passive: true});
            });
            if (typeof ResizeObserver === "undefined") { return; }
            var last = "";
            new ResizeObserver(function() {
                var size = el.clientWidth + "x" + el.clientHeight;
                if (touched || size === last || el.clientWidth === 0) { return; }
                last = size;
                map.invalidateSize();
                map.fitBounds(bounds, {padding: [{{ this.padding }}, {{ this.padding }}],
                                       maxZoom: {{ this.max_zoom }}});
            }).observe(el);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], *, padding: int, max_zoom: int) -> None:
        super().__init__()
        self._name = "RefitWhenShown"
        self.bounds_json = _script_json([[float(v) for v in corner] for corner in bounds])
        self.padding = int(padding)
        self.max_zoom = int(max_zoom)


class _Legend(folium.MacroElement):
    """A static legend control (our own text only, never data)."""

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "locator-legend");
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.html = html


def _legend_html(outlets: bool, unauthorized: bool, gaps: bool, cities: bool, search: bool) -> str:
    rows = []
    if outlets or search:
        rows += [
            '<i style="background:#1565c0"></i>Service center 维修中心',
            '<i style="background:#2e7d32"></i>Repair point 特约维修点',
        ]
    if unauthorized:
        rows.append('<i style="background:#bdbdbd;border:1px dashed #c62828"></i>Not authorized')
    if search:
        rows.append('<i style="background:#d81b60;border-radius:2px"></i>Search origin')
    if gaps:
        rows.append('<i style="background:#c62828;opacity:.5"></i>Uncovered place (size = pop.)')
    if cities:
        ring = '<i style="border:3px solid {};background:#fff;box-sizing:border-box"></i>'
        rows.append(
            "City covered "
            + " ".join(
                ring.format(c) + t
                for c, t in (("#d73027", "0"), ("#fdae61", "50"), ("#1a9850", "100%"))
            )
        )
    return "<br>".join(rows)


# --------------------------------------------------------------------------- locate me

# A JavaScript port of locator.crs.wgs84_to_gcj02 (same boxes, same formula), used to
# draw the browser's WGS-84 position on GCJ-02 (AMap) tiles. tests/test_maps.py runs
# it in node against the Python version.
GCJ02_JS = """
function locatorWgsToGcj(lat, lon) {
  var R = [[79.4462,42.8899,96.33,49.2204],[109.6872,39.3742,135.0002,54.1415],
    [73.1246,29.5297,124.143255,42.8899],[82.9684,26.7186,97.0352,29.5297],
    [97.0253,20.414096,124.367395,29.5297],[107.975793,17.871542,111.744104,20.414096]];
  var X = [[119.921265,21.785006,122.497559,25.398623],[101.8652,20.0988,106.665,22.284],
    [106.4525,20.4878,108.051,21.5422],[109.0323,50.3257,119.127,55.8175],
    [127.4568,49.5574,137.0227,55.8175],[131.2662,42.5692,137.0227,44.8922]];
  function hit(b) {
    for (var i = 0; i < b.length; i++) {
      if (lon >= b[i][0] && lat >= b[i][1] && lon <= b[i][2] && lat <= b[i][3]) return true;
    }
    return false;
  }
  if (!hit(R) || hit(X)) return [lat, lon];
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  var x = lon - 105.0, y = lat - 35.0, sx = Math.sqrt(Math.abs(x));
  var c = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + c;
  dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + c;
  dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  var rad = lat / 180.0 * PI, magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad);
  var sm = Math.sqrt(magic);
  dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sm) * PI);
  dlon = (dlon * 180.0) / (A / sm * Math.cos(rad) * PI);
  return [lat + dlat, lon + dlon];
}
"""


class _LocateControl(folium.MacroElement):
    """A "nearest to me" button: browser position -> the k nearest authorized outlets.

    Runs entirely in the page (no server): the outlets' WGS-84 coordinates and escaped
    names are embedded as JSON; distances are great-circle (haversine on a sphere,
    within ~0.5 % of the WGS-84 geodesic the Python side uses) and labelled as
    straight-line estimates. On AMap tiles the position is converted to GCJ-02
    before it is drawn. Needs ``allow="geolocation"`` when embedded in an iframe.
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.gcj_js }}
            var map = {{ this._parent.get_name() }};
            var rows = {{ this.rows_json }};  // [lat, lon, dlat, dlon, name_html]
            var gcj = {{ this.gcj|tojson }}, k = {{ this.k|tojson }};
            var layer = L.featureGroup().addTo(map);
            var box = null;
            function hav(a, b, c, d) {
                var r = Math.PI / 180, s1 = Math.sin((c - a) * r / 2);
                var s2 = Math.sin((d - b) * r / 2);
                var h = s1 * s1 + Math.cos(a * r) * Math.cos(c * r) * s2 * s2;
                return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
            }
            function show(lat, lon) {
                layer.clearLayers();
                var here = gcj ? locatorWgsToGcj(lat, lon) : [lat, lon];
                var me = L.marker(here, {icon: L.divIcon({
                    html: '<div class="locator-pin origin"></div>', iconSize: [16, 16],
                    iconAnchor: [8, 8], className: 'locator-marker locator-me'})});
                layer.addLayer(me);
                var near = rows.map(function(r) { return [hav(lat, lon, r[0], r[1]), r]; })
                    .sort(function(a, b) { return a[0] - b[0]; }).slice(0, k);
                var html = '<b>' + {{ this.heading|tojson }} + '</b><ol>';
                var pts = [here];
                near.forEach(function(n) {
                    var r = n[1];
                    layer.addLayer(L.polyline([here, [r[2], r[3]]], {color: '#d81b60',
                        weight: 2, dashArray: '6 4', className: 'locator-line'}));
                    html += '<li>' + r[4] + ' · ' + n[0].toFixed(1) + ' km</li>';
                    pts.push([r[2], r[3]]);
                });
                box.innerHTML = html + '</ol><small>' + {{ this.note|tojson }} + '</small>';
                map.fitBounds(L.latLngBounds(pts), {padding: [30, 30], maxZoom: 13});
            }
            var ctl = L.control({position: 'topleft'});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', 'leaflet-bar locator-locate');
                var btn = L.DomUtil.create('a', 'locator-locate-btn', div);
                btn.href = '#'; btn.setAttribute('role', 'button');
                btn.title = {{ this.label|tojson }};
                btn.innerHTML = '&#9678;';
                box = L.DomUtil.create('div', 'locator-nearest', div);
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.on(btn, 'click', function(e) {
                    L.DomEvent.preventDefault(e);
                    if (!navigator.geolocation) {
                        box.textContent = {{ this.unavailable|tojson }}; return;
                    }
                    box.textContent = '…';
                    navigator.geolocation.getCurrentPosition(
                        function(p) { show(p.coords.latitude, p.coords.longitude); },
                        function(err) { box.textContent = {{ this.unavailable|tojson }} + ' ' +
                            String(err && err.message || ''); },
                        {enableHighAccuracy: false, timeout: 10000, maximumAge: 60000});
                });
                return div;
            };
            ctl.addTo(map);
            window.locatorShowNearest = show;  // for tests and host pages
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], *, gcj: bool, k: int):
        super().__init__()
        self._name = "LocateControl"
        self.rows_json = _script_json(rows)
        self.gcj = gcj
        self.k = k
        self.gcj_js = GCJ02_JS if gcj else ""
        self.heading = "Nearest outlets 最近的网点"
        self.note = "Straight-line distance; the road is longer. 直线距离"
        self.label = "Nearest outlets to me 离我最近"
        self.unavailable = "Location unavailable 无法定位"


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


# --------------------------------------------------------------------------- composition


def build_map(
    outlets: pd.DataFrame | None = None,
    *,
    tiles: str | None = "osm",
    service_areas: Mapping[str, Any] | SupportsGeoJSON | None = None,
    gaps: pd.DataFrame | None = None,
    cities: pd.DataFrame | None = None,
    origin: tuple[float, float] | None = None,
    results: pd.DataFrame | None = None,
    origin_label: str = "",
    cluster: bool = True,
    legend: bool = True,
    fit: bool = True,
    locate: bool = False,
    width: str | int = "100%",
    height: str | int = "100%",
) -> folium.Map:
    """A complete map: basemap, the given layers, a layer control, a legend, fitted.

    Every argument is optional data; layers are drawn bottom to top as service areas,
    cities, gaps, outlets, search (origin + ``results``). All coordinates WGS-84 in;
    converted to GCJ-02 when ``tiles="amap"``. ``locate`` adds the "nearest to me"
    button (:func:`locate_control`) when there are outlets.
    """
    key = normalize_tiles(tiles)
    m = base_map(tiles=key, width=width, height=height)
    layers: list[folium.FeatureGroup] = []
    if service_areas is not None:
        layers.append(service_areas_layer(service_areas, tiles=key))
    if cities is not None and len(cities):
        layers.append(cities_layer(cities, tiles=key))
    if gaps is not None and len(gaps):
        layers.append(gaps_layer(gaps, tiles=key))
    if outlets is not None:
        layers.append(outlets_layer(outlets, tiles=key, cluster=cluster))
    if origin is not None:
        res = results if results is not None else pd.DataFrame(columns=["lat", "lon"])
        layers.append(search_layer(origin, res, origin_label=origin_label, tiles=key))
    for layer in layers:
        layer.add_to(m)
    if len(layers) > 1:
        folium.LayerControl(collapsed=False).add_to(m)
    if legend and layers:
        shown = [x for x in (outlets, results) if x is not None and "authorized" in x.columns]
        html = _legend_html(
            outlets is not None,
            any((~x["authorized"].map(_bool)).any() for x in shown),
            gaps is not None and len(gaps) > 0,
            cities is not None and len(cities) > 0,
            origin is not None,
        )
        if html:
            m.add_child(_Legend(html))
    if locate and outlets is not None and len(outlets):
        m.add_child(locate_control(outlets, tiles=key))
    if fit:
        # Search results take priority: zoom to what the user asked about.
        chosen = [layers[-1]] if origin is not None and layers else layers
        boxes = [b for b in (getattr(x, "_locator_bounds", None) for x in chosen) if b]
        if boxes:
            south = min(b[0][0] for b in boxes)
            west = min(b[0][1] for b in boxes)
            north = max(b[1][0] for b in boxes)
            east = max(b[1][1] for b in boxes)
            m.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=13)
            m.add_child(_RefitWhenShown([[south, west], [north, east]], padding=20, max_zoom=13))
    return m
