"""The offline base layer: province and prefecture outlines under every map.

Intranets, offline laptops and tests cannot reach a tile server; a map of circles on
grey tells nobody 佛山 from 广州. :func:`base_map` therefore adds :class:`_Outlines`
to every map: the bundled outlines (``locator/_data/outlines.geojson.gz``, built by
``python -m locator.datasets build`` from the district polygons, see
:func:`locator.boundaries.build_outlines_file`) in their own Leaflet pane between the
tiles and every overlay. With no tile layer they are drawn at once; with one, as soon
as a tile fails to load (``tileerror``), so a working basemap is left alone.

Like every other layer they are drawn in the datum of the tiles: on AMap (GCJ-02)
the coordinates are converted first. The data are numbers and two constant level
names, embedded with :func:`~locator.maps.escaping._script_json`.
"""

from __future__ import annotations

import functools
from typing import Any

import folium
import numpy as np

from ..boundaries import outlines
from .base import _project, normalize_tiles
from .elements import js_source
from .escaping import _script_json

__all__ = ["outlines_geojson"]


def _project_lines(lines: list[Any], tiles: str | None) -> list[Any]:
    """MultiLineString coordinates -> the datum of ``tiles``, in one vector call."""
    if not lines:
        return lines
    flat = np.array([pt for line in lines for pt in line], dtype=float)
    lon, lat = _project(flat[:, 0], flat[:, 1], tiles)
    pts = np.round(np.column_stack([lon, lat]), 5).tolist()
    out, i = [], 0
    for line in lines:
        out.append(pts[i : i + len(line)])
        i += len(line)
    return out


@functools.lru_cache(maxsize=4)
def _outlines_json(tiles: str | None) -> str:
    fc = outlines()
    if tiles is not None and tiles != "osm":
        for f in fc["features"]:
            f["geometry"]["coordinates"] = _project_lines(f["geometry"]["coordinates"], tiles)
    return _script_json(fc)


def outlines_geojson(tiles: str | None = None) -> dict[str, Any]:
    """The outline layer as drawn on ``tiles`` (GCJ-02 on AMap, else WGS-84)."""
    import json

    return dict(json.loads(_outlines_json(normalize_tiles(tiles))))


class _Outlines(folium.MacroElement):
    """The outline base layer of a map; ``tile_layer`` is the map's tile layer or None.

    Unlike the other elements it writes its script as a :class:`~locator.maps.base._Verbatim`
    fragment itself: branca would wrap a macro's output in ``Element(text)``, whose
    constructor lexes the text as a Jinja template, which for ~0.5 MB of coordinates
    costs ~0.1 s per map for nothing (the text is our JS file and ``_script_json`` data)."""

    def __init__(self, tiles: str | None, tile_layer: folium.TileLayer | None) -> None:
        super().__init__()
        self._name = "Outlines"
        self.js = js_source("outlines.js")
        self.data_json = _outlines_json(normalize_tiles(tiles))
        # a folium variable name (an identifier it made), or the JS literal null
        self.tiles_var = tile_layer.get_name() if tile_layer is not None else "null"

    # streamlit-folium does not render the figure: it calls each element's ``script``
    # macro itself (streamlit_folium._generate_leaflet_string), so the app's maps need
    # the script here too. The JS and the data are values, never template source.
    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.script_for(this._parent.get_name()) }}
        {% endmacro %}
        """
    )

    def script_for(self, parent: str) -> str:
        """The element's script, drawing on the map variable ``parent``."""
        return (
            f"(function() {{\n{self.js}\nlocatorOutlines({parent}, {self.tiles_var}, "
            f"{self.data_json});\n}})();\n"
        )

    def render(self, **kwargs: Any) -> str:
        from .base import _Verbatim

        text = self.script_for(self._parent.get_name())  # type: ignore[union-attr]
        self.get_root().script.add_child(_Verbatim(text), name=self.get_name())  # type: ignore[attr-defined]
        return ""
