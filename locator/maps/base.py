r"""The basemap: tile providers and datums, the assets a map may reference, :func:`base_map`.

:func:`base_map` also makes the figure's header, html and script parts
:class:`_VerbatimSlot`\ s, the defence in depth against branca's second template pass
described in the :mod:`locator.maps` package docstring.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
from branca.element import Element

from ..crs import wgs84_to_gcj02
from ..errors import ConfigurationError

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
    outlines: bool = True,
) -> folium.Map:
    """An empty ``folium.Map`` with the chosen basemap and no CDN-only assets.

    ``tiles`` is ``"osm"`` (OpenStreetMap, WGS-84), ``"amap"`` (AMap/Gaode, GCJ-02)
    or ``None`` (no basemap: works offline).
    ``location`` is a WGS-84 ``(lat, lon)``; it is converted like everything else.
    ``outlines`` adds the offline base layer of province and prefecture outlines
    (:mod:`locator.maps.outlines`): drawn at once without tiles, and as soon as a tile
    fails to load with them.
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
    tile_layer = None
    if key is not None:
        spec = TILES[key]
        opts: dict[str, Any] = {}
        if spec.subdomains:
            opts["subdomains"] = spec.subdomains
        tile_layer = folium.TileLayer(
            tiles=spec.url,
            attr=spec.attr,
            name=spec.key,
            max_zoom=spec.max_zoom,
            control=False,
            **opts,
        )
        tile_layer.add_to(m)
    if outlines:
        from .outlines import _Outlines

        m.add_child(_Outlines(key, tile_layer), name="locator_outlines")
    m.add_child(_LocatorCSS(), name="locator_css")
    _safe_figure(m)
    return m
